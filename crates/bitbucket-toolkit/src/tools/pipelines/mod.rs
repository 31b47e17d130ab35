//! Pipelines: runs of `bitbucket-pipelines.yml` (list, read, run, stop), their steps and step
//! logs, and pipeline variables. Deployments and environments are in [`deployments`].

pub(crate) mod deployments;
pub(crate) mod settings;
pub(crate) mod variables;

use bitbucket_client::{Client, ListParams, Pipeline, PipelineStep, PipelineTarget, RepoId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::{PageLen, PageNumber, Text, choice, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput, Render, short_hash};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

fn pipeline_context(action: String, repo: &RepoId, pipeline: &str) -> Context {
    Context::new(action, Scope::repository(repo))
        .item(format!("pipeline `{pipeline}`"), "BITBUCKET_LIST_PIPELINES")
}

/// A pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct PipelineOutput {
    /// Its id, in braces.
    pub uuid: String,
    /// Its number in the repository.
    pub build_number: u64,
    /// PENDING, IN_PROGRESS, PAUSED (before a manual step) or COMPLETED.
    pub state: String,
    /// SUCCESSFUL, FAILED, ERROR or STOPPED once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Why it errored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The branch or tag it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_name: Option<String>,
    pub commit: String,
    /// Which pipeline of the file: `default`, `branches`, `custom`, ...
    pub selector: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
    /// Its steps (from the get tool).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepOutput>,
}

impl PipelineOutput {
    fn from_pipeline(p: Pipeline) -> Self {
        let selector = match (
            p.target["selector"]["type"].as_str(),
            p.target["selector"]["pattern"].as_str(),
        ) {
            (Some(kind), Some(pattern)) => format!("{kind}: {pattern}"),
            (Some(kind), None) => kind.to_owned(),
            _ => "default".to_owned(),
        };
        PipelineOutput {
            // Waiting before a manual step is IN_PROGRESS in stage PAUSED.
            state: if p.state["stage"]["name"] == "PAUSED" {
                "PAUSED".to_owned()
            } else {
                p.state_name().to_owned()
            },
            result: p.result_name().map(str::to_owned),
            error: p.state["result"]["error"]["message"]
                .as_str()
                .map(str::to_owned),
            ref_name: p.target["ref_name"].as_str().map(str::to_owned),
            commit: p.target["commit"]["hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            selector,
            build_number: p.build_number.unwrap_or_default(),
            created_on: p.created_on,
            duration_seconds: p.duration_in_seconds,
            uuid: p.uuid,
            steps: Vec::new(),
        }
    }
}

impl Line for PipelineOutput {
    fn line(&self) -> String {
        let on = self
            .ref_name
            .clone()
            .unwrap_or_else(|| short_hash(&self.commit).to_owned());
        let mut line = format!(
            "#{} {} on {on} ({}) {}",
            self.build_number,
            self.result.as_deref().unwrap_or(&self.state),
            self.selector,
            self.uuid
        );
        if let Some(s) = self.duration_seconds {
            line.push_str(&format!(", {s}s"));
        }
        if let Some(error) = &self.error {
            line.push_str(&format!(": {error}"));
        }
        line
    }
}

impl Render for PipelineOutput {
    fn render(&self) -> String {
        let mut text = format!("Pipeline {}", self.line());
        for step in &self.steps {
            text.push_str(&format!("\n- {}", step.line()));
        }
        text
    }
}

/// A step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct StepOutput {
    pub uuid: String,
    pub name: String,
    /// PENDING, IN_PROGRESS or COMPLETED.
    pub state: String,
    /// SUCCESSFUL, FAILED, ERROR, STOPPED or NOT_RUN once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
}

impl StepOutput {
    fn from_step(s: PipelineStep) -> Self {
        StepOutput {
            state: s.state_name().to_owned(),
            result: s.result_name().map(str::to_owned),
            name: s.name.unwrap_or_default(),
            duration_seconds: s.duration_in_seconds,
            uuid: s.uuid,
        }
    }
}

