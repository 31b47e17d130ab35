//! The conversation on a commit: comments, general or on a line of the commit's diff with its
//! first parent, and replies. Shown as pull request comments are.

use bitbucket_client::{Client, ListParams, NewComment, RepoId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::{Id, PageLen, PageNumber, Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::lockdown::lockdown_by_repository;
use crate::output::{ListOutput, Render};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;
use crate::tools::reviews::comments::{
    CommentResult, LIST_CONTENT_CHARS, ReviewComment, inline_anchor,
};

fn commit_context(action: &str, repo: &RepoId, commit: &str) -> Context {
    Context::new(
        format!("{action} commit `{commit}`"),
        Scope::repository(repo),
    )
    .item(format!("commit `{commit}`"), "BITBUCKET_LIST_COMMITS")
}

fn comment_context(action: &str, repo: &RepoId, commit: &str, comment: u64) -> Context {
    Context::new(
        format!("{action} comment #{comment} of commit `{commit}`"),
        Scope::repository(repo),
    )
    .item(
        format!("commit `{commit}` or its comment #{comment}"),
        "BITBUCKET_GET_REPOSITORIES_COMMIT_COMMENTS",
    )
}

fn on(repo: &RepoId, commit: &str) -> String {
    format!("commit {commit} of {repo}")
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListCommitCommentsArgs {
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

pub(crate) struct ListCommitComments;

impl Tool for ListCommitComments {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_COMMIT_COMMENTS";
    const TITLE: &'static str = "List commit comments";
    const DESCRIPTION: &'static str =
        "Lists the comments on a commit, oldest first: author, text, file and line, replies.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/commit/{commit}/comments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListCommitCommentsArgs;
    type Output = ListOutput<ReviewComment>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
        );
        let mut params = ListParams::new();
        params.page = args.page.map(|p| p.0);
        params.pagelen = args.pagelen.map(|p| p.0);
        let page = client
            .list_commit_comments(&repo, commit, &params)
            .await
            .or_explain(client, || {
                commit_context("read the comments of", &repo, commit)
            })
            .await?;
        let limit = (page.values.len() > 1).then_some(LIST_CONTENT_CHARS);
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Comments on commit {commit} of {repo}"),
            |comment| ReviewComment::from_comment(comment, limit),
        ))
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash, e.g. `4f2a9c1`.
    commit: Text,
    /// Comment number, e.g. `12`.
    comment_id: Id,
}

impl CommitCommentArgs {
    fn parts(&self) -> Result<(RepoId, &str, u64), ToolError> {
        Ok((
            repo_id(&self.workspace, &self.repo_slug)?,
            self.commit.as_str(),
            self.comment_id.0,
        ))
    }
}

pub(crate) struct GetCommitComment;

impl Tool for GetCommitComment {
    const NAME: &'static str = "BITBUCKET_GET_COMMIT_COMMENT";
    const TITLE: &'static str = "Get commit comment";
    const DESCRIPTION: &'static str =
        "Shows one comment on a commit in full: text, author, file and line.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/commit/{commit}/comments/{comment_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = CommitCommentArgs;
    type Output = CommentResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, comment_id) = args.parts()?;
        let comment = client
            .get_commit_comment(&repo, commit, comment_id)
            .await
            .or_explain(client, || {
                comment_context("read", &repo, commit, comment_id)
            })
            .await?;
        Ok(CommentResult {
            comment: ReviewComment::from_comment(comment, None),
            commented_on: on(&repo, commit),
            verb: "Comment",
        })
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCommitCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash, e.g. `4f2a9c1`.
    commit: Text,
    /// The comment, in Markdown.
    content: Text,
    /// For an inline comment: the file, e.g. `src/main.rs`.
    path: Option<Text>,
    /// For an inline comment: the line in the new version of the file.
    line: Option<Id>,
    /// For an inline comment on a removed line: its line in the old version.
    old_line: Option<Id>,
    /// Reply to this comment.
    parent_id: Option<Id>,
}

pub(crate) struct CreateCommitComment;

impl Tool for CreateCommitComment {
    const NAME: &'static str = "BITBUCKET_CREATE_COMMIT_COMMENT";
    const TITLE: &'static str = "Comment on a commit";
    const DESCRIPTION: &'static str = "Adds a comment to a commit: general, inline on a line the commit changed (`path` and `line`), or a reply (`parent_id`).";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/commit/{commit}/comments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateCommitCommentArgs;
    type Output = CommentResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
        );
        let request = NewComment {
            text: args.content.0.clone(),
            inline: inline_anchor(args.path.as_ref(), args.line, args.old_line)?,
            parent: args.parent_id.map(|p| p.0),
        };
        let comment = client
            .create_commit_comment(&repo, commit, &request)
            .await
            .or_explain(client, || {
                commit_context("comment on", &repo, commit).refusal(
                    "diff",
                    "an inline comment must be on a file and line that the commit's diff shows (BITBUCKET_GET_COMMIT_DIFF); or leave out `path` and `line` for a general comment",
                )
            })
            .await?;
        Ok(CommentResult {
            comment: ReviewComment::from_comment(comment, None),
            commented_on: on(&repo, commit),
            verb: "Added comment",
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCommitCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash, e.g. `4f2a9c1`.
    commit: Text,
    /// Comment number, e.g. `12`.
    comment_id: Id,
    /// The new text, in Markdown (replaces the old).
    content: Text,
}

pub(crate) struct UpdateCommitComment;

impl Tool for UpdateCommitComment {
    const NAME: &'static str = "BITBUCKET_UPDATE_REPOSITORIES_COMMIT_COMMENTS";
    const TITLE: &'static str = "Edit commit comment";
    const DESCRIPTION: &'static str = "Replaces the text of one of your comments on a commit.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str =
        "PUT /repositories/{workspace}/{repo_slug}/commit/{commit}/comments/{comment_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = UpdateCommitCommentArgs;
    type Output = CommentResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, comment_id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
            args.comment_id.0,
        );
        let comment = client
            .update_commit_comment(&repo, commit, comment_id, args.content.as_str())
            .await
            .or_explain(client, || {
                comment_context("edit", &repo, commit, comment_id)
            })
            .await?;
        Ok(CommentResult {
            comment: ReviewComment::from_comment(comment, None),
            commented_on: on(&repo, commit),
            verb: "Updated comment",
        })
    }
}

/// A commit comment removed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommitCommentDeleted {
    /// `acme/widgets`.
    pub repository: String,
    pub commit: String,
    pub comment_id: u64,
}

impl Render for CommitCommentDeleted {
    fn render(&self) -> String {
        format!(
            "Comment #{} on commit {} of {}: deleted",
            self.comment_id, self.commit, self.repository
        )
    }
}

pub(crate) struct DeleteCommitComment;

impl Tool for DeleteCommitComment {
    const NAME: &'static str = "BITBUCKET_DELETE_COMMIT_COMMENT";
    const TITLE: &'static str = "Delete commit comment";
    const DESCRIPTION: &'static str =
        "Deletes one of your comments on a commit; replies to it stay.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str =
        "DELETE /repositories/{workspace}/{repo_slug}/commit/{commit}/comments/{comment_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = CommitCommentArgs;
    type Output = CommitCommentDeleted;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, comment_id) = args.parts()?;
        client
            .delete_commit_comment(&repo, commit, comment_id)
            .await
            .or_explain(client, || {
                comment_context("delete", &repo, commit, comment_id)
            })
            .await?;
        Ok(CommitCommentDeleted {
            repository: repo.to_string(),
            commit: commit.to_owned(),
            comment_id,
        })
    }
}
