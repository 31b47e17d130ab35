//! A repository's pipeline settings beyond variables: schedules (kept and listed; the sandbox
//! does not fire them), self-hosted runners as registered (none can connect to the sandbox, so
//! each stays UNREGISTERED), SSH known hosts, the caches (the sandbox's runner keeps none), and
//! a workspace's OpenID Connect discovery document (its key set is empty: the sandbox's steps
//! get no OIDC token).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::pipelines::{bad, braced};
use super::{P, git, no_content, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::state::{Access, Caller, SharedState, new_uuid, now};
use crate::store::{KnownHostRow, RunnerRow, ScheduleRow, Setting};

fn schedule_value(s: &ScheduleRow) -> Value {
    json!({
        "type": "pipeline_schedule",
        "uuid": s.uuid,
        "enabled": s.enabled,
        "cron_pattern": s.cron_pattern,
        "target": {
            "type": "pipeline_ref_target",
            "ref_type": "branch",
            "ref_name": s.ref_name,
            "selector": { "type": s.selector_type, "pattern": s.selector_pattern },
        },
        "created_on": s.created_on,
        "updated_on": s.updated_on,
    })
}

fn runner_value(r: &RunnerRow) -> Value {
    let labels: Value = serde_json::from_str(&r.labels).unwrap_or_else(|_| json!([]));
    json!({
        "type": "pipeline_runner",
        "uuid": r.uuid,
        "name": r.name,
        "labels": labels,
        "state": { "type": "pipeline_runner_state", "status": r.status, "updated_on": r.updated_on },
        "created_on": r.created_on,
        "updated_on": r.updated_on,
    })
}

fn known_host_value(h: &KnownHostRow) -> Value {
    let mut key =
        json!({ "type": "pipeline_ssh_public_key", "key_type": h.key_type, "key": h.key });
    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&h.key) {
        let digest = sha2::Sha256::digest(&bytes);
        let fingerprint = base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest);
        key["sha256_fingerprint"] = json!(format!("SHA256:{fingerprint}"));
    }
    json!({
        "type": "pipeline_known_host",
        "uuid": h.uuid,
        "hostname": h.hostname,
        "public_key": key,
    })
}

/// A Bitbucket schedule's cron: seven fields (seconds to years), e.g. `0 0 12 * * ? *`.
fn check_cron(pattern: &str) -> ApiResult<()> {
    let fields: Vec<&str> = pattern.split_whitespace().collect();
    let allowed = |f: &str| {
        f.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '/' | '-' | ',' | '#'))
    };
    if fields.len() == 7 && fields.iter().all(|f| allowed(f)) {
        Ok(())
    } else {
        Err(bad(
            "cron_pattern",
            format!(
                "'{pattern}' is not a cron pattern of seven fields (seconds, minutes, hours, day of month, month, day of week, year), e.g. `0 0 12 * * ? *`"
            ),
        ))
    }
}

#[derive(Debug, Default, Deserialize)]
struct ScheduleInput {
    target: Option<ScheduleTarget>,
    cron_pattern: Option<String>,
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct ScheduleTarget {
    ref_name: Option<String>,
    ref_type: Option<String>,
    selector: Option<SelectorInput>,
}

#[derive(Debug, Default, Deserialize)]
struct SelectorInput {
    #[serde(rename = "type")]
    kind: Option<String>,
    pattern: Option<String>,
}

pub async fn list_schedules(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let items = state
        .store
        .schedules(repo.id)
        .await?
        .iter()
        .map(schedule_value)
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn create_schedule(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: ScheduleInput = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let target = input
        .target
        .ok_or_else(|| bad("target", "This field is required."))?;
    if let Some(kind) = target.ref_type.as_deref().filter(|k| *k != "branch") {
        return Err(bad(
            "target.ref_type",
            format!("'{kind}': schedules run branches"),
        ));
    }
    let branch = target
        .ref_name
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| bad("target.ref_name", "This field is required."))?;
    let cron = input
        .cron_pattern
        .map(|c| c.trim().to_owned())
        .ok_or_else(|| bad("cron_pattern", "This field is required."))?;
    check_cron(&cron)?;
    let (id, name) = (repo_id(&ws, &repo)?, branch.clone());
    if git(&State(state.clone()), move |g| g.branch(&id, &name))
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!(
            "No branch '{branch}' in {}/{}",
            ws.slug, repo.slug
        )));
    }
    let selector = target.selector.unwrap_or_default();
    let kind = selector.kind.unwrap_or_else(|| "branches".into());
    if !matches!(kind.as_str(), "branches" | "custom" | "default") {
        return Err(bad(
            "target.selector.type",
            format!("'{kind}' is not one of branches, custom, default"),
        ));
    }
    let pattern = selector.pattern.unwrap_or_else(|| branch.clone());
    let mut write = state.store.write().await?;
    let row = write
        .insert_schedule(
            repo.id,
            &new_uuid(),
            &branch,
            (&kind, &pattern),
            &cron,
            input.enabled.unwrap_or(true),
            &now(),
        )
        .await?;
    write.commit().await?;
    Ok((StatusCode::CREATED, Json(schedule_value(&row))).into_response())
}