impl Line for StepOutput {
    fn line(&self) -> String {
        format!(
            "{} [{}] {}",
            self.name,
            self.result.as_deref().unwrap_or(&self.state),
            self.uuid
        )
    }
}

choice!(RunStatus {
    Pending => "PENDING",
    InProgress => "IN_PROGRESS",
    Successful => "SUCCESSFUL",
    Failed => "FAILED",
    Error => "ERROR",
    Stopped => "STOPPED",
});

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListPipelinesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Only runs of this branch.
    branch: Option<Text>,
    /// Only runs with this result, e.g. `FAILED`.
    result: Option<RunStatus>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListPipelines;

impl Tool for ListPipelines {
    const NAME: &'static str = "BITBUCKET_LIST_PIPELINES";
    const TITLE: &'static str = "List pipelines";
    const DESCRIPTION: &'static str =
        "Lists a repository's pipeline runs, newest first, with their results.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/pipelines";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListPipelinesArgs;
    type Output = ListOutput<PipelineOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let mut params = ListParams::new();
        params.sort = Some("-created_on".into());
        params.page = args.page.map(|p| p.0);
        params.pagelen = args.pagelen.map(|p| p.0);
        let branch = args.branch.as_ref().map(Text::as_str);
        let status = args.result.map(RunStatus::as_str);
        let page = client
            .list_pipelines(&repo, branch, status, &params)
            .await
            .or_explain(client, || {
                Context::new("list pipelines", Scope::repository(&repo))
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Pipelines of {repo}"),
            PipelineOutput::from_pipeline,
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PipelineArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Build number (e.g. `7`) or uuid.
    pipeline_id: Text,
}

async fn steps_of(
    client: &Client,
    repo: &RepoId,
    pipeline: &str,
) -> Result<Vec<PipelineStep>, ToolError> {
    let mut params = ListParams::new();
    params.pagelen = Some(100);
    let page = client
        .list_pipeline_steps(repo, pipeline, &params)
        .await
        .or_explain(client, || {
            pipeline_context(
                format!("list the steps of pipeline `{pipeline}`"),
                repo,
                pipeline,
            )
        })
        .await?;
    Ok(page.values)
}

/// The uuid of a run named by build number or uuid (the API's paths take the uuid).
async fn pipeline_uuid(
    client: &Client,
    repo: &RepoId,
    pipeline: &str,
) -> Result<Pipeline, ToolError> {
    client
        .get_pipeline(repo, pipeline)
        .await
        .or_explain(client, || {
            pipeline_context(format!("read pipeline `{pipeline}`"), repo, pipeline)
        })
        .await
}

pub(crate) struct GetPipeline;

impl Tool for GetPipeline {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_PIPELINES2";
    const TITLE: &'static str = "Get pipeline";
    const DESCRIPTION: &'static str = "One pipeline run with its steps and their results.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = PipelineArgs;
    type Output = PipelineOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let p = pipeline_uuid(client, &repo, args.pipeline_id.as_str()).await?;
        let steps = steps_of(client, &repo, &p.uuid).await?;
        let mut out = PipelineOutput::from_pipeline(p);
        out.steps = steps.into_iter().map(StepOutput::from_step).collect();
        Ok(out)
    }
}

pub(crate) struct ListSteps;

impl Tool for ListSteps {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_PIPELINES_STEPS";
    const TITLE: &'static str = "List pipeline steps";
    const DESCRIPTION: &'static str = "The steps of a pipeline run, with their results.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}/steps";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = PipelineArgs;
    type Output = ListOutput<StepOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let p = pipeline_uuid(client, &repo, args.pipeline_id.as_str()).await?;
        let mut params = ListParams::new();
        params.pagelen = Some(100);
        let page = client
            .list_pipeline_steps(&repo, &p.uuid, &params)
            .await
            .or_explain(client, || {
                pipeline_context(
                    format!("list the steps of pipeline `{}`", p.uuid),
                    &repo,
                    &p.uuid,
                )
            })
            .await?;
        let heading = format!(
            "Steps of pipeline #{} of {repo}",
            p.build_number.unwrap_or_default()
        );
        Ok(ListOutput::new(page, None, heading, StepOutput::from_step))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunPipelineArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Branch to run.
    branch: Option<Text>,
    /// Tag to run (instead of a branch).
    tag: Option<Text>,
    /// Commit to run (on `branch` if given).
    commit: Option<Text>,
    /// A `custom` pipeline of the file, e.g. `deploy`.
    custom: Option<Text>,
    /// Variables for this run, e.g. `["LEVEL=debug"]`.
    variables: Option<Vec<Text>>,
}

pub(crate) struct RunPipeline;

impl Tool for RunPipeline {
    const NAME: &'static str = "BITBUCKET_RUN_PIPELINE";
    const TITLE: &'static str = "Run pipeline";
    const DESCRIPTION: &'static str = "Runs (or reruns) a pipeline on a branch, tag or commit.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}/pipelines";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = RunPipelineArgs;
    type Output = PipelineOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        if args.branch.is_some() && args.tag.is_some() {
            return Err(ToolError::Refused(
                "give `branch` or `tag`, not both".into(),
            ));
        }
        let target = PipelineTarget {
            tag: args.tag.is_some(),
            ref_name: args.branch.or(args.tag).map(|t| t.0),
            commit: args.commit.map(|c| c.0),
            custom: args.custom.map(|c| c.0),
        };
        if target.ref_name.is_none() && target.commit.is_none() {
            return Err(ToolError::Refused(
                "name what to run: `branch`, `tag` or `commit`".into(),
            ));
        }
        let mut variables: Vec<(String, String, bool)> = Vec::new();
        for pair in args.variables.unwrap_or_default() {
            let Some((key, value)) = pair.as_str().split_once('=') else {
                return Err(ToolError::Refused(format!(
                    "variables: `{}` is not KEY=value",
                    pair.as_str()
                )));
            };
            variables.push((key.trim().to_owned(), value.to_owned(), false));
        }
        let on = target
            .ref_name
            .clone()
            .or(target.commit.clone())
            .unwrap_or_default();
        let p = client
            .run_pipeline(&repo, &target, &variables)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("run a pipeline on `{on}`"),
                    Scope::repository(&repo),
                )
                .item(format!("`{on}`"), "BITBUCKET_LIST_BRANCHES")
            })
            .await?;
        Ok(PipelineOutput::from_pipeline(p))
    }
}

