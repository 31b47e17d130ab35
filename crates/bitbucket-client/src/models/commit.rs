//! Commits.

use serde::{Deserialize, Serialize};

use super::{Account, Content, Extra, Links, Repository, null_default};

/// A commit. Also used for the short commit references embedded in branches, parents,
/// pull request endpoints and tree entries, which carry little more than `hash`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Commit {
    /// Full SHA-1 hash.
    #[serde(deserialize_with = "null_default")]
    pub hash: String,
    /// Author date (ISO 8601).
    pub date: Option<String>,
    /// Full commit message.
    pub message: Option<String>,
    /// Rendered first part of the message.
    pub summary: Option<Content>,
    /// Author as recorded in git, and the matching Bitbucket account if any.
    pub author: Option<CommitAuthor>,
    /// Parent commits (hash and links only).
    #[serde(deserialize_with = "null_default")]
    pub parents: Vec<Commit>,
    /// Repository the commit belongs to.
    pub repository: Option<Box<Repository>>,
    /// Links (`html`, `self`, `diff`, ...).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A commit's author: `{"raw": "Name <email>", "user": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitAuthor {
    /// Author line as recorded in git, e.g. `Ann <ann@example.com>`.
    pub raw: Option<String>,
    /// The Bitbucket account the email maps to, if any.
    pub user: Option<Account>,
}
