//! A repository's pipeline settings as Composio's catalogue reads them: schedules, runners, SSH
//! known hosts, caches, and a workspace's OpenID Connect document.

use bitbucket_client::{Client, ListParams, PipelineSetting};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::args::{Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput, Render};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

/// One setting: a schedule, runner, known host or cache.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct SettingOutput {
    pub uuid: String,
    /// What it is: a schedule's cron and branch, a runner's name and state, a host's name and
    /// key fingerprint, a cache's name and size.
    pub summary: String,
    /// Everything Bitbucket says of it.
    pub detail: Value,
}

impl SettingOutput {
    fn from_value(setting: PipelineSetting) -> impl Fn(Value) -> Self {
        move |v| {
            let text = |p: &str| {
                v.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let summary = match setting {
                PipelineSetting::Schedules => format!(
                    "`{}` on {} ({})",
                    text("/cron_pattern"),
                    text("/target/ref_name"),
                    if v["enabled"] == Value::Bool(false) {
                        "disabled"
                    } else {
                        "enabled"
                    }
                ),
                PipelineSetting::Runners => {
                    format!("{} [{}]", text("/name"), text("/state/status"))
                }
                PipelineSetting::KnownHosts => format!(
                    "{} {} {}",
                    text("/hostname"),
                    text("/public_key/key_type"),
                    text("/public_key/sha256_fingerprint")
                ),
                PipelineSetting::Caches => format!(
                    "{} ({} bytes)",
                    text("/name"),
                    v["file_size_bytes"].as_u64().unwrap_or(0)
                ),
            };
            SettingOutput {
                uuid: text("/uuid"),
                summary,
                detail: v,
            }
        }
    }
}

impl Line for SettingOutput {
    fn line(&self) -> String {
        format!("{} {}", self.summary, self.uuid)
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

async fn list(
    client: &Client,
    args: RepoArgs,
    setting: PipelineSetting,
    what: &str,
) -> Result<ListOutput<SettingOutput>, ToolError> {
    let repo = repo_id(&args.workspace, &args.repo_slug)?;
    let mut params = ListParams::new();
    params.pagelen = Some(100);
    let page = client
        .list_pipeline_settings(&repo, setting, &params)
        .await
        .or_explain(client, || {
            Context::new(format!("list {what}"), Scope::repository(&repo))
        })
        .await?;
    Ok(ListOutput::new(
        page,
        None,
        format!("Pipeline {what} of {repo}"),
        SettingOutput::from_value(setting),
    ))
}

macro_rules! setting_tool {
    ($tool:ident, $name:literal, $title:literal, $description:literal, $endpoint:literal, $setting:expr, $what:literal) => {
        pub(crate) struct $tool;

        impl Tool for $tool {
            const NAME: &'static str = $name;
            const TITLE: &'static str = $title;
            const DESCRIPTION: &'static str = $description;
            const TOOLSET: Toolset = Toolset::Pipelines;
            const ENDPOINT: &'static str = $endpoint;
            const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
            type Args = RepoArgs;
            type Output = ListOutput<SettingOutput>;

            async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
                list(client, args, $setting, $what).await
            }
        }
    };
}

setting_tool!(
    ListSchedules,
    "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_SCHEDULES",
    "List pipeline schedules",
    "A repository's pipeline schedules: cron pattern and branch.",
    "GET /repositories/{workspace}/{repo_slug}/pipelines_config/schedules",
    PipelineSetting::Schedules,
    "schedules"
);

setting_tool!(
    ListRunners,
    "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_RUNNERS",
    "List pipeline runners",
    "A repository's self-hosted pipeline runners and their state.",
    "GET /repositories/{workspace}/{repo_slug}/pipelines-config/runners",
    PipelineSetting::Runners,
    "runners"
);

setting_tool!(
    ListKnownHosts,
    "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_SSH_KNOWN_HOSTS",
    "List SSH known hosts",
    "The SSH hosts a repository's pipelines trust, with key fingerprints.",
    "GET /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/known_hosts",
    PipelineSetting::KnownHosts,
    "known hosts"
);

setting_tool!(
    ListCaches,
    "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_CACHES",
    "List pipeline caches",
    "A repository's pipeline dependency caches and their sizes.",
    "GET /repositories/{workspace}/{repo_slug}/pipelines-config/caches",
    PipelineSetting::Caches,
    "caches"
);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
}

/// An OpenID Connect discovery document.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct OpenIdOutput {
    pub issuer: String,
    pub jwks_uri: String,
    /// The whole document.
    pub document: Value,
}

impl Render for OpenIdOutput {
    fn render(&self) -> String {
        format!(
            "OpenID Connect issuer {} (keys: {})",
            self.issuer, self.jwks_uri
        )
    }
}

pub(crate) struct GetOpenIdConfiguration;

impl Tool for GetOpenIdConfiguration {
    const NAME: &'static str = "BITBUCKET_GET_OPENID_CONFIGURATION";
    const TITLE: &'static str = "Get OIDC configuration";
    const DESCRIPTION: &'static str = "A workspace's OpenID Connect (OIDC) issuer for pipeline tokens, to trust them in a cloud such as AWS.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "GET /workspaces/{workspace}/pipelines-config/identity/oidc/.well-known/openid-configuration";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = WorkspaceArgs;
    type Output = OpenIdOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let ws = args.workspace.as_str();
        let document = client
            .get_openid_configuration(ws)
            .await
            .or_explain(client, || {
                Context::new(
                    "read the OpenID Connect document",
                    Scope::Workspace(ws.to_owned()),
                )
            })
            .await?;
        Ok(OpenIdOutput {
            issuer: document["issuer"].as_str().unwrap_or_default().to_owned(),
            jwks_uri: document["jwks_uri"].as_str().unwrap_or_default().to_owned(),
            document,
        })
    }
}
