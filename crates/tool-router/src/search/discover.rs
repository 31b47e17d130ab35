//! What `COMPOSIO_SEARCH_TOOLS` answers for one use case, beyond the ranking: the primary tools,
//! related tools (those that find the ids the primary ones need, and those their descriptions
//! point to), plan steps and known pitfalls, all read from the tools' schemas and texts.
//! Input schemas and connection status are added by the caller, which holds them.

use std::collections::BTreeMap;

use bitbucket_toolkit::ToolInfo;

use super::{Entry, Hit, Index, query};

/// One query of `COMPOSIO_SEARCH_TOOLS`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct UseCase {
    /// What the agent wants to do, in plain words.
    pub use_case: String,
    /// Argument values the agent already has (`workspace`, `repo_slug`, ...): the plan does
    /// not look them up. Accepts an object or Composio's string form `"a:1, b:2"`.
    #[serde(default, deserialize_with = "known_fields")]
    pub known_fields: BTreeMap<String, String>,
}

/// A tool in an answer, with why it is there.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolRef {
    /// The tool's name.
    pub name: &'static str,
    /// The toolkit it belongs to (the first word of its name, e.g. `bitbucket`), for the
    /// connection status.
    pub toolkit: String,
    /// Why it is offered.
    pub why: String,
}

/// The answer for one use case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Discovery {
    /// The use case as asked.
    pub use_case: String,
    /// The tools that do it, best first; empty when nothing fits.
    pub primary: Vec<ToolRef>,
    /// Tools that find what the primary ones need, or that their descriptions point to.
    pub related: Vec<ToolRef>,
    /// The toolkits of all those tools, sorted.
    pub toolkits: Vec<String>,
    /// Recommended steps, in order.
    pub plan: Vec<String>,
    /// What goes wrong with these tools, from their schemas and descriptions.
    pub pitfalls: Vec<String>,
}

/// At most this many primary tools.
const PRIMARY: usize = 3;
/// A tool is primary too when it scores at least this share of the best one.
const CLOSE: f32 = 0.8;

impl Index {
    /// The answer of `COMPOSIO_SEARCH_TOOLS` for one use case.
    pub fn discover(&self, query: &UseCase) -> Discovery {
        let hits = self.search(&query.use_case, PRIMARY);
        let best = hits.first().map_or(0.0, |h| h.score);
        let primary: Vec<&Entry> = hits
            .iter()
            .enumerate()
            .filter(|(i, hit)| *i == 0 || (best > 0.0 && hit.score >= best * CLOSE))
            .filter_map(|(_, hit): (usize, &Hit)| self.entry(hit.name))
            .collect();

        let mut related: Vec<ToolRef> = Vec::new();
        let mut plan = Vec::new();
        let mut pitfalls = Vec::new();
        let is_primary = |name: &str| primary.iter().any(|p| p.info.name == name);
        for entry in &primary {
            for argument in &entry.info.arguments {
                let Some(producer) = self.producer(entry, &argument.name) else {
                    continue;
                };
                if is_primary(producer.info.name) {
                    continue;
                }
                let known = query.known_fields.contains_key(&argument.name);
                if argument.required && !known {
                    plan.push(format!(
                        "If `{}` is unknown, find it with {}.",
                        argument.name, producer.info.name
                    ));
                }
                push_ref(
                    &mut related,
                    producer,
                    format!("finds `{}` for {}", argument.name, entry.info.name),
                );
            }
            for mention in &entry.mentions {
                if let Some(other) = self.entry(mention).filter(|o| !is_primary(o.info.name)) {
                    push_ref(
                        &mut related,
                        other,
                        format!("named in the description of {}", entry.info.name),
                    );
                }
            }
        }
        if let Some(first) = primary.first() {
            plan.push(call_step(&first.info, &query.known_fields));
            if first.info.annotations.destructive {
                plan.push(format!(
                    "{} destroys data: confirm with the user before calling it.",
                    first.info.name
                ));
            }
            pitfalls.extend(pitfalls_of(&first.info));
        }
        let mut primary_refs = Vec::new();
        for (rank, entry) in primary.iter().enumerate() {
            let why = if rank == 0 {
                "best match".to_owned()
            } else {
                "close match".to_owned()
            };
            push_ref(&mut primary_refs, entry, why);
        }
        let mut toolkits: Vec<String> = primary_refs
            .iter()
            .chain(&related)
            .map(|r| r.toolkit.clone())
            .collect();
        toolkits.sort();
        toolkits.dedup();
        Discovery {
            use_case: query.use_case.clone(),
            primary: primary_refs,
            related,
            toolkits,
            plan,
            pitfalls,
        }
    }

