//! Issues and issue comments.

use serde::{Deserialize, Serialize};

use super::{Account, Content, Extra, Links, Repository, null_default};

/// An issue of a repository's issue tracker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issue {
    /// Issue number within the repository.
    #[serde(deserialize_with = "null_default")]
    pub id: u64,
    /// Title.
    #[serde(deserialize_with = "null_default")]
    pub title: String,
    /// Body.
    pub content: Option<Content>,
    /// State, e.g. `new` or `resolved`.
    pub state: Option<IssueState>,
    /// Kind, e.g. `bug`.
    pub kind: Option<IssueKind>,
    /// Priority, e.g. `major`.
    pub priority: Option<IssuePriority>,
    /// Who opened it.
    pub reporter: Option<Account>,
    /// Who it is assigned to.
    pub assignee: Option<Account>,
    /// Number of votes.
    pub votes: Option<u64>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Last edit of title or content (ISO 8601).
    pub edited_on: Option<String>,
    /// Repository of the issue.
    pub repository: Option<Box<Repository>>,
    /// Links (`html`, `self`, `comments`, ...).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above (milestone, version, component, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Issue {
    /// The raw text of the body.
    pub fn content_raw(&self) -> Option<&str> {
        self.content
            .as_ref()
            .and_then(|content| content.raw.as_deref())
    }
}

/// A comment on an issue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueComment {
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
    /// Links (`html`, `self`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above (issue, parent, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

string_enum! {
    /// State of an issue.
    pub enum IssueState {
        /// `submitted`
        Submitted => "submitted",
        /// `new`
        New => "new",
        /// `open`
        Open => "open",
        /// `resolved`
        Resolved => "resolved",
        /// `on hold`
        OnHold => "on hold",
        /// `invalid`
        Invalid => "invalid",
        /// `duplicate`
        Duplicate => "duplicate",
        /// `wontfix`
        Wontfix => "wontfix",
        /// `closed`
        Closed => "closed",
    }
}

string_enum! {
    /// Kind of an issue.
    pub enum IssueKind {
        /// `bug`
        Bug => "bug",
        /// `enhancement`
        Enhancement => "enhancement",
        /// `proposal`
        Proposal => "proposal",
        /// `task`
        Task => "task",
    }
}

string_enum! {
    /// Priority of an issue.
    pub enum IssuePriority {
        /// `trivial`
        Trivial => "trivial",
        /// `minor`
        Minor => "minor",
        /// `major`
        Major => "major",
        /// `critical`
        Critical => "critical",
        /// `blocker`
        Blocker => "blocker",
    }
}
