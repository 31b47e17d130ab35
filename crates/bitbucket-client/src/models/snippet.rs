//! Snippets and snippet comments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Account, Content, Extra, Links, lenient_map, null_default, opt_string_or_number};

/// A snippet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Snippet {
    /// Encoded id used in URLs, e.g. `kypj89` (a number on some older snippets).
    #[serde(deserialize_with = "opt_string_or_number")]
    pub id: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Always `git` today.
    pub scm: Option<String>,
    /// Whether the snippet is private.
    pub is_private: Option<bool>,
    /// Owning account.
    pub owner: Option<Account>,
    /// Creator.
    pub creator: Option<Account>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Files by name.
    #[serde(deserialize_with = "lenient_map")]
    pub files: BTreeMap<String, SnippetFile>,
    /// Links (`html`, `self`, `comments`, ...).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file of a snippet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnippetFile {
    /// Links to the raw file (`self`) and its web page (`html`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A comment on a snippet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnippetComment {
    /// Comment id.
    #[serde(deserialize_with = "null_default")]
    pub id: u64,
    /// Body.
    pub content: Option<Content>,
    /// Author.
    pub user: Option<Account>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Whether the comment was deleted.
    pub deleted: Option<bool>,
    /// The comment this one replies to (often only `id` and links).
    pub parent: Option<Box<SnippetComment>>,
    /// Links (`html`, `self`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above (snippet, ...).
    #[serde(flatten)]
    pub extra: Extra,
}
