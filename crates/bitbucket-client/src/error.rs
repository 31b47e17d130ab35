//! The error type, Bitbucket error-body parsing and the hints attached to known failures.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::config::{AuthKind, ENV_ACCESS_TOKEN, ENV_API_TOKEN, ENV_EMAIL};

/// Everything that can go wrong talking to Bitbucket.
///
/// Messages are lowercase, put literals in backticks and never contain credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bitbucket answered with a non-success status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request or the connection timed out.
    #[error("`{method} {url}` timed out")]
    Timeout {
        /// HTTP method.
        method: String,
        /// Full URL without credentials or query.
        url: String,
    },
    /// The request could not be sent or its answer could not be read.
    #[error("`{method} {url}` failed: {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Full URL without credentials or query.
        url: String,
        /// What went wrong, from the underlying I/O error.
        message: String,
        /// True when no connection could be established (the server never saw the request).
        connect: bool,
    },
    /// The answer did not have the expected shape.
    #[error("could not decode the answer to `{method} {path}`: {message}")]
    Decode {
        /// HTTP method.
        method: String,
        /// Request path below the base URL.
        path: String,
        /// What did not match.
        message: String,
    },
    /// The configuration is unusable.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// An argument cannot be turned into a request.
    #[error("invalid argument: {message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// The repository has no main branch to default to.
    #[error("repository `{repository}` has no main branch; it may be empty, so pass a commit")]
    NoMainBranch {
        /// `workspace/repo_slug`.
        repository: String,
    },
    /// Retryable failures kept happening until the retry policy ran out.
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// Attempts made, the first one included.
        attempts: u32,
        /// The failure of the last attempt.
        last: Box<Error>,
    },
}

impl Error {
    /// HTTP status of an API error (also through [`Error::RetriesExhausted`]).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// True for a 404 answer.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True for a timeout (also through [`Error::RetriesExhausted`]).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::RetriesExhausted { last, .. } => last.is_timeout(),
            _ => false,
        }
    }

    /// How long Bitbucket asked to wait before trying again (`Retry-After` on a 429 or 503),
    /// also through [`Error::RetriesExhausted`].
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(|api| api.retry_after)
    }

    /// Whether the failed request may have taken effect anyway, so that repeating it could do
    /// it twice: a request that is not idempotent (a POST) that got a 5xx, timed out, or lost
    /// its connection once sent. (A 429 or a refused connection means it was not processed.)
    pub fn may_have_taken_effect(&self) -> bool {
        let repeatable = crate::http::is_idempotent_method;
        match self {
            Error::Api(api) => api.status >= 500 && !repeatable(&api.method),
            Error::Timeout { method, .. } => !repeatable(method),
            Error::Transport {
                method, connect, ..
            } => !connect && !repeatable(method),
            Error::RetriesExhausted { last, .. } => last.may_have_taken_effect(),
            _ => false,
        }
    }

    /// The API error details, if this is (or ended in) an API error.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            Error::RetriesExhausted { last, .. } => last.api(),
            _ => None,
        }
    }

    /// A hint about the likely cause, when known.
    pub fn hint(&self) -> Option<&str> {
        self.api().and_then(|api| api.hint.as_deref())
    }
}

