//! The issue tracker: issues and their comments, numbered per repository.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{P, parse_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate, paginate_with};
use crate::query::Collation;
use crate::render::{self, IssueContext};
use crate::state::{Access, AppState, Caller, SharedState, now};
use crate::store::{CommentRow, IssueRow, NewIssue, RepoRow, UserRow, WorkspaceRow};

pub const KINDS: &[&str] = &["bug", "enhancement", "proposal", "task"];
pub const PRIORITIES: &[&str] = &["trivial", "minor", "major", "critical", "blocker"];
pub const STATES: &[&str] = &[
    "submitted",
    "new",
    "open",
    "resolved",
    "on hold",
    "invalid",
    "duplicate",
    "wontfix",
    "closed",
];

async fn tracker(
    state: &AppState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
    need: Access,
) -> ApiResult<(WorkspaceRow, RepoRow)> {
    let (ws, repo) = state.repo(caller, workspace, slug, need).await?;
    if !repo.has_issues {
        return Err(
            ApiError::not_found("Repository has no issue tracker.").with_detail(format!(
                "The issue tracker is disabled for {}/{}.",
                ws.slug, repo.slug
            )),
        );
    }
    Ok((ws, repo))
}

fn issue_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    issue: &IssueRow,
    users: &[UserRow],
) -> Value {
    let find = |id: Option<i64>| id.and_then(|id| users.iter().find(|u| u.id == id));
    render::issue(
        s,
        ws,
        repo,
        issue,
        &IssueContext {
            reporter: find(issue.reporter_id),
            assignee: find(issue.assignee_id),
        },
    )
}

async fn load_issue(state: &AppState, repo: &RepoRow, id: i64) -> ApiResult<IssueRow> {
    state
        .store
        .issue(repo.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Issue #{id} does not exist")))
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = tracker(&state, &caller, &workspace, &slug, Access::Read).await?;
    let issues = state.store.issues(repo.id).await?;
    let users = state.all_users().await?;
    let items = issues
        .iter()
        .map(|issue| issue_value(&state, &ws, &repo, issue, &users))
        .collect();
    // `priority > "major"` and `sort=-priority` follow severity, not the alphabet.
    let collation = Collation::new().rank("priority", PRIORITIES);
    Ok(Json(paginate_with(
        &state.origin,
        &params,
        items,
        MAX_PAGELEN,
        &collation,
    )?))
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = tracker(&state, &caller, &workspace, &slug, Access::Read).await?;
    let issue = load_issue(&state, &repo, parse_id(&id, "issue id")?).await?;
    let users = state.all_users().await?;
    Ok(Json(issue_value(&state, &ws, &repo, &issue, &users)))
}

#[derive(Debug, Default, Deserialize)]
pub struct IssueInput {
    title: Option<String>,
    content: Option<Content>,
    kind: Option<String>,
    priority: Option<String>,
    state: Option<String>,
    /// `None` when absent; `Some(Value::Null)` when sent as `null`, which unassigns.
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Value>,
}

/// Keeps an explicit `null` apart from a missing field.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    <Value as serde::Deserialize>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
pub struct Content {
    raw: Option<String>,
}

fn check_enum(field: &str, value: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid {field} '{value}': expected one of {}",
            allowed.join(", ")
        ))
        .with_field(field, format!("'{value}' is not a valid choice.")))
    }
}

/// Resolves an assignee given as `{"uuid"}`, `{"account_id"}`, `{"username"}` or a bare
/// string; `null` clears it.
async fn assignee(state: &AppState, ws: &WorkspaceRow, value: &Value) -> ApiResult<Option<i64>> {
    let key = match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Object(o) => ["uuid", "account_id", "username", "nickname"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::bad_request("Invalid assignee: give uuid, account_id or username")
                    .with_field("assignee", "Unknown user.")
            })?,
        _ => {
            return Err(
                ApiError::bad_request("Invalid assignee: expected an object")
                    .with_field("assignee", "Expected an object."),
            );
        }
    };
    let user = state.find_user(&key).await?.ok_or_else(|| {
        ApiError::bad_request(format!("Invalid assignee: no user '{key}'"))
            .with_field("assignee", "Unknown user.")
    })?;
    if state.permission(ws.id, &user).await?.is_none() {
        return Err(ApiError::bad_request(format!(
            "Invalid assignee: '{key}' is not a member of the workspace '{}'",
            ws.slug
        ))
        .with_field("assignee", "Not a member."));
    }
    Ok(Some(user.id))
}

pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: IssueInput = raw.parse()?;
    // As on Bitbucket, anyone signed in who can read the tracker may report an issue (on a
    // public repository, people outside the workspace too).
    let (ws, repo) = tracker(&state, &caller, &workspace, &slug, Access::Read).await?;
    let reporter = caller.require()?;
    let title = input.title.as_deref().map(str::trim).unwrap_or("");
    if title.is_empty() {
        return Err(ApiError::bad_request("title: This field is required.")
            .with_field("title", "This field is required."));
    }
    let kind = input.kind.as_deref().unwrap_or("bug");
    check_enum("kind", kind, KINDS)?;
    let priority = input.priority.as_deref().unwrap_or("major");
    check_enum("priority", priority, PRIORITIES)?;
    let issue_state = input.state.as_deref().unwrap_or("new");
    check_enum("state", issue_state, STATES)?;
    let assignee_id = match &input.assignee {
        Some(v) => assignee(&state, &ws, v).await?,
        None => None,
    };
    let content = input.content.and_then(|c| c.raw).unwrap_or_default();
    let ts = now();
    let mut write = state.store.write().await?;
    let issue = write
        .insert_issue(&NewIssue {
            repo_id: repo.id,
            title,
            content: &content,
            kind,
            priority,
            state: issue_state,
            reporter_id: reporter.id,
            assignee_id,
            created_on: &ts,
        })
        .await?;
    write.commit().await?;
    let users = state.all_users().await?;
    let body = issue_value(&state, &ws, &repo, &issue, &users);
    Ok(created(body))
}

