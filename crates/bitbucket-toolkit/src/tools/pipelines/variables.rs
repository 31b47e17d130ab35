//! Pipeline variables of a repository or a workspace. Composio's team and user variable tools
//! call the retired `/teams/…` and `/users/…` paths; here they call the workspace's, which is
//! where those variables now live (a team's `username` is its workspace slug).

use bitbucket_client::{Client, ListParams, PipelineVariable, VariableScope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::{Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput, Render};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

/// A pipeline variable; a secured one's value is never shown.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct VariableOutput {
    pub uuid: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub secured: bool,
}

impl VariableOutput {
    fn from_variable(v: PipelineVariable) -> Self {
        VariableOutput {
            uuid: v.uuid,
            key: v.key,
            value: v.value,
            secured: v.secured,
        }
    }
}

impl Line for VariableOutput {
    fn line(&self) -> String {
        match (&self.value, self.secured) {
            (_, true) => format!("{} = (secured) {}", self.key, self.uuid),
            (Some(v), false) => format!("{} = {v} {}", self.key, self.uuid),
            (None, false) => format!("{} {}", self.key, self.uuid),
        }
    }
}

impl Render for VariableOutput {
    fn render(&self) -> String {
        format!("Variable {}", self.line())
    }
}

fn scope_label(scope: &VariableScope) -> (String, Scope) {
    match scope {
        VariableScope::Repository(repo) => (format!("{repo}"), Scope::repository(repo)),
        VariableScope::Workspace(ws) => (format!("workspace {ws}"), Scope::Workspace(ws.clone())),
        VariableScope::Environment(repo, env) => (
            format!("environment {env} of {repo}"),
            Scope::repository(repo),
        ),
    }
}

pub(super) async fn list(
    client: &Client,
    scope: VariableScope,
) -> Result<ListOutput<VariableOutput>, ToolError> {
    let mut params = ListParams::new();
    params.pagelen = Some(100);
    let (label, error_scope) = scope_label(&scope);
    let page = client
        .list_variables(&scope, &params)
        .await
        .or_explain(client, || {
            Context::new("list pipeline variables", error_scope)
        })
        .await?;
    Ok(ListOutput::new(
        page,
        None,
        format!("Pipeline variables of {label}"),
        VariableOutput::from_variable,
    ))
}

async fn create(
    client: &Client,
    scope: VariableScope,
    (key, value, secured): (&str, &str, bool),
) -> Result<VariableOutput, ToolError> {
    let (_, error_scope) = scope_label(&scope);
    let v = client
        .create_variable(&scope, key, value, secured)
        .await
        .or_explain(client, || {
            Context::new(format!("create variable `{key}`"), error_scope).conflict(format!(
                "a variable `{key}` exists already; update it instead"
            ))
        })
        .await?;
    Ok(VariableOutput::from_variable(v))
}

/// The uuid of the variable named by uuid (with or without braces) or by key.
async fn variable_uuid(
    client: &Client,
    scope: &VariableScope,
    name: &str,
) -> Result<String, ToolError> {
    let bare = name.trim().trim_matches(['{', '}']);
    let listed = list(client, scope.clone()).await?;
    listed
        .items
        .iter()
        .find(|v| v.uuid.trim_matches(['{', '}']) == bare || v.key == name.trim())
        .map(|v| v.uuid.clone())
        .ok_or_else(|| {
            let keys: Vec<&str> = listed.items.iter().map(|v| v.key.as_str()).collect();
            ToolError::Refused(format!(
                "no variable `{name}` in {}; it has: {}",
                scope_label(scope).0,
                keys.join(", ")
            ))
        })
}

async fn update(
    client: &Client,
    scope: VariableScope,
    (name, key, value): (&str, Option<&str>, &str),
) -> Result<VariableOutput, ToolError> {
    let uuid = variable_uuid(client, &scope, name).await?;
    let uuid = uuid.as_str();
    let (_, error_scope) = scope_label(&scope);
    let v = client
        .update_variable(&scope, uuid, key, value)
        .await
        .or_explain(client, || {
            Context::new(format!("update variable `{uuid}`"), error_scope).item(
                format!("variable `{uuid}`"),
                "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_VARIABLES",
            )
        })
        .await?;
    Ok(VariableOutput::from_variable(v))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepoArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
}

pub(crate) struct ListRepoVariables;

impl Tool for ListRepoVariables {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_VARIABLES";
    const TITLE: &'static str = "List repository variables";
    const DESCRIPTION: &'static str = "A repository's pipeline variables (secured values hidden).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pipelines_config/variables";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = RepoArgs;
    type Output = ListOutput<VariableOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        list(client, VariableScope::Repository(repo)).await
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRepoVariableArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Name, e.g. `AWS_REGION`.
    key: Text,
    /// Value.
    value: Text,
    /// Write-only and masked in logs.
    secured: Option<bool>,
}

pub(crate) struct CreateRepoVariable;