/// A non-success answer from Bitbucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// HTTP method.
    pub method: String,
    /// Request path below the base URL, e.g. `/repositories/acme/website/issues`.
    pub path: String,
    /// Full URL without credentials or query.
    pub url: String,
    /// Bitbucket's `error.message`, or the status text when the body had none.
    pub message: String,
    /// Bitbucket's `error.detail`.
    pub detail: Option<String>,
    /// Bitbucket's `error.fields`: per-field validation messages.
    pub fields: BTreeMap<String, Vec<String>>,
    /// The likely cause, when the status and endpoint make it known.
    pub hint: Option<String>,
    /// How long the server asked to wait before trying again (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bitbucket answered {} for `{} {}`: {}",
            self.status,
            self.method,
            self.path,
            trim_period(&self.message)
        )?;
        if let Some(detail) = &self.detail
            && detail != &self.message
        {
            write!(f, ": {}", trim_period(detail))?;
        }
        for (field, messages) in &self.fields {
            write!(f, "; `{field}`: {}", trim_period(&messages.join(", ")))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

fn trim_period(text: &str) -> &str {
    let text = text.trim();
    text.strip_suffix('.').unwrap_or(text)
}

/// The parts of Bitbucket's error body `{"type":"error","error":{"message","detail","fields"}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub message: Option<String>,
    pub detail: Option<String>,
    pub fields: BTreeMap<String, Vec<String>>,
}