async fn find_schedule(state: &SharedState, repo_id: i64, id: &str) -> ApiResult<ScheduleRow> {
    let key = braced(id);
    state
        .store
        .schedule(repo_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No schedule {key}")))
}

pub async fn get_schedule(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    Ok(Json(schedule_value(
        &find_schedule(&state, repo.id, &id).await?,
    )))
}

pub async fn update_schedule(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: ScheduleInput = raw.parse()?;
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let old = find_schedule(&state, repo.id, &id).await?;
    let enabled = input
        .enabled
        .ok_or_else(|| bad("enabled", "This field is required."))?;
    let mut write = state.store.write().await?;
    let row = write.set_schedule_enabled(old.id, enabled, &now()).await?;
    write.commit().await?;
    Ok(Json(schedule_value(&row)))
}

pub async fn delete_schedule(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let old = find_schedule(&state, repo.id, &id).await?;
    let mut write = state.store.write().await?;
    write.delete_setting(Setting::Schedule, old.id).await?;
    write.commit().await?;
    Ok(no_content())
}

#[derive(Debug, Default, Deserialize)]
struct RunnerInput {
    name: Option<String>,
    labels: Option<Vec<String>>,
}

fn runner_fields(input: RunnerInput, old: Option<&RunnerRow>) -> ApiResult<(String, String)> {
    let name = match (input.name, old) {
        (Some(n), _) => n.trim().to_owned(),
        (None, Some(old)) => old.name.clone(),
        (None, None) => String::new(),
    };
    if name.is_empty() || name.len() > 50 {
        return Err(bad("name", "a runner needs a name of 1 to 50 characters"));
    }
    let labels = match (input.labels, old) {
        (Some(labels), _) => {
            if labels.iter().any(|l| l.trim().is_empty() || l.len() > 50) {
                return Err(bad("labels", "labels are 1 to 50 characters each"));
            }
            json!(labels).to_string()
        }
        (None, Some(old)) => old.labels.clone(),
        (None, None) => json!(["self.hosted", "linux"]).to_string(),
    };
    Ok((name, labels))
}

pub async fn list_runners(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let items = state
        .store
        .runners(repo.id)
        .await?
        .iter()
        .map(runner_value)
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn create_runner(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: RunnerInput = raw.parse()?;
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let (name, labels) = runner_fields(input, None)?;
    let mut write = state.store.write().await?;
    let row = write
        .insert_runner(repo.id, &new_uuid(), &name, &labels, &now())
        .await?;
    write.commit().await?;
    Ok(Json(runner_value(&row)))
}

async fn find_runner(state: &SharedState, repo_id: i64, id: &str) -> ApiResult<RunnerRow> {
    let key = braced(id);
    state
        .store
        .runner(repo_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No runner {key}")))
}

pub async fn get_runner(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    Ok(Json(runner_value(
        &find_runner(&state, repo.id, &id).await?,
    )))
}

pub async fn update_runner(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: RunnerInput = raw.parse()?;
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let old = find_runner(&state, repo.id, &id).await?;
    let (name, labels) = runner_fields(input, Some(&old))?;
    let mut write = state.store.write().await?;
    let row = write.update_runner(old.id, &name, &labels, &now()).await?;
    write.commit().await?;
    Ok(Json(runner_value(&row)))
}

pub async fn delete_runner(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let old = find_runner(&state, repo.id, &id).await?;
    let mut write = state.store.write().await?;
    write.delete_setting(Setting::Runner, old.id).await?;
    write.commit().await?;
    Ok(no_content())
}

#[derive(Debug, Default, Deserialize)]
struct KnownHostInput {
    hostname: Option<String>,
    public_key: Option<PublicKeyInput>,
}

#[derive(Debug, Default, Deserialize)]
struct PublicKeyInput {
    key_type: Option<String>,
    key: Option<String>,
}

const KEY_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

fn known_host_fields(
    input: KnownHostInput,
    old: Option<&KnownHostRow>,
) -> ApiResult<(String, String, String)> {
    let hostname = match (input.hostname, old) {
        (Some(h), _) => h.trim().to_owned(),
        (None, Some(old)) => old.hostname.clone(),
        (None, None) => String::new(),
    };
    let valid_host = !hostname.is_empty()
        && hostname.len() <= 255
        && hostname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if !valid_host {
        return Err(bad(
            "hostname",
            format!("'{hostname}' is not a host name (e.g. `example.com` or `[example.com]:2222`)"),
        ));
    }
    let (key_type, key) = match (input.public_key, old) {
        (Some(k), _) => (
            k.key_type.unwrap_or_default().trim().to_owned(),
            k.key.unwrap_or_default().trim().to_owned(),
        ),
        (None, Some(old)) => (old.key_type.clone(), old.key.clone()),
        (None, None) => return Err(bad("public_key", "This field is required.")),
    };
    if !KEY_TYPES.contains(&key_type.as_str()) {
        return Err(bad(
            "public_key.key_type",
            format!("'{key_type}' is not one of {}", KEY_TYPES.join(", ")),
        ));
    }
    if key.is_empty()
        || base64::engine::general_purpose::STANDARD
            .decode(&key)
            .is_err()
    {
        return Err(bad(
            "public_key.key",
            "the key must be the base64 text of an SSH public key",
        ));
    }
    Ok((hostname, key_type, key))
}

pub async fn list_known_hosts(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let items = state
        .store
        .known_hosts(repo.id)
        .await?
        .iter()
        .map(known_host_value)
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn create_known_host(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: KnownHostInput = raw.parse()?;
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let (hostname, key_type, key) = known_host_fields(input, None)?;
    let mut write = state.store.write().await?;
    let Some(row) = write
        .insert_known_host(repo.id, &new_uuid(), &hostname, (&key_type, &key))
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("A known host '{hostname}' exists already."),
        ));
    };
    write.commit().await?;
    Ok((StatusCode::CREATED, Json(known_host_value(&row))).into_response())
}

async fn find_known_host(state: &SharedState, repo_id: i64, id: &str) -> ApiResult<KnownHostRow> {
    let key = braced(id);
    state
        .store
        .known_host(repo_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No known host {key}")))
}

pub async fn get_known_host(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    Ok(Json(known_host_value(
        &find_known_host(&state, repo.id, &id).await?,
    )))
}

pub async fn update_known_host(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: KnownHostInput = raw.parse()?;
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let old = find_known_host(&state, repo.id, &id).await?;
    let (hostname, key_type, key) = known_host_fields(input, Some(&old))?;
    let mut write = state.store.write().await?;
    let Some(row) = write
        .update_known_host(old.id, &hostname, (&key_type, &key))
        .await?
    else {
        return Err(bad(
            "hostname",
            format!("a known host '{hostname}' exists already"),
        ));
    };
    write.commit().await?;
    Ok(Json(known_host_value(&row)))
}

pub async fn delete_known_host(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (_, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let old = find_known_host(&state, repo.id, &id).await?;
    let mut write = state.store.write().await?;
    write.delete_setting(Setting::KnownHost, old.id).await?;
    write.commit().await?;
    Ok(no_content())
}

/// `GET …/pipelines-config/caches`: the sandbox's runner keeps no caches, so there are none.
pub async fn list_caches(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    state.repo(&caller, &workspace, &slug, Access::Read).await?;
    Ok(Json(paginate(
        &state.origin,
        &params,
        Vec::new(),
        MAX_PAGELEN,
    )?))
}

/// The workspace's OpenID Connect discovery document, as an identity provider publishes it
/// (public, like Bitbucket's).
pub async fn openid_configuration(
    State(state): State<SharedState>,
    P(workspace): P<String>,
) -> ApiResult<Json<Value>> {
    let ws = state
        .store
        .workspace_by_key(&workspace)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("No workspace with identifier '{workspace}'."))
        })?;
    let issuer = state.api_url(&format!(
        "/workspaces/{}/pipelines-config/identity/oidc",
        ws.slug
    ));
    Ok(Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/keys.json"),
        "subject_types_supported": ["public", "pairwise"],
        "response_types_supported": ["id_token"],
        "claims_supported": [
            "sub", "iss", "aud", "iat", "exp", "workspaceUuid", "repositoryUuid",
            "pipelineUuid", "stepUuid", "branchName", "deploymentEnvironmentUuid",
        ],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid"],
    })))
}

/// The keys OIDC tokens are signed with: none, since the sandbox's steps get no token.
pub async fn openid_keys(
    State(state): State<SharedState>,
    P(workspace): P<String>,
) -> ApiResult<Json<Value>> {
    state
        .store
        .workspace_by_key(&workspace)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("No workspace with identifier '{workspace}'."))
        })?;
    Ok(Json(json!({ "keys": [] })))
}
