//! Build statuses: CI reports them on commits, and a pull request shows those of its source.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pullrequests::load;
use super::{P, git, parse_id, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::state::{Access, AppState, Caller, SharedState, now};
use crate::store::{RepoRow, StatusRow, WorkspaceRow};

const STATES: &[&str] = &["FAILED", "INPROGRESS", "STOPPED", "SUCCESSFUL"];

fn status_value(s: &AppState, ws: &WorkspaceRow, repo: &RepoRow, st: &StatusRow) -> Value {
    let commit = s.api_url(&format!(
        "/repositories/{}/{}/commit/{}",
        ws.slug, repo.slug, st.commit_hash
    ));
    let key = percent_encoding::utf8_percent_encode(&st.key, super::SEGMENT);
    let mut v = json!({
        "type": "build",
        "key": st.key,
        "state": st.state,
        "name": st.name,
        "description": st.description,
        "url": st.url,
        "created_on": st.created_on,
        "updated_on": st.updated_on,
        "links": {
            "self": { "href": format!("{commit}/statuses/build/{key}") },
            "commit": { "href": commit },
        },
    });
    if let (Some(refname), Some(obj)) = (&st.refname, v.as_object_mut()) {
        obj.insert("refname".into(), json!(refname));
    }
    v
}

/// The commit a path names, as a full hash; 404 in Bitbucket's words when there is none.
pub(super) async fn commit_hash(
    state: &SharedState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    rev: &str,
) -> ApiResult<String> {
    let (id, rev_owned) = (repo_id(ws, repo)?, rev.to_owned());
    git(&State(state.clone()), move |g| g.resolve(&id, &rev_owned))
        .await?
        .map(|c| c.hash)
        .ok_or_else(|| ApiError::not_found(format!("Commit not found: \"{rev}\"")))
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusInput {
    key: Option<String>,
    state: Option<String>,
    name: Option<String>,
    description: Option<String>,
    url: Option<String>,
    refname: Option<String>,
}

async fn put(
    state: SharedState,
    caller: Caller,
    (workspace, slug, commit): (String, String, String),
    key_in_path: Option<String>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: StatusInput = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let hash = commit_hash(&state, &ws, &repo, &commit).await?;
    // A PUT names the status it updates; a POST creates one or overwrites the one with its key.
    let updating = key_in_path.is_some();
    let key = key_in_path
        .or(input.key)
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("key: This field is required.")
                .with_field("key", "This field is required.")
        })?;
    let existing = state.store.status(repo.id, &hash, &key).await?;
    if updating && existing.is_none() {
        return Err(ApiError::not_found(format!(
            "No build status '{key}' on {hash}"
        )));
    }
    let status_state = input
        .state
        .or_else(|| existing.as_ref().map(|e| e.state.clone()))
        .ok_or_else(|| {
            ApiError::bad_request("state: This field is required.")
                .with_field("state", "This field is required.")
        })?;
    if !STATES.contains(&status_state.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Invalid state '{status_state}': expected one of {}",
            STATES.join(", ")
        ))
        .with_field("state", "Not a valid choice."));
    }
    let keep = |new: Option<String>, old: fn(&StatusRow) -> &String| {
        new.or_else(|| existing.as_ref().map(|e| old(e).clone()))
            .unwrap_or_default()
    };
    let row = StatusRow {
        commit_hash: hash,
        key,
        state: status_state,
        name: keep(input.name, |e| &e.name),
        description: keep(input.description, |e| &e.description),
        url: keep(input.url, |e| &e.url),
        refname: input
            .refname
            .or_else(|| existing.as_ref().and_then(|e| e.refname.clone())),
        created_on: String::new(),
        updated_on: now(),
    };
    let mut write = state.store.write().await?;
    let stored = write.put_status(repo.id, &row).await?;
    write.commit().await?;
    // As the spec says: a POST answers 201 even when it overwrote, a PUT 200.
    let code = if updating {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((code, Json(status_value(&state, &ws, &repo, &stored))).into_response())
}

/// `POST commit/{commit}/statuses/build`: creates the status, or updates the one with the
/// same key.
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    put(state, caller, path, None, raw).await
}

/// `PUT commit/{commit}/statuses/build/{key}`.
pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, key)): P<(String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    put(state, caller, (workspace, slug, commit), Some(key), raw).await
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, key)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let hash = commit_hash(&state, &ws, &repo, &commit).await?;
    let st = state
        .store
        .status(repo.id, &hash, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No build status '{key}' on {hash}")))?;
    Ok(Json(status_value(&state, &ws, &repo, &st)))
}

async fn page(
    state: &SharedState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    hash: &str,
    params: &Params,
) -> ApiResult<Json<Value>> {
    let items = state
        .store
        .statuses(repo.id, hash)
        .await?
        .iter()
        .map(|st| status_value(state, ws, repo, st))
        .collect();
    Ok(Json(paginate(&state.origin, params, items, MAX_PAGELEN)?))
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let hash = commit_hash(&state, &ws, &repo, &commit).await?;
    page(&state, &ws, &repo, &hash, &params).await
}

/// The statuses of a pull request's source commit (its branch tip while open).
pub async fn pull_request(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let pr = load(&state, &repo, parse_id(&id, "pull request id")?).await?;
    let hash = if pr.state == "OPEN" {
        commit_hash(&state, &ws, &repo, &pr.source_branch)
            .await
            .unwrap_or(pr.source_commit)
    } else {
        pr.source_commit
    };
    page(&state, &ws, &repo, &hash, &params).await
}
