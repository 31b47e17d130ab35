//! Workspaces the caller can access, and their members.

use crate::error::Error;
use crate::http::{Client, Query};
use crate::models::{RepositoryPermission, WorkspaceAccess, WorkspaceMembership};
use crate::ops::page_query;
use crate::page::{Page, PageParams};
use crate::path::segment;
use crate::repo::RepoId;

/// Filters for [`Client::list_workspaces`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListWorkspacesParams {
    /// Only workspaces the caller administers (`true`) or does not (`false`).
    pub administrator: Option<bool>,
    /// Filter expression.
    pub q: Option<String>,
    /// Sort field, e.g. `workspace.slug`.
    pub sort: Option<String>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Items per page.
    pub pagelen: Option<u32>,
}

impl Client {
    /// `GET /user/workspaces`: workspaces the caller belongs to, with their access level.
    ///
    /// `GET /workspaces` is not used: Bitbucket answers it with 410 since 2026.
    pub async fn list_workspaces(
        &self,
        params: &ListWorkspacesParams,
    ) -> Result<Page<WorkspaceAccess>, Error> {
        let query = Query::new()
            .opt("administrator", params.administrator)
            .opt("q", params.q.as_deref())
            .opt("sort", params.sort.as_deref())
            .opt("page", params.page)
            .opt("pagelen", params.pagelen);
        self.get_json(self.endpoint_with("/user/workspaces", query)?)
            .await
    }

    /// `GET /workspaces/{workspace}/members`.
    pub async fn list_workspace_members(
        &self,
        workspace: &str,
        params: &PageParams,
    ) -> Result<Page<WorkspaceMembership>, Error> {
        let path = format!("/workspaces/{}/members", segment("workspace", workspace)?);
        self.get_json(self.endpoint_with(&path, page_query(params))?)
            .await
    }

    /// `GET /workspaces/{workspace}/permissions/repositories/{repo_slug}`: every user's
    /// effective permission on the repository. Bitbucket answers only the repository's
    /// administrators (others get [`Error`] 403).
    pub async fn list_repository_permissions(
        &self,
        repo: &RepoId,
        params: &PageParams,
    ) -> Result<Page<RepositoryPermission>, Error> {
        let path = format!(
            "/workspaces/{}/permissions/repositories/{}",
            segment("workspace", repo.workspace())?,
            segment("repo_slug", repo.slug())?
        );
        self.get_json(self.endpoint_with(&path, page_query(params))?)
            .await
    }
}
