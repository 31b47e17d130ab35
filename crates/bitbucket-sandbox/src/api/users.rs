//! The current user, workspaces and their members.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::P;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, Caller, SharedState};

pub async fn current_user(
    State(state): State<SharedState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let user = caller.require()?;
    Ok(Json(render::user(&state, user)))
}

/// Workspaces the caller belongs to, as `workspace_access` objects.
pub async fn user_workspaces(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let user = caller.require()?;
    let rows = state.store.user_workspaces(user.id).await?;
    let mut items = Vec::with_capacity(rows.len());
    for (workspace, permission) in &rows {
        items.push(json!({
            "type": "workspace_access",
            "administrator": permission == "owner",
            "workspace": render::workspace_base(&state, workspace),
        }));
    }
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

/// `GET /workspaces` was removed from Bitbucket Cloud in 2026; it answers 410 there too.
pub async fn workspaces_gone() -> ApiError {
    ApiError::new(StatusCode::GONE, "This API is no longer supported.")
        .with_detail("Use GET /2.0/user/workspaces to list the workspaces you belong to.")
}

pub async fn get_workspace(
    State(state): State<SharedState>,
    caller: Caller,
    P(workspace): P<String>,
) -> ApiResult<Json<Value>> {
    let workspace = state.workspace(&caller, &workspace).await?;
    Ok(Json(render::workspace(&state, &workspace)))
}

pub async fn members(
    State(state): State<SharedState>,
    caller: Caller,
    P(workspace): P<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let workspace = state.workspace(&caller, &workspace).await?;
    let rows = state.store.members(workspace.id).await?;
    let workspace_value = render::workspace(&state, &workspace);
    let mut items = Vec::with_capacity(rows.len());
    for (user, _) in &rows {
        items.push(json!({
            "type": "workspace_membership",
            "user": render::user(&state, user),
            "workspace": workspace_value,
            "links": {
                "self": { "href": state.api_url(&format!("/workspaces/{}/members/{}", workspace.slug, percent_encoding::utf8_percent_encode(&user.uuid, super::SEGMENT))) },
            },
        }));
    }
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

/// `GET /workspaces/{workspace}/permissions/repositories/{repo_slug}`: each member's
/// effective permission on the repository (the workspace's owners administer it, its other
/// members write to it). Only the repository's administrators may list them, as on Bitbucket.
pub async fn repository_permissions(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let rows = state.store.members(ws.id).await?;
    let repository = render::repository_ref(&state, &ws, &repo);
    let items = rows
        .iter()
        .map(|(user, role)| {
            json!({
                "type": "repository_permission",
                "permission": if role == "owner" { "admin" } else { "write" },
                "user": render::user(&state, user),
                "repository": repository,
            })
        })
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}