/// Parses an error body leniently: anything missing or oddly typed is skipped, and a short
/// plain-text body (as proxies send) becomes the message.
pub(crate) fn parse_error_body(body: &[u8]) -> ErrorBody {
    let mut parsed = ErrorBody::default();
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => {
            let error = value.get("error").unwrap_or(&value);
            parsed.message = error.get("message").and_then(text_of);
            parsed.detail = error.get("detail").and_then(text_of);
            if let Some(Value::Object(fields)) = error.get("fields") {
                for (name, value) in fields {
                    let messages = match value {
                        Value::Array(items) => items.iter().filter_map(text_of).collect(),
                        other => text_of(other).into_iter().collect(),
                    };
                    parsed.fields.insert(name.clone(), messages);
                }
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let looks_like_markup = text.starts_with('<');
            if !text.is_empty() && !looks_like_markup && text.chars().count() <= 300 {
                parsed.message = Some(text.to_owned());
            }
        }
    }
    parsed
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Picks a hint for a failed call from what is known about Bitbucket's behaviour.
///
/// `path` is the request path below the base URL, percent-encoded as sent.
pub(crate) fn hint_for(status: u16, method: &str, path: &str, auth: AuthKind) -> Option<String> {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    let is_issues = segments.first() == Some(&"repositories") && segments.get(3) == Some(&"issues");
    let credentials_help =
        format!("set `{ENV_ACCESS_TOKEN}`, or `{ENV_EMAIL}` and `{ENV_API_TOKEN}`");
    match status {
        401 => Some(match auth {
            AuthKind::Anonymous => {
                format!("this call needs credentials and none were sent; {credentials_help}")
            }
            AuthKind::ApiToken => format!(
                "the email or api token was rejected; check `{ENV_EMAIL}` (your atlassian \
                 account email, not the username) and `{ENV_API_TOKEN}` (it may be expired or \
                 revoked)"
            ),
            AuthKind::Bearer => format!(
                "the access token was rejected; check `{ENV_ACCESS_TOKEN}` (it may be expired \
                 or revoked)"
            ),
        }),
        403 => Some(match auth {
            AuthKind::Anonymous => {
                format!("anonymous access is not allowed here; {credentials_help}")
            }
            AuthKind::ApiToken | AuthKind::Bearer => {
                let (api_scope, access_scope) = scope_for(method, &segments);
                let scope = if auth == AuthKind::ApiToken {
                    api_scope
                } else {
                    access_scope
                };
                format!(
                    "the token lacks a scope this call needs (likely `{scope}`) or the user has \
                     no access to this resource"
                )
            }
        }),
        404 | 410 if is_issues => Some(if status == 410 {
            "the issue tracker was retired: bitbucket cloud retired issues in august 2026"
                .to_owned()
        } else if segments.len() > 4 {
            "the issue may not exist, or the issue tracker is disabled for this repository or \
             was retired (bitbucket cloud retired issues in august 2026)"
                .to_owned()
        } else {
            "the issue tracker is disabled for this repository (`has_issues` is false) or was \
             retired (bitbucket cloud retired issues in august 2026), or the repository does \
             not exist"
                .to_owned()
        }),
        410 if segments == ["workspaces"] => {
            Some("`GET /workspaces` was removed; use `GET /user/workspaces`".to_owned())
        }
        404 if auth == AuthKind::Anonymous => Some(format!(
            "private resources answer 404 to anonymous requests; {credentials_help}"
        )),
        410 => Some("bitbucket removed this endpoint or resource".to_owned()),
        429 => Some("bitbucket's rate limit was reached; wait before trying again".to_owned()),
        _ => None,
    }
}

/// The scope a call most likely needs, as (api token scope, access token scope).
fn scope_for(method: &str, segments: &[&str]) -> (&'static str, &'static str) {
    let write = !matches!(method, "GET" | "HEAD");
    match segments.first().copied() {
        Some("user") if segments.get(1) == Some(&"workspaces") => {
            ("read:workspace:bitbucket", "account")
        }
        Some("user") | Some("users") => ("read:user:bitbucket", "account"),
        Some("workspaces") => ("read:workspace:bitbucket", "account"),
        Some("snippets") if write => ("write:snippet:bitbucket", "snippet:write"),
        Some("snippets") => ("read:snippet:bitbucket", "snippet"),
        Some("repositories") => match (segments.get(3).copied(), method) {
            (Some("issues"), _) if write => ("write:issue:bitbucket", "issue:write"),
            (Some("issues"), _) => ("read:issue:bitbucket", "issue"),
            (Some("pullrequests"), _) if write => {
                ("write:pullrequest:bitbucket", "pullrequest:write")
            }
            (Some("pullrequests"), _) => ("read:pullrequest:bitbucket", "pullrequest"),
            (None, "DELETE") if segments.len() == 3 => {
                ("delete:repository:bitbucket", "repository:delete")
            }
            (None, "POST" | "PUT") if segments.len() == 3 => {
                ("admin:repository:bitbucket", "repository:admin")
            }
            _ if write => ("write:repository:bitbucket", "repository:write"),
            _ => ("read:repository:bitbucket", "repository"),
        },
        _ if write => ("write:repository:bitbucket", "repository:write"),
        _ => ("read:repository:bitbucket", "repository"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: u16, body: &[u8], path: &str, auth: AuthKind) -> Error {
        let parsed = parse_error_body(body);
        Error::Api(Box::new(ApiError {
            status,
            method: "GET".to_owned(),
            path: path.to_owned(),
            url: format!("https://api.bitbucket.org/2.0{path}"),
            message: parsed.message.unwrap_or_else(|| "not found".to_owned()),
            detail: parsed.detail,
            fields: parsed.fields,
            hint: hint_for(status, "GET", path, auth),
            retry_after: None,
        }))
    }

    #[test]
    fn parses_bitbucket_error_body() {
        let body = br#"{"type":"error","error":{"message":"Bad request","detail":"There are no changes to be pulled","fields":{"source":["Branch not found"],"title":"required"}}}"#;
        let parsed = parse_error_body(body);
        assert_eq!(parsed.message.as_deref(), Some("Bad request"));
        assert_eq!(
            parsed.detail.as_deref(),
            Some("There are no changes to be pulled")
        );
        assert_eq!(parsed.fields["source"], vec!["Branch not found"]);
        assert_eq!(parsed.fields["title"], vec!["required"]);
    }

    #[test]
    fn parses_odd_error_bodies() {
        assert_eq!(parse_error_body(b""), ErrorBody::default());
        assert_eq!(
            parse_error_body(b"<html>bad gateway</html>"),
            ErrorBody::default()
        );
        assert_eq!(
            parse_error_body(b"Rate limit exceeded\n")
                .message
                .as_deref(),
            Some("Rate limit exceeded")
        );
        let parsed = parse_error_body(br#"{"error":{"message":null,"detail":{"a":1}}}"#);
        assert_eq!(parsed.message, None);
        assert_eq!(parsed.detail.as_deref(), Some(r#"{"a":1}"#));
        let parsed = parse_error_body(br#"["not", "an", "object"]"#);
        assert_eq!(parsed, ErrorBody::default());
        let parsed = parse_error_body(br#"{"message":"top level"}"#);
        assert_eq!(parsed.message.as_deref(), Some("top level"));
        let parsed = parse_error_body(&[0xff, 0xfe, 0x00]);
        assert!(parsed.message.is_some() || parsed == ErrorBody::default());
    }

    #[test]
    fn display_matches_house_style() {
        let err = api_error(
            404,
            br#"{"type":"error","error":{"message":"Repository has no issue tracker."}}"#,
            "/repositories/acme/website/issues",
            AuthKind::ApiToken,
        );
        let text = err.to_string();
        assert!(
            text.starts_with(
                "bitbucket answered 404 for `GET /repositories/acme/website/issues`: \
                 Repository has no issue tracker; hint: the issue tracker is disabled"
            ),
            "{text}"
        );
        assert!(!text.ends_with('.'));
        assert_eq!(err.status(), Some(404));
        assert!(err.is_not_found());
        assert!(err.hint().is_some());
    }

    #[test]
    fn display_includes_detail_and_fields() {
        let err = api_error(
            400,
            br#"{"type":"error","error":{"message":"Bad request","detail":"nope","fields":{"name":["taken"]}}}"#,
            "/repositories/a/b/refs/branches",
            AuthKind::Bearer,
        );
        assert_eq!(
            err.to_string(),
            "bitbucket answered 400 for `GET /repositories/a/b/refs/branches`: Bad request: \
             nope; `name`: taken"
        );
    }

    #[test]
    fn retries_exhausted_delegates() {
        let last = api_error(503, b"", "/user", AuthKind::Bearer);
        // A GET that failed did nothing; the same failure of a POST may have.
        assert!(!last.may_have_taken_effect());
        let err = Error::RetriesExhausted {
            attempts: 5,
            last: Box::new(last),
        };
        assert_eq!(err.status(), Some(503));
        assert!(!err.is_not_found());
        assert!(
            err.to_string()
                .starts_with("gave up after 5 attempts: bitbucket answered 503")
        );
        let timeout = Error::RetriesExhausted {
            attempts: 2,
            last: Box::new(Error::Timeout {
                method: "GET".into(),
                url: "http://x/2.0/user".into(),
            }),
        };
        assert!(timeout.is_timeout());
        assert_eq!(timeout.status(), None);
    }

    #[test]
    fn only_a_failed_post_that_reached_the_server_may_have_taken_effect() {
        let post = |status| {
            let Error::Api(mut api) = api_error(status, b"", "/x", AuthKind::Bearer) else {
                unreachable!("api_error makes an API error")
            };
            api.method = "POST".to_owned();
            Error::Api(api)
        };
        assert!(post(503).may_have_taken_effect());
        assert!(post(500).may_have_taken_effect());
        assert!(!post(429).may_have_taken_effect());
        assert!(!post(400).may_have_taken_effect());
        let transport = |method: &str, connect| Error::Transport {
            method: method.to_owned(),
            url: "http://x/2.0/x".to_owned(),
            message: "reset".to_owned(),
            connect,
        };
        assert!(transport("POST", false).may_have_taken_effect());
        assert!(!transport("POST", true).may_have_taken_effect());
        assert!(!transport("PUT", false).may_have_taken_effect());
        let timeout = Error::Timeout {
            method: "POST".to_owned(),
            url: "http://x/2.0/x".to_owned(),
        };
        let exhausted = Error::RetriesExhausted {
            attempts: 2,
            last: Box::new(timeout),
        };
        assert!(exhausted.may_have_taken_effect());
    }

    #[test]
    fn hints_for_issue_tracker() {
        let path = "/repositories/acme/site/issues/4";
        let h404 = hint_for(404, "GET", path, AuthKind::ApiToken).unwrap();
        assert!(h404.contains("issue tracker is disabled"));
        assert!(h404.contains("august 2026"));
        let h410 = hint_for(
            410,
            "POST",
            "/repositories/acme/site/issues",
            AuthKind::Bearer,
        );
        assert!(h410.unwrap().contains("retired"));
        // An issue-looking path elsewhere is not the issue tracker.
        let other = hint_for(404, "GET", "/repositories/acme/issues", AuthKind::Bearer);
        assert_eq!(other, None);
    }

    #[test]
    fn hints_for_credentials() {
        let anon = hint_for(401, "GET", "/user", AuthKind::Anonymous).unwrap();
        assert!(anon.contains("`BITBUCKET_ACCESS_TOKEN`"));
        assert!(anon.contains("`BITBUCKET_EMAIL` and `BITBUCKET_API_TOKEN`"));
        let basic = hint_for(401, "GET", "/user", AuthKind::ApiToken).unwrap();
        assert!(basic.contains("`BITBUCKET_API_TOKEN`"));
        let bearer = hint_for(401, "GET", "/user", AuthKind::Bearer).unwrap();
        assert!(bearer.contains("`BITBUCKET_ACCESS_TOKEN`"));
        let anon404 = hint_for(404, "GET", "/repositories/a/b", AuthKind::Anonymous).unwrap();
        assert!(anon404.contains("anonymous"));
        assert_eq!(
            hint_for(404, "GET", "/repositories/a/b", AuthKind::Bearer),
            None
        );
    }

    #[test]
    fn hints_for_scopes() {
        let cases = [
            (
                "POST",
                "/repositories/a/b/issues",
                AuthKind::ApiToken,
                "write:issue:bitbucket",
            ),
            (
                "GET",
                "/repositories/a/b/issues",
                AuthKind::Bearer,
                "`issue`",
            ),
            (
                "POST",
                "/repositories/a/b/pullrequests",
                AuthKind::Bearer,
                "pullrequest:write",
            ),
            (
                "DELETE",
                "/repositories/a/b",
                AuthKind::ApiToken,
                "delete:repository:bitbucket",
            ),
            (
                "POST",
                "/repositories/a/b",
                AuthKind::ApiToken,
                "admin:repository:bitbucket",
            ),
            (
                "POST",
                "/repositories/a/b/refs/branches",
                AuthKind::ApiToken,
                "write:repository",
            ),
            (
                "GET",
                "/repositories/a/b/src/main/",
                AuthKind::ApiToken,
                "read:repository",
            ),
            (
                "GET",
                "/user/workspaces",
                AuthKind::ApiToken,
                "read:workspace:bitbucket",
            ),
            ("GET", "/user", AuthKind::ApiToken, "read:user:bitbucket"),
            (
                "POST",
                "/snippets/a/x/comments",
                AuthKind::Bearer,
                "snippet:write",
            ),
        ];
        for (method, path, auth, scope) in cases {
            let hint = hint_for(403, method, path, auth).unwrap();
            assert!(hint.contains(scope), "{method} {path}: {hint}");
        }
        let anon = hint_for(403, "GET", "/user", AuthKind::Anonymous).unwrap();
        assert!(anon.contains("BITBUCKET_ACCESS_TOKEN"));
    }

    #[test]
    fn hints_for_removed_endpoints_and_rate_limits() {
        let hint = hint_for(410, "GET", "/workspaces", AuthKind::Bearer).unwrap();
        assert!(hint.contains("`GET /user/workspaces`"));
        assert!(hint_for(429, "GET", "/user", AuthKind::Bearer).is_some());
        assert_eq!(hint_for(500, "GET", "/user", AuthKind::Bearer), None);
        assert_eq!(hint_for(404, "GET", "", AuthKind::Bearer), None);
    }
}
