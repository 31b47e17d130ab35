//! Tasks on pull requests.

use sqlx::sqlite::SqliteRow;

use super::{Store, Write, col};

#[derive(Debug, Clone)]
pub struct PrTaskRow {
    pub id: i64,
    pub creator_id: i64,
    pub content: String,
    pub comment_id: Option<i64>,
    /// `UNRESOLVED` or `RESOLVED`.
    pub state: String,
    pub pending: bool,
    pub resolved_by: Option<i64>,
    pub resolved_on: Option<String>,
    pub created_on: String,
    pub updated_on: String,
}

impl PrTaskRow {
    pub fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            creator_id: col(row, "creator_id")?,
            content: col(row, "content")?,
            comment_id: col(row, "comment_id")?,
            state: col(row, "state")?,
            pending: col(row, "pending")?,
            resolved_by: col(row, "resolved_by")?,
            resolved_on: col(row, "resolved_on")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

/// A task to store.
#[derive(Debug)]
pub struct NewPrTask<'a> {
    pub repo_id: i64,
    pub pr_id: i64,
    pub creator_id: i64,
    pub content: &'a str,
    pub comment_id: Option<i64>,
    pub pending: bool,
    pub created_on: &'a str,
}

impl Store {
    /// A pull request's tasks, oldest first.
    pub async fn pr_tasks(&self, repo_id: i64, pr_id: i64) -> Result<Vec<PrTaskRow>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT * FROM pr_tasks WHERE repo_id = ? AND pr_id = ? ORDER BY id")
                .bind(repo_id)
                .bind(pr_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(PrTaskRow::from_row).collect()
    }

    pub async fn pr_task(
        &self,
        repo_id: i64,
        pr_id: i64,
        id: i64,
    ) -> Result<Option<PrTaskRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM pr_tasks WHERE repo_id = ? AND pr_id = ? AND id = ?")
            .bind(repo_id)
            .bind(pr_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(PrTaskRow::from_row).transpose()
    }

    /// Open tasks, for the pull request's `task_count`.
    pub async fn pr_open_task_count(&self, repo_id: i64, pr_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM pr_tasks WHERE repo_id = ? AND pr_id = ? AND state = 'UNRESOLVED'",
        )
        .bind(repo_id)
        .bind(pr_id)
        .fetch_one(&self.pool)
        .await
    }
}

impl Write<'_> {
    pub async fn insert_pr_task(&mut self, new: &NewPrTask<'_>) -> Result<PrTaskRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO pr_tasks (repo_id, pr_id, creator_id, content, comment_id, pending, created_on, updated_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.repo_id)
        .bind(new.pr_id)
        .bind(new.creator_id)
        .bind(new.content)
        .bind(new.comment_id)
        .bind(new.pending)
        .bind(new.created_on)
        .bind(new.created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        PrTaskRow::from_row(&row)
    }

    /// Stores the editable fields of `t`: content, state and resolution.
    pub async fn update_pr_task(&mut self, t: &PrTaskRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE pr_tasks SET content = ?, state = ?, resolved_by = ?, resolved_on = ?, updated_on = ? WHERE id = ?",
        )
        .bind(&t.content)
        .bind(&t.state)
        .bind(t.resolved_by)
        .bind(&t.resolved_on)
        .bind(&t.updated_on)
        .bind(t.id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn delete_pr_task(&mut self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM pr_tasks WHERE id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
