//! Tasks on pull requests: list, get, create (optionally under a comment), update (text,
//! resolve, reopen) and delete. A pull request's `task_count` counts its open tasks.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::comments::markdown_html;
use super::issues::created;
use super::pullrequests::load;
use super::{P, parse_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, now};
use crate::store::{NewPrTask, PrTaskRow, PullRequestRow, RepoRow, Thread, UserRow, WorkspaceRow};

pub const RESOLVED: &str = "RESOLVED";
pub const UNRESOLVED: &str = "UNRESOLVED";

fn task_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    pr: &PullRequestRow,
    t: &PrTaskRow,
    users: &[UserRow],
) -> Value {
    let base = s.api_url(&format!(
        "/repositories/{}/{}/pullrequests/{}",
        ws.slug, repo.slug, pr.id
    ));
    let html = |anchor: String| {
        s.html_url(&format!(
            "/{}/{}/pull-requests/{}#{anchor}",
            ws.slug, repo.slug, pr.id
        ))
    };
    // No `type`: the spec's `task` allows no property beyond its own, and `type` is not one.
    let mut v = json!({
        "id": t.id,
        "state": t.state,
        "content": {
            "raw": t.content,
            "markup": "markdown",
            "html": markdown_html(&t.content),
        },
        "pending": t.pending,
        "created_on": t.created_on,
        "updated_on": t.updated_on,
        "links": {
            "self": { "href": format!("{base}/tasks/{}", t.id) },
            "html": { "href": html(format!("task-{}", t.id)) },
        },
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if let Some(u) = users.iter().find(|u| u.id == t.creator_id) {
        obj.insert("creator".into(), render::user(s, u));
    }
    if let Some(comment) = t.comment_id {
        obj.insert(
            "comment".into(),
            json!({
                "type": "pullrequest_comment",
                "id": comment,
                "links": {
                    "self": { "href": format!("{base}/comments/{comment}") },
                    "html": { "href": html(format!("comment-{comment}")) },
                },
            }),
        );
    }
    // The spec types both as non-null, so an open task leaves them out.
    if let Some(on) = &t.resolved_on {
        obj.insert("resolved_on".into(), json!(on));
    }
    if let Some(u) = t
        .resolved_by
        .and_then(|by| users.iter().find(|u| u.id == by))
    {
        obj.insert("resolved_by".into(), render::user(s, u));
    }
    v
}

async fn context(
    state: &SharedState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
    id: &str,
) -> ApiResult<(WorkspaceRow, RepoRow, PullRequestRow)> {
    let (ws, repo) = state.repo(caller, workspace, slug, Access::Read).await?;
    let pr = load(state, &repo, parse_id(id, "pull request id")?).await?;
    Ok((ws, repo, pr))
}

async fn one(
    state: &SharedState,
    repo: &RepoRow,
    pr: &PullRequestRow,
    task_id: &str,
) -> ApiResult<PrTaskRow> {
    let id = parse_id(task_id, "task id")?;
    state
        .store
        .pr_task(repo.id, pr.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Task {id} does not exist")))
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr) = context(&state, &caller, &workspace, &slug, &id).await?;
    let users = state.all_users().await?;
    let items = state
        .store
        .pr_tasks(repo.id, pr.id)
        .await?
        .iter()
        .map(|t| task_value(&state, &ws, &repo, &pr, t, &users))
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, task_id)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr) = context(&state, &caller, &workspace, &slug, &id).await?;
    let t = one(&state, &repo, &pr, &task_id).await?;
    let users = state.all_users().await?;
    Ok(Json(task_value(&state, &ws, &repo, &pr, &t, &users)))
}

