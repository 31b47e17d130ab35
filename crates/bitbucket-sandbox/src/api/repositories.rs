//! Repositories: list a workspace's, get, create and delete one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{P, git, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::git::RepoId;
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, new_uuid, now};
use crate::store::{NewRepo, RepoRow, WorkspaceRow};

/// Renders a repository with its project.
pub async fn value(state: &AppState, ws: &WorkspaceRow, repo: &RepoRow) -> ApiResult<Value> {
    let project = match repo.project_id {
        Some(id) => state.store.project(id).await?,
        None => None,
    };
    let size = dir_size(&state.git.repo_path(&repo_id(ws, repo)?));
    Ok(render::repository(state, ws, repo, project.as_ref(), size))
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P(workspace): P<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let ws = state
        .store
        .workspace_by_key(&workspace)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("No workspace with identifier '{workspace}'."))
        })?;
    let permission = match &caller.0 {
        Some(user) => state.permission(ws.id, user).await?,
        None => None,
    };
    let role = params.get("role");
    if let Some(role) = role
        && !["member", "contributor", "admin", "owner"].contains(&role)
    {
        return Err(ApiError::bad_request(format!(
            "Invalid role '{role}': expected member, contributor, admin or owner"
        )));
    }
    if role.is_some() && caller.0.is_none() {
        return Err(ApiError::unauthorized());
    }
    let repos = state.store.repos_in(ws.id).await?;
    let mut items = Vec::new();
    for repo in repos {
        let visible = match (&permission, role) {
            (None, _) => !repo.is_private && role.is_none(),
            (Some(p), Some("admin" | "owner")) => p == "owner",
            (Some(_), _) => true,
        };
        if visible {
            items.push(value(&state, &ws, &repo).await?);
        }
    }
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    Ok(Json(value(&state, &ws, &repo).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewRepository {
    scm: Option<String>,
    name: Option<String>,
    is_private: Option<bool>,
    description: Option<String>,
    has_issues: Option<bool>,
    has_wiki: Option<bool>,
    fork_policy: Option<String>,
    language: Option<String>,
    project: Option<KeyRef>,
    mainbranch: Option<NameRef>,
}

#[derive(Debug, Deserialize)]
pub struct KeyRef {
    key: String,
}

#[derive(Debug, Deserialize)]
pub struct NameRef {
    name: String,
}

/// Bitbucket slugs: lowercase letters, digits, `-`, `_` and `.`, not only dots.
pub fn validate_slug(slug: &str) -> ApiResult<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 62
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && !slug.bytes().all(|b| b == b'.');
    if ok {
        Ok(())
    } else {
        Err(
            ApiError::bad_request(format!("Invalid repository slug '{slug}'")).with_field(
                "slug",
                "Use up to 62 lowercase letters, digits, dashes, underscores and dots.",
            ),
        )
    }
}

pub async fn create(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: NewRepository = raw.parse()?;
    let ws = state.workspace(&caller, &workspace).await?;
    validate_slug(&slug)?;
    if let Some(scm) = &input.scm
        && scm != "git"
    {
        return Err(ApiError::bad_request(format!("Unsupported scm '{scm}'"))
            .with_field("scm", "Only git is supported."));
    }
    let fork_policy = input.fork_policy.unwrap_or_else(|| "allow_forks".into());
    if !["allow_forks", "no_public_forks", "no_forks"].contains(&fork_policy.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Invalid fork_policy '{fork_policy}'"
        )));
    }
    let mainbranch = input
        .mainbranch
        .map(|m| m.name)
        .unwrap_or_else(|| "main".into());
    if !crate::git::is_valid_branch_name(&mainbranch) {
        return Err(ApiError::bad_request(format!(
            "Invalid main branch name '{mainbranch}'"
        )));
    }
    let mut write = state.store.write().await?;
    let project_id: Option<i64> = match &input.project {
        Some(p) => Some(write.project_id(ws.id, &p.key).await?.ok_or_else(|| {
            ApiError::bad_request(format!(
                "Project with key '{}' not found in workspace '{}'",
                p.key, ws.slug
            ))
            .with_field("project", "No such project.")
        })?),
        None => write.first_project_id(ws.id).await?,
    };
    if write.repo_exists(ws.id, &slug).await? {
        return Err(
            ApiError::bad_request("Repository with this Slug and Owner already exists.")
                .with_field(
                    "name",
                    "Repository with this Slug and Owner already exists.",
                ),
        );
    }
    let id = RepoId::new(ws.slug.as_str(), slug.as_str())?;
    let (init_id, branch) = (id.clone(), mainbranch.clone());
    git(&state, move |g| g.init(&init_id, &branch)).await?;
    let ts = now();
    let uuid = new_uuid();
    let new = NewRepo {
        uuid: &uuid,
        workspace_id: ws.id,
        project_id,
        slug: &slug,
        name: input.name.as_deref().unwrap_or(&slug),
        description: input.description.as_deref().unwrap_or(""),
        is_private: input.is_private.unwrap_or(true),
        has_issues: input.has_issues.unwrap_or(false),
        has_wiki: input.has_wiki.unwrap_or(false),
        fork_policy: &fork_policy,
        language: input.language.as_deref().unwrap_or(""),
        mainbranch: &mainbranch,
        created_on: &ts,
    };
    let inserted = match write.insert_repo(&new).await {
        Ok(repo) => write.commit().await.map(|()| repo),
        Err(e) => Err(e),
    };
    let repo = match inserted {
        Ok(repo) => repo,
        Err(e) => {
            // Nothing may be left half-made: the git repository goes with the failed insert.
            let _ = git(&state, move |g| g.delete(&id)).await;
            return Err(e.into());
        }
    };
    let body = value(&state, &ws, &repo).await?;
    Ok((StatusCode::OK, Json(body)).into_response())
}

pub async fn delete(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Response> {
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let id = repo_id(&ws, &repo)?;
    let mut write = state.store.write().await?;
    write.delete_repo(repo.id).await?;
    // The row goes even when the folder is already gone, as before; the lock covers both.
    let removed = git(&state, move |g| g.delete(&id)).await;
    write.commit().await?;
    removed?;
    Ok(super::no_content())
}
