//! Build statuses of commits.

use super::{Store, Write, col};
use sqlx::sqlite::SqliteRow;

#[derive(Debug, Clone)]
pub struct StatusRow {
    pub commit_hash: String,
    pub key: String,
    pub state: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub refname: Option<String>,
    pub created_on: String,
    pub updated_on: String,
}

impl StatusRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            commit_hash: col(row, "commit_hash")?,
            key: col(row, "key")?,
            state: col(row, "state")?,
            name: col(row, "name")?,
            description: col(row, "description")?,
            url: col(row, "url")?,
            refname: col(row, "refname")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

impl Store {
    /// A commit's statuses, oldest first.
    pub async fn statuses(&self, repo_id: i64, hash: &str) -> Result<Vec<StatusRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT * FROM commit_statuses WHERE repo_id = ? AND commit_hash = ? ORDER BY id",
        )
        .bind(repo_id)
        .bind(hash)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(StatusRow::from_row).collect()
    }

    pub async fn status(
        &self,
        repo_id: i64,
        hash: &str,
        key: &str,
    ) -> Result<Option<StatusRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT * FROM commit_statuses WHERE repo_id = ? AND commit_hash = ? AND key = ?",
        )
        .bind(repo_id)
        .bind(hash)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(StatusRow::from_row).transpose()
    }
}

impl Write<'_> {
    /// Creates the status, or replaces the one with the same key on that commit (keeping
    /// its creation time). Returns the stored row.
    pub async fn put_status(
        &mut self,
        repo_id: i64,
        status: &StatusRow,
    ) -> Result<StatusRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO commit_statuses (repo_id, commit_hash, key, state, name, description, url, refname, created_on, updated_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT (repo_id, commit_hash, key) DO UPDATE SET state = ?4, name = ?5,
                description = ?6, url = ?7, refname = ?8, updated_on = ?9
             RETURNING *",
        )
        .bind(repo_id)
        .bind(&status.commit_hash)
        .bind(&status.key)
        .bind(&status.state)
        .bind(&status.name)
        .bind(&status.description)
        .bind(&status.url)
        .bind(&status.refname)
        .bind(&status.updated_on)
        .fetch_one(&mut *self.tx)
        .await?;
        StatusRow::from_row(&row)
    }
}
