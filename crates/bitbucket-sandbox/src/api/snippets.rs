//! Snippets, their files and comments.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::issues::created;
use super::{P, SEGMENT, parse_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{AppState, Caller, SharedState, now};
use crate::store::{CommentRow, SnippetRow, UserRow, WorkspaceRow};

async fn load(
    state: &AppState,
    caller: &Caller,
    workspace: &str,
    encoded_id: &str,
) -> ApiResult<(WorkspaceRow, SnippetRow)> {
    let ws = state.workspace(caller, workspace).await?;
    let snippet = state
        .store
        .snippet(ws.id, encoded_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Snippet {workspace}/{encoded_id} not found"))
        })?;
    Ok((ws, snippet))
}

async fn snippet_value(
    state: &AppState,
    ws: &WorkspaceRow,
    sn: &SnippetRow,
    users: &[UserRow],
) -> ApiResult<Value> {
    let files = state.store.snippet_files(sn.id).await?;
    let files: Vec<(String, usize)> = files
        .into_iter()
        .map(|(p, n)| (p, usize::try_from(n).unwrap_or(0)))
        .collect();
    let creator = users
        .iter()
        .find(|u| u.id == sn.creator_id)
        .ok_or_else(|| {
            ApiError::internal(format_args!("snippet creator {} vanished", sn.creator_id))
        })?;
    Ok(render::snippet(state, ws, sn, creator, &files))
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P(workspace): P<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let ws = state.workspace(&caller, &workspace).await?;
    let snippets = state.store.snippets(ws.id).await?;
    let users = state.all_users().await?;
    let mut items = Vec::new();
    for sn in &snippets {
        items.push(snippet_value(&state, &ws, sn, &users).await?);
    }
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, encoded_id)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, sn) = load(&state, &caller, &workspace, &encoded_id).await?;
    let users = state.all_users().await?;
    Ok(Json(snippet_value(&state, &ws, &sn, &users).await?))
}

/// The id of a snippet's revision. The sandbox keeps one revision of a snippet (nothing
/// changes its files once made), named by a digest of the snippet and its time.
fn node_id(sn: &SnippetRow) -> String {
    let digest = Sha256::digest(format!("{}\n{}", sn.encoded_id, sn.updated_on).as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// `GET files/{path}`: a redirect (302) to the file at the snippet's latest revision, as
/// Bitbucket answers.
pub async fn file(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, encoded_id, path)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (ws, sn) = load(&state, &caller, &workspace, &encoded_id).await?;
    let encoded_path = path
        .split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/");
    let target = state.api_url(&format!(
        "/snippets/{}/{}/{}/files/{encoded_path}",
        ws.slug,
        sn.encoded_id,
        node_id(&sn)
    ));
    Ok((StatusCode::FOUND, [(header::LOCATION, target)]).into_response())
}

/// `GET {node_id}/files/{path}`: a file's contents at a revision of the snippet.
pub async fn file_at(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, encoded_id, node, path)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (_, sn) = load(&state, &caller, &workspace, &encoded_id).await?;
    if node != node_id(&sn) {
        return Err(ApiError::not_found(format!(
            "Revision '{node}' of snippet {workspace}/{encoded_id} not found"
        )));
    }
    let content = state
        .store
        .snippet_file(sn.id, &path)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Snippet file '{path}' not found")))?;
    let mut response = (StatusCode::OK, content).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

async fn comment_values(
    state: &AppState,
    ws: &WorkspaceRow,
    sn: &SnippetRow,
    rows: &[CommentRow],
) -> ApiResult<Vec<Value>> {
    let users = state.all_users().await?;
    let snippet_v = snippet_value(state, ws, sn, &users).await?;
    rows.iter()
        .map(|c| {
            let author = users.iter().find(|u| u.id == c.user_id).ok_or_else(|| {
                ApiError::internal(format_args!("comment author {} vanished", c.user_id))
            })?;
            Ok(render::snippet_comment(
                state, ws, sn, &snippet_v, c, author,
            ))
        })
        .collect()
}

pub async fn list_comments(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, encoded_id)): P<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, sn) = load(&state, &caller, &workspace, &encoded_id).await?;
    let rows = state.store.snippet_comments(sn.id).await?;
    let items = comment_values(&state, &ws, &sn, &rows).await?;
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

#[derive(Debug, Deserialize)]
pub struct CommentInput {
    content: Option<Content>,
    parent: Option<Parent>,
}

#[derive(Debug, Deserialize)]
pub struct Content {
    raw: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Parent {
    id: Value,
}

pub async fn create_comment(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, encoded_id)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: CommentInput = raw.parse()?;
    let (ws, sn) = load(&state, &caller, &workspace, &encoded_id).await?;
    let user = caller.require()?;
    let content = input.content.and_then(|c| c.raw).unwrap_or_default();
    if content.trim().is_empty() {
        return Err(
            ApiError::bad_request("content.raw: This field is required.")
                .with_field("content", "This field is required."),
        );
    }
    let parent_id = match input.parent.map(|p| p.id) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(parse_id(&n.to_string(), "parent comment id")?),
        Some(Value::String(s)) => Some(parse_id(&s, "parent comment id")?),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid parent: expected {\"id\": number}",
            ));
        }
    };
    let mut write = state.store.write().await?;
    if let Some(parent) = parent_id
        && !write.snippet_comment_exists(sn.id, parent).await?
    {
        return Err(ApiError::bad_request(format!(
            "Parent comment {parent} not found on this snippet"
        ))
        .with_field("parent", "No such comment."));
    }
    let comment = write
        .insert_snippet_comment(sn.id, user.id, &content, parent_id, &now())
        .await?;
    write.commit().await?;
    let mut values = comment_values(&state, &ws, &sn, &[comment]).await?;
    let body = values
        .pop()
        .ok_or_else(|| ApiError::internal("comment rendering produced nothing"))?;
    Ok(created(body))
}
