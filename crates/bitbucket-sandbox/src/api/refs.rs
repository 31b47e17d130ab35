//! Branches and tags, backed by real git refs.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{P, git, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::git::{GitError, RefInfo, Signature};
use crate::paging::{MAX_PAGELEN, Params, paginate_with};
use crate::query::Collation;
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState};
use crate::store::{RepoRow, UserRow, WorkspaceRow};

fn branch_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    b: &RefInfo,
    users: &[UserRow],
) -> Value {
    let mut v = render::branch(s, ws, repo, b);
    if let Some(target) = v.get_mut("target") {
        render::link_commit_authors(target, users, s);
    }
    v
}

fn tag_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    t: &RefInfo,
    users: &[UserRow],
) -> Value {
    let mut v = render::tag(s, ws, repo, t);
    if let Some(target) = v.get_mut("target") {
        render::link_commit_authors(target, users, s);
    }
    v
}

pub async fn list_branches(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let id = repo_id(&ws, &repo)?;
    let branches = git(&state, move |g| g.branches(&id)).await?;
    let users = state.all_users().await?;
    let items = branches
        .iter()
        .map(|b| branch_value(&state, &ws, &repo, b, &users))
        .collect();
    Ok(Json(paginate_with(
        &state.origin,
        &params,
        items,
        MAX_PAGELEN,
        &Collation::new().natural("name"),
    )?))
}

pub async fn get_branch(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, name)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let (id, n) = (repo_id(&ws, &repo)?, name.clone());
    let branch = git(&state, move |g| g.branch(&id, &n))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Branch \"{name}\" does not exist")))?;
    let users = state.all_users().await?;
    Ok(Json(branch_value(&state, &ws, &repo, &branch, &users)))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewRef {
    name: Option<String>,
    target: Option<Target>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Target {
    hash: Option<String>,
}

/// Validates a new ref's name and target and resolves the target to a full hash.
async fn resolve_new_ref(
    state: &State<SharedState>,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    input: &NewRef,
    kind: &str,
) -> ApiResult<(String, String)> {
    let name = input.name.as_deref().map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Err(ApiError::bad_request(format!("{kind} name is required"))
            .with_field("name", "This field is required."));
    }
    if !crate::git::is_valid_branch_name(name) {
        return Err(ApiError::bad_request(format!("'{name}' is not a valid {} name", kind.to_lowercase()))
            .with_detail(format!("Names follow git's rules: no spaces, `..`, `~`, `^`, `:`, `?`, `*`, `[`, `\\`, no leading `-` or `.`, no trailing `/`, `.` or `.lock`; at most {} bytes in at most {} `/`-separated parts.", crate::git::MAX_REF_NAME_BYTES, crate::git::MAX_REF_NAME_DEPTH))
            .with_field("name", "Invalid name."));
    }
    let target = input
        .target
        .as_ref()
        .and_then(|t| t.hash.as_deref())
        .map(str::trim)
        .unwrap_or("");
    if target.is_empty() {
        return Err(ApiError::bad_request("target.hash is required")
            .with_field("target", "This field is required."));
    }
    let (id, t) = (repo_id(ws, repo)?, target.to_owned());
    let commit = git(state, move |g| g.resolve(&id, &t))
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "The target '{target}' does not exist in {}/{}",
                ws.slug, repo.slug
            ))
            .with_field("target", "No such commit, branch or tag.")
        })?;
    Ok((name.to_owned(), commit.hash))
}

fn ref_error(err: GitError, kind: &str) -> ApiError {
    match err {
        GitError::RefExists { name, .. } => {
            ApiError::bad_request(format!("{kind} \"{name}\" already exists"))
                .with_field("name", "Already exists.")
        }
        GitError::InvalidRefName { name, .. } => ApiError::bad_request(format!(
            "'{name}' is not a valid {} name",
            kind.to_lowercase()
        )),
        other => other.into(),
    }
}

pub async fn create_branch(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: NewRef = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let (name, hash) = resolve_new_ref(&state, &ws, &repo, &input, "Branch").await?;
    let id = repo_id(&ws, &repo)?;
    let created = tokio::task::spawn_blocking({
        let state = state.0.clone();
        move || state.git.create_branch(&id, &name, &hash)
    })
    .await?
    .map_err(|e| ref_error(e, "Branch"))?;
    let users = state.all_users().await?;
    let body = branch_value(&state, &ws, &repo, &created, &users);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn delete_branch(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, name)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    if name == repo.mainbranch {
        return Err(ApiError::bad_request(format!(
            "Branch \"{name}\" is the main branch and cannot be deleted"
        )));
    }
    let (id, n) = (repo_id(&ws, &repo)?, name.clone());
    if git(&state, move |g| g.delete_branch(&id, &n)).await? {
        Ok(super::no_content())
    } else {
        Err(ApiError::not_found(format!(
            "Branch \"{name}\" does not exist"
        )))
    }
}

pub async fn delete_tag(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, name)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let (id, n) = (repo_id(&ws, &repo)?, name.clone());
    if git(&state, move |g| g.delete_tag(&id, &n)).await? {
        Ok(super::no_content())
    } else {
        Err(ApiError::not_found(format!(
            "Tag \"{name}\" does not exist"
        )))
    }
}

pub async fn list_tags(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let id = repo_id(&ws, &repo)?;
    let tags = git(&state, move |g| g.tags(&id)).await?;
    let users = state.all_users().await?;
    let items = tags
        .iter()
        .map(|t| tag_value(&state, &ws, &repo, t, &users))
        .collect();
    Ok(Json(paginate_with(
        &state.origin,
        &params,
        items,
        MAX_PAGELEN,
        &Collation::new().natural("name"),
    )?))
}

pub async fn get_tag(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, name)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let id = repo_id(&ws, &repo)?;
    let tags = git(&state, move |g| g.tags(&id)).await?;
    let tag = tags
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| ApiError::not_found(format!("Tag \"{name}\" does not exist")))?;
    let users = state.all_users().await?;
    Ok(Json(tag_value(&state, &ws, &repo, tag, &users)))
}

pub async fn create_tag(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: NewRef = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let user = caller.require()?.clone();
    let (name, hash) = resolve_new_ref(&state, &ws, &repo, &input, "Tag").await?;
    let id = repo_id(&ws, &repo)?;
    let message = input.message.clone();
    let tagger = Signature {
        name: user.display_name.clone(),
        email: user.email.clone(),
        time: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let created = tokio::task::spawn_blocking({
        let state = state.0.clone();
        move || {
            state
                .git
                .create_tag(&id, &name, &hash, message.as_deref(), &tagger)
        }
    })
    .await?
    .map_err(|e| ref_error(e, "Tag"))?;
    let users = state.all_users().await?;
    let body = tag_value(&state, &ws, &repo, &created, &users);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