impl Tool for CreateRepoVariable {
    const NAME: &'static str = "BITBUCKET_CREATE_REPOSITORY_PIPELINE_VARIABLE";
    const TITLE: &'static str = "Create repository variable";
    const DESCRIPTION: &'static str = "Adds a pipeline variable to a repository.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pipelines_config/variables";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = NewRepoVariableArgs;
    type Output = VariableOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let secured = args.secured.unwrap_or(false);
        create(
            client,
            VariableScope::Repository(repo),
            (args.key.as_str(), args.value.as_str(), secured),
        )
        .await
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTeamVariableArgs {
    /// The team's workspace slug.
    username: Text,
    /// Name, e.g. `AWS_REGION`.
    key: Text,
    /// Value.
    value: Text,
    /// Write-only and masked in logs.
    secured: Option<bool>,
}

pub(crate) struct CreateTeamVariable;

impl Tool for CreateTeamVariable {
    const NAME: &'static str = "BITBUCKET_CREATE_TEAMS_PIPELINES_CONFIG_VARIABLES";
    const TITLE: &'static str = "Create workspace variable";
    const DESCRIPTION: &'static str =
        "Adds a pipeline variable to a workspace (the retired team path).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "POST /workspaces/{workspace}/pipelines-config/variables";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = NewTeamVariableArgs;
    type Output = VariableOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let secured = args.secured.unwrap_or(false);
        let scope = VariableScope::Workspace(args.username.0);
        create(
            client,
            scope,
            (args.key.as_str(), args.value.as_str(), secured),
        )
        .await
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserVariableArgs {
    /// The user's workspace slug.
    selected_user: Text,
    /// Name, e.g. `AWS_REGION`.
    key: Text,
    /// Value.
    value: Text,
    /// Write-only and masked in logs.
    secured: Option<bool>,
}

pub(crate) struct CreateUserVariable;

impl Tool for CreateUserVariable {
    const NAME: &'static str = "BITBUCKET_CREATE_USERS_PIPELINES_CONFIG_VARIABLES";
    const TITLE: &'static str = "Create user variable";
    const DESCRIPTION: &'static str =
        "Adds a pipeline variable to a user's workspace (the retired user path).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "POST /workspaces/{workspace}/pipelines-config/variables";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = NewUserVariableArgs;
    type Output = VariableOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let secured = args.secured.unwrap_or(false);
        let scope = VariableScope::Workspace(args.selected_user.0);
        create(
            client,
            scope,
            (args.key.as_str(), args.value.as_str(), secured),
        )
        .await
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTeamVariableArgs {
    /// The team's workspace slug.
    username: Text,
    /// The variable's uuid or key.
    variable_uuid: Text,
    /// Value.
    value: Text,
    /// A new name.
    key: Option<Text>,
}

pub(crate) struct UpdateTeamVariable;

impl Tool for UpdateTeamVariable {
    const NAME: &'static str = "BITBUCKET_UPDATE_TEAMS_PIPELINES_CONFIG_VARIABLES";
    const TITLE: &'static str = "Update workspace variable";
    const DESCRIPTION: &'static str =
        "Changes a workspace pipeline variable (the retired team path).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "PUT /workspaces/{workspace}/pipelines-config/variables/{variable_uuid}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = UpdateTeamVariableArgs;
    type Output = VariableOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let scope = VariableScope::Workspace(args.username.0);
        let key = args.key.as_ref().map(Text::as_str);
        update(
            client,
            scope,
            (args.variable_uuid.as_str(), key, args.value.as_str()),
        )
        .await
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUserVariableArgs {
    /// The user's workspace slug.
    selected_user: Text,
    /// The variable's uuid or key.
    variable_uuid: Text,
    /// Value.
    value: Text,
    /// A new name.
    key: Option<Text>,
}

pub(crate) struct UpdateUserVariable;

impl Tool for UpdateUserVariable {
    const NAME: &'static str = "BITBUCKET_UPDATE_USERS_PIPELINES_CONFIG_VARIABLES";
    const TITLE: &'static str = "Update user variable";
    const DESCRIPTION: &'static str =
        "Changes a pipeline variable of a user's workspace (the retired user path).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "PUT /workspaces/{workspace}/pipelines-config/variables/{variable_uuid}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = UpdateUserVariableArgs;
    type Output = VariableOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let scope = VariableScope::Workspace(args.selected_user.0);
        let key = args.key.as_ref().map(Text::as_str);
        update(
            client,
            scope,
            (args.variable_uuid.as_str(), key, args.value.as_str()),
        )
        .await
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteUserVariableArgs {
    /// The user's workspace slug.
    selected_user: Text,
    /// The variable's uuid or key.
    variable_uuid: Text,
}

/// A variable deleted.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct VariableDeleted {
    pub deleted: String,
}

impl Render for VariableDeleted {
    fn render(&self) -> String {
        format!("Deleted {}", self.deleted)
    }
}

pub(crate) struct DeleteUserVariable;

impl Tool for DeleteUserVariable {
    const NAME: &'static str = "BITBUCKET_DELETE_USER_PIPELINE_VARIABLE";
    const TITLE: &'static str = "Delete user variable";
    const DESCRIPTION: &'static str =
        "Deletes a pipeline variable of a user's workspace (the retired user path).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "DELETE /workspaces/{workspace}/pipelines-config/variables/{variable_uuid}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = DeleteUserVariableArgs;
    type Output = VariableDeleted;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let ws = args.selected_user.0;
        let scope = VariableScope::Workspace(ws.clone());
        let uuid = variable_uuid(client, &scope, args.variable_uuid.as_str()).await?;
        let uuid = uuid.as_str();
        client
            .delete_variable(&scope, uuid)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("delete variable `{uuid}`"),
                    Scope::Workspace(ws.clone()),
                )
            })
            .await?;
        Ok(VariableDeleted {
            deleted: format!("variable {uuid} of workspace {ws}"),
        })
    }
}
