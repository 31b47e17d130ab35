//! Pull requests: listing, reading, opening and updating them.

pub(crate) mod update;

use std::fmt::Write as _;

use bitbucket_client::{
    Client, ListPullRequestsParams, NewPullRequest, PullRequest, PullRequestEndpoint,
    PullRequestState,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tool;
use crate::accounts;
use crate::args::{Flag, Id, Names, OneOrMany, PageLen, PageNumber, Text, choice, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::lockdown::{Authored, Writers, lockdown_by_repository};
use crate::output::{Line, ListOutput, Person, Render, day, field, short_hash};
use crate::spec::{ToolAnnotations, Toolset};

fn branch_of(endpoint: Option<&PullRequestEndpoint>) -> Option<String> {
    endpoint
        .and_then(PullRequestEndpoint::branch_name)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

fn commit_of(endpoint: Option<&PullRequestEndpoint>) -> Option<String> {
    endpoint
        .and_then(|e| e.commit.as_ref())
        .map(|c| c.hash.clone())
        .filter(|hash| !hash.is_empty())
}

/// A pull request with what a model needs to discuss or review it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct PullRequestOutput {
    pub id: u64,
    pub title: String,
    /// `OPEN`, `MERGED`, `DECLINED` or `SUPERSEDED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub reviewers: Vec<Person>,
    /// Participants who approved.
    pub approved_by: Vec<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_source_branch: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl PullRequestOutput {
    pub(crate) fn from_pull_request(pr: PullRequest) -> Self {
        PullRequestOutput {
            id: pr.id,
            state: pr.state.as_ref().map(|s| s.as_str().to_owned()),
            draft: pr.draft,
            author: Person::of(pr.author.as_ref()),
            source_branch: branch_of(pr.source.as_ref()),
            source_commit: commit_of(pr.source.as_ref()),
            destination_branch: branch_of(pr.destination.as_ref()),
            description: pr.description.filter(|d| !d.trim().is_empty()),
            reviewers: pr.reviewers.iter().map(Person::from_account).collect(),
            approved_by: pr
                .participants
                .iter()
                .filter(|p| p.approved == Some(true))
                .filter_map(|p| Person::of(p.user.as_ref()))
                .collect(),
            comment_count: pr.comment_count,
            task_count: pr.task_count,
            close_source_branch: pr.close_source_branch,
            merge_commit: pr.merge_commit.map(|c| c.hash).filter(|h| !h.is_empty()),
            created_on: pr.created_on,
            updated_on: pr.updated_on,
            html: pr.links.html_href().map(str::to_owned),
            title: pr.title,
        }
    }
}

fn labels(people: &[Person]) -> String {
    people
        .iter()
        .map(Person::label)
        .collect::<Vec<_>>()
        .join(", ")
}

fn state_label(state: Option<&str>, draft: Option<bool>) -> String {
    let state = state.unwrap_or("UNKNOWN");
    if draft == Some(true) {
        format!("{state}, draft")
    } else {
        state.to_owned()
    }
}

impl Render for PullRequestOutput {
    fn render(&self) -> String {
        self.render_as("Pull request")
    }
}

impl PullRequestOutput {
    pub(crate) fn render_as(&self, heading: &str) -> String {
        let mut text = format!(
            "{heading} #{} \"{}\" [{}]",
            self.id,
            self.title,
            state_label(self.state.as_deref(), self.draft)
        );
        let branches = format!(
            "{}{} → {}",
            self.source_branch.as_deref().unwrap_or("?"),
            self.source_commit
                .as_deref()
                .map(|c| format!(" ({})", short_hash(c)))
                .unwrap_or_default(),
            self.destination_branch.as_deref().unwrap_or("?")
        );
        field(&mut text, "branches", Some(branches));
        field(&mut text, "author", self.author.as_ref().map(Person::label));
        if !self.reviewers.is_empty() {
            field(&mut text, "reviewers", Some(labels(&self.reviewers)));
        }
        if !self.approved_by.is_empty() {
            field(&mut text, "approved by", Some(labels(&self.approved_by)));
        }
        field(&mut text, "comments", self.comment_count);
        field(&mut text, "open tasks", self.task_count.filter(|n| *n > 0));
        field(
            &mut text,
            "merge commit",
            self.merge_commit.as_deref().map(short_hash),
        );
        field(&mut text, "created", self.created_on.as_deref());
        field(&mut text, "updated", self.updated_on.as_deref());
        field(&mut text, "link", self.html.as_deref());
        if let Some(description) = &self.description {
            let _ = write!(text, "\ndescription:\n{description}");
        }
        text
    }
}

/// A pull request just opened; the same data as [`PullRequestOutput`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct OpenedPullRequest(PullRequestOutput);

impl Render for OpenedPullRequest {
    fn render(&self) -> String {
        self.0.render_as("Opened pull request")
    }
}

/// A pull request in a list.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct PullRequestItem {
    pub id: u64,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl PullRequestItem {
    fn from_pull_request(pr: PullRequest) -> Self {
        PullRequestItem {
            id: pr.id,
            state: pr.state.as_ref().map(|s| s.as_str().to_owned()),
            draft: pr.draft,
            author: Person::of(pr.author.as_ref()),
            source_branch: branch_of(pr.source.as_ref()),
            destination_branch: branch_of(pr.destination.as_ref()),
            created_on: pr.created_on,
            updated_on: pr.updated_on,
            html: pr.links.html_href().map(str::to_owned),
            title: pr.title,
        }
    }
}

impl Line for PullRequestItem {
    fn line(&self) -> String {
        format!(
            "#{} \"{}\" [{}] {} → {} by {}{}",
            self.id,
            self.title,
            state_label(self.state.as_deref(), self.draft),
            self.source_branch.as_deref().unwrap_or("?"),
            self.destination_branch.as_deref().unwrap_or("?"),
            self.author
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), Person::label),
            self.updated_on
                .as_deref()
                .map(|d| format!(", updated {}", day(d)))
                .unwrap_or_default()
        )
    }
}

choice!(PrState {
    Open => "OPEN",
    Merged => "MERGED",
    Declined => "DECLINED",
    Superseded => "SUPERSEDED",
});

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListPullRequestsArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// States to include, e.g. `["MERGED", "DECLINED"]` (default `["OPEN"]`).
    state: Option<OneOrMany<PrState>>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 50.
    pagelen: Option<PageLen<50>>,
}

