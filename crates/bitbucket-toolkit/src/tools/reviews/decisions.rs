//! Reviewers' decisions on a pull request (approve, request changes, and taking either back)
//! and the two ways it ends: merge or decline.

use bitbucket_client::{Client, MergeOptions, MergeStrategy, Participant};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::changes::pr_context;
use crate::args::{Flag, Id, Text, choice, repo_id};
use crate::error::{Explain, ToolError};
use crate::output::{Person, Render, field};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;
use crate::tools::pull_requests::PullRequestOutput;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullRequestArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
}

/// A reviewer's decision, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct ReviewOutput {
    /// `acme/widgets`.
    pub repository: String,
    pub pull_request_id: u64,
    /// What now holds: `approved`, `approval withdrawn`, `changes requested` or
    /// `change request withdrawn`.
    pub decision: String,
    /// Who decided (you), when Bitbucket says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<Person>,
}

impl ReviewOutput {
    fn new(args: &PullRequestArgs, decision: &str, participant: Option<Participant>) -> Self {
        ReviewOutput {
            repository: format!("{}/{}", args.workspace, args.repo_slug),
            pull_request_id: args.pull_request_id.0,
            decision: decision.to_owned(),
            by: participant.and_then(|p| Person::of(p.user.as_ref())),
        }
    }
}

impl Render for ReviewOutput {
    fn render(&self) -> String {
        let mut text = format!(
            "Pull request #{} of {}: {}",
            self.pull_request_id, self.repository, self.decision
        );
        field(&mut text, "by", self.by.as_ref().map(Person::label));
        text
    }
}

const OWN_PR: (&str, &str) = (
    "own pull request",
    "the author cannot review their own pull request; ask a reviewer",
);

pub(crate) struct ApprovePullRequest;

impl Tool for ApprovePullRequest {
    const NAME: &'static str = "BITBUCKET_APPROVE_PULL_REQUEST";
    const TITLE: &'static str = "Approve pull request";
    const DESCRIPTION: &'static str = "Approves a pull request as the current user (approving twice changes nothing). \
BITBUCKET_UNAPPROVE_PULL_REQUEST takes it back.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/approve";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = PullRequestArgs;
    type Output = ReviewOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let participant = client
            .approve_pull_request(&repo, id)
            .await
            .or_explain(client, || {
                pr_context("approve", &repo, id).refusal(OWN_PR.0, OWN_PR.1)
            })
            .await?;
        Ok(ReviewOutput::new(&args, "approved", Some(participant)))
    }
}

pub(crate) struct UnapprovePullRequest;

impl Tool for UnapprovePullRequest {
    const NAME: &'static str = "BITBUCKET_UNAPPROVE_PULL_REQUEST";
    const TITLE: &'static str = "Withdraw pull request approval";
    const DESCRIPTION: &'static str = "Withdraws the current user's approval of a pull request.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "DELETE /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/approve";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = PullRequestArgs;
    type Output = ReviewOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        client
            .unapprove_pull_request(&repo, id)
            .await
            .or_explain(client, || pr_context("withdraw the approval of", &repo, id))
            .await?;
        Ok(ReviewOutput::new(&args, "approval withdrawn", None))
    }
}

pub(crate) struct RequestPullRequestChanges;

impl Tool for RequestPullRequestChanges {
    const NAME: &'static str = "BITBUCKET_REQUEST_PULL_REQUEST_CHANGES";
    const TITLE: &'static str = "Request changes on a pull request";
    const DESCRIPTION: &'static str = "Marks a pull request as needing changes, as the current user. \
Say what to change with BITBUCKET_CREATE_PULL_REQUEST_COMMENT; BITBUCKET_REMOVE_PULL_REQUEST_CHANGE_REQUEST takes it back.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/request-changes";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = PullRequestArgs;
    type Output = ReviewOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let participant = client
            .request_pull_request_changes(&repo, id)
            .await
            .or_explain(client, || {
                pr_context("request changes on", &repo, id).refusal(OWN_PR.0, OWN_PR.1)
            })
            .await?;
        Ok(ReviewOutput::new(
            &args,
            "changes requested",
            Some(participant),
        ))
    }
}

