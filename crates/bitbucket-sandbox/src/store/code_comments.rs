//! Comments on code: on a pull request or on a commit, optionally inline on a line of the
//! diff, or in reply to another. Both kinds have the same columns in their own table
//! (`pr_comments`, `commit_comments`); a [`Thread`] says which, so each query is written once.

use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};

use super::{Store, Write, col};

/// What a comment is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thread<'a> {
    /// A pull request, by its number in the repository.
    PullRequest(i64),
    /// A commit, by its full hash.
    Commit(&'a str),
}

impl Thread<'_> {
    /// The table and the column that names the thread. Both are constants, never input, so
    /// the SQL built from them is safe.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Thread::PullRequest(_) => ("pr_comments", "pr_id"),
            Thread::Commit(_) => ("commit_comments", "commit_hash"),
        }
    }

    fn sql(self, template: &str) -> sqlx::AssertSqlSafe<String> {
        let (table, key) = self.table();
        sqlx::AssertSqlSafe(template.replace("{table}", table).replace("{key}", key))
    }

    fn bind_key(
        self,
        query: Query<'_, Sqlite, SqliteArguments>,
    ) -> Query<'_, Sqlite, SqliteArguments> {
        match self {
            Thread::PullRequest(id) => query.bind(id),
            Thread::Commit(hash) => query.bind(hash.to_owned()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CodeCommentRow {
    pub id: i64,
    pub user_id: i64,
    pub content: String,
    pub parent_id: Option<i64>,
    pub inline_path: Option<String>,
    pub inline_from: Option<i64>,
    pub inline_to: Option<i64>,
    pub deleted: bool,
    pub resolved_by: Option<i64>,
    pub resolved_on: Option<String>,
    pub created_on: String,
    pub updated_on: String,
}

impl CodeCommentRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            user_id: col(row, "user_id")?,
            content: col(row, "content")?,
            parent_id: col(row, "parent_id")?,
            inline_path: col(row, "inline_path")?,
            inline_from: col(row, "inline_from")?,
            inline_to: col(row, "inline_to")?,
            deleted: col(row, "deleted")?,
            resolved_by: col(row, "resolved_by")?,
            resolved_on: col(row, "resolved_on")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

/// Where a new comment goes.
#[derive(Debug)]
pub struct NewCodeComment<'a> {
    pub repo_id: i64,
    pub thread: Thread<'a>,
    pub user_id: i64,
    pub content: &'a str,
    pub parent_id: Option<i64>,
    pub inline: Option<(&'a str, Option<i64>, Option<i64>)>,
    pub created_on: &'a str,
}

impl Store {
    /// A thread's comments, oldest first, deleted ones included.
    pub async fn code_comments(
        &self,
        repo_id: i64,
        thread: Thread<'_>,
    ) -> Result<Vec<CodeCommentRow>, sqlx::Error> {
        let sql = thread.sql("SELECT * FROM {table} WHERE repo_id = ? AND {key} = ? ORDER BY id");
        let rows = thread
            .bind_key(sqlx::query(sql).bind(repo_id))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(CodeCommentRow::from_row).collect()
    }

    pub async fn code_comment(
        &self,
        repo_id: i64,
        thread: Thread<'_>,
        id: i64,
    ) -> Result<Option<CodeCommentRow>, sqlx::Error> {
        let sql = thread.sql("SELECT * FROM {table} WHERE repo_id = ? AND {key} = ? AND id = ?");
        let row = thread
            .bind_key(sqlx::query(sql).bind(repo_id))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(CodeCommentRow::from_row).transpose()
    }

    /// Comments not deleted, for the pull request's `comment_count`.
    pub async fn code_comment_count(
        &self,
        repo_id: i64,
        thread: Thread<'_>,
    ) -> Result<i64, sqlx::Error> {
        let sql = thread.sql(
            "SELECT COUNT(*) AS n FROM {table} WHERE repo_id = ? AND {key} = ? AND deleted = 0",
        );
        let row = thread
            .bind_key(sqlx::query(sql).bind(repo_id))
            .fetch_one(&self.pool)
            .await?;
        col(&row, "n")
    }
}

impl Write<'_> {
    pub async fn insert_code_comment(
        &mut self,
        new: &NewCodeComment<'_>,
    ) -> Result<CodeCommentRow, sqlx::Error> {
        let (path, from, to) = match new.inline {
            Some((p, f, t)) => (Some(p), f, t),
            None => (None, None, None),
        };
        let sql = new.thread.sql(
            "INSERT INTO {table} (repo_id, {key}, user_id, content, parent_id, inline_path, inline_from, inline_to, created_on, updated_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        );
        let row = new
            .thread
            .bind_key(sqlx::query(sql).bind(new.repo_id))
            .bind(new.user_id)
            .bind(new.content.to_owned())
            .bind(new.parent_id)
            .bind(path.map(str::to_owned))
            .bind(from)
            .bind(to)
            .bind(new.created_on.to_owned())
            .bind(new.created_on.to_owned())
            .fetch_one(&mut *self.tx)
            .await?;
        CodeCommentRow::from_row(&row)
    }

    /// Stores the editable fields of `c`: content, deletion and resolution.
    pub async fn update_code_comment(
        &mut self,
        thread: Thread<'_>,
        c: &CodeCommentRow,
    ) -> Result<(), sqlx::Error> {
        let sql = thread.sql(
            "UPDATE {table} SET content = ?, deleted = ?, resolved_by = ?, resolved_on = ?, updated_on = ? WHERE id = ?",
        );
        sqlx::query(sql)
            .bind(c.content.clone())
            .bind(c.deleted)
            .bind(c.resolved_by)
            .bind(c.resolved_on.clone())
            .bind(c.updated_on.clone())
            .bind(c.id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