pub(crate) struct StopPipeline;

/// A run asked to stop.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct Stopped {
    pub stopping: String,
}

impl Render for Stopped {
    fn render(&self) -> String {
        format!("Stopping {}", self.stopping)
    }
}

impl Tool for StopPipeline {
    const NAME: &'static str = "BITBUCKET_STOP_PIPELINE";
    const TITLE: &'static str = "Stop pipeline";
    const DESCRIPTION: &'static str =
        "Stops a pending or running pipeline; its running step is killed.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}/stopPipeline";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = PipelineArgs;
    type Output = Stopped;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let p = pipeline_uuid(client, &repo, args.pipeline_id.as_str()).await?;
        client
            .stop_pipeline(&repo, &p.uuid)
            .await
            .or_explain(client, || {
                pipeline_context(format!("stop pipeline `{}`", p.uuid), &repo, &p.uuid)
            })
            .await?;
        Ok(Stopped {
            stopping: format!("pipeline #{} of {repo}", p.build_number.unwrap_or_default()),
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepLogArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Build number (e.g. `7`) or uuid.
    pipeline_id: Text,
    /// Step name or uuid; default: the failed step, else the last.
    step: Option<Text>,
    /// Bytes from the end, default 4000.
    tail: Option<PageLen<1000000>>,
}

/// The end of a step's log.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct StepLogOutput {
    pub pipeline: u64,
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The log's last lines.
    pub log: String,
    /// Bytes left out before them.
    pub omitted_bytes: u64,
}

impl Render for StepLogOutput {
    fn render(&self) -> String {
        let mut text = format!(
            "Log of step {} [{}] of pipeline #{}",
            self.step,
            self.result.as_deref().unwrap_or("running"),
            self.pipeline
        );
        if self.omitted_bytes > 0 {
            text.push_str(&format!(
                " (last part; {} bytes before it)",
                self.omitted_bytes
            ));
        }
        text.push_str(":\n");
        text.push_str(&self.log);
        text
    }
}

pub(crate) struct GetStepLog;

impl Tool for GetStepLog {
    const NAME: &'static str = "BITBUCKET_GET_PIPELINE_STEP_LOG";
    const TITLE: &'static str = "Get pipeline step log";
    const DESCRIPTION: &'static str = "The end of a pipeline step's log: why a pipeline failed.";
    const TOOLSET: Toolset = Toolset::Pipelines;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}/steps/{step_uuid}/log";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = StepLogArgs;
    type Output = StepLogOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let p = pipeline_uuid(client, &repo, args.pipeline_id.as_str()).await?;
        let steps = steps_of(client, &repo, &p.uuid).await?;
        let wanted = args.step.as_ref().map(|s| s.as_str().trim().to_owned());
        let step = match &wanted {
            Some(w) => steps.iter().find(|s| {
                s.uuid == *w
                    || s.uuid.trim_matches(['{', '}']) == w.trim_matches(['{', '}'])
                    || s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(w))
            }),
            None => steps
                .iter()
                .find(|s| matches!(s.result_name(), Some("FAILED" | "ERROR")))
                .or_else(|| {
                    steps
                        .iter()
                        .rev()
                        .find(|s| s.state_name() != "PENDING" && s.result_name() != Some("NOT_RUN"))
                })
                .or(steps.last()),
        };
        let Some(step) = step else {
            let names: Vec<_> = steps.iter().filter_map(|s| s.name.clone()).collect();
            return Err(ToolError::Refused(format!(
                "pipeline #{} has no step `{}`; its steps: {}",
                p.build_number.unwrap_or_default(),
                wanted.unwrap_or_default(),
                names.join(", ")
            )));
        };
        if step.state_name() == "PENDING" {
            return Ok(StepLogOutput {
                pipeline: p.build_number.unwrap_or_default(),
                step: step.name.clone().unwrap_or_else(|| step.uuid.clone()),
                result: None,
                log: "(the step has not started yet)".into(),
                omitted_bytes: 0,
            });
        }
        let tail = u64::from(args.tail.map_or(4000, |t| t.0));
        let log = client
            .get_step_log(&repo, &p.uuid, &step.uuid, Some(tail))
            .await
            .or_explain(client, || {
                pipeline_context(
                    format!("read the log of step `{}`", step.uuid),
                    &repo,
                    &p.uuid,
                )
            })
            .await?;
        let total = log.total_bytes.unwrap_or(log.text.len() as u64);
        let mut text = log.text;
        let mut omitted = total.saturating_sub(text.len() as u64);
        // Start at a whole line when the window cut one.
        if omitted > 0
            && let Some(cut) = text.find('\n')
        {
            omitted += (cut + 1) as u64;
            text = text[cut + 1..].to_owned();
        }
        Ok(StepLogOutput {
            pipeline: p.build_number.unwrap_or_default(),
            step: step.name.clone().unwrap_or_else(|| step.uuid.clone()),
            result: step.result_name().map(str::to_owned),
            log: text,
            omitted_bytes: omitted,
        })
    }
}
