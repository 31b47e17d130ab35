//! Snippets, their files and comments.

use super::{CommentRow, SnippetRow, Store, Write};

impl Store {
    pub async fn snippet(
        &self,
        workspace_id: i64,
        encoded_id: &str,
    ) -> Result<Option<SnippetRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM snippets WHERE workspace_id = ? AND encoded_id = ?")
            .bind(workspace_id)
            .bind(encoded_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(SnippetRow::from_row).transpose()
    }

    pub async fn snippets(&self, workspace_id: i64) -> Result<Vec<SnippetRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM snippets WHERE workspace_id = ? ORDER BY id")
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(SnippetRow::from_row).collect()
    }

    /// A snippet's file paths with their sizes in bytes.
    pub async fn snippet_files(&self, snippet_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT path, length(content) FROM snippet_files WHERE snippet_id = ? ORDER BY path",
        )
        .bind(snippet_id)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn snippet_file(
        &self,
        snippet_id: i64,
        path: &str,
    ) -> Result<Option<Vec<u8>>, sqlx::Error> {
        sqlx::query_scalar("SELECT content FROM snippet_files WHERE snippet_id = ? AND path = ?")
            .bind(snippet_id)
            .bind(path)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn snippet_comments(&self, snippet_id: i64) -> Result<Vec<CommentRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM snippet_comments WHERE snippet_id = ? ORDER BY id")
            .bind(snippet_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(CommentRow::from_row).collect()
    }
}

impl Write<'_> {
    pub async fn snippet_comment_exists(
        &mut self,
        snippet_id: i64,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM snippet_comments WHERE snippet_id = ? AND id = ?")
                .bind(snippet_id)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    pub async fn insert_snippet_comment(
        &mut self,
        snippet_id: i64,
        user_id: i64,
        content: &str,
        parent_id: Option<i64>,
        created_on: &str,
    ) -> Result<CommentRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO snippet_comments (snippet_id, user_id, content, parent_id, created_on)
             VALUES (?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(snippet_id)
        .bind(user_id)
        .bind(content)
        .bind(parent_id)
        .bind(created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        CommentRow::from_row(&row)
    }
}
