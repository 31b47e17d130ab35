//! Code review: pull request comments and tasks, diff statistics and build statuses.

use serde::{Deserialize, Serialize};

use super::{Account, Commit, Content, Extra, Links, null_default};

/// A comment on a pull request (or on a commit): general, inline on a file, or a reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Comment {
    /// Number of the comment (unique within the repository).
    #[serde(deserialize_with = "null_default")]
    pub id: u64,
    /// The text, as written and rendered.
    pub content: Option<Content>,
    /// Author.
    pub user: Option<Account>,
    /// Where in the diff the comment sits, for inline comments.
    pub inline: Option<InlineAnchor>,
    /// The comment this one answers.
    pub parent: Option<CommentRef>,
    /// Whether it was deleted (its text is then gone).
    pub deleted: Option<bool>,
    /// When it was resolved, and by whom; absent while open.
    pub resolution: Option<CommentResolution>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Links (`html`, `self`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The place of an inline comment: a file, and a line of the new (`to`) or old (`from`) side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InlineAnchor {
    /// Path of the file, e.g. `src/main.rs`.
    pub path: String,
    /// Line in the old version of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    /// Line in the new version of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<u64>,
}

/// A reference to another comment: `{"id": 12}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentRef {
    /// Its number.
    #[serde(deserialize_with = "null_default")]
    pub id: u64,
}

/// Who resolved a comment, and when.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentResolution {
    /// Who resolved it.
    pub user: Option<Account>,
    /// When (ISO 8601).
    pub created_on: Option<String>,
}

/// A task on a pull request: a to-do that is `UNRESOLVED` or `RESOLVED`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Task {
    /// Number of the task.
    #[serde(deserialize_with = "null_default")]
    pub id: u64,
    /// What is to be done.
    pub content: Option<Content>,
    /// `UNRESOLVED` or `RESOLVED`.
    pub state: Option<String>,
    /// Who created it.
    pub creator: Option<Account>,
    /// The comment it was made on, if any.
    pub comment: Option<CommentRef>,
    /// Who resolved it; absent while open.
    pub resolved_by: Option<Account>,
    /// When it was resolved (ISO 8601); absent while open.
    pub resolved_on: Option<String>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a diff does to one file (`GET .../diffstat/{spec}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiffStat {
    /// `added`, `removed`, `modified`, `renamed`, ... (see the API for all).
    pub status: Option<String>,
    /// Lines added.
    pub lines_added: Option<u64>,
    /// Lines removed.
    pub lines_removed: Option<u64>,
    /// The file before (absent when added).
    pub old: Option<DiffStatFile>,
    /// The file after (absent when removed).
    pub new: Option<DiffStatFile>,
}

impl DiffStat {
    /// The path after the change, or before it for a removed file.
    pub fn path(&self) -> Option<&str> {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map(|file| file.path.as_str())
    }
}

/// A file on one side of a diff statistic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiffStatFile {
    /// Path in the repository.
    #[serde(deserialize_with = "null_default")]
    pub path: String,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A build status of a commit, as CI posts it (`commitstatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitStatus {
    /// The build's key, unique per commit, e.g. `ci/build`.
    #[serde(deserialize_with = "null_default")]
    pub key: String,
    /// `INPROGRESS`, `SUCCESSFUL`, `FAILED` or `STOPPED`.
    pub state: Option<String>,
    /// Name to show.
    pub name: Option<String>,
    /// Description, e.g. "4 tests failed".
    pub description: Option<String>,
    /// The build's page.
    pub url: Option<String>,
    /// The branch or ref built.
    pub refname: Option<String>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// The commit, as a short reference.
    pub commit: Option<Commit>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}
