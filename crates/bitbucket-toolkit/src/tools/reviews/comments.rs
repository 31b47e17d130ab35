//! The conversation on a pull request: comments, general or on a line of the diff, replies,
//! and resolving a thread.

use bitbucket_client::{Client, Comment, InlineAnchor, ListParams, NewComment, RepoId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::changes::pr_context;
use crate::args::{Flag, Id, PageLen, PageNumber, Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::lockdown::{Authored, Writers, lockdown_by_repository};
use crate::output::{Line, ListOutput, Person, Render, clip, day, field};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

/// Characters of a comment shown in a list of several; one comment is shown whole.
pub(crate) const LIST_CONTENT_CHARS: usize = 600;

/// A review comment.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct ReviewComment {
    pub id: u64,
    /// The text as written (Markdown); cut in lists of several (see `truncated`).
    pub content: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    /// The file an inline comment is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Its line in the new version of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Its line in the old version (a comment on a removed line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_line: Option<u64>,
    /// The comment it replies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resolved: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl ReviewComment {
    pub(crate) fn from_comment(comment: Comment, limit: Option<usize>) -> Self {
        let raw = comment
            .content
            .as_ref()
            .and_then(|c| c.raw.clone())
            .unwrap_or_default();
        let (content, truncated) = match limit {
            Some(max) => clip(&raw, max),
            None => (raw, false),
        };
        let inline = comment.inline.unwrap_or_default();
        ReviewComment {
            id: comment.id,
            content,
            truncated,
            author: Person::of(comment.user.as_ref()),
            path: Some(inline.path).filter(|p| !p.is_empty()),
            line: inline.to,
            old_line: inline.from,
            parent_id: comment.parent.map(|p| p.id),
            resolved: comment.resolution.is_some(),
            deleted: comment.deleted == Some(true),
            created_on: comment.created_on,
            html: comment.links.html_href().map(str::to_owned),
        }
    }

    /// `on src/main.rs line 3`, or nothing for a general comment.
    fn place(&self) -> Option<String> {
        let path = self.path.as_deref()?;
        Some(match (self.line, self.old_line) {
            (Some(line), _) => format!("{path} line {line}"),
            (None, Some(old)) => format!("{path} old line {old}"),
            (None, None) => path.to_owned(),
        })
    }

    fn flags(&self) -> String {
        let mut flags = Vec::new();
        if self.resolved {
            flags.push("resolved");
        }
        if self.deleted {
            flags.push("deleted");
        }
        if flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", flags.join(", "))
        }
    }
}

impl Line for ReviewComment {
    fn line(&self) -> String {
        let mut line = format!(
            "#{} {}",
            self.id,
            self.author
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), Person::label)
        );
        if let Some(place) = self.place() {
            line.push_str(&format!(" on {place}"));
        }
        if let Some(parent) = self.parent_id {
            line.push_str(&format!(", reply to #{parent}"));
        }
        if let Some(date) = &self.created_on {
            line.push_str(&format!(", {}", day(date)));
        }
        line.push_str(&self.flags());
        line.push_str(": ");
        line.push_str(&self.content.replace('\n', " "));
        line
    }
}

/// One comment, with what it was done to (`Comment`, `Added comment`, `Updated comment`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommentResult {
    #[serde(flatten)]
    pub comment: ReviewComment,
    /// What it is on, e.g. `pull request #1 of acme/widgets`.
    pub commented_on: String,
    #[serde(skip)]
    pub verb: &'static str,
}

impl Render for CommentResult {
    fn render(&self) -> String {
        let c = &self.comment;
        let mut text = format!(
            "{} #{} on {}{}",
            self.verb,
            c.id,
            self.commented_on,
            c.flags()
        );
        field(&mut text, "at", c.place());
        field(&mut text, "reply to comment", c.parent_id);
        field(&mut text, "author", c.author.as_ref().map(Person::label));
        field(&mut text, "created", c.created_on.as_deref());
        field(&mut text, "link", c.html.as_deref());
        text.push_str("\ncontent:\n");
        text.push_str(&c.content);
        text
    }
}

