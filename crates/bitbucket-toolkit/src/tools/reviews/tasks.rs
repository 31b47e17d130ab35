//! Tasks on a pull request: the to-dos a review leaves, resolved one by one.

use bitbucket_client::{Client, ListParams, RepoId, Task};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::changes::pr_context;
use crate::args::{Flag, Id, PageLen, PageNumber, Text, choice, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::lockdown::{Authored, Writers, lockdown_by_repository};
use crate::output::{Line, ListOutput, Person, Render, field};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

/// A task.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct TaskOutput {
    pub id: u64,
    /// What is to be done.
    pub content: String,
    /// `UNRESOLVED` or `RESOLVED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<Person>,
    /// The comment it was made on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
}

impl TaskOutput {
    fn from_task(task: Task) -> Self {
        TaskOutput {
            id: task.id,
            content: task.content.and_then(|c| c.raw).unwrap_or_default(),
            state: task.state,
            creator: Person::of(task.creator.as_ref()),
            comment_id: task.comment.map(|c| c.id),
            created_on: task.created_on,
        }
    }
}

impl Line for TaskOutput {
    fn line(&self) -> String {
        let mut line = format!(
            "#{} [{}] {}",
            self.id,
            self.state.as_deref().unwrap_or("UNKNOWN"),
            self.content.replace('\n', " ")
        );
        if let Some(comment) = self.comment_id {
            line.push_str(&format!(" (on comment #{comment})"));
        }
        if let Some(creator) = &self.creator {
            line.push_str(&format!(", by {}", creator.label()));
        }
        line
    }
}

/// A task as created or changed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct TaskResult {
    #[serde(flatten)]
    pub task: TaskOutput,
    /// `acme/widgets`.
    pub repository: String,
    pub pull_request_id: u64,
    #[serde(skip)]
    pub verb: &'static str,
}

impl Render for TaskResult {
    fn render(&self) -> String {
        let mut text = format!(
            "{} task #{} on pull request #{} of {}",
            self.verb, self.task.id, self.pull_request_id, self.repository
        );
        field(&mut text, "state", self.task.state.as_deref());
        field(&mut text, "on comment", self.task.comment_id);
        field(&mut text, "task", Some(&self.task.content));
        text
    }
}

fn task_context(action: &str, repo: &RepoId, id: u64, task: u64) -> Context {
    Context::new(
        format!("{action} task #{task} of pull request #{id}"),
        Scope::repository(repo),
    )
    .item(
        format!("pull request #{id} or its task #{task}"),
        "BITBUCKET_LIST_PULL_REQUEST_TASKS",
    )
}

choice!(TaskState {
    Unresolved => "UNRESOLVED",
    Resolved => "RESOLVED",
});

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListTasksArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Only tasks in this state.
    state: Option<TaskState>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListPullRequestTasks;

impl Tool for ListPullRequestTasks {
    const NAME: &'static str = "BITBUCKET_LIST_PULL_REQUEST_TASKS";
    const TITLE: &'static str = "List pull request tasks";
    const DESCRIPTION: &'static str = "Lists the tasks (to-dos) on a pull request with their state, UNRESOLVED or RESOLVED, and the comment each was made on.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/tasks";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListTasksArgs;
    type Output = ListOutput<TaskOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let mut params = ListParams::new();
        if let Some(state) = args.state {
            params = params.q(format!("state = \"{}\"", state.as_str()));
        }
        params.page = args.page.map(|p| p.0);
        params.pagelen = args.pagelen.map(|p| p.0);
        let page = client
            .list_pull_request_tasks(&repo, id, &params)
            .await
            .or_explain(client, || pr_context("read the tasks of", &repo, id))
            .await?;
        let shown = args
            .state
            .map(|s| format!(" ({})", s.as_str().to_ascii_lowercase()))
            .unwrap_or_default();
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Tasks{shown} on pull request #{id} of {repo}"),
            TaskOutput::from_task,
        ))
    }

    lockdown_by_repository!();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTaskArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// What is to be done, e.g. `Add a test for the empty case`.
    content: Text,
    /// Attach it to this comment.
    comment_id: Option<Id>,
}

