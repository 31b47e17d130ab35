//! Deployment environments (every repository starts with Test, Staging and Production), the
//! deployments pipeline steps record when they name an environment, and environment variables.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pipelines::{braced, create_variable, delete_variable, list_variables, update_variable};
use super::{P, no_content};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, new_uuid};
use crate::store::{DeploymentRow, EnvironmentRow, RepoRow, VarScope, WorkspaceRow};

const TYPES: &[&str] = &["Test", "Staging", "Production"];

fn environment_value(s: &AppState, ws: &WorkspaceRow, repo: &RepoRow, e: &EnvironmentRow) -> Value {
    json!({
        "type": "deployment_environment",
        "uuid": e.uuid,
        "name": e.name,
        "slug": e.name.to_lowercase().replace(' ', "-"),
        "rank": e.rank,
        "environment_type": { "type": "deployment_environment_type", "name": e.environment_type, "rank": TYPES.iter().position(|t| *t == e.environment_type).unwrap_or(0) },
        "lock": { "type": "deployment_environment_lock_open", "name": "OPEN" },
        "restrictions": { "type": "deployment_restrictions_configuration", "admin_only": false },
        "hidden": false,
        "links": { "self": { "href": s.api_url(&format!(
            "/repositories/{}/{}/environments/{}", ws.slug, repo.slug,
            percent_encoding::utf8_percent_encode(&e.uuid, super::SEGMENT)
        )) } },
    })
}

async fn deployment_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    d: &DeploymentRow,
) -> ApiResult<Value> {
    let deployer = match d.deployer_id {
        Some(id) => Some(render::user(s, &s.user_by_id(id).await?)),
        None => None,
    };
    let url = d.pipeline_uuid.as_ref().map(|_| {
        s.html_url(&format!(
            "/{}/{}/pipelines/results/{}",
            ws.slug,
            repo.slug,
            d.release_name.trim_start_matches('#')
        ))
    });
    let mut st = match (d.state.as_str(), d.status.as_deref()) {
        ("COMPLETED", Some(status)) => json!({
            "type": "deployment_state_completed",
            "name": "COMPLETED",
            "status": { "type": format!("deployment_state_completed_status_{}", status.to_lowercase()), "name": status },
            "start_date": d.created_on,
        }),
        _ => {
            json!({ "type": "deployment_state_in_progress", "name": "IN_PROGRESS", "start_date": d.created_on })
        }
    };
    if let Some(obj) = st.as_object_mut() {
        if let Some(done) = &d.completed_on {
            obj.insert("completion_date".into(), json!(done));
        }
        if let Some(deployer) = deployer {
            obj.insert("deployer".into(), deployer);
        }
        if let Some(url) = &url {
            obj.insert("url".into(), json!(url));
        }
    }
    let commit = json!({
        "type": "commit",
        "hash": d.commit_hash,
        "links": { "self": { "href": s.api_url(&format!("/repositories/{}/{}/commit/{}", ws.slug, repo.slug, d.commit_hash)) } },
    });
    let mut release = json!({
        "type": "deployment_release",
        "uuid": d.uuid,
        "name": d.release_name,
        "commit": commit,
        "created_on": d.created_on,
    });
    if let (Some(url), Some(obj)) = (url, release.as_object_mut()) {
        obj.insert("url".into(), json!(url));
    }
    Ok(json!({
        "type": "deployment",
        "uuid": d.uuid,
        "state": st,
        "environment": { "type": "deployment_environment", "uuid": d.environment_uuid, "name": d.environment_name },
        "release": release,
    }))
}

/// The repository, with its default environments made on first use.
async fn repo_with_environments(
    state: &SharedState,
    caller: &Caller,
    (workspace, slug): (&str, &str),
    access: Access,
) -> ApiResult<(WorkspaceRow, RepoRow)> {
    let (ws, repo) = state.repo(caller, workspace, slug, access).await?;
    if state.store.environments(repo.id).await?.is_empty() {
        let mut write = state.store.write().await?;
        write
            .ensure_environments(repo.id, [new_uuid(), new_uuid(), new_uuid()])
            .await?;
        write.commit().await?;
    }
    Ok((ws, repo))
}

