//! The issue tracker: listing, creating, updating and deleting issues, and commenting on them.

use std::fmt::Write as _;

use bitbucket_client::{
    Client, Issue, IssueComment, IssueKind, IssuePriority, IssueState, IssueUpdate, ListParams,
    NewIssue, RepoId,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tool;
use crate::accounts;
use crate::args::{ArgError, Id, OneOrMany, PageLen, PageNumber, Text, choice, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::lockdown::{Authored, Writers, lockdown_by_repository};
use crate::output::{CommentOutput, Line, ListOutput, Paging, Person, Render, clip, day, field};
use crate::spec::{ToolAnnotations, Toolset};

/// Issue bodies in lists are cut to this many characters, unless the page holds one issue.
const LIST_CONTENT_CHARS: usize = 300;

/// Comments shown per call of the get-issue tool; later ones are a `comments_page` away.
const COMMENTS_PER_PAGE: u32 = 50;

choice!(StateArg {
    Submitted => "submitted",
    New => "new",
    Open => "open",
    Resolved => "resolved",
    OnHold => "on hold",
    Invalid => "invalid",
    Duplicate => "duplicate",
    Wontfix => "wontfix",
    Closed => "closed",
});

choice!(KindArg {
    Bug => "bug",
    Enhancement => "enhancement",
    Proposal => "proposal",
    Task => "task",
});

choice!(PriorityArg {
    Trivial => "trivial",
    Minor => "minor",
    Major => "major",
    Critical => "critical",
    Blocker => "blocker",
});

/// An issue as a model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct IssueOutput {
    pub id: u64,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Person>,
    /// The body (Markdown); cut to 300 characters in lists of several issues.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl IssueOutput {
    fn from_issue(issue: Issue, content_limit: Option<usize>) -> Self {
        let content = issue
            .content_raw()
            .filter(|c| !c.trim().is_empty())
            .map(|c| match content_limit {
                Some(limit) => clip(c, limit).0,
                None => c.to_owned(),
            });
        IssueOutput {
            id: issue.id,
            state: issue.state.as_ref().map(|s| s.as_str().to_owned()),
            kind: issue.kind.as_ref().map(|k| k.as_str().to_owned()),
            priority: issue.priority.as_ref().map(|p| p.as_str().to_owned()),
            reporter: Person::of(issue.reporter.as_ref()),
            assignee: Person::of(issue.assignee.as_ref()),
            content,
            created_on: issue.created_on,
            updated_on: issue.updated_on,
            html: issue.links.html_href().map(str::to_owned),
            title: issue.title,
        }
    }

    /// `[open, bug, major]`.
    fn tags(&self) -> String {
        let tags: Vec<&str> = [&self.state, &self.kind, &self.priority]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        tags.join(", ")
    }

    fn render_as(&self, heading: &str) -> String {
        let mut text = format!(
            "{heading} #{} \"{}\" [{}]",
            self.id,
            self.title,
            self.tags()
        );
        field(
            &mut text,
            "reporter",
            self.reporter.as_ref().map(Person::label),
        );
        field(
            &mut text,
            "assignee",
            Some(
                self.assignee
                    .as_ref()
                    .map_or_else(|| "nobody".to_owned(), Person::label),
            ),
        );
        field(&mut text, "created", self.created_on.as_deref());
        field(&mut text, "updated", self.updated_on.as_deref());
        field(&mut text, "link", self.html.as_deref());
        if let Some(content) = &self.content {
            let _ = write!(text, "\ncontent:\n{content}");
        }
        text
    }
}

impl Line for IssueOutput {
    fn line(&self) -> String {
        let facts: Vec<String> = [
            self.reporter
                .as_ref()
                .map(|p| format!("reported by {}", p.label())),
            self.assignee
                .as_ref()
                .map(|p| format!("assigned to {}", p.label())),
            self.created_on
                .as_deref()
                .map(|d| format!("created {}", day(d))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut line = format!(
            "#{} \"{}\" [{}] {}",
            self.id,
            self.title,
            self.tags(),
            facts.join(", ")
        );
        if let Some(content) = &self.content {
            let _ = write!(line, "\n  {}", content.replace('\n', " "));
        }
        line
    }
}

/// Issue tools act on the repository's tracker: a 404 may mean it is disabled.
fn tracker(action: impl Into<String>, repo: &RepoId) -> Context {
    Context::new(action, Scope::repository(repo)).issues()
}

fn issue_context(action: &str, repo: &RepoId, id: u64) -> Context {
    tracker(format!("{action} issue #{id}"), repo)
        .item(format!("issue #{id}"), "BITBUCKET_LIST_ISSUES")
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListIssuesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// States to include, e.g. `["new", "open"]`.
    state: Option<OneOrMany<StateArg>>,
    /// Bitbucket query filter, e.g. `title ~ "crash"` or `assignee.nickname = "alice"`.
    q: Option<String>,
    /// Sort field, `-` for descending, e.g. `-created_on` or `-priority`.
    sort: Option<String>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListIssues;

impl Tool for ListIssues {
    const NAME: &'static str = "BITBUCKET_LIST_ISSUES";
    const TITLE: &'static str = "List issues";
    const DESCRIPTION: &'static str = "Lists a repository's issues with state, kind, priority, people and the start of the body. \
To find the latest open issue, use state `open` (or `[\"new\", \"open\"]` to include untriaged ones) and sort `-created_on`. \
Bodies are cut to 300 characters; BITBUCKET_GET_ISSUE shows one issue whole, with its comments.";
    const TOOLSET: Toolset = Toolset::Issues;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/issues";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListIssuesArgs;
    type Output = ListOutput<IssueOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let states: Vec<StateArg> = args.state.map(|s| s.0).unwrap_or_default();
        let state_filter = (!states.is_empty()).then(|| {
            let terms: Vec<String> = states
                .iter()
                .map(|s| format!("state = \"{}\"", s.as_str()))
                .collect();
            terms.join(" OR ")
        });
        let q = match (args.q.filter(|q| !q.trim().is_empty()), state_filter) {
            (Some(q), Some(states)) => Some(format!("({q}) AND ({states})")),
            (q, states) => q.or(states),
        };
        let params = ListParams {
            q,
            sort: args.sort,
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let heading = if states.is_empty() {
            format!("Issues of {repo}")
        } else {
            let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
            format!("Issues ({}) of {repo}", names.join(" or "))
        };
        let page = client
            .list_issues(&repo, &params)
            .await
            .or_explain(client, || tracker("list issues", &repo))
            .await?;
        let limit = (page.values.len() > 1).then_some(LIST_CONTENT_CHARS);
        Ok(ListOutput::new(page, params.page, heading, |issue| {
            IssueOutput::from_issue(issue, limit)
        }))
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetIssueArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Issue number, e.g. `3`.
    issue_id: Id,
    /// Page of comments, 50 per page, oldest first (see `comments.next_page`).
    comments_page: Option<PageNumber>,
}

/// One comment on an issue.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct IssueCommentItem {
    pub id: u64,
    /// The text (Markdown); empty for a deleted comment.
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl IssueCommentItem {
    fn from_comment(comment: IssueComment) -> Self {
        IssueCommentItem {
            id: comment.id,
            content: comment.content.and_then(|c| c.raw).unwrap_or_default(),
            author: Person::of(comment.user.as_ref()),
            created_on: comment.created_on,
            deleted: comment.deleted == Some(true),
        }
    }
}

impl Line for IssueCommentItem {
    fn line(&self) -> String {
        let who = self
            .author
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), Person::label);
        let when = self
            .created_on
            .as_deref()
            .map(|d| format!(", {}", day(d)))
            .unwrap_or_default();
        let text = if self.deleted {
            "(deleted)".to_owned()
        } else {
            self.content.replace('\n', "\n  ")
        };
        format!("comment {} by {who}{when}: {text}", self.id)
    }
}

/// One page of an issue's comments and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommentPage {
    pub items: Vec<IssueCommentItem>,
    #[serde(flatten)]
    pub paging: Paging,
}

/// An issue with its whole body and a page of its comments.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct IssueWithComments {
    #[serde(flatten)]
    pub issue: IssueOutput,
    /// Comments, oldest first; `has_more` says that later ones were left out.
    pub comments: CommentPage,
}

impl Render for IssueWithComments {
    fn render(&self) -> String {
        let mut text = self.issue.render_as("Issue");
        let paging = &self.comments.paging;
        let count = paging
            .size
            .map_or_else(String::new, |size| format!(", {size} total"));
        if self.comments.items.is_empty() && paging.page <= 1 {
            text.push_str("\ncomments: none");
            return text;
        }
        let _ = write!(text, "\ncomments (page {}{count}):", paging.page);
        for comment in &self.comments.items {
            let _ = write!(text, "\n- {}", comment.line());
        }
        match paging.next_page {
            Some(next) => {
                let _ = write!(
                    text,
                    "\nMore comments: call again with comments_page={next}"
                );
            }
            None => text.push_str("\nNo more comments"),
        }
        text
    }
}

pub(crate) struct GetIssue;

impl Tool for GetIssue {
    const NAME: &'static str = "BITBUCKET_GET_ISSUE";
    const TITLE: &'static str = "Get issue";
    const DESCRIPTION: &'static str = "Shows one issue with its comments: title, state, kind, priority, people, the whole body, and its comments oldest first (50 per page; `comments_page` gets later ones).";
    const TOOLSET: Toolset = Toolset::Issues;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/issues/{issue_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = GetIssueArgs;
    type Output = IssueWithComments;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (repo_id(&args.workspace, &args.repo_slug)?, args.issue_id.0);
        let issue = client
            .get_issue(&repo, id)
            .await
            .or_explain(client, || issue_context("read", &repo, id))
            .await?;
        let requested = args.comments_page.map(|p| p.0);
        let params = ListParams {
            page: requested,
            pagelen: Some(COMMENTS_PER_PAGE),
            ..ListParams::new()
        };
        let page = client
            .list_issue_comments(&repo, id, &params)
            .await
            .or_explain(client, || issue_context("read the comments of", &repo, id))
            .await?;
        let paging = Paging::of(&page, requested);
        Ok(IssueWithComments {
            issue: IssueOutput::from_issue(issue, None),
            comments: CommentPage {
                items: page
                    .values
                    .into_iter()
                    .map(IssueCommentItem::from_comment)
                    .collect(),
                paging,
            },
        })
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateIssueArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Title, e.g. `Export fails on empty reports`.
    title: Text,
    /// Body in Markdown.
    content: Option<String>,
    /// Kind (default `bug`).
    kind: Option<KindArg>,
    /// Priority (default `major`).
    priority: Option<PriorityArg>,
    /// Assignee: a workspace member's nickname (e.g. `alice`), `{uuid}` or account id.
    assignee: Option<Text>,
}

/// An issue just created or updated; the same data as [`IssueOutput`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct ChangedIssue {
    issue: IssueOutput,
    #[serde(skip)]
    verb: &'static str,
}

impl Render for ChangedIssue {
    fn render(&self) -> String {
        self.issue.render_as(self.verb)
    }
}

pub(crate) struct CreateIssue;

impl Tool for CreateIssue {
    const NAME: &'static str = "BITBUCKET_CREATE_ISSUE";
    const TITLE: &'static str = "Create issue";
    const DESCRIPTION: &'static str = "Creates an issue in a repository's issue tracker, optionally with kind, priority and assignee. \
Fails if the tracker is disabled for the repository.";
    const TOOLSET: Toolset = Toolset::Issues;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}/issues";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateIssueArgs;
    type Output = ChangedIssue;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let assignee = match &args.assignee {
            Some(who) => accounts::resolve(
                client,
                repo.workspace(),
                std::slice::from_ref(&who.0),
                "assignee",
            )
            .await?
            .into_iter()
            .next(),
            None => None,
        };
        let request = NewIssue {
            title: args.title.0.clone(),
            content: args.content.filter(|c| !c.trim().is_empty()),
            kind: args.kind.map(|k| IssueKind::from(k.as_str())),
            priority: args.priority.map(|p| IssuePriority::from(p.as_str())),
            assignee,
        };
        let issue = client
            .create_issue(&repo, &request)
            .await
            .or_explain(client, || tracker("create an issue", &repo))
            .await?;
        Ok(ChangedIssue {
            issue: IssueOutput::from_issue(issue, None),
            verb: "Created issue",
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateIssueArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Issue number, e.g. `3`.
    issue_id: Id,
    /// New title.
    title: Option<Text>,
    /// New body in Markdown (replaces the old one).
    content: Option<String>,
    /// New state; `resolved` closes it as fixed.
    state: Option<StateArg>,
    /// New kind.
    kind: Option<KindArg>,
    /// New priority.
    priority: Option<PriorityArg>,
    /// New assignee: a member's nickname, `{uuid}` or account id; `""` unassigns.
    assignee: Option<String>,
}

pub(crate) struct UpdateIssue;

impl Tool for UpdateIssue {
    const NAME: &'static str = "BITBUCKET_UPDATE_ISSUE";
    const TITLE: &'static str = "Update issue";
    const DESCRIPTION: &'static str = "Changes an issue's title, body, state, kind, priority or assignee; only the fields given change. \
To close an issue as fixed, set state `resolved`; to comment instead, use BITBUCKET_CREATE_ISSUE_COMMENT.";
    const TOOLSET: Toolset = Toolset::Issues;
    const ENDPOINT: &'static str = "PUT /repositories/{workspace}/{repo_slug}/issues/{issue_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = UpdateIssueArgs;
    type Output = ChangedIssue;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (repo_id(&args.workspace, &args.repo_slug)?, args.issue_id.0);
        let assignee = match args.assignee.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(who) => Some(
                accounts::resolve(client, repo.workspace(), &[who.to_owned()], "assignee")
                    .await?
                    .into_iter()
                    .next(),
            ),
        };
        let update = IssueUpdate {
            title: args.title.map(|t| t.0),
            content: args.content,
            state: args.state.map(|s| IssueState::from(s.as_str())),
            kind: args.kind.map(|k| IssueKind::from(k.as_str())),
            priority: args.priority.map(|p| IssuePriority::from(p.as_str())),
            assignee,
        };
        if update.is_empty() {
            return Err(ArgError {
                tool: Self::NAME,
                problem: "nothing to change; pass at least one of `title`, `content`, `state`, `kind`, `priority`, `assignee`".to_owned(),
            }
            .into());
        }
        let issue = client
            .update_issue(&repo, id, &update)
            .await
            .or_explain(client, || issue_context("update", &repo, id))
            .await?;
        Ok(ChangedIssue {
            issue: IssueOutput::from_issue(issue, None),
            verb: "Updated issue",
        })
    }
}

