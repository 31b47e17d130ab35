//! The authenticated user.

use serde_json::Value;

use crate::error::Error;
use crate::http::Client;
use crate::models::{Project, User, Workspace};
use crate::ops::page_query;
use crate::page::{Page, PageParams};
use crate::path::segment;
use crate::repo::RepoId;

impl Client {
    /// `GET /user`: the account the credentials belong to.
    pub async fn current_user(&self) -> Result<User, Error> {
        self.get_json(self.endpoint("/user")?).await
    }

    /// `GET /users/{selected_user}`: anyone's public profile, by username, `{uuid}` or account
    /// id.
    pub async fn get_user(&self, selected: &str) -> Result<User, Error> {
        let url = self.endpoint(&format!("/users/{}", segment("selected_user", selected)?))?;
        self.get_json(url).await
    }

    /// `GET /workspaces/{workspace}`.
    pub async fn get_workspace(&self, workspace: &str) -> Result<Workspace, Error> {
        let url = self.endpoint(&format!("/workspaces/{}", segment("workspace", workspace)?))?;
        self.get_json(url).await
    }

    /// `GET /workspaces/{workspace}/projects`.
    pub async fn list_projects(
        &self,
        workspace: &str,
        params: &PageParams,
    ) -> Result<Page<Project>, Error> {
        let mut url = self.endpoint(&format!(
            "/workspaces/{}/projects",
            segment("workspace", workspace)?
        ))?;
        page_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET /hook_events/{subject_type}`: the events a webhook on a `repository` or a
    /// `workspace` can subscribe to.
    pub async fn list_hook_events(
        &self,
        subject_type: &str,
        params: &PageParams,
    ) -> Result<Page<Value>, Error> {
        let mut url = self.endpoint(&format!(
            "/hook_events/{}",
            segment("subject_type", subject_type)?
        ))?;
        page_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../branching-model`, or with `effective` the model in force (the project's when
    /// the repository has none of its own).
    pub async fn get_branching_model(
        &self,
        repo: &RepoId,
        effective: bool,
    ) -> Result<Value, Error> {
        let kind = if effective {
            "effective-branching-model"
        } else {
            "branching-model"
        };
        self.get_json(self.endpoint(&format!("{}/{kind}", repo.path()))?)
            .await
    }
}
