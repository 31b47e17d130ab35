//! Workspaces the user belongs to, and their members.

use bitbucket_client::{
    Client, ListWorkspacesParams, PageParams, WorkspaceAccess, WorkspaceMembership,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tool;
use super::users::AccountOutput;
use crate::args::{PageLen, PageNumber, Text};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput};
use crate::spec::{ToolAnnotations, Toolset};

/// A workspace the user belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct WorkspaceOutput {
    /// Slug used in other tools, e.g. `acme`.
    pub slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the user administers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub administrator: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl WorkspaceOutput {
    fn from_access(access: WorkspaceAccess) -> Self {
        let workspace = access.workspace.unwrap_or_default();
        WorkspaceOutput {
            html: workspace.links.html_href().map(str::to_owned),
            slug: workspace.slug,
            name: workspace.name,
            administrator: access.administrator,
        }
    }
}

impl Line for WorkspaceOutput {
    fn line(&self) -> String {
        let mut line = self.slug.clone();
        if let Some(name) = self.name.as_deref().filter(|n| *n != self.slug) {
            line.push_str(&format!(" \"{name}\""));
        }
        if self.administrator == Some(true) {
            line.push_str(" (administrator)");
        }
        line
    }
}

/// Page selection only.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListWorkspacesArgs {
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListWorkspaces;

impl Tool for ListWorkspaces {
    const NAME: &'static str = "BITBUCKET_LIST_WORKSPACES";
    const TITLE: &'static str = "List workspaces";
    const DESCRIPTION: &'static str = "Lists the workspaces you belong to, with their slugs and whether you administer them. \
Start here when you don't know the `workspace` argument other tools need.";
    const TOOLSET: Toolset = Toolset::Workspaces;
    const ENDPOINT: &'static str = "GET /user/workspaces";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListWorkspacesArgs;
    type Output = ListOutput<WorkspaceOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let params = ListWorkspacesParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
            ..ListWorkspacesParams::default()
        };
        let page = client
            .list_workspaces(&params)
            .await
            .or_explain(client, || {
                Context::new("list your workspaces", Scope::Account)
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            "Your workspaces".to_owned(),
            WorkspaceOutput::from_access,
        ))
    }
}

impl Line for AccountOutput {
    fn line(&self) -> String {
        self.summary()
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListMembersArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListWorkspaceMembers;

impl Tool for ListWorkspaceMembers {
    const NAME: &'static str = "BITBUCKET_LIST_WORKSPACE_MEMBERS";
    const TITLE: &'static str = "List workspace members";
    const DESCRIPTION: &'static str = "Lists a workspace's members with display name, nickname, uuid and account id. \
Use it to find who to pass as a reviewer or assignee.";
    const TOOLSET: Toolset = Toolset::Workspaces;
    const ENDPOINT: &'static str = "GET /workspaces/{workspace}/members";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListMembersArgs;
    type Output = ListOutput<AccountOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let workspace = args.workspace.as_str();
        let params = PageParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let page = client
            .list_workspace_members(workspace, &params)
            .await
            .or_explain(client, || {
                Context::new("list members", Scope::Workspace(workspace.to_owned()))
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Members of {workspace}"),
            |member: WorkspaceMembership| {
                AccountOutput::from_account(&member.user.unwrap_or_default())
            },
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
}

/// One workspace.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct OneWorkspaceOutput {
    pub slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl crate::output::Render for OneWorkspaceOutput {
    fn render(&self) -> String {
        let mut text = format!(
            "Workspace {} \"{}\"",
            self.slug,
            self.name.as_deref().unwrap_or(&self.slug)
        );
        crate::output::field(&mut text, "uuid", self.uuid.as_deref());
        crate::output::field(&mut text, "link", self.html.as_deref());
        text
    }
}

pub(crate) struct GetWorkspace;

impl Tool for GetWorkspace {
    const NAME: &'static str = "BITBUCKET_GET_WORKSPACE";
    const TITLE: &'static str = "Get workspace";
    const DESCRIPTION: &'static str = "One workspace: name, uuid, privacy and link.";
    const TOOLSET: Toolset = Toolset::Workspaces;
    const ENDPOINT: &'static str = "GET /workspaces/{workspace}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = WorkspaceArgs;
    type Output = OneWorkspaceOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let slug = args.workspace.as_str();
        let ws = client
            .get_workspace(slug)
            .await
            .or_explain(client, || {
                Context::new("read the workspace", Scope::Workspace(slug.to_owned()))
            })
            .await?;
        Ok(OneWorkspaceOutput {
            html: ws.links.html_href().map(str::to_owned),
            slug: ws.slug,
            name: ws.name,
            uuid: ws.uuid,
            is_private: ws.is_private,
            created_on: ws.created_on,
        })
    }
}

/// A project of a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct ProjectOutput {
    /// E.g. `WEB`.
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
}

impl Line for ProjectOutput {
    fn line(&self) -> String {
        let mut line = format!("{} \"{}\"", self.key, self.name.as_deref().unwrap_or(""));
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            line.push_str(&format!(": {d}"));
        }
        line
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListProjectsArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListProjects;

impl Tool for ListProjects {
    const NAME: &'static str = "BITBUCKET_LIST_WORKSPACE_PROJECTS";
    const TITLE: &'static str = "List workspace projects";
    const DESCRIPTION: &'static str =
        "The projects of a workspace (they group repositories): key, name, description.";
    const TOOLSET: Toolset = Toolset::Workspaces;
    const ENDPOINT: &'static str = "GET /workspaces/{workspace}/projects";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListProjectsArgs;
    type Output = ListOutput<ProjectOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let slug = args.workspace.as_str();
        let params = PageParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let page = client
            .list_projects(slug, &params)
            .await
            .or_explain(client, || {
                Context::new("list projects", Scope::Workspace(slug.to_owned()))
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Projects of {slug}"),
            |p| ProjectOutput {
                key: p.key.unwrap_or_default(),
                name: p.name,
                description: p.description,
                is_private: p.is_private,
            },
        ))
    }
}
