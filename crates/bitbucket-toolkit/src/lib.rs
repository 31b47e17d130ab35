//! Bitbucket operations as tools for a model, one tool per operation, with Composio-style names.
//!
//! ```no_run
//! # async fn demo(client: bitbucket_client::Client) {
//! use bitbucket_toolkit::Toolkit;
//! use serde_json::json;
//!
//! let toolkit = Toolkit::new(client);
//! for spec in Toolkit::catalogue() {
//!     println!("{}: {}", spec.name, spec.title);
//! }
//! let outcome = toolkit
//!     .call("BITBUCKET_GET_PULL_REQUEST", json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1}))
//!     .await
//!     .expect("a known tool");
//! println!("{}", outcome.text);
//! # }
//! ```
//!
//! Every tool validates its arguments into a typed struct (whose schema is the tool's input
//! schema), makes one or a few client calls, and answers twice: a structured JSON object that
//! matches its output schema, and the same data as compact text for the model. Failures that a
//! model can fix (bad arguments, missing repositories, disabled issue trackers) are outcomes
//! with `is_error`, never panics or Rust errors; only an unknown tool name is an `Err`.

mod accounts;
mod args;
mod diff;
mod error;
mod lockdown;
mod output;
mod policy;
mod spec;
mod tools;
mod untrusted;

use bitbucket_client::Client;

/// Credentials a toolkit acts with (see [`Toolkit::with_auth`]).
pub use bitbucket_client::Auth;
use serde_json::Value;

pub use policy::{DestructivePolicy, PolicyError, ToolPolicy};
pub use spec::{ArgumentInfo, ToolAnnotations, ToolInfo, ToolSpec, Toolset, UnknownToolset};
pub use untrusted::{DATA_INSTRUCTIONS, mark as mark_untrusted, unmark};

/// Runs the catalogue's tools with one client.
#[derive(Debug, Clone)]
pub struct Toolkit {
    client: Client,
    lockdown: bool,
}

impl Toolkit {
    /// A toolkit acting with `client`'s credentials.
    pub fn new(client: Client) -> Self {
        Toolkit {
            client,
            lockdown: false,
        }
    }

    /// The same toolkit in lockdown (or not): results withhold what people without write
    /// access to the repository wrote (issues, pull requests, comments and tasks), and say so
    /// in its place. Checking who may write costs two more reads per such call.
    pub fn with_lockdown(mut self, on: bool) -> Self {
        self.lockdown = on;
        self
    }

    /// True in lockdown (see [`Toolkit::with_lockdown`]).
    pub fn lockdown(&self) -> bool {
        self.lockdown
    }

    /// The same toolkit acting with other credentials, sharing the connection pool: a
    /// server that acts for many users keeps one toolkit and derives one per call.
    pub fn with_auth(&self, auth: Auth) -> Toolkit {
        Toolkit {
            client: self.client.with_auth(auth),
            lockdown: self.lockdown,
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Every tool, in a stable order (grouped by toolset).
    pub fn catalogue() -> &'static [ToolSpec] {
        tools::CATALOGUE
    }

    /// The tool with exactly this name (case-sensitive).
    pub fn find(name: &str) -> Option<&'static ToolSpec> {
        tools::CATALOGUE.iter().find(|spec| spec.name == name)
    }

    /// Runs a tool.
    ///
    /// `Err` only for an unknown tool name; every other failure (bad arguments, Bitbucket
    /// errors) is an `Ok(ToolOutcome { is_error: true, .. })` with an actionable message.
    pub async fn call(&self, name: &str, arguments: Value) -> Result<ToolOutcome, UnknownTool> {
        let spec = Self::find(name).ok_or_else(|| UnknownTool::new(name))?;
        Ok(spec.run(self, arguments).await)
    }
}