/// The anchor of an inline comment from a tool's `path`, `line` and `old_line`; none for a
/// general comment.
pub(crate) fn inline_anchor(
    path: Option<&Text>,
    line: Option<Id>,
    old_line: Option<Id>,
) -> Result<Option<InlineAnchor>, ToolError> {
    match (path, line, old_line) {
        (None, None, None) => Ok(None),
        (Some(_), None, None) => Err(ToolError::Refused(
            "an inline comment needs `line` (or `old_line` for a removed line) with `path`"
                .to_owned(),
        )),
        (None, _, _) => Err(ToolError::Refused(
            "`line` and `old_line` need `path`, the file they are in".to_owned(),
        )),
        (Some(path), line, old_line) => Ok(Some(InlineAnchor {
            path: path.0.trim_start_matches('/').to_owned(),
            from: old_line.map(|l| l.0),
            to: line.map(|l| l.0),
        })),
    }
}

fn comment_context(action: &str, repo: &RepoId, id: u64, comment: u64) -> Context {
    Context::new(
        format!("{action} comment #{comment} of pull request #{id}"),
        Scope::repository(repo),
    )
    .item(
        format!("pull request #{id} or its comment #{comment}"),
        "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_COMMENTS",
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListCommentsArgs {
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

pub(crate) struct ListPullRequestComments;

impl Tool for ListPullRequestComments {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_COMMENTS";
    const TITLE: &'static str = "List pull request comments";
    const DESCRIPTION: &'static str = "Lists the comments on a pull request, oldest first: author, text, the file and line of inline ones, replies and whether resolved.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListCommentsArgs;
    type Output = ListOutput<ReviewComment>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let mut params = ListParams::new();
        params.page = args.page.map(|p| p.0);
        params.pagelen = args.pagelen.map(|p| p.0);
        let page = client
            .list_pull_request_comments(&repo, id, &params)
            .await
            .or_explain(client, || pr_context("read the comments of", &repo, id))
            .await?;
        let limit = (page.values.len() > 1).then_some(LIST_CONTENT_CHARS);
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Comments on pull request #{id} of {repo}"),
            |comment| ReviewComment::from_comment(comment, limit),
        ))
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Comment number, e.g. `12`.
    comment_id: Id,
}

impl CommentArgs {
    fn parts(&self) -> Result<(RepoId, u64, u64), ToolError> {
        Ok((
            repo_id(&self.workspace, &self.repo_slug)?,
            self.pull_request_id.0,
            self.comment_id.0,
        ))
    }

    fn on(&self) -> String {
        format!(
            "pull request #{} of {}/{}",
            self.pull_request_id, self.workspace, self.repo_slug
        )
    }
}

pub(crate) struct GetPullRequestComment;

impl Tool for GetPullRequestComment {
    const NAME: &'static str = "BITBUCKET_GET_PULL_REQUEST_COMMENT";
    const TITLE: &'static str = "Get pull request comment";
    const DESCRIPTION: &'static str = "Shows one comment on a pull request in full: text, author, file and line, and whether resolved.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments/{comment_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = CommentArgs;
    type Output = CommentResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id, comment_id) = args.parts()?;
        let comment = client
            .get_pull_request_comment(&repo, id, comment_id)
            .await
            .or_explain(client, || comment_context("read", &repo, id, comment_id))
            .await?;
        Ok(CommentResult {
            comment: ReviewComment::from_comment(comment, None),
            commented_on: args.on(),
            verb: "Comment",
        })
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
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

pub(crate) struct CreatePullRequestComment;

impl Tool for CreatePullRequestComment {
    const NAME: &'static str = "BITBUCKET_CREATE_PULL_REQUEST_COMMENT";
    const TITLE: &'static str = "Comment on a pull request";
    const DESCRIPTION: &'static str = "Adds a comment to a pull request: general, inline on a line of the diff (`path` and `line`), or a reply (`parent_id`). \
An inline line must be one the diff shows.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateCommentArgs;
    type Output = CommentResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let inline = inline_anchor(args.path.as_ref(), args.line, args.old_line)?;
        let request = NewComment {
            text: args.content.0.clone(),
            inline,
            parent: args.parent_id.map(|p| p.0),
        };
        let comment = client
            .create_pull_request_comment(&repo, id, &request)
            .await
            .or_explain(client, || {
                pr_context("comment on", &repo, id).refusal(
                    "diff",
                    "an inline comment must be on a file and line that the pull request's diff shows (BITBUCKET_GET_PULL_REQUEST_DIFF); or leave out `path` and `line` for a general comment",
                )
            })
            .await?;
        Ok(CommentResult {
            comment: ReviewComment::from_comment(comment, None),
            commented_on: format!("pull request #{id} of {repo}"),
            verb: "Added comment",
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Comment number, e.g. `12`.
    comment_id: Id,
    /// The new text, in Markdown (replaces the old).
    content: Text,
}

pub(crate) struct UpdatePullRequestComment;

impl Tool for UpdatePullRequestComment {
    const NAME: &'static str = "BITBUCKET_UPDATE_PULL_REQUEST_COMMENT";
    const TITLE: &'static str = "Edit pull request comment";
    const DESCRIPTION: &'static str =
        "Replaces the text of one of your comments on a pull request.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str = "PUT /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments/{comment_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = UpdateCommentArgs;
    type Output = CommentResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id, comment_id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
            args.comment_id.0,
        );
        let comment = client
            .update_pull_request_comment(&repo, id, comment_id, args.content.as_str())
            .await
            .or_explain(client, || comment_context("edit", &repo, id, comment_id))
            .await?;
        Ok(CommentResult {
            comment: ReviewComment::from_comment(comment, None),
            commented_on: format!("pull request #{id} of {repo}"),
            verb: "Updated comment",
        })
    }
}

/// A comment removed, or a thread resolved or reopened.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommentChange {
    /// `acme/widgets`.
    pub repository: String,
    pub pull_request_id: u64,
    pub comment_id: u64,
    /// `deleted`, `resolved` or `reopened`.
    pub change: &'static str,
}

impl Render for CommentChange {
    fn render(&self) -> String {
        format!(
            "Comment #{} on pull request #{} of {}: {}",
            self.comment_id, self.pull_request_id, self.repository, self.change
        )
    }
}

impl CommentChange {
    fn new(args: &CommentArgs, change: &'static str) -> Self {
        CommentChange {
            repository: format!("{}/{}", args.workspace, args.repo_slug),
            pull_request_id: args.pull_request_id.0,
            comment_id: args.comment_id.0,
            change,
        }
    }
}

pub(crate) struct DeletePullRequestComment;

impl Tool for DeletePullRequestComment {
    const NAME: &'static str = "BITBUCKET_DELETE_PULL_REQUEST_COMMENT";
    const TITLE: &'static str = "Delete pull request comment";
    const DESCRIPTION: &'static str =
        "Deletes one of your comments on a pull request; replies to it stay.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str = "DELETE /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments/{comment_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = CommentArgs;
    type Output = CommentChange;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id, comment_id) = args.parts()?;
        client
            .delete_pull_request_comment(&repo, id, comment_id)
            .await
            .or_explain(client, || comment_context("delete", &repo, id, comment_id))
            .await?;
        Ok(CommentChange::new(&args, "deleted"))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Comment number, e.g. `12` (the first comment of the thread).
    comment_id: Id,
    /// `false` reopens a resolved thread (default `true`).
    resolved: Option<Flag>,
}

pub(crate) struct ResolvePullRequestComment;

impl Tool for ResolvePullRequestComment {
    const NAME: &'static str = "BITBUCKET_RESOLVE_PULL_REQUEST_COMMENT";
    const TITLE: &'static str = "Resolve pull request comment";
    const DESCRIPTION: &'static str = "Marks a comment thread on a pull request as resolved, or reopens it with `resolved: false`.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments/{comment_id}/resolve";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = ResolveCommentArgs;
    type Output = CommentChange;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let comment = CommentArgs {
            workspace: args.workspace,
            repo_slug: args.repo_slug,
            pull_request_id: args.pull_request_id,
            comment_id: args.comment_id,
        };
        let (repo, id, comment_id) = comment.parts()?;
        let resolve = args.resolved.is_none_or(|f| f.0);
        let done = if resolve {
            client
                .resolve_pull_request_comment(&repo, id, comment_id)
                .await
                .map(drop)
        } else {
            client
                .reopen_pull_request_comment(&repo, id, comment_id)
                .await
        };
        let action = if resolve { "resolve" } else { "reopen" };
        done.or_explain(client, || comment_context(action, &repo, id, comment_id))
            .await?;
        Ok(CommentChange::new(
            &comment,
            if resolve { "resolved" } else { "reopened" },
        ))
    }
}

impl Authored for ReviewComment {
    fn withhold(&mut self, writers: &Writers) {
        if !self.deleted && writers.guard(self.author.as_ref(), &mut self.content) {
            self.truncated = false;
        }
    }
}

impl Authored for CommentResult {
    fn withhold(&mut self, writers: &Writers) {
        self.comment.withhold(writers);
    }
}