/// The issue a tool acts on.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Issue number, e.g. `3`.
    issue_id: Id,
}

/// What was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct DeletedIssue {
    /// `workspace/repo_slug`.
    pub repository: String,
    pub issue_id: u64,
    pub deleted: bool,
}

impl Render for DeletedIssue {
    fn render(&self) -> String {
        format!("Deleted issue #{} of {}", self.issue_id, self.repository)
    }
}

pub(crate) struct DeleteIssue;

impl Tool for DeleteIssue {
    const NAME: &'static str = "BITBUCKET_DELETE_ISSUE";
    const TITLE: &'static str = "Delete issue";
    const DESCRIPTION: &'static str = "Permanently deletes an issue with its comments; this cannot be undone. \
To close an issue instead, use BITBUCKET_UPDATE_ISSUE with state `resolved` or `closed`.";
    const TOOLSET: Toolset = Toolset::Issues;
    const ENDPOINT: &'static str = "DELETE /repositories/{workspace}/{repo_slug}/issues/{issue_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = IssueArgs;
    type Output = DeletedIssue;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (repo_id(&args.workspace, &args.repo_slug)?, args.issue_id.0);
        client
            .delete_issue(&repo, id)
            .await
            .or_explain(client, || issue_context("delete", &repo, id))
            .await?;
        Ok(DeletedIssue {
            repository: repo.to_string(),
            issue_id: id,
            deleted: true,
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateIssueCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Issue number, e.g. `3`.
    issue_id: Id,
    /// Comment text in Markdown.
    content: Text,
}

fn issue_comment_output(comment: IssueComment, on: String, sent: &str) -> CommentOutput {
    CommentOutput {
        id: comment.id,
        commented_on: on,
        parent_id: None,
        content: comment
            .content
            .and_then(|c| c.raw)
            .unwrap_or_else(|| sent.to_owned()),
        author: Person::of(comment.user.as_ref()),
        created_on: comment.created_on,
        html: comment.links.html_href().map(str::to_owned),
    }
}

pub(crate) struct CreateIssueComment;

impl Tool for CreateIssueComment {
    const NAME: &'static str = "BITBUCKET_CREATE_ISSUE_COMMENT";
    const TITLE: &'static str = "Comment on issue";
    const DESCRIPTION: &'static str = "Adds a comment to an issue. To change the issue itself (state, assignee, ...), use BITBUCKET_UPDATE_ISSUE.";
    const TOOLSET: Toolset = Toolset::Issues;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/issues/{issue_id}/comments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateIssueCommentArgs;
    type Output = CommentOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (repo_id(&args.workspace, &args.repo_slug)?, args.issue_id.0);
        let comment = client
            .create_issue_comment(&repo, id, args.content.as_str())
            .await
            .or_explain(client, || issue_context("comment on", &repo, id))
            .await?;
        Ok(issue_comment_output(
            comment,
            format!("issue #{id} of {repo}"),
            args.content.as_str(),
        ))
    }
}

impl Authored for IssueOutput {
    fn withhold(&mut self, writers: &Writers) {
        if !writers.trusts(self.reporter.as_ref()) {
            self.title = writers.notice(self.reporter.as_ref());
            self.content = None;
        }
    }
}

impl Authored for IssueCommentItem {
    fn withhold(&mut self, writers: &Writers) {
        if !self.deleted {
            writers.guard(self.author.as_ref(), &mut self.content);
        }
    }
}

impl Authored for IssueWithComments {
    fn withhold(&mut self, writers: &Writers) {
        self.issue.withhold(writers);
        for comment in &mut self.comments.items {
            comment.withhold(writers);
        }
    }
}
