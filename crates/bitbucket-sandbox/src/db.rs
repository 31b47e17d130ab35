//! SQLite storage for everything that is not git: users, workspaces, repositories' metadata,
//! issues, pull requests and snippets.
//!
//! Writes go through one in-process mutex so that sequential ids (issue and pull request
//! numbers per repository) are allocated without gaps or duplicates under concurrency, and
//! SQLite never answers "database is locked" to a concurrent writer.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};
use tokio::sync::{Mutex, MutexGuard};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workspaces (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_private INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    added_on TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_private INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (workspace_id, key)
);
CREATE TABLE IF NOT EXISTS repositories (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_private INTEGER NOT NULL DEFAULT 1,
    has_issues INTEGER NOT NULL DEFAULT 0,
    has_wiki INTEGER NOT NULL DEFAULT 0,
    fork_policy TEXT NOT NULL DEFAULT 'allow_forks',
    language TEXT NOT NULL DEFAULT '',
    mainbranch TEXT NOT NULL DEFAULT 'main',
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    next_issue_id INTEGER NOT NULL DEFAULT 1,
    next_pr_id INTEGER NOT NULL DEFAULT 1,
    UNIQUE (workspace_id, slug)
);
CREATE TABLE IF NOT EXISTS issues (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    id INTEGER NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    reporter_id INTEGER REFERENCES users(id),
    assignee_id INTEGER REFERENCES users(id),
    votes INTEGER NOT NULL DEFAULT 0,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    edited_on TEXT,
    PRIMARY KEY (repo_id, id)
);
CREATE TABLE IF NOT EXISTS issue_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL,
    issue_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT,
    FOREIGN KEY (repo_id, issue_id) REFERENCES issues(repo_id, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS pullrequests (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    id INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    source_branch TEXT NOT NULL,
    source_commit TEXT NOT NULL,
    destination_branch TEXT NOT NULL,
    destination_commit TEXT NOT NULL,
    close_source_branch INTEGER NOT NULL DEFAULT 0,
    draft INTEGER NOT NULL DEFAULT 0,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    PRIMARY KEY (repo_id, id)
);
CREATE TABLE IF NOT EXISTS pr_reviewers (
    repo_id INTEGER NOT NULL,
    pr_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (repo_id, pr_id, user_id),
    FOREIGN KEY (repo_id, pr_id) REFERENCES pullrequests(repo_id, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS snippets (
    id INTEGER PRIMARY KEY,
    encoded_id TEXT NOT NULL,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    creator_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    is_private INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (workspace_id, encoded_id)
);
CREATE TABLE IF NOT EXISTS snippet_files (
    snippet_id INTEGER NOT NULL REFERENCES snippets(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (snippet_id, path)
);
CREATE TABLE IF NOT EXISTS snippet_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    snippet_id INTEGER NOT NULL REFERENCES snippets(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    parent_id INTEGER REFERENCES snippet_comments(id),
    created_on TEXT NOT NULL,
    updated_on TEXT
);
"#;

/// Errors opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the sandbox database at `{path}`")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "the sandbox database has schema version {found}, newer than this bbagent understands ({SCHEMA_VERSION})"
    )]
    TooNew { found: i64 },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// The database handle shared by all handlers.
#[derive(Debug)]
pub struct Db {
    pub pool: SqlitePool,
    write_lock: Mutex<()>,
}

impl Db {
    pub async fn open(path: &Path) -> Result<Self, DbError> {
        let open_err = |source| DbError::Open {
            path: path.display().to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await?;
        if version > SCHEMA_VERSION {
            return Err(DbError::TooNew { found: version });
        }
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        sqlx::query("PRAGMA user_version = 1")
            .execute(&pool)
            .await?;
        Ok(Self {
            pool,
            write_lock: Mutex::new(()),
        })
    }

    /// Serialises writers; hold the guard for the whole read-modify-write.
    pub async fn write(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().await
    }

    /// True when the database holds no users yet, i.e. it needs seeding.
    pub async fn is_empty(&self) -> Result<bool, sqlx::Error> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(n == 0)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

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
