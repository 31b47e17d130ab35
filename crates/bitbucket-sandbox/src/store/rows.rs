//! One struct per table row, decoded by column name.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Reads a column, turning a type mismatch into a `sqlx::Error`.
pub fn col<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(name)
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub uuid: String,
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub token: String,
    pub created_on: String,
}

impl UserRow {
    pub const COLUMNS: &'static str = "users.id, users.uuid, users.account_id, users.username, users.display_name, users.email, users.token, users.created_on";

    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            account_id: col(row, "account_id")?,
            username: col(row, "username")?,
            display_name: col(row, "display_name")?,
            email: col(row, "email")?,
            token: col(row, "token")?,
            created_on: col(row, "created_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct WorkspaceRow {
    pub id: i64,
    pub uuid: String,
    pub slug: String,
    pub name: String,
    pub is_private: bool,
    pub created_on: String,
}

impl WorkspaceRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            slug: col(row, "slug")?,
            name: col(row, "name")?,
            is_private: col(row, "is_private")?,
            created_on: col(row, "created_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub uuid: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub created_on: String,
    pub updated_on: String,
}

impl ProjectRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            uuid: col(row, "uuid")?,
            key: col(row, "key")?,
            name: col(row, "name")?,
            description: col(row, "description")?,
            is_private: col(row, "is_private")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct RepoRow {
    pub id: i64,
    pub uuid: String,
    pub workspace_id: i64,
    pub project_id: Option<i64>,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub has_issues: bool,
    pub has_wiki: bool,
    pub fork_policy: String,
    pub language: String,
    pub mainbranch: String,
    pub created_on: String,
    pub updated_on: String,
}

impl RepoRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            workspace_id: col(row, "workspace_id")?,
            project_id: col(row, "project_id")?,
            slug: col(row, "slug")?,
            name: col(row, "name")?,
            description: col(row, "description")?,
            is_private: col(row, "is_private")?,
            has_issues: col(row, "has_issues")?,
            has_wiki: col(row, "has_wiki")?,
            fork_policy: col(row, "fork_policy")?,
            language: col(row, "language")?,
            mainbranch: col(row, "mainbranch")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct IssueRow {
    pub id: i64,
    pub title: String,
    pub content: String,
    pub kind: String,
    pub priority: String,
    pub state: String,
    pub reporter_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub votes: i64,
    pub created_on: String,
    pub updated_on: String,
    pub edited_on: Option<String>,
}

impl IssueRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            title: col(row, "title")?,
            content: col(row, "content")?,
            kind: col(row, "kind")?,
            priority: col(row, "priority")?,
            state: col(row, "state")?,
            reporter_id: col(row, "reporter_id")?,
            assignee_id: col(row, "assignee_id")?,
            votes: col(row, "votes")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
            edited_on: col(row, "edited_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct CommentRow {
    pub id: i64,
    pub user_id: i64,
    pub content: String,
    pub parent_id: Option<i64>,
    pub created_on: String,
    pub updated_on: Option<String>,
}

impl CommentRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            user_id: col(row, "user_id")?,
            content: col(row, "content")?,
            parent_id: row.try_get("parent_id").unwrap_or(None),
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PullRequestRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub state: String,
    pub author_id: i64,
    pub source_branch: String,
    pub source_commit: String,
    pub destination_branch: String,
    pub destination_commit: String,
    pub close_source_branch: bool,
    pub draft: bool,
    pub created_on: String,
    pub updated_on: String,
    /// The commit a merge made (the destination's new head), once merged.
    pub merge_commit: Option<String>,
    /// Who merged or declined it.
    pub closed_by: Option<i64>,
}

impl PullRequestRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            title: col(row, "title")?,
            description: col(row, "description")?,
            state: col(row, "state")?,
            author_id: col(row, "author_id")?,
            source_branch: col(row, "source_branch")?,
            source_commit: col(row, "source_commit")?,
            destination_branch: col(row, "destination_branch")?,
            destination_commit: col(row, "destination_commit")?,
            close_source_branch: col(row, "close_source_branch")?,
            draft: col(row, "draft")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
            merge_commit: col(row, "merge_commit")?,
            closed_by: col(row, "closed_by")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct SnippetRow {
    pub id: i64,
    pub encoded_id: String,
    pub creator_id: i64,
    pub title: String,
    pub is_private: bool,
    pub created_on: String,
    pub updated_on: String,
}

impl SnippetRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            encoded_id: col(row, "encoded_id")?,
            creator_id: col(row, "creator_id")?,
            title: col(row, "title")?,
            is_private: col(row, "is_private")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

/// A user's review of a pull request: an approval or a change request.
#[derive(Debug, Clone)]
pub struct ParticipantRow {
    pub user_id: i64,
    pub approved: bool,
    /// `approved`, `changes_requested`, or `None` once withdrawn.
    pub state: Option<String>,
    pub participated_on: String,
}

impl ParticipantRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: col(row, "user_id")?,
            approved: col(row, "approved")?,
            state: col(row, "state")?,
            participated_on: col(row, "participated_on")?,
        })
    }
}
