//! Build statuses, as CI posts them, so that an agent can say whether the checks passed.

use std::collections::BTreeMap;

use bitbucket_client::{Client, CommitStatus, ListParams, Page};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::changes::pr_context;
use crate::args::{Id, PageLen, PageNumber, Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, Paging, Render, render_list, short_hash};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

/// One build status.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct StatusOutput {
    /// The build's key, e.g. `ci/build`.
    pub key: String,
    /// `SUCCESSFUL`, `FAILED`, `INPROGRESS` or `STOPPED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The build's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The commit built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
}

impl StatusOutput {
    pub(crate) fn from_status(status: CommitStatus) -> Self {
        StatusOutput {
            key: status.key,
            state: status.state,
            name: status.name,
            description: status.description,
            url: status.url,
            commit: status.commit.map(|c| c.hash).filter(|h| !h.is_empty()),
            updated_on: status.updated_on.or(status.created_on),
        }
    }
}

impl Line for StatusOutput {
    fn line(&self) -> String {
        let mut line = format!(
            "{} {}",
            self.state.as_deref().unwrap_or("UNKNOWN"),
            self.name.as_deref().unwrap_or(&self.key)
        );
        if self.name.as_deref().is_some_and(|n| n != self.key) {
            line.push_str(&format!(" ({})", self.key));
        }
        if let Some(commit) = &self.commit {
            line.push_str(&format!(" on {}", short_hash(commit)));
        }
        if let Some(description) = &self.description {
            line.push_str(&format!(": {description}"));
        }
        if let Some(url) = &self.url {
            line.push_str(&format!(" <{url}>"));
        }
        line
    }
}

/// The build statuses of a commit or pull request, with a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct StatusesOutput {
    /// What they are of, e.g. `pull request #1 of acme/widgets`.
    pub of: String,
    /// `passed` (all successful), `failed` (any failed or stopped), `in progress`, or `no
    /// builds`; over this page.
    pub verdict: String,
    /// How many builds are in each state.
    pub counts: BTreeMap<String, u64>,
    pub items: Vec<StatusOutput>,
    #[serde(flatten)]
    pub paging: Paging,
}

impl StatusesOutput {
    fn new(of: String, page: Page<CommitStatus>, requested: Option<u32>) -> Self {
        let paging = Paging::of(&page, requested);
        let items: Vec<StatusOutput> = page
            .values
            .into_iter()
            .map(StatusOutput::from_status)
            .collect();
        let mut counts = BTreeMap::new();
        for item in &items {
            *counts
                .entry(item.state.clone().unwrap_or_else(|| "UNKNOWN".to_owned()))
                .or_insert(0) += 1;
        }
        let has = |state: &str| counts.contains_key(state);
        let verdict = if items.is_empty() {
            "no builds"
        } else if has("FAILED") || has("STOPPED") {
            "failed"
        } else if has("INPROGRESS") {
            "in progress"
        } else {
            "passed"
        };
        StatusesOutput {
            of,
            verdict: verdict.to_owned(),
            counts,
            items,
            paging,
        }
    }
}

impl Render for StatusesOutput {
    fn render(&self) -> String {
        let counts = self
            .counts
            .iter()
            .map(|(state, n)| format!("{n} {state}"))
            .collect::<Vec<_>>()
            .join(", ");
        let heading = if counts.is_empty() {
            format!("Builds of {}: {}", self.of, self.verdict)
        } else {
            format!("Builds of {}: {} ({counts})", self.of, self.verdict)
        };
        render_list(&heading, &self.items, &self.paging)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullRequestStatusesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct GetPullRequestStatuses;

impl Tool for GetPullRequestStatuses {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_STATUSES";
    const TITLE: &'static str = "Get pull request build statuses";
    const DESCRIPTION: &'static str = "Says whether CI passed on a pull request: the build statuses of its commits (SUCCESSFUL, FAILED, INPROGRESS, STOPPED) with a verdict.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/statuses";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = PullRequestStatusesArgs;
    type Output = StatusesOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let mut params = ListParams::new();
        params.page = args.page.map(|p| p.0);
        params.pagelen = args.pagelen.map(|p| p.0);
        let page = client
            .pull_request_statuses(&repo, id, &params)
            .await
            .or_explain(client, || {
                pr_context("read the build statuses of", &repo, id)
            })
            .await?;
        Ok(StatusesOutput::new(
            format!("pull request #{id} of {repo}"),
            page,
            params.page,
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitStatusesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash, e.g. `4f2a9c1`.
    commit: Text,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct GetCommitStatuses;

impl Tool for GetCommitStatuses {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES";
    const TITLE: &'static str = "Get commit build statuses";
    const DESCRIPTION: &'static str = "Says whether CI passed on a commit: its build statuses (SUCCESSFUL, FAILED, INPROGRESS, STOPPED) with a verdict.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = CommitStatusesArgs;
    type Output = StatusesOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
        );
        let mut params = ListParams::new();
        params.page = args.page.map(|p| p.0);
        params.pagelen = args.pagelen.map(|p| p.0);
        let page = client
            .list_commit_statuses(&repo, commit, &params)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("read the build statuses of commit `{commit}`"),
                    Scope::repository(&repo),
                )
                .item(format!("commit `{commit}`"), "BITBUCKET_LIST_COMMITS")
            })
            .await?;
        Ok(StatusesOutput::new(
            format!("commit {} of {repo}", short_hash(commit)),
            page,
            params.page,
        ))
    }
}
