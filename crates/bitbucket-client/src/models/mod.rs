//! Typed Bitbucket resources.
//!
//! Almost every field is optional or defaulted, and `null` is accepted where a value is
//! expected: Bitbucket omits fields depending on permissions and endpoint, and a missing
//! field must never make a whole answer unreadable. Fields not modelled land in `extra`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Declares a string enum that keeps unknown values in `Other`, so a value Bitbucket adds
/// later still deserializes (and round-trips).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this client does not know.
            Other(String),
        }

        impl $name {
            /// Every known value, as Bitbucket spells it.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The value as Bitbucket spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            /// Case-insensitive, so `open` and `OPEN` both work.
            fn from(text: &str) -> Self {
                $( if text.eq_ignore_ascii_case($text) { return $name::$variant; } )+
                $name::Other(text.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                $name::from(text.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok($name::from(text))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok($name::from(text))
            }
        }
    };
}

mod commit;
mod insights;
mod issue;
mod pipelines;
mod pullrequest;
mod refs;
mod repository;
mod review;
mod snippet;
mod source;
mod workspace;

pub use commit::{Commit, CommitAuthor};
pub use insights::{Annotation, Report, ReportData};
pub use issue::{Issue, IssueComment, IssueKind, IssuePriority, IssueState};
pub use pipelines::{Deployment, Environment, Pipeline, PipelineStep, PipelineVariable};
pub use pullrequest::{Participant, PullRequest, PullRequestEndpoint, PullRequestState};
pub use refs::{Branch, Tag};
pub use repository::{Repository, RepositoryRole};
pub use review::{
    Comment, CommentRef, CommentResolution, CommitStatus, DiffStat, DiffStatFile, InlineAnchor,
    Task,
};
pub use snippet::{Snippet, SnippetComment, SnippetFile};
pub use source::{FileContent, Source, TreeEntry};
pub use workspace::{
    Project, RepositoryPermission, Workspace, WorkspaceAccess, WorkspaceMembership,
};

/// Unknown fields of a resource, kept as JSON.
pub type Extra = serde_json::Map<String, Value>;

/// A link: `{"href": "...", "name": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Link {
    /// Target URL.
    pub href: Option<String>,
    /// Link name (e.g. `https` or `ssh` for clone links).
    pub name: Option<String>,
}

/// The `links` object of a resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Links {
    /// API URL of the resource itself.
    #[serde(rename = "self")]
    pub self_link: Option<Link>,
    /// Web page of the resource, for people.
    pub html: Option<Link>,
    /// Avatar image.
    pub avatar: Option<Link>,
    /// Clone URLs of a repository.
    #[serde(deserialize_with = "links_list", skip_serializing_if = "Vec::is_empty")]
    pub clone: Vec<Link>,
    /// Every other link (`commits`, `comments`, `diff`, ...), as JSON.
    #[serde(flatten)]
    pub other: Extra,
}

impl Links {
    /// The `html` link's URL.
    pub fn html_href(&self) -> Option<&str> {
        self.html.as_ref().and_then(|link| link.href.as_deref())
    }

    /// The `self` link's URL.
    pub fn self_href(&self) -> Option<&str> {
        self.self_link
            .as_ref()
            .and_then(|link| link.href.as_deref())
    }
}

/// Text in Bitbucket's rendered form: `{"raw": ..., "markup": "markdown", "html": ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Content {
    /// The text as written.
    pub raw: Option<String>,
    /// Markup language of `raw`, e.g. `markdown`.
    pub markup: Option<String>,
    /// `raw` rendered to HTML.
    pub html: Option<String>,
}

/// A user or team account, as embedded in other resources and returned by `GET /user`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Account {
    /// `user` or `team`.
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    /// UUID in braces, e.g. `{470c176d-...}`.
    pub uuid: Option<String>,
    /// Atlassian account id.
    pub account_id: Option<String>,
    /// Name to show.
    pub display_name: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Legacy username, when still returned.
    pub username: Option<String>,
    /// Account status, e.g. `active`.
    pub account_status: Option<String>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Links (`html`, `avatar`, `self`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The authenticated user (`GET /user`).
pub type User = Account;

/// Treats `null` like a missing field.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A list of links, tolerating `null` and a single link object.
fn links_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Link>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Link>),
        One(Link),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        Some(OneOrMany::Many(links)) => links,
        Some(OneOrMany::One(link)) => vec![link],
        None => Vec::new(),
    })
}

/// An identifier that may be a string or a number (snippet ids are documented as integers
/// but served as strings such as `kypj89`).
pub(crate) fn opt_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(text)) => Some(text),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}

/// A list of strings, tolerating `null` and a single string.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(text)) => vec![text],
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(text) => Some(text),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// A map of names to objects, tolerating `null` and skipping entries that are not objects.
pub(crate) fn lenient_map<'de, D, T>(deserializer: D) -> Result<BTreeMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let raw = Option::<BTreeMap<String, Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .filter_map(|(name, value)| {
            serde_json::from_value(value)
                .ok()
                .map(|parsed| (name, parsed))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_accept_nulls_and_odd_shapes() {
        let links: Links = serde_json::from_str(
            r#"{"self":{"href":"https://api/x"},"html":null,"clone":[{"href":"https://c","name":"https"}],"commits":{"href":"https://api/c"}}"#,
        )
        .unwrap();
        assert_eq!(links.self_href(), Some("https://api/x"));
        assert_eq!(links.html_href(), None);
        assert_eq!(links.clone.len(), 1);
        assert!(links.other.contains_key("commits"));
        let links: Links = serde_json::from_str(r#"{"clone":{"href":"x"}}"#).unwrap();
        assert_eq!(links.clone.len(), 1);
        let links: Links = serde_json::from_str(r#"{"clone":null}"#).unwrap();
        assert!(links.clone.is_empty());
    }

    #[test]
    fn account_tolerates_nulls() {
        let account: Account = serde_json::from_str(
            r#"{"display_name":"Ann","uuid":"{u}","links":null,"account_id":"5d5","type":"user","is_staff":false}"#,
        )
        .unwrap();
        assert_eq!(account.display_name.as_deref(), Some("Ann"));
        assert_eq!(account.extra.get("is_staff"), Some(&Value::Bool(false)));
        let empty: Account = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Account::default());
    }

    #[test]
    fn string_enums_keep_unknown_values() {
        let state: IssueState = serde_json::from_str(r#""on hold""#).unwrap();
        assert_eq!(state, IssueState::OnHold);
        let state: PullRequestState = serde_json::from_str(r#""QUEUED""#).unwrap();
        assert_eq!(state, PullRequestState::Other("QUEUED".to_owned()));
        assert_eq!(serde_json::to_string(&state).unwrap(), r#""QUEUED""#);
        assert_eq!(PullRequestState::from("open"), PullRequestState::Open);
        assert_eq!(PullRequestState::Merged.to_string(), "MERGED");
        assert_eq!(
            "Blocker".parse::<IssuePriority>(),
            Ok(IssuePriority::Blocker)
        );
    }
}