async fn find_environment(
    state: &SharedState,
    repo: &RepoRow,
    id: &str,
) -> ApiResult<EnvironmentRow> {
    let key = id.trim();
    let found = match state.store.environment(repo.id, &braced(key)).await? {
        Some(e) => Some(e),
        None => state.store.environment(repo.id, key).await?,
    };
    found.ok_or_else(|| ApiError::not_found(format!("No environment {key} in this repository")))
}

pub async fn list_environments(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) =
        repo_with_environments(&state, &caller, (&workspace, &slug), Access::Read).await?;
    let items = state
        .store
        .environments(repo.id)
        .await?
        .iter()
        .map(|e| environment_value(&state, &ws, &repo, e))
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn get_environment(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) =
        repo_with_environments(&state, &caller, (&workspace, &slug), Access::Read).await?;
    let e = find_environment(&state, &repo, &id).await?;
    Ok(Json(environment_value(&state, &ws, &repo, &e)))
}

#[derive(Debug, Deserialize)]
struct EnvironmentInput {
    name: Option<String>,
    environment_type: Option<TypeInput>,
}

#[derive(Debug, Deserialize)]
struct TypeInput {
    name: Option<String>,
}

pub async fn create_environment(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: EnvironmentInput = raw.parse()?;
    let (ws, repo) =
        repo_with_environments(&state, &caller, (&workspace, &slug), Access::Admin).await?;
    let name = input
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("name: This field is required.")
                .with_field("name", "This field is required.")
        })?;
    let kind = input
        .environment_type
        .and_then(|t| t.name)
        .unwrap_or_else(|| "Test".into());
    let Some(kind) = TYPES.iter().find(|t| t.eq_ignore_ascii_case(&kind)) else {
        return Err(ApiError::bad_request(format!(
            "environment_type.name: '{kind}' is not one of Test, Staging, Production"
        ))
        .with_field("environment_type.name", "Not a valid choice."));
    };
    let rank = state.store.environments(repo.id).await?.len();
    let mut write = state.store.write().await?;
    let Some(e) = write
        .insert_environment(
            repo.id,
            &new_uuid(),
            &name,
            kind,
            i64::try_from(rank).unwrap_or(0),
        )
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("An environment named '{name}' already exists in this repository."),
        ));
    };
    write.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(environment_value(&state, &ws, &repo, &e)),
    )
        .into_response())
}

pub async fn delete_environment(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (_, repo) =
        repo_with_environments(&state, &caller, (&workspace, &slug), Access::Admin).await?;
    let e = find_environment(&state, &repo, &id).await?;
    let mut write = state.store.write().await?;
    write.delete_environment(e.id).await?;
    write.commit().await?;
    Ok(no_content())
}

pub async fn list_deployments(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let env = params.get("environment").map(str::to_owned);
    let mut items = Vec::new();
    for d in state.store.deployments(repo.id).await? {
        if env.as_ref().is_some_and(|e| {
            braced(e) != d.environment_uuid && !e.eq_ignore_ascii_case(&d.environment_name)
        }) {
            continue;
        }
        items.push(deployment_value(&state, &ws, &repo, &d).await?);
    }
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn get_deployment(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let key = braced(&id);
    let d = state
        .store
        .deployment(repo.id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No deployment {key} in this repository")))?;
    Ok(Json(deployment_value(&state, &ws, &repo, &d).await?))
}

async fn env_scope(
    state: &SharedState,
    caller: &Caller,
    (workspace, slug, env): (&str, &str, &str),
    access: Access,
) -> ApiResult<VarScope> {
    let (_, repo) = repo_with_environments(state, caller, (workspace, slug), access).await?;
    let e = find_environment(state, &repo, env).await?;
    Ok(VarScope::Environment(e.id))
}

pub async fn env_variables(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug, env)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = env_scope(&state, &caller, (&workspace, &slug, &env), Access::Read).await?;
    list_variables(&state, &params, scope).await
}

pub async fn create_env_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, env)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let scope = env_scope(&state, &caller, (&workspace, &slug, &env), Access::Admin).await?;
    create_variable(&state, scope, &raw).await
}

pub async fn update_env_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, env, id)): P<(String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let scope = env_scope(&state, &caller, (&workspace, &slug, &env), Access::Admin).await?;
    update_variable(&state, scope, &id, &raw).await
}

pub async fn delete_env_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, env, id)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let scope = env_scope(&state, &caller, (&workspace, &slug, &env), Access::Admin).await?;
    delete_variable(&state, scope, &id).await
}
