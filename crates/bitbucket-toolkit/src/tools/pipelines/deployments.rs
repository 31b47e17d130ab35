//! Deployment environments, deployments, and environment variables.

use bitbucket_client::{Client, Deployment, Environment, ListParams, RepoId, VariableScope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::variables::{VariableOutput, list};
use crate::args::{Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput, Render, short_hash};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

/// A deployment environment.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct EnvironmentOutput {
    pub uuid: String,
    pub name: String,
    /// Test, Staging or Production.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_type: Option<String>,
}

impl EnvironmentOutput {
    fn from_environment(e: Environment) -> Self {
        EnvironmentOutput {
            environment_type: e.environment_type["name"].as_str().map(str::to_owned),
            uuid: e.uuid,
            name: e.name,
        }
    }
}

impl Line for EnvironmentOutput {
    fn line(&self) -> String {
        format!(
            "{} ({}) {}",
            self.name,
            self.environment_type.as_deref().unwrap_or("?"),
            self.uuid
        )
    }
}

impl Render for EnvironmentOutput {
    fn render(&self) -> String {
        format!("Environment {}", self.line())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepoArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
}

pub(crate) struct ListEnvironments;

impl Tool for ListEnvironments {
    const NAME: &'static str = "BITBUCKET_LIST_REPOSITORIES_ENVIRONMENTS";
    const TITLE: &'static str = "List environments";
    const DESCRIPTION: &'static str =
        "A repository's deployment environments (Test, Staging, Production, ...).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/environments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = RepoArgs;
    type Output = ListOutput<EnvironmentOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let mut params = ListParams::new();
        params.pagelen = Some(100);
        let page = client
            .list_environments(&repo, &params)
            .await
            .or_explain(client, || {
                Context::new("list environments", Scope::repository(&repo))
            })
            .await?;
        Ok(ListOutput::new(
            page,
            None,
            format!("Environments of {repo}"),
            EnvironmentOutput::from_environment,
        ))
    }
}

/// The environment named by uuid or (case-insensitive) name.
async fn environment(client: &Client, repo: &RepoId, key: &str) -> Result<Environment, ToolError> {
    let mut params = ListParams::new();
    params.pagelen = Some(100);
    let page = client
        .list_environments(repo, &params)
        .await
        .or_explain(client, || {
            Context::new("list environments", Scope::repository(repo))
        })
        .await?;
    let bare = key.trim().trim_matches(['{', '}']);
    let names: Vec<String> = page.values.iter().map(|e| e.name.clone()).collect();
    page.values
        .into_iter()
        .find(|e| {
            e.uuid.trim_matches(['{', '}']) == bare || e.name.eq_ignore_ascii_case(key.trim())
        })
        .ok_or_else(|| {
            ToolError::Refused(format!(
                "{repo} has no environment `{key}`; it has: {}",
                names.join(", ")
            ))
        })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnvironmentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Name (e.g. `production`) or uuid.
    environment_id: Text,
}

pub(crate) struct GetEnvironment;

impl Tool for GetEnvironment {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_ENVIRONMENTS2";
    const TITLE: &'static str = "Get environment";
    const DESCRIPTION: &'static str = "One deployment environment.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/environments/{environment_uuid}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = EnvironmentArgs;
    type Output = EnvironmentOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let found = environment(client, &repo, args.environment_id.as_str()).await?;
        let e = client
            .get_environment(&repo, &found.uuid)
            .await
            .or_explain(client, || {
                Context::new("read an environment", Scope::repository(&repo))
            })
            .await?;
        Ok(EnvironmentOutput::from_environment(e))
    }
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct DeploymentOutput {
    pub uuid: String,
    pub environment: String,
    /// IN_PROGRESS, COMPLETED or UNDEPLOYED.
    pub state: String,
    /// SUCCESSFUL, FAILED or STOPPED once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The release, e.g. `#12`.
    pub release: String,
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
}

impl DeploymentOutput {
    fn from_deployment(d: Deployment) -> Self {
        DeploymentOutput {
            environment: d.environment["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            state: d.state["name"].as_str().unwrap_or_default().to_owned(),
            status: d.state["status"]["name"].as_str().map(str::to_owned),
            release: d.release["name"].as_str().unwrap_or_default().to_owned(),
            commit: d.release["commit"]["hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            started_on: d.state["start_date"].as_str().map(str::to_owned),
            uuid: d.uuid,
        }
    }
}

impl Line for DeploymentOutput {
    fn line(&self) -> String {
        format!(
            "{} {} to {} [{}] commit {} {}",
            self.release,
            self.state,
            self.environment,
            self.status.as_deref().unwrap_or("-"),
            short_hash(&self.commit),
            self.started_on.as_deref().unwrap_or("")
        )
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListDeploymentsArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Only this environment (name or uuid).
    environment: Option<Text>,
}

pub(crate) struct ListDeployments;

impl Tool for ListDeployments {
    const NAME: &'static str = "BITBUCKET_LIST_DEPLOYMENTS";
    const TITLE: &'static str = "List deployments";
    const DESCRIPTION: &'static str =
        "A repository's deployments, newest first: what is deployed where.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/deployments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListDeploymentsArgs;
    type Output = ListOutput<DeploymentOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let only = match &args.environment {
            Some(e) => Some(environment(client, &repo, e.as_str()).await?.uuid),
            None => None,
        };
        let mut params = ListParams::new();
        params.pagelen = Some(100);
        let mut page = client
            .list_deployments(&repo, &params)
            .await
            .or_explain(client, || {
                Context::new("list deployments", Scope::repository(&repo))
            })
            .await?;
        if let Some(uuid) = &only {
            page.values
                .retain(|d| d.environment["uuid"].as_str() == Some(uuid));
            page.size = Some(page.values.len() as u64);
        }
        Ok(ListOutput::new(
            page,
            None,
            format!("Deployments of {repo}"),
            DeploymentOutput::from_deployment,
        ))
    }
}

pub(crate) struct ListEnvironmentVariables;

impl Tool for ListEnvironmentVariables {
    const NAME: &'static str = "BITBUCKET_GET_DEPLOYMENT_ENVIRONMENT_VARIABLES";
    const TITLE: &'static str = "List environment variables";
    const DESCRIPTION: &'static str =
        "A deployment environment's variables (secured values hidden).";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/deployments_config/environments/{environment_uuid}/variables";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = EnvironmentArgs;
    type Output = ListOutput<VariableOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let e = environment(client, &repo, args.environment_id.as_str()).await?;
        list(client, VariableScope::Environment(repo, e.uuid)).await
    }
}
