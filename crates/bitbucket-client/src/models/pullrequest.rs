//! Pull requests.

use serde::{Deserialize, Serialize};

use super::{Account, Branch, Commit, Content, Extra, Links, Repository, null_default};

/// A pull request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequest {
    /// Number within the repository.
    #[serde(deserialize_with = "null_default")]
    pub id: u64,
    /// Title.
    #[serde(deserialize_with = "null_default")]
    pub title: String,
    /// Description (raw markdown).
    pub description: Option<String>,
    /// Description in rendered form.
    pub summary: Option<Content>,
    /// `OPEN`, `MERGED`, `DECLINED` or `SUPERSEDED`.
    pub state: Option<PullRequestState>,
    /// Author.
    pub author: Option<Account>,
    /// Branch and commit being merged.
    pub source: Option<PullRequestEndpoint>,
    /// Branch merged into.
    pub destination: Option<PullRequestEndpoint>,
    /// Merge commit, once merged.
    pub merge_commit: Option<Commit>,
    /// Requested reviewers.
    #[serde(deserialize_with = "null_default")]
    pub reviewers: Vec<Account>,
    /// Everyone who took part, with approval state.
    #[serde(deserialize_with = "null_default")]
    pub participants: Vec<Participant>,
    /// Number of comments.
    pub comment_count: Option<u64>,
    /// Number of tasks.
    pub task_count: Option<u64>,
    /// Whether the source branch is deleted on merge.
    pub close_source_branch: Option<bool>,
    /// Who merged or declined it.
    pub closed_by: Option<Account>,
    /// Reason given when declined.
    pub reason: Option<String>,
    /// Whether it is a draft.
    pub draft: Option<bool>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Links (`html`, `self`, `diff`, ...).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One side of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequestEndpoint {
    /// The branch (name and merge strategies).
    pub branch: Option<Branch>,
    /// Head commit of that side.
    pub commit: Option<Commit>,
    /// Repository of that side (differs from the target for forks).
    pub repository: Option<Box<Repository>>,
}

impl PullRequestEndpoint {
    /// The branch name.
    pub fn branch_name(&self) -> Option<&str> {
        self.branch.as_ref().map(|branch| branch.name.as_str())
    }
}

/// A participant of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Participant {
    /// The account.
    pub user: Option<Account>,
    /// `PARTICIPANT` or `REVIEWER`.
    pub role: Option<String>,
    /// Whether they approved.
    pub approved: Option<bool>,
    /// `approved`, `changes_requested` or none.
    pub state: Option<String>,
    /// Time of their last activity (ISO 8601).
    pub participated_on: Option<String>,
}

string_enum! {
    /// State of a pull request.
    pub enum PullRequestState {
        /// Open.
        Open => "OPEN",
        /// Merged.
        Merged => "MERGED",
        /// Declined.
        Declined => "DECLINED",
        /// Superseded.
        Superseded => "SUPERSEDED",
    }
}