pub(crate) struct ListPullRequests;

impl Tool for ListPullRequests {
    const NAME: &'static str = "BITBUCKET_LIST_PULL_REQUESTS";
    const TITLE: &'static str = "List pull requests";
    const DESCRIPTION: &'static str = "Lists a repository's pull requests, newest first, with state, branches and author; only open ones unless `state` says otherwise. \
For the description, reviewers and approvals of one, use BITBUCKET_GET_PULL_REQUEST.";
    const TOOLSET: Toolset = Toolset::PullRequests;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/pullrequests";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListPullRequestsArgs;
    type Output = ListOutput<PullRequestItem>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let states: Vec<PrState> = args.state.map(|s| s.0).unwrap_or_default();
        let params = ListPullRequestsParams {
            states: states
                .iter()
                .map(|s| PullRequestState::from(s.as_str()))
                .collect(),
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
            ..ListPullRequestsParams::default()
        };
        let shown = if states.is_empty() {
            "open".to_owned()
        } else {
            states
                .iter()
                .map(|s| s.as_str().to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let page = client
            .list_pull_requests(&repo, &params)
            .await
            .or_explain(client, || {
                Context::new("list pull requests", Scope::repository(&repo))
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Pull requests ({shown}) of {repo}"),
            PullRequestItem::from_pull_request,
        ))
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetPullRequestArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
}

pub(crate) struct GetPullRequest;

impl Tool for GetPullRequest {
    const NAME: &'static str = "BITBUCKET_GET_PULL_REQUEST";
    const TITLE: &'static str = "Get pull request";
    const DESCRIPTION: &'static str = "Shows one pull request: title, description, state, author, source and destination branches, reviewers, approvals, comment count and link.";
    const TOOLSET: Toolset = Toolset::PullRequests;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = GetPullRequestArgs;
    type Output = PullRequestOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let pr = client
            .get_pull_request(&repo, id)
            .await
            .or_explain(client, || {
                crate::tools::reviews::changes::pr_context("read", &repo, id)
            })
            .await?;
        Ok(PullRequestOutput::from_pull_request(pr))
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePullRequestArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Title, e.g. `Add CSV export`.
    title: Text,
    /// Branch with the changes, e.g. `feature/export`.
    source_branch: Text,
    /// Branch to merge into (default: the main branch).
    destination_branch: Option<Text>,
    /// Description in Markdown.
    description: Option<String>,
    /// Reviewers: nicknames (e.g. `alice`), `{uuid}`s or account ids of workspace members.
    reviewers: Option<Names>,
    /// Delete the source branch after merging.
    close_source_branch: Option<Flag>,
    /// Open as a draft.
    draft: Option<Flag>,
}

pub(crate) struct CreatePullRequest;

impl Tool for CreatePullRequest {
    const NAME: &'static str = "BITBUCKET_CREATE_PULL_REQUEST";
    const TITLE: &'static str = "Create pull request";
    const DESCRIPTION: &'static str = "Opens a pull request from `source_branch` into `destination_branch` (default: the main branch). \
The source branch must exist and differ from the destination (BITBUCKET_CREATE_BRANCH makes one). \
Reviewers may be given by nickname.";
    const TOOLSET: Toolset = Toolset::PullRequests;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}/pullrequests";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreatePullRequestArgs;
    type Output = OpenedPullRequest;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let reviewers = match &args.reviewers {
            Some(names) if !names.0.is_empty() => {
                accounts::resolve(client, repo.workspace(), &names.0, "reviewer").await?
            }
            _ => Vec::new(),
        };
        let request = NewPullRequest {
            title: args.title.0.clone(),
            source_branch: args.source_branch.0.clone(),
            // Bitbucket itself defaults to the main branch, which saves a request.
            destination_branch: args.destination_branch.map(|b| b.0),
            description: args.description,
            reviewers,
            close_source_branch: args.close_source_branch.map(|f| f.0),
            draft: args.draft.map(|f| f.0),
        };
        let pr = client
            .create_pull_request(&repo, &request)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("create a pull request from `{}`", args.source_branch),
                    Scope::repository(&repo),
                )
                .refusal(
                    "no changes to be pulled",
                    "a pull request needs commits on the source branch that the destination lacks: \
                     commit a change to the branch first (BITBUCKET_COMMIT_FILES), or pick a branch with changes",
                )
            })
            .await?;
        Ok(OpenedPullRequest(PullRequestOutput::from_pull_request(pr)))
    }
}

impl Authored for PullRequestOutput {
    fn withhold(&mut self, writers: &Writers) {
        if !writers.trusts(self.author.as_ref()) {
            self.title = writers.notice(self.author.as_ref());
            self.description = None;
        }
    }
}

impl Authored for PullRequestItem {
    fn withhold(&mut self, writers: &Writers) {
        if !writers.trusts(self.author.as_ref()) {
            self.title = writers.notice(self.author.as_ref());
        }
    }
}