#[derive(Debug, Deserialize)]
pub struct Content {
    raw: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CommentRef {
    id: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct CreateInput {
    content: Option<Content>,
    comment: Option<CommentRef>,
    #[serde(default)]
    pending: bool,
}

/// `content.raw`, which must say something.
fn task_text(content: Option<Content>) -> ApiResult<String> {
    content
        .and_then(|c| c.raw)
        .filter(|raw| !raw.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("content.raw: the task must not be blank")
                .with_field("content", "This field is required and must not be blank.")
        })
}

pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: CreateInput = raw.parse()?;
    let (ws, repo, pr) = context(&state, &caller, &workspace, &slug, &id).await?;
    let user = caller.require()?.clone();
    let content = task_text(input.content)?;
    let comment_id = match input.comment {
        None => None,
        Some(CommentRef { id: None }) => {
            return Err(ApiError::bad_request("comment.id: This field is required.")
                .with_field("comment", "Give the id of a comment on this pull request."));
        }
        Some(CommentRef { id: Some(comment) }) => {
            let found = state
                .store
                .code_comment(repo.id, Thread::PullRequest(pr.id), comment)
                .await?;
            if found.is_none_or(|c| c.deleted) {
                return Err(ApiError::bad_request(format!(
                    "Comment {comment} not found on pull request #{}",
                    pr.id
                ))
                .with_field("comment", "No such comment."));
            }
            Some(comment)
        }
    };
    let ts = now();
    let mut write = state.store.write().await?;
    let stored = write
        .insert_pr_task(&NewPrTask {
            repo_id: repo.id,
            pr_id: pr.id,
            creator_id: user.id,
            content: &content,
            comment_id,
            pending: input.pending,
            created_on: &ts,
        })
        .await?;
    write.commit().await?;
    let users = state.all_users().await?;
    Ok(created(task_value(
        &state, &ws, &repo, &pr, &stored, &users,
    )))
}

#[derive(Debug, Deserialize)]
pub struct UpdateInput {
    content: Option<Content>,
    state: Option<String>,
}

/// Anyone who can read the pull request may resolve or reopen a task; only its creator may
/// change its text.
pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, task_id)): P<(String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: UpdateInput = raw.parse()?;
    let new_state = match input.state.as_deref() {
        None => None,
        Some(s) if s == RESOLVED || s == UNRESOLVED => Some(s.to_owned()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid state '{other}': expected {RESOLVED} or {UNRESOLVED}"
            ))
            .with_field("state", format!("'{other}' is not a valid choice.")));
        }
    };
    let new_text = input.content.map(|c| task_text(Some(c))).transpose()?;
    let (ws, repo, pr) = context(&state, &caller, &workspace, &slug, &id).await?;
    let user = caller.require()?.clone();
    let mut t = one(&state, &repo, &pr, &task_id).await?;
    let ts = now();
    if let Some(text) = new_text.filter(|text| *text != t.content) {
        if t.creator_id != user.id {
            return Err(ApiError::forbidden("You can only change your own tasks."));
        }
        t.content = text;
        t.updated_on = ts.clone();
    }
    if let Some(s) = new_state.filter(|s| *s != t.state) {
        (t.resolved_by, t.resolved_on) = match s.as_str() {
            RESOLVED => (Some(user.id), Some(ts.clone())),
            _ => (None, None),
        };
        t.state = s;
        t.updated_on = ts;
    }
    let mut write = state.store.write().await?;
    write.update_pr_task(&t).await?;
    write.commit().await?;
    let users = state.all_users().await?;
    Ok(Json(task_value(&state, &ws, &repo, &pr, &t, &users)))
}

/// Only a task's creator may delete it.
pub async fn delete(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, task_id)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (_, repo, pr) = context(&state, &caller, &workspace, &slug, &id).await?;
    let user = caller.require()?.clone();
    let t = one(&state, &repo, &pr, &task_id).await?;
    if t.creator_id != user.id {
        return Err(ApiError::forbidden("You can only delete your own tasks."));
    }
    let mut write = state.store.write().await?;
    write.delete_pr_task(t.id).await?;
    write.commit().await?;
    Ok(super::no_content())
}
