//! Branches and tags.

use serde::{Deserialize, Serialize};

use super::{Commit, CommitAuthor, Extra, Links, null_default};

/// A branch. Also used for a repository's `mainbranch` and pull request endpoints, where
/// only `name` is filled in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Branch {
    /// Branch name, e.g. `feature/login`.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// Commit the branch points at.
    pub target: Option<Commit>,
    /// Merge strategies allowed for pull requests into this branch.
    #[serde(deserialize_with = "null_default")]
    pub merge_strategies: Vec<String>,
    /// Default merge strategy.
    pub default_merge_strategy: Option<String>,
    /// Links (`html`, `self`, `commits`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tag {
    /// Tag name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// Tagged commit.
    pub target: Option<Commit>,
    /// Message of an annotated tag.
    pub message: Option<String>,
    /// Date of an annotated tag (ISO 8601).
    pub date: Option<String>,
    /// Tagger of an annotated tag.
    pub tagger: Option<CommitAuthor>,
    /// Links (`html`, `self`, `commits`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}
