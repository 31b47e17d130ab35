//! Repositories: list a workspace's, get, create and delete one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{P, git};
use crate::body;
use crate::db::{ProjectRow, RepoRow, WorkspaceRow};
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, new_uuid, now};

/// Renders a repository with its project.
pub async fn value(state: &AppState, ws: &WorkspaceRow, repo: &RepoRow) -> ApiResult<Value> {
    let project = match repo.project_id {
        Some(id) => sqlx::query("SELECT * FROM projects WHERE id = ?")
            .bind(id)
            .fetch_optional(&state.db.pool)
            .await?
            .as_ref()
            .map(ProjectRow::from_row)
            .transpose()?,
        None => None,
    };
    let size = dir_size(&state.git.repo_path(&ws.slug, &repo.slug));
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
    let row = sqlx::query("SELECT * FROM workspaces WHERE slug = ?1 OR uuid = lower(?1)")
        .bind(&workspace)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("No workspace with identifier '{workspace}'."))
        })?;
    let ws = WorkspaceRow::from_row(&row)?;
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
    let rows = sqlx::query("SELECT * FROM repositories WHERE workspace_id = ? ORDER BY slug")
        .bind(ws.id)
        .fetch_all(&state.db.pool)
        .await?;
    let mut items = Vec::new();
    for row in &rows {
        let repo = RepoRow::from_row(row)?;
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
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let input: NewRepository = body::parse(&raw)?;
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
    let _guard = state.db.write().await;
    let project_id: Option<i64> = match &input.project {
        Some(p) => Some(
            sqlx::query_scalar("SELECT id FROM projects WHERE workspace_id = ? AND key = ?")
                .bind(ws.id)
                .bind(&p.key)
                .fetch_optional(&state.db.pool)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Project with key '{}' not found in workspace '{}'",
                        p.key, ws.slug
                    ))
                    .with_field("project", "No such project.")
                })?,
        ),
        None => {
            sqlx::query_scalar("SELECT id FROM projects WHERE workspace_id = ? ORDER BY id LIMIT 1")
                .bind(ws.id)
                .fetch_optional(&state.db.pool)
                .await?
        }
    };
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT id FROM repositories WHERE workspace_id = ? AND slug = ?")
            .bind(ws.id)
            .bind(&slug)
            .fetch_optional(&state.db.pool)
            .await?;
    if exists.is_some() {
        return Err(
            ApiError::bad_request("Repository with this Slug and Owner already exists.")
                .with_field(
                    "name",
                    "Repository with this Slug and Owner already exists.",
                ),
        );
    }
    let (ws_slug, repo_slug, branch) = (ws.slug.clone(), slug.clone(), mainbranch.clone());
    git(&state, move |g| g.init(&ws_slug, &repo_slug, &branch)).await?;
    let ts = now();
    let inserted = sqlx::query(
        "INSERT INTO repositories (uuid, workspace_id, project_id, slug, name, description, is_private,
            has_issues, has_wiki, fork_policy, language, mainbranch, created_on, updated_on)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .bind(new_uuid())
    .bind(ws.id)
    .bind(project_id)
    .bind(&slug)
    .bind(input.name.as_deref().unwrap_or(&slug))
    .bind(input.description.as_deref().unwrap_or(""))
    .bind(input.is_private.unwrap_or(true))
    .bind(input.has_issues.unwrap_or(false))
    .bind(input.has_wiki.unwrap_or(false))
    .bind(&fork_policy)
    .bind(input.language.as_deref().unwrap_or(""))
    .bind(&mainbranch)
    .bind(&ts)
    .bind(&ts)
    .fetch_one(&state.db.pool)
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(e) => {
            // Nothing may be left half-made: the git repository goes with the failed insert.
            let (ws_slug, repo_slug) = (ws.slug.clone(), slug.clone());
            let _ = git(&state, move |g| g.delete(&ws_slug, &repo_slug)).await;
            return Err(e.into());
        }
    };
    let repo = RepoRow::from_row(&row)?;
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
    let _guard = state.db.write().await;
    sqlx::query("DELETE FROM repositories WHERE id = ?")
        .bind(repo.id)
        .execute(&state.db.pool)
        .await?;
    git(&state, move |g| g.delete(&ws.slug, &repo.slug)).await?;
    Ok(super::no_content())
}
