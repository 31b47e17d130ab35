//! Repositories' metadata and their projects.

use super::{ProjectRow, RepoRow, Store, Write};

/// The fields of a new repository row.
#[derive(Debug)]
pub struct NewRepo<'a> {
    pub uuid: &'a str,
    pub workspace_id: i64,
    pub project_id: Option<i64>,
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub is_private: bool,
    pub has_issues: bool,
    pub has_wiki: bool,
    pub fork_policy: &'a str,
    pub language: &'a str,
    pub mainbranch: &'a str,
    pub created_on: &'a str,
}

impl Store {
    /// A repository by workspace (slug or `{uuid}`) and repository (slug or `{uuid}`).
    pub async fn repo_by_key(
        &self,
        workspace: &str,
        slug: &str,
    ) -> Result<Option<RepoRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT r.* FROM repositories r JOIN workspaces w ON w.id = r.workspace_id
             WHERE (w.slug = ?1 OR w.uuid = lower(?1)) AND (r.slug = ?2 OR r.uuid = lower(?2))",
        )
        .bind(workspace)
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(RepoRow::from_row).transpose()
    }

    pub async fn repo_by_id(&self, id: i64) -> Result<Option<RepoRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM repositories WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(RepoRow::from_row).transpose()
    }

    /// A workspace's repositories by slug.
    pub async fn repos_in(&self, workspace_id: i64) -> Result<Vec<RepoRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM repositories WHERE workspace_id = ? ORDER BY slug")
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(RepoRow::from_row).collect()
    }

    /// A workspace's projects by key.
    pub async fn projects_in(&self, workspace_id: i64) -> Result<Vec<ProjectRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM projects WHERE workspace_id = ? ORDER BY key")
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ProjectRow::from_row).collect()
    }

    pub async fn project(&self, id: i64) -> Result<Option<ProjectRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM projects WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ProjectRow::from_row).transpose()
    }
}

impl Write<'_> {
    /// The id of the workspace's project with this key.
    pub async fn project_id(
        &mut self,
        workspace_id: i64,
        key: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM projects WHERE workspace_id = ? AND key = ?")
            .bind(workspace_id)
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
    }

    /// The workspace's oldest project, where new repositories go by default.
    pub async fn first_project_id(
        &mut self,
        workspace_id: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM projects WHERE workspace_id = ? ORDER BY id LIMIT 1")
            .bind(workspace_id)
            .fetch_optional(&mut *self.tx)
            .await
    }

    pub async fn repo_exists(
        &mut self,
        workspace_id: i64,
        slug: &str,
    ) -> Result<bool, sqlx::Error> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM repositories WHERE workspace_id = ? AND slug = ?")
                .bind(workspace_id)
                .bind(slug)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    pub async fn insert_repo(&mut self, new: &NewRepo<'_>) -> Result<RepoRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO repositories (uuid, workspace_id, project_id, slug, name, description, is_private,
                has_issues, has_wiki, fork_policy, language, mainbranch, created_on, updated_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.uuid)
        .bind(new.workspace_id)
        .bind(new.project_id)
        .bind(new.slug)
        .bind(new.name)
        .bind(new.description)
        .bind(new.is_private)
        .bind(new.has_issues)
        .bind(new.has_wiki)
        .bind(new.fork_policy)
        .bind(new.language)
        .bind(new.mainbranch)
        .bind(new.created_on)
        .bind(new.created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        RepoRow::from_row(&row)
    }

    /// Deletes a repository's row and, through foreign keys, everything that hangs off it.
    pub async fn delete_repo(&mut self, repo_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM repositories WHERE id = ?")
            .bind(repo_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