pub(crate) struct CreatePullRequestTask;

impl Tool for CreatePullRequestTask {
    const NAME: &'static str = "BITBUCKET_CREATE_PULL_REQUEST_TASK";
    const TITLE: &'static str = "Create pull request task";
    const DESCRIPTION: &'static str = "Adds a task (a to-do to resolve before merging) to a pull request, optionally on a comment.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/tasks";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateTaskArgs;
    type Output = TaskResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
        );
        let task = client
            .create_pull_request_task(
                &repo,
                id,
                args.content.as_str(),
                args.comment_id.map(|c| c.0),
            )
            .await
            .or_explain(client, || pr_context("add a task to", &repo, id))
            .await?;
        Ok(TaskResult {
            task: TaskOutput::from_task(task),
            repository: repo.to_string(),
            pull_request_id: id,
            verb: "Created",
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTaskArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Task number, e.g. `3`.
    task_id: Id,
    /// `true` resolves the task, `false` reopens it.
    resolved: Option<Flag>,
    /// New text.
    content: Option<Text>,
}

pub(crate) struct UpdatePullRequestTask;

impl Tool for UpdatePullRequestTask {
    const NAME: &'static str = "BITBUCKET_UPDATE_PULL_REQUEST_TASK";
    const TITLE: &'static str = "Resolve or edit a pull request task";
    const DESCRIPTION: &'static str =
        "Resolves (`resolved: true`) or reopens a task on a pull request, or changes its text.";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str =
        "PUT /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/tasks/{task_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = UpdateTaskArgs;
    type Output = TaskResult;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id, task_id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
            args.task_id.0,
        );
        if args.resolved.is_none() && args.content.is_none() {
            return Err(ToolError::Refused(
                "nothing to change: give `resolved` (true or false) or a new `content`".to_owned(),
            ));
        }
        let task = client
            .update_pull_request_task(
                &repo,
                id,
                task_id,
                args.resolved.map(|f| f.0),
                args.content.as_ref().map(Text::as_str),
            )
            .await
            .or_explain(client, || task_context("update", &repo, id, task_id))
            .await?;
        Ok(TaskResult {
            task: TaskOutput::from_task(task),
            repository: repo.to_string(),
            pull_request_id: id,
            verb: "Updated",
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Pull request number, e.g. `1`.
    pull_request_id: Id,
    /// Task number, e.g. `3`.
    task_id: Id,
}

/// A task removed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct DeletedTask {
    /// `acme/widgets`.
    pub repository: String,
    pub pull_request_id: u64,
    pub task_id: u64,
    pub deleted: bool,
}

impl Render for DeletedTask {
    fn render(&self) -> String {
        format!(
            "Deleted task #{} of pull request #{} of {}",
            self.task_id, self.pull_request_id, self.repository
        )
    }
}

pub(crate) struct DeletePullRequestTask;

impl Tool for DeletePullRequestTask {
    const NAME: &'static str = "BITBUCKET_DELETE_PULL_REQUEST_TASK";
    const TITLE: &'static str = "Delete pull request task";
    const DESCRIPTION: &'static str = "Deletes a task from a pull request (to mark it done, resolve it with BITBUCKET_UPDATE_PULL_REQUEST_TASK instead).";
    const TOOLSET: Toolset = Toolset::Reviews;
    const ENDPOINT: &'static str = "DELETE /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/tasks/{task_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = TaskArgs;
    type Output = DeletedTask;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, id, task_id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.pull_request_id.0,
            args.task_id.0,
        );
        client
            .delete_pull_request_task(&repo, id, task_id)
            .await
            .or_explain(client, || task_context("delete", &repo, id, task_id))
            .await?;
        Ok(DeletedTask {
            repository: repo.to_string(),
            pull_request_id: id,
            task_id,
            deleted: true,
        })
    }
}

impl Authored for TaskOutput {
    fn withhold(&mut self, writers: &Writers) {
        writers.guard(self.creator.as_ref(), &mut self.content);
    }
}
