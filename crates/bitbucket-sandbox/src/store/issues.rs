//! Issues and their comments.

use super::{CommentRow, IssueRow, Store, Write};

/// The fields of a new issue; its id is the repository's next issue number.
#[derive(Debug)]
pub struct NewIssue<'a> {
    pub repo_id: i64,
    pub title: &'a str,
    pub content: &'a str,
    pub kind: &'a str,
    pub priority: &'a str,
    pub state: &'a str,
    pub reporter_id: i64,
    pub assignee_id: Option<i64>,
    pub created_on: &'a str,
}

impl Store {
    pub async fn issue(&self, repo_id: i64, id: i64) -> Result<Option<IssueRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM issues WHERE repo_id = ? AND id = ?")
            .bind(repo_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(IssueRow::from_row).transpose()
    }

    pub async fn issues(&self, repo_id: i64) -> Result<Vec<IssueRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM issues WHERE repo_id = ? ORDER BY id")
            .bind(repo_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(IssueRow::from_row).collect()
    }

    pub async fn issue_comments(
        &self,
        repo_id: i64,
        issue_id: i64,
    ) -> Result<Vec<CommentRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT * FROM issue_comments WHERE repo_id = ? AND issue_id = ? ORDER BY id",
        )
        .bind(repo_id)
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(CommentRow::from_row).collect()
    }

    pub async fn issue_comment(
        &self,
        repo_id: i64,
        issue_id: i64,
        id: i64,
    ) -> Result<Option<CommentRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT * FROM issue_comments WHERE repo_id = ? AND issue_id = ? AND id = ?",
        )
        .bind(repo_id)
        .bind(issue_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(CommentRow::from_row).transpose()
    }
}

impl Write<'_> {
    pub async fn issue(&mut self, repo_id: i64, id: i64) -> Result<Option<IssueRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM issues WHERE repo_id = ? AND id = ?")
            .bind(repo_id)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(IssueRow::from_row).transpose()
    }

    /// Inserts an issue under the repository's next number, which is then used up for good.
    pub async fn insert_issue(&mut self, new: &NewIssue<'_>) -> Result<IssueRow, sqlx::Error> {
        let id: i64 = sqlx::query_scalar(
            "UPDATE repositories SET next_issue_id = next_issue_id + 1 WHERE id = ? RETURNING next_issue_id - 1",
        )
        .bind(new.repo_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO issues (repo_id, id, title, content, kind, priority, state, reporter_id, assignee_id, created_on, updated_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.repo_id)
        .bind(id)
        .bind(new.title)
        .bind(new.content)
        .bind(new.kind)
        .bind(new.priority)
        .bind(new.state)
        .bind(new.reporter_id)
        .bind(new.assignee_id)
        .bind(new.created_on)
        .bind(new.created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        IssueRow::from_row(&row)
    }

    /// Stores every editable field of `issue`.
    pub async fn update_issue(
        &mut self,
        repo_id: i64,
        issue: &IssueRow,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE issues SET title = ?, content = ?, kind = ?, priority = ?, state = ?, assignee_id = ?,
                updated_on = ?, edited_on = ? WHERE repo_id = ? AND id = ?",
        )
        .bind(&issue.title)
        .bind(&issue.content)
        .bind(&issue.kind)
        .bind(&issue.priority)
        .bind(&issue.state)
        .bind(issue.assignee_id)
        .bind(&issue.updated_on)
        .bind(&issue.edited_on)
        .bind(repo_id)
        .bind(issue.id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Deletes an issue; false when there was none.
    pub async fn delete_issue(&mut self, repo_id: i64, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM issues WHERE repo_id = ? AND id = ?")
            .bind(repo_id)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn insert_issue_comment(
        &mut self,
        repo_id: i64,
        issue_id: i64,
        user_id: i64,
        content: &str,
        created_on: &str,
    ) -> Result<CommentRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO issue_comments (repo_id, issue_id, user_id, content, created_on)
             VALUES (?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(repo_id)
        .bind(issue_id)
        .bind(user_id)
        .bind(content)
        .bind(created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        CommentRow::from_row(&row)
    }
}