/// A 201 with the new object and its `Location`.
pub fn created(body: Value) -> Response {
    let location = body
        .pointer("/links/self/href")
        .and_then(Value::as_str)
        .and_then(|s| HeaderValue::from_str(s).ok());
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: IssueInput = raw.parse()?;
    // As on Bitbucket, anyone signed in who can read the tracker may report an issue (on a
    // public repository, people outside the workspace too).
    let (ws, repo) = tracker(&state, &caller, &workspace, &slug, Access::Read).await?;
    let id = parse_id(&id, "issue id")?;
    if let Some(kind) = &input.kind {
        check_enum("kind", kind, KINDS)?;
    }
    if let Some(priority) = &input.priority {
        check_enum("priority", priority, PRIORITIES)?;
    }
    if let Some(s) = &input.state {
        check_enum("state", s, STATES)?;
    }
    if let Some(title) = &input.title
        && title.trim().is_empty()
    {
        return Err(ApiError::bad_request("title: This field may not be blank.")
            .with_field("title", "This field may not be blank."));
    }
    let assignee_id = match &input.assignee {
        Some(v) => Some(assignee(&state, &ws, v).await?),
        None => None,
    };
    let mut write = state.store.write().await?;
    let mut issue = write
        .issue(repo.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Issue #{id} does not exist")))?;
    let ts = now();
    let content = input.content.and_then(|c| c.raw);
    if input.title.is_some() || content.is_some() {
        issue.edited_on = Some(ts.clone());
    }
    if let Some(title) = input.title {
        issue.title = title.trim().to_owned();
    }
    if let Some(content) = content {
        issue.content = content;
    }
    if let Some(kind) = input.kind {
        issue.kind = kind;
    }
    if let Some(priority) = input.priority {
        issue.priority = priority;
    }
    if let Some(s) = input.state {
        issue.state = s;
    }
    if let Some(a) = assignee_id {
        issue.assignee_id = a;
    }
    issue.updated_on = ts;
    write.update_issue(repo.id, &issue).await?;
    write.commit().await?;
    let users = state.all_users().await?;
    Ok(Json(issue_value(&state, &ws, &repo, &issue, &users)))
}

pub async fn delete(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (_, repo) = tracker(&state, &caller, &workspace, &slug, Access::Write).await?;
    let id = parse_id(&id, "issue id")?;
    let mut write = state.store.write().await?;
    let deleted = write.delete_issue(repo.id, id).await?;
    write.commit().await?;
    if !deleted {
        return Err(ApiError::not_found(format!("Issue #{id} does not exist")));
    }
    Ok(super::no_content())
}

async fn comment_values(
    state: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    issue: &IssueRow,
    rows: &[CommentRow],
) -> ApiResult<Vec<Value>> {
    let users = state.all_users().await?;
    let issue_v = issue_value(state, ws, repo, issue, &users);
    rows.iter()
        .map(|c| {
            let author = users.iter().find(|u| u.id == c.user_id).ok_or_else(|| {
                ApiError::internal(format_args!("comment author {} vanished", c.user_id))
            })?;
            Ok(render::issue_comment(
                state, ws, repo, &issue_v, issue.id, c, author,
            ))
        })
        .collect()
}

pub async fn list_comments(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = tracker(&state, &caller, &workspace, &slug, Access::Read).await?;
    let issue = load_issue(&state, &repo, parse_id(&id, "issue id")?).await?;
    let rows = state.store.issue_comments(repo.id, issue.id).await?;
    let items = comment_values(&state, &ws, &repo, &issue, &rows).await?;
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn get_comment(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = tracker(&state, &caller, &workspace, &slug, Access::Read).await?;
    let issue = load_issue(&state, &repo, parse_id(&id, "issue id")?).await?;
    let comment_id = parse_id(&comment_id, "comment id")?;
    let comment = state
        .store
        .issue_comment(repo.id, issue.id, comment_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Comment {comment_id} does not exist")))?;
    let mut values = comment_values(&state, &ws, &repo, &issue, &[comment]).await?;
    values
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::internal("comment rendering produced nothing"))
}

#[derive(Debug, Deserialize)]
pub struct CommentInput {
    content: Option<Content>,
}

pub async fn create_comment(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: CommentInput = raw.parse()?;
    // Commenting, like reporting, needs only read access and a signed-in user.
    let (ws, repo) = tracker(&state, &caller, &workspace, &slug, Access::Read).await?;
    let user = caller.require()?;
    let content = input.content.and_then(|c| c.raw).unwrap_or_default();
    if content.trim().is_empty() {
        return Err(
            ApiError::bad_request("content.raw: This field is required.")
                .with_field("content", "This field is required."),
        );
    }
    let issue = load_issue(&state, &repo, parse_id(&id, "issue id")?).await?;
    let ts = now();
    let mut write = state.store.write().await?;
    let comment = write
        .insert_issue_comment(repo.id, issue.id, user.id, &content, &ts)
        .await?;
    write.commit().await?;
    let mut values = comment_values(&state, &ws, &repo, &issue, &[comment]).await?;
    let body = values
        .pop()
        .ok_or_else(|| ApiError::internal("comment rendering produced nothing"))?;
    Ok(created(body))
}
