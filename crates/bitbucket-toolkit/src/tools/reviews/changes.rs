//! What a pull request changes: its diff, the files it touches and its commits.

use bitbucket_client::{Client, PageParams, RepoId};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{DiffOutput, FileChange, MAX_DIFF_LINES};
use crate::args::{Id, Names, PageLen, PageNumber, Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::ListOutput;
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;
use crate::tools::repositories::CommitOutput;

/// What a failure while reading pull request `id` is about.
pub(crate) fn pr_context(action: &str, repo: &RepoId, id: u64) -> Context {
    Context::new(
        format!("{action} pull request #{id}"),
        Scope::repository(repo),
    )
    .item(
        format!("pull request #{id}"),
        "BITBUCKET_LIST_PULL_REQUESTS",
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullRequestDiffArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Only these files or folders, e.g. `["src/main.rs"]`.
    path: Option<Names>,
    /// First line of the diff to show (see `next_start_line`; default 1).
    start_line: Option<PageNumber>,
    /// Most lines to show (default 400).
    max_lines: Option<PageLen<MAX_DIFF_LINES>>,
}

pub(crate) struct GetPullRequestDiff;

impl Tool for GetPullRequestDiff {
    const NAME: &'static str = "BITBUCKET_GET_PULL_REQUEST_DIFF";
    const TITLE: &'static str = "Get pull request diff";
    const DESCRIPTION: &'static str = "Shows what a pull request changes as a unified diff (git's own text), a window of whole files at a time; \
the answer says which lines it shows and the `start_line` for the rest. Narrow it with `path`; \
BITBUCKET_GET_PULL_REQUEST_DIFFSTAT lists the changed files first.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/diff";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = PullRequestDiffArgs;
    type Output = DiffOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let text = client
            .pull_request_diff(&repo, id)
            .await
            .or_explain(client, || pr_context("read the diff of", &repo, id))
            .await?;
        Ok(DiffOutput::new(
            format!("pull request #{id} of {repo}"),
            &text,
            &args.path.unwrap_or_default().0,
            args.start_line.map(|n| n.0),
            args.max_lines.map(|n| n.0),
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullRequestPageArgs {
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

impl PullRequestPageArgs {
    fn page(&self) -> PageParams {
        PageParams {
            page: self.page.map(|p| p.0),
            pagelen: self.pagelen.map(|p| p.0),
        }
    }
}

pub(crate) struct GetPullRequestDiffstat;

impl Tool for GetPullRequestDiffstat {
    const NAME: &'static str = "BITBUCKET_GET_PULL_REQUEST_DIFFSTAT";
    const TITLE: &'static str = "List files changed by a pull request";
    const DESCRIPTION: &'static str = "Lists the files a pull request changes: status (added, removed, modified, renamed) and lines added and removed. \
For the changes themselves, use BITBUCKET_GET_PULL_REQUEST_DIFF.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/diffstat";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = PullRequestPageArgs;
    type Output = ListOutput<FileChange>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let params = args.page();
        let page = client
            .pull_request_diffstat(&repo, id, &params)
            .await
            .or_explain(client, || pr_context("read the files of", &repo, id))
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Files changed by pull request #{id} of {repo}"),
            FileChange::from_diffstat,
        ))
    }
}

pub(crate) struct GetPullRequestCommits;

impl Tool for GetPullRequestCommits {
    const NAME: &'static str = "BITBUCKET_GET_PULL_REQUEST_COMMITS";
    const TITLE: &'static str = "List pull request commits";
    const DESCRIPTION: &'static str = "Lists the commits a pull request would merge, newest first: hash, date, author and message summary.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/commits";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = PullRequestPageArgs;
    type Output = ListOutput<CommitOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let params = args.page();
        let page = client
            .pull_request_commits(&repo, id, &params)
            .await
            .or_explain(client, || pr_context("read the commits of", &repo, id))
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Commits of pull request #{id} of {repo}, newest first"),
            CommitOutput::from_commit,
        ))
    }
}
