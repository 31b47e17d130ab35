//! Comments on pull requests.

use sqlx::sqlite::SqliteRow;

use super::{Store, Write, col};

#[derive(Debug, Clone)]
pub struct PrCommentRow {
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

impl PrCommentRow {
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
pub struct NewPrComment<'a> {
    pub repo_id: i64,
    pub pr_id: i64,
    pub user_id: i64,
    pub content: &'a str,
    pub parent_id: Option<i64>,
    pub inline: Option<(&'a str, Option<i64>, Option<i64>)>,
    pub created_on: &'a str,
}

impl Store {
    pub async fn pr_comments(
        &self,
        repo_id: i64,
        pr_id: i64,
    ) -> Result<Vec<PrCommentRow>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT * FROM pr_comments WHERE repo_id = ? AND pr_id = ? ORDER BY id")
                .bind(repo_id)
                .bind(pr_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(PrCommentRow::from_row).collect()
    }

    pub async fn pr_comment(
        &self,
        repo_id: i64,
        pr_id: i64,
        id: i64,
    ) -> Result<Option<PrCommentRow>, sqlx::Error> {
        let row =
            sqlx::query("SELECT * FROM pr_comments WHERE repo_id = ? AND pr_id = ? AND id = ?")
                .bind(repo_id)
                .bind(pr_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(PrCommentRow::from_row).transpose()
    }

    /// Comments not deleted, for the pull request's `comment_count`.
    pub async fn pr_comment_count(&self, repo_id: i64, pr_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM pr_comments WHERE repo_id = ? AND pr_id = ? AND deleted = 0",
        )
        .bind(repo_id)
        .bind(pr_id)
        .fetch_one(&self.pool)
        .await
    }
}

impl Write<'_> {
    pub async fn insert_pr_comment(
        &mut self,
        new: &NewPrComment<'_>,
    ) -> Result<PrCommentRow, sqlx::Error> {
        let (path, from, to) = match new.inline {
            Some((p, f, t)) => (Some(p), f, t),
            None => (None, None, None),
        };
        let row = sqlx::query(
            "INSERT INTO pr_comments (repo_id, pr_id, user_id, content, parent_id, inline_path, inline_from, inline_to, created_on, updated_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.repo_id)
        .bind(new.pr_id)
        .bind(new.user_id)
        .bind(new.content)
        .bind(new.parent_id)
        .bind(path)
        .bind(from)
        .bind(to)
        .bind(new.created_on)
        .bind(new.created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        PrCommentRow::from_row(&row)
    }

    /// Stores the editable fields of `c`: content, deletion and resolution.
    pub async fn update_pr_comment(&mut self, c: &PrCommentRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE pr_comments SET content = ?, deleted = ?, resolved_by = ?, resolved_on = ?, updated_on = ? WHERE id = ?",
        )
        .bind(&c.content)
        .bind(c.deleted)
        .bind(c.resolved_by)
        .bind(&c.resolved_on)
        .bind(&c.updated_on)
        .bind(c.id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