    /// A read tool that lists the things an argument names (`repo_slug` → the repository
    /// list; `pull_request_id` → the pull request list), other than the tool itself.
    fn producer(&self, entry: &Entry, argument: &str) -> Option<&Entry> {
        let wanted: Vec<String> = query::tokens(&argument.replace('_', " "))
            .into_iter()
            .filter(|t| !matches!(t.word.raw.as_str(), "id" | "slug" | "uuid" | "name" | "key"))
            .filter_map(|t| {
                t.concepts
                    .into_iter()
                    .find(|(_, w)| *w >= 0.5)
                    .map(|(c, _)| c)
            })
            .collect();
        let thing = wanted.last()?;
        self.tools
            .iter()
            .filter(|t| t.info.name != entry.info.name && t.info.annotations.read_only && t.many)
            .filter(|t| t.head.as_deref() == Some(thing.as_str()))
            // The plainest lister: fewest other nouns in its name.
            .min_by_key(|t| t.qualifiers.len())
    }
}

fn push_ref(list: &mut Vec<ToolRef>, entry: &Entry, why: String) {
    if list.iter().all(|r| r.name != entry.info.name) {
        list.push(ToolRef {
            name: entry.info.name,
            toolkit: entry.toolkit.clone(),
            why,
        });
    }
}

fn call_step(info: &ToolInfo, known: &BTreeMap<String, String>) -> String {
    let required: Vec<String> = info
        .arguments
        .iter()
        .filter(|a| a.required)
        .map(|a| match known.get(&a.name) {
            Some(value) => format!("`{}` = {value:?}", a.name),
            None => format!("`{}`", a.name),
        })
        .collect();
    if required.is_empty() {
        format!("Call {}.", info.name)
    } else {
        format!("Call {} with {}.", info.name, required.join(", "))
    }
}

/// Cues of a sentence that warns: failures, limits, defaults, irreversibility.
const WARNINGS: &[&str] = &[
    "fail", "cannot", "must", "only", "default", "cut", "truncat", "unless", "instead", "never",
    "not ",
];

fn pitfalls_of(info: &ToolInfo) -> Vec<String> {
    let mut out = Vec::new();
    let required: Vec<&str> = info
        .arguments
        .iter()
        .filter(|a| a.required)
        .map(|a| a.name.as_str())
        .collect();
    if !required.is_empty() {
        out.push(format!(
            "{} needs {}.",
            info.name,
            required
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for sentence in sentences(info.description) {
        let lower = sentence.to_lowercase();
        if WARNINGS.iter().any(|cue| lower.contains(cue)) {
            out.push(sentence.to_owned());
        }
    }
    if info.annotations.destructive {
        out.push(format!(
            "{} is destructive: it asks for confirmation, or is refused, depending on the server's policy.",
            info.name
        ));
    }
    out
}

/// Sentences of a description: split after `. ` (not inside `e.g.`).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, window) in bytes.windows(2).enumerate() {
        if window == b". " && !text[..=i].ends_with("e.g.") && !text[..=i].ends_with("i.e.") {
            out.push(text[start..=i].trim());
            start = i + 2;
        }
    }
    let rest = text[start.min(text.len())..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn known_fields<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize as _;

    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Known {
        Text(String),
        Map(BTreeMap<String, serde_json::Value>),
    }
    Ok(match Option::<Known>::deserialize(deserializer)? {
        None => BTreeMap::new(),
        Some(Known::Text(text)) => parse_known_fields(&text),
        Some(Known::Map(map)) => map
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(text) => (k, text),
                other => (k, other.to_string()),
            })
            .collect(),
    })
}

/// Composio's string form of known fields: `"workspace:acme, repo_slug:widgets"` (`=` works
/// too); pieces without a separator are ignored.
pub fn parse_known_fields(text: &str) -> BTreeMap<String, String> {
    text.split([',', ';', '\n'])
        .filter_map(|piece| {
            let (key, value) = piece.split_once([':', '='])?;
            let key = key.trim();
            (!key.is_empty()).then(|| (key.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_parse_from_text() {
        let parsed = parse_known_fields("workspace:acme, repo_slug = widgets; junk");
        assert_eq!(parsed.get("workspace").map(String::as_str), Some("acme"));
        assert_eq!(parsed.get("repo_slug").map(String::as_str), Some("widgets"));
        assert_eq!(parsed.len(), 2);
    }

    #[test]
    fn sentences_split_after_full_stops_only() {
        assert_eq!(
            sentences("Filter with `q`, e.g. `a`. Fails if taken. Ends"),
            ["Filter with `q`, e.g. `a`.", "Fails if taken.", "Ends"]
        );
    }
}
