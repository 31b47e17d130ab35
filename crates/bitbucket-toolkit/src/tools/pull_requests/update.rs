//! Changing an open pull request: title, description, destination or reviewers.

use bitbucket_client::{Client, PullRequestUpdate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PullRequestOutput;
use crate::accounts;
use crate::args::{Id, Names, Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::Render;
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdatePullRequestArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// New title.
    title: Option<Text>,
    /// New description in Markdown (replaces the old one).
    description: Option<String>,
    /// New destination branch.
    destination_branch: Option<Text>,
    /// The whole new list of reviewers (nicknames, `{uuid}`s or account ids); `[]` removes all.
    reviewers: Option<Names>,
}

/// A pull request after an update.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct UpdatedPullRequest(PullRequestOutput);

impl Render for UpdatedPullRequest {
    fn render(&self) -> String {
        self.0.render_as("Updated pull request")
    }
}

pub(crate) struct UpdatePullRequest;

impl Tool for UpdatePullRequest {
    const NAME: &'static str = "BITBUCKET_UPDATE_PULL_REQUEST";
    const TITLE: &'static str = "Update pull request";
    const DESCRIPTION: &'static str = "Changes an open pull request's title, description, destination branch or reviewers; fields left out stay as they are.";
    const TOOLSET: Toolset = Toolset::PullRequests;
    const ENDPOINT: &'static str =
        "PUT /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = UpdatePullRequestArgs;
    type Output = UpdatedPullRequest;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let reviewers = match &args.reviewers {
            Some(names) if names.0.is_empty() => Some(Vec::new()),
            Some(names) => {
                Some(accounts::resolve(client, repo.workspace(), &names.0, "reviewer").await?)
            }
            None => None,
        };
        let update = PullRequestUpdate {
            title: args.title.map(|t| t.0),
            description: args.description,
            destination_branch: args.destination_branch.map(|b| b.0),
            reviewers,
        };
        if update == PullRequestUpdate::default() {
            return Err(ToolError::Refused(
                "nothing to change: give a `title`, `description`, `destination_branch` or `reviewers`"
                    .to_owned(),
            ));
        }
        let pr = client
            .update_pull_request(&repo, id, &update)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("update pull request #{id}"),
                    Scope::repository(&repo),
                )
                .item(
                    format!("pull request #{id}"),
                    "BITBUCKET_LIST_PULL_REQUESTS",
                )
            })
            .await?;
        Ok(UpdatedPullRequest(PullRequestOutput::from_pull_request(pr)))
    }
}