pub(crate) struct RemovePullRequestChangeRequest;

impl Tool for RemovePullRequestChangeRequest {
    const NAME: &'static str = "BITBUCKET_REMOVE_PULL_REQUEST_CHANGE_REQUEST";
    const TITLE: &'static str = "Withdraw a change request";
    const DESCRIPTION: &'static str =
        "Withdraws the current user's request for changes on a pull request.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str = "DELETE /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/request-changes";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = PullRequestArgs;
    type Output = ReviewOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        client
            .remove_pull_request_change_request(&repo, id)
            .await
            .or_explain(client, || {
                pr_context("withdraw the change request on", &repo, id)
            })
            .await?;
        Ok(ReviewOutput::new(&args, "change request withdrawn", None))
    }
}

/// A pull request after it was merged or declined.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct ClosedPullRequest {
    #[serde(flatten)]
    pub pull_request: PullRequestOutput,
    /// `Merged` or `Declined`.
    #[serde(skip)]
    pub verb: &'static str,
}

impl Render for ClosedPullRequest {
    fn render(&self) -> String {
        self.pull_request
            .render_as(&format!("{} pull request", self.verb))
    }
}

pub(crate) struct DeclinePullRequest;

impl Tool for DeclinePullRequest {
    const NAME: &'static str = "BITBUCKET_DECLINE_PULL_REQUEST";
    const TITLE: &'static str = "Decline pull request";
    const DESCRIPTION: &'static str = "Declines (closes without merging) an open pull request; it cannot be reopened. \
Its branch stays.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/decline";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = PullRequestArgs;
    type Output = ClosedPullRequest;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let pr = client
            .decline_pull_request(&repo, id)
            .await
            .or_explain(client, || pr_context("decline", &repo, id))
            .await?;
        Ok(ClosedPullRequest {
            pull_request: PullRequestOutput::from_pull_request(pr),
            verb: "Declined",
        })
    }
}

choice!(Strategy {
    MergeCommit => "merge_commit",
    Squash => "squash",
    FastForward => "fast_forward",
});

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// `merge_commit` (default), `squash` (one commit) or `fast_forward`.
    merge_strategy: Option<Strategy>,
    /// Message of the merge or squash commit.
    message: Option<String>,
    /// Delete the source branch afterwards (default: as the pull request says).
    close_source_branch: Option<Flag>,
}

pub(crate) struct MergePullRequest;

impl Tool for MergePullRequest {
    const NAME: &'static str = "BITBUCKET_MERGE_PULL_REQUEST";
    const TITLE: &'static str = "Merge pull request";
    const DESCRIPTION: &'static str = "Merges an open pull request into its destination branch: a merge commit, a `squash` into one commit, or a `fast_forward`. \
Refused, changing nothing, when the branches conflict or a fast-forward is impossible.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/merge";
    // Destructive (the destination branch moves for good); a second call is refused and
    // changes nothing, so it is idempotent.
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = MergeArgs;
    type Output = ClosedPullRequest;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let options = MergeOptions {
            strategy: args.merge_strategy.map(|s| match s {
                Strategy::MergeCommit => MergeStrategy::MergeCommit,
                Strategy::Squash => MergeStrategy::Squash,
                Strategy::FastForward => MergeStrategy::FastForward,
            }),
            message: args.message.filter(|m| !m.trim().is_empty()),
            close_source_branch: args.close_source_branch.map(|f| f.0),
        };
        let pr = client
            .merge_pull_request(&repo, id, &options)
            .await
            .or_explain(client, || {
                pr_context("merge", &repo, id).refusal(
                    "conflict",
                    "the branches conflict: resolve the conflict on the source branch (or merge the destination into it) and try again",
                )
            })
            .await?;
        Ok(ClosedPullRequest {
            pull_request: PullRequestOutput::from_pull_request(pr),
            verb: "Merged",
        })
    }
}