/// What a call produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolOutcome {
    /// The result as a JSON object matching the tool's output schema; `None` on failure.
    pub structured: Option<Value>,
    /// The same data as compact text for a model, or the failure message.
    pub text: String,
    /// True when the tool ran and failed.
    pub is_error: bool,
    /// Bitbucket's HTTP status when a failure was Bitbucket's answer (401: the credentials
    /// were refused), for callers that can renew them.
    #[serde(skip)]
    pub status: Option<u16>,
}

impl ToolOutcome {
    pub(crate) fn success<T: serde::Serialize + output::Render>(output: &T) -> Self {
        match serde_json::to_value(output) {
            Ok(structured @ Value::Object(_)) => ToolOutcome {
                structured: Some(structured),
                text: output.render(),
                is_error: false,
                status: None,
            },
            // Output types are structs of plain data, so this only guards the invariant.
            Ok(_) | Err(_) => Self::failure("the result could not be turned into a JSON object"),
        }
    }

    /// The text as a model should read it: a result marked as data (see [`DATA_INSTRUCTIONS`]),
    /// a failure as it is.
    pub fn text_for_model(&self) -> String {
        if self.is_error {
            self.text.clone()
        } else {
            untrusted::mark(&self.text)
        }
    }

    pub(crate) fn failure(message: impl Into<String>) -> Self {
        ToolOutcome {
            structured: None,
            text: message.into(),
            is_error: true,
            status: None,
        }
    }
}

/// A tool name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tool `{name}`{}", did_you_mean(suggestions))]
pub struct UnknownTool {
    /// The name asked for.
    pub name: String,
    /// The closest catalogue names, best first (may be empty).
    pub suggestions: Vec<&'static str>,
}

impl UnknownTool {
    /// The error for `name`, with the closest catalogue names as suggestions.
    pub fn new(name: &str) -> Self {
        UnknownTool {
            name: name.to_owned(),
            suggestions: closest_names(name),
        }
    }
}

fn did_you_mean(suggestions: &[&str]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => {
            let quoted: Vec<String> = many.iter().map(|name| format!("`{name}`")).collect();
            format!("; did you mean one of {}?", quoted.join(", "))
        }
    }
}

/// Up to three catalogue names near `name`: same name in another case or without the
/// `BITBUCKET_` prefix first, then by edit distance.
fn closest_names(name: &str) -> Vec<&'static str> {
    let mut wanted = name
        .trim()
        .to_ascii_uppercase()
        .replace(['-', ' ', '.'], "_");
    if !wanted.starts_with("BITBUCKET_") {
        wanted.insert_str(0, "BITBUCKET_");
    }
    let mut scored: Vec<(usize, &'static str)> = tools::CATALOGUE
        .iter()
        .map(|spec| (levenshtein(&wanted, spec.name), spec.name))
        .collect();
    scored.sort();
    // Far-off names are noise; so are names clearly worse than the best one.
    let best = scored.first().map_or(0, |(distance, _)| *distance);
    let limit = (wanted.len() / 4).max(3).min(best + 2);
    scored
        .into_iter()
        .filter(|(distance, _)| *distance <= limit)
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_near_names() {
        assert_eq!(
            closest_names("BITBUCKET_CREATE_BRANCHES")[0],
            "BITBUCKET_CREATE_BRANCH"
        );
        assert_eq!(closest_names("create_issue")[0], "BITBUCKET_CREATE_ISSUE");
        assert_eq!(
            closest_names("BITBUCKET_GET_CURRENT_USER2")[0],
            "BITBUCKET_GET_CURRENT_USER"
        );
        assert!(closest_names("SEND_EMAIL_TO_EVERYONE").is_empty());
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }

    #[test]
    fn unknown_tool_message_suggests() {
        let err = UnknownTool::new("BITBUCKET_CREATE_BRANCHES");
        assert_eq!(
            err.to_string(),
            "unknown tool `BITBUCKET_CREATE_BRANCHES`; did you mean `BITBUCKET_CREATE_BRANCH`?"
        );
    }
}
