//! How repositories are set up: the webhook events one can subscribe to, and the branching
//! model (which branch is development or production, and the prefixes of branch types).

use bitbucket_client::{Client, PageParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Tool;
use crate::args::{Text, choice, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput, Render};
use crate::spec::{ToolAnnotations, Toolset};

choice!(Subject {
    Repository => "repository",
    Workspace => "workspace",
});

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HookEventsArgs {
    /// Whose webhooks.
    subject_type: Subject,
}

/// An event a webhook can subscribe to.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct HookEventOutput {
    /// E.g. `repo:push`, `pullrequest:created`.
    pub event: String,
    pub category: String,
    pub description: String,
}

impl Line for HookEventOutput {
    fn line(&self) -> String {
        format!("{} ({}): {}", self.event, self.category, self.description)
    }
}

pub(crate) struct GetHookEvents;

impl Tool for GetHookEvents {
    const NAME: &'static str = "BITBUCKET_GET_HOOK_EVENTS";
    const TITLE: &'static str = "List webhook events";
    const DESCRIPTION: &'static str = "The events a repository's or workspace's webhooks can subscribe to (`repo:push`, `pullrequest:created`, ...).";
    const TOOLSET: Toolset = Toolset::Admin;
    const ENDPOINT: &'static str = "GET /hook_events/{subject_type}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = HookEventsArgs;
    type Output = ListOutput<HookEventOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let subject = args.subject_type.as_str();
        let params = PageParams {
            page: None,
            pagelen: Some(100),
        };
        let page = client
            .list_hook_events(subject, &params)
            .await
            .or_explain(client, || {
                Context::new(format!("list the {subject} webhook events"), Scope::Account)
            })
            .await?;
        Ok(ListOutput::new(
            page,
            None,
            format!("Webhook events of a {subject}"),
            |v: Value| HookEventOutput {
                event: v["event"].as_str().unwrap_or_default().to_owned(),
                category: v["category"].as_str().unwrap_or_default().to_owned(),
                description: v["description"].as_str().unwrap_or_default().to_owned(),
            },
        ))
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

/// A branching model.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct BranchingModelOutput {
    /// The development branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub development: Option<String>,
    /// The production branch, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<String>,
    /// Branch kinds and their prefixes, e.g. `feature: feature/`.
    pub branch_types: Vec<String>,
}

impl BranchingModelOutput {
    fn from_value(v: &Value) -> Self {
        let branch = |side: &str| {
            v[side]["name"].as_str().map(|name| {
                if v[side]["use_mainbranch"] == Value::Bool(true) {
                    format!("{name} (the main branch)")
                } else {
                    name.to_owned()
                }
            })
        };
        BranchingModelOutput {
            development: branch("development"),
            production: branch("production"),
            branch_types: v["branch_types"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    format!(
                        "{}: {}",
                        t["kind"].as_str().unwrap_or("?"),
                        t["prefix"].as_str().unwrap_or("?")
                    )
                })
                .collect(),
        }
    }
}

impl Render for BranchingModelOutput {
    fn render(&self) -> String {
        format!(
            "Branching model: development {}, production {}; branch types: {}",
            self.development.as_deref().unwrap_or("none"),
            self.production.as_deref().unwrap_or("none"),
            if self.branch_types.is_empty() {
                "none".to_owned()
            } else {
                self.branch_types.join(", ")
            }
        )
    }
}

async fn model(
    client: &Client,
    args: &RepoArgs,
    effective: bool,
) -> Result<BranchingModelOutput, ToolError> {
    let repo = repo_id(&args.workspace, &args.repo_slug)?;
    let v = client
        .get_branching_model(&repo, effective)
        .await
        .or_explain(client, || {
            Context::new("read the branching model", Scope::repository(&repo))
        })
        .await?;
    Ok(BranchingModelOutput::from_value(&v))
}

pub(crate) struct GetBranchingModel;

impl Tool for GetBranchingModel {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_BRANCHING_MODEL";
    const TITLE: &'static str = "Get branching model";
    const DESCRIPTION: &'static str = "A repository's own branching model: development and production branches, branch type prefixes.";
    const TOOLSET: Toolset = Toolset::Admin;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/branching-model";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = RepoArgs;
    type Output = BranchingModelOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        model(client, &args, false).await
    }
}

pub(crate) struct GetEffectiveBranchingModel;

impl Tool for GetEffectiveBranchingModel {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_EFFECTIVE_BRANCHING_MODEL";
    const TITLE: &'static str = "Get effective branching model";
    const DESCRIPTION: &'static str =
        "The branching model in force for a repository (its own, else its project's).";
    const TOOLSET: Toolset = Toolset::Admin;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/effective-branching-model";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = RepoArgs;
    type Output = BranchingModelOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        model(client, &args, true).await
    }
}
