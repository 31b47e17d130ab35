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
