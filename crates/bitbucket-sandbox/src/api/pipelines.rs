//! Pipelines: runs of `bitbucket-pipelines.yml` (started, listed, read, stopped), their steps and
//! step logs, whether pipelines are enabled, and variables at repository and workspace level. The
//! runs themselves are in [`crate::pipelines`].

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::statuses::commit_hash;
use super::{P, git, no_content, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::pipelines::config::{self, RefKind, Selector};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, new_uuid, now};
use crate::store::{
    NewPipeline, NewStep, PipelineRow, RepoRow, StepRow, VarScope, VariableRow, WorkspaceRow,
};

/// `{uuid}` as Bitbucket writes it, whether or not the caller sent the braces.
pub(super) fn braced(id: &str) -> String {
    let id = id.trim();
    if id.starts_with('{') || id.parse::<i64>().is_ok() {
        id.to_owned()
    } else {
        format!("{{{id}}}")
    }
}

fn seconds_between(start: Option<&str>, end: Option<&str>) -> Option<i64> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let start = OffsetDateTime::parse(start?, &Rfc3339).ok()?;
    let end = end
        .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
        .unwrap_or_else(OffsetDateTime::now_utc);
    Some((end - start).whole_seconds().max(0))
}

fn pipeline_path(ws: &WorkspaceRow, repo: &RepoRow, uuid: &str) -> String {
    format!(
        "/repositories/{}/{}/pipelines/{}",
        ws.slug,
        repo.slug,
        percent_encoding::utf8_percent_encode(uuid, super::SEGMENT)
    )
}

fn state_value(kind: &str, state: &str, result: Option<&str>, error: Option<&str>) -> Value {
    match state {
        "PENDING" => json!({ "type": format!("{kind}_state_pending"), "name": "PENDING" }),
        "IN_PROGRESS" if kind == "pipeline" => json!({
            "type": "pipeline_state_in_progress",
            "name": "IN_PROGRESS",
            "stage": { "type": "pipeline_state_in_progress_running", "name": "RUNNING" },
        }),
        "IN_PROGRESS" => {
            json!({ "type": format!("{kind}_state_in_progress"), "name": "IN_PROGRESS" })
        }
        // A run waiting before a manual step.
        "PAUSED" => json!({
            "type": "pipeline_state_in_progress",
            "name": "IN_PROGRESS",
            "stage": { "type": "pipeline_state_in_progress_paused", "name": "PAUSED" },
        }),
        _ => {
            let result = result.unwrap_or("ERROR");
            let mut r = json!({
                "type": format!("{kind}_state_completed_{}", result.to_lowercase()),
                "name": result,
            });
            if let (Some(message), Some(obj)) = (error, r.as_object_mut()) {
                obj.insert(
                    "error".into(),
                    json!({ "type": format!("{kind}_error"), "key": "sandbox.error", "message": message }),
                );
            }
            json!({ "type": format!("{kind}_state_completed"), "name": "COMPLETED", "result": r })
        }
    }
}

fn variable_value(v: &VariableRow) -> Value {
    let mut out = json!({
        "type": "pipeline_variable",
        "uuid": v.uuid,
        "key": v.key,
        "secured": v.secured,
    });
    // A secured value is write-only: it is never sent back.
    if !v.secured
        && let Some(obj) = out.as_object_mut()
    {
        obj.insert("value".into(), json!(v.value));
    }
    out
}

pub(super) async fn pipeline_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    p: &PipelineRow,
) -> ApiResult<Value> {
    let commit = json!({
        "type": "commit",
        "hash": p.commit_hash,
        "links": { "self": { "href": s.api_url(&format!(
            "/repositories/{}/{}/commit/{}", ws.slug, repo.slug, p.commit_hash
        )) } },
    });
    let mut selector = json!({ "type": p.selector_type });
    if let (Some(pattern), Some(obj)) = (&p.selector_pattern, selector.as_object_mut()) {
        obj.insert("pattern".into(), json!(pattern));
    }
    let target = match (&p.ref_type, &p.ref_name) {
        (Some(ref_type), Some(ref_name)) => json!({
            "type": "pipeline_ref_target",
            "ref_type": ref_type,
            "ref_name": ref_name,
            "commit": commit,
            "selector": selector,
        }),
        _ => json!({ "type": "pipeline_commit_target", "commit": commit, "selector": selector }),
    };
    let variables: Vec<Value> = serde_json::from_str::<Vec<Value>>(&p.variables)
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            let secured = v["secured"].as_bool().unwrap_or(false);
            let mut out =
                json!({ "type": "pipeline_variable", "key": v["key"], "secured": secured });
            if !secured && let Some(obj) = out.as_object_mut() {
                obj.insert("value".into(), v["value"].clone());
            }
            out
        })
        .collect();
    let path = pipeline_path(ws, repo, &p.uuid);
    let seconds = seconds_between(p.started_on.as_deref(), p.completed_on.as_deref()).unwrap_or(0);
    let mut v = json!({
        "type": "pipeline",
        "uuid": p.uuid,
        "build_number": p.build_number,
        "repository": render::repository_ref(s, ws, repo),
        "target": target,
        "trigger": {
            "type": format!("pipeline_trigger_{}", p.trigger_name.to_lowercase()),
            "name": p.trigger_name,
        },
        "state": state_value("pipeline", &p.state, p.result.as_deref(), p.error_message.as_deref()),
        "variables": variables,
        "created_on": p.created_on,
        "build_seconds_used": seconds,
        "duration_in_seconds": seconds,
        // The spec makes these typed objects, unlike every other `links`.
        "links": {
            "type": "pipelines_pipeline_links",
            "self": { "type": "pipelines_links_section_href", "href": s.api_url(&path) },
            "steps": {
                "type": "pipelines_links_section_href",
                "href": s.api_url(&format!("{path}/steps")),
            },
            "html": { "href": s.html_url(&format!(
                "/{}/{}/pipelines/results/{}", ws.slug, repo.slug, p.build_number
            )) },
        },
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(creator) = p.creator_id {
            obj.insert(
                "creator".into(),
                render::user(s, &s.user_by_id(creator).await?),
            );
        }
        if let Some(done) = &p.completed_on {
            obj.insert("completed_on".into(), json!(done));
        }
    }
    Ok(v)
}

fn step_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    p: &PipelineRow,
    st: &StepRow,
) -> Value {
    let script: Vec<String> = serde_json::from_str(&st.script).unwrap_or_default();
    let commands: Vec<Value> = script
        .iter()
        .map(|line| json!({ "name": line.lines().next().unwrap_or(""), "command": line }))
        .collect();
    let path = format!(
        "{}/steps/{}",
        pipeline_path(ws, repo, &p.uuid),
        percent_encoding::utf8_percent_encode(&st.uuid, super::SEGMENT)
    );
    let mut v = json!({
        "type": "pipeline_step",
        "uuid": st.uuid,
        "name": st.name,
        "pipeline": { "type": "pipeline", "uuid": p.uuid },
        "state": state_value("pipeline_step", &st.state, st.result.as_deref(), st.error_message.as_deref()),
        "script_commands": commands,
        "setup_commands": [],
        "log_byte_count": st.log_bytes,
        "links": {
            "self": { "href": s.api_url(&path) },
            "log": { "href": s.api_url(&format!("{path}/log")) },
        },
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(started) = &st.started_on {
            obj.insert("started_on".into(), json!(started));
            let secs = seconds_between(Some(started), st.completed_on.as_deref()).unwrap_or(0);
            obj.insert("duration_in_seconds".into(), json!(secs));
        }
        if let Some(done) = &st.completed_on {
            obj.insert("completed_on".into(), json!(done));
        }
        if let Some(max) = st.max_time_minutes {
            obj.insert("max_time".into(), json!(max));
        }
        if let Some(env) = &st.deployment {
            obj.insert("deployment_environment".into(), json!(env));
        }
        obj.insert(
            "trigger".into(),
            json!({ "type": if st.manual { "pipeline_step_trigger_manual" } else { "pipeline_step_trigger_automatic" } }),
        );
    }
    v
}

async fn find_pipeline(state: &SharedState, repo: &RepoRow, id: &str) -> ApiResult<PipelineRow> {
    let key = braced(id);
    state
        .store
        .pipeline(repo.id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No pipeline {key} in this repository")))
}

async fn find_step(state: &SharedState, p: &PipelineRow, id: &str) -> ApiResult<StepRow> {
    let key = braced(id);
    state.store.step(p.id, &key).await?.ok_or_else(|| {
        ApiError::not_found(format!("No step {key} in pipeline #{}", p.build_number))
    })
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let branch = params
        .get("target.branch")
        .or_else(|| params.get("target.ref_name"))
        .map(str::to_owned);
    let status = params.get("status").map(str::to_uppercase);
    let mut items = Vec::new();
    for p in state.store.pipelines(repo.id).await? {
        if branch
            .as_ref()
            .is_some_and(|b| p.ref_name.as_ref() != Some(b))
        {
            continue;
        }
        if let Some(status) = &status
            && p.state != *status
            && p.result.as_ref() != Some(status)
        {
            continue;
        }
        items.push(pipeline_value(&state, &ws, &repo, &p).await?);
    }
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

#[derive(Debug, Default, Deserialize)]
struct TargetInput {
    #[serde(rename = "type")]
    kind: Option<String>,
    ref_type: Option<String>,
    ref_name: Option<String>,
    commit: Option<CommitInput>,
    selector: Option<SelectorInput>,
}

#[derive(Debug, Default, Deserialize)]
struct CommitInput {
    hash: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SelectorInput {
    #[serde(rename = "type")]
    kind: Option<String>,
    pattern: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct VariableInput {
    key: Option<String>,
    value: Option<Value>,
    secured: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct RunInput {
    target: Option<TargetInput>,
    variables: Option<Vec<VariableInput>>,
}

pub(super) fn bad(field: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::bad_request(format!("{field}: {message}")).with_field(field, message)
}

/// A variable's key as Bitbucket accepts it: letters, digits and `_`, not starting with a digit.
fn check_key(field: &str, key: Option<String>) -> ApiResult<String> {
    let key = key.map(|k| k.trim().to_owned()).unwrap_or_default();
    let valid = !key.is_empty()
        && key.len() <= 255
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(key)
    } else {
        Err(bad(
            field,
            format!(
                "'{key}' is not a valid variable name: use letters, digits and _, not starting with a digit"
            ),
        ))
    }
}

fn value_text(field: &str, value: Option<Value>) -> ApiResult<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
        None | Some(Value::Null) => Err(bad(field, "This field is required.")),
        Some(_) => Err(bad(field, "must be text")),
    }
}

/// `POST pipelines`: plans a run from the file at the target's commit and starts it.
pub async fn run(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: RunInput = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let user = caller.require()?.clone();
    if !state.store.pipelines_enabled(repo.id).await? {
        return Err(ApiError::bad_request(
            "Pipelines are not enabled for this repository; enable them with PUT pipelines_config {\"enabled\": true}.",
        ));
    }
    let target = input
        .target
        .ok_or_else(|| bad("target", "This field is required."))?;
    let selector_in = target.selector.unwrap_or_default();
    let commit_in = target
        .commit
        .and_then(|c| c.hash)
        .filter(|h| !h.trim().is_empty());
    let (ref_type, ref_name) = match (target.ref_type.as_deref(), target.ref_name) {
        (_, None) => (None, None),
        (Some("branch" | "named_branch") | None, Some(name)) => (Some("branch"), Some(name)),
        (Some("tag"), Some(name)) => (Some("tag"), Some(name)),
        (Some(other), Some(_)) => {
            return Err(bad(
                "target.ref_type",
                format!("'{other}' is not one of branch, tag"),
            ));
        }
    };
    if ref_name.is_none() && commit_in.is_none() {
        return Err(bad(
            "target",
            "name a branch or tag (ref_type, ref_name) or a commit (commit.hash)",
        ));
    }
    if let Some(kind) = &target.kind
        && !matches!(
            kind.as_str(),
            "pipeline_ref_target" | "pipeline_commit_target" | "pipeline_pullrequest_target"
        )
    {
        return Err(bad(
            "target.type",
            format!("'{kind}' is not a pipeline target type"),
        ));
    }
    // The commit: the one given (it must be on the ref, if a ref is named too), else the ref's head.
    let git_id = repo_id(&ws, &repo)?;
    let hash = match (&ref_type, &ref_name, &commit_in) {
        (_, _, Some(hash)) => commit_hash(&state, &ws, &repo, hash).await?,
        (Some(kind), Some(name), None) => {
            let (id, name_owned, is_tag) = (git_id.clone(), name.clone(), *kind == "tag");
            let found = git(&State(state.clone()), move |g| {
                if is_tag {
                    g.tag(&id, &name_owned)
                } else {
                    g.branch(&id, &name_owned)
                }
            })
            .await?;
            found.map(|r| r.target.hash).ok_or_else(|| {
                ApiError::not_found(format!("No {kind} '{name}' in {}/{}", ws.slug, repo.slug))
            })?
        }
        // Refused above: no ref and no commit.
        _ => return Err(bad("target", "name a branch or tag, or a commit")),
    };
    let selector = match (selector_in.kind.as_deref(), selector_in.pattern) {
        (None, _) => match (&ref_type, &ref_name) {
            (Some(kind), Some(name)) => Selector::Ref {
                kind: if *kind == "tag" {
                    RefKind::Tag
                } else {
                    RefKind::Branch
                },
                name: name.clone(),
            },
            _ => Selector::Default,
        },
        (Some("default"), _) => Selector::Default,
        (Some(kind), Some(pattern)) if !pattern.trim().is_empty() => Selector::Named {
            section: kind.to_owned(),
            pattern,
        },
        (Some(kind), _) => {
            return Err(bad(
                "target.selector.pattern",
                format!("a `{kind}` selector needs a pattern"),
            ));
        }
    };
    let (id, commit) = (git_id, hash.clone());
    let file = git(&State(state.clone()), move |g| {
        g.read_path(&id, &commit, config::FILE)
    })
    .await?;
    let source = match file {
        crate::git::PathContent::File { bytes, .. } => String::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request(format!("{} is not UTF-8 text", config::FILE)))?,
        _ => {
            return Err(ApiError::bad_request(format!(
                "There is no {} at the root of commit {}; add one to run pipelines.",
                config::FILE,
                &hash[..12.min(hash.len())]
            )));
        }
    };
    let plan = config::plan(&source, &selector).map_err(|e| ApiError::bad_request(e.0))?;
    let mut variables = Vec::new();
    for (n, v) in input.variables.unwrap_or_default().into_iter().enumerate() {
        let key = check_key(&format!("variables[{n}].key"), v.key)?;
        let value = value_text(&format!("variables[{n}].value"), v.value)?;
        variables
            .push(json!({ "key": key, "value": value, "secured": v.secured.unwrap_or(false) }));
    }
    let new = NewPipeline {
        uuid: new_uuid(),
        creator_id: Some(user.id),
        ref_type: ref_type.map(str::to_owned),
        ref_name,
        commit_hash: hash,
        selector_type: plan.selector_type,
        selector_pattern: plan.selector_pattern,
        trigger_name: "MANUAL".into(),
        variables: Value::Array(variables).to_string(),
        created_on: now(),
        steps: plan
            .steps
            .into_iter()
            .map(|s| NewStep {
                uuid: new_uuid(),
                name: s.name,
                script: json!(s.script).to_string(),
                deployment: s.deployment,
                max_time_minutes: s.max_time_minutes.and_then(|m| i64::try_from(m).ok()),
                manual: s.manual,
            })
            .collect(),
    };
    let mut write = state.store.write().await?;
    let stored = write.insert_pipeline(repo.id, &new).await?;
    write.commit().await?;
    crate::pipelines::start(state.clone(), stored.clone()).await?;
    let fresh = state
        .store
        .pipeline_by_id(stored.id)
        .await?
        .unwrap_or(stored);
    let body = pipeline_value(&state, &ws, &repo, &fresh).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let p = find_pipeline(&state, &repo, &id).await?;
    Ok(Json(pipeline_value(&state, &ws, &repo, &p).await?))
}

/// `POST pipelines/{uuid}/stopPipeline`: stops a pending or running run.
pub async fn stop(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let p = find_pipeline(&state, &repo, &id).await?;
    if p.state == "COMPLETED" {
        return Err(ApiError::bad_request(format!(
            "Pipeline #{} has already completed ({}); there is nothing to stop.",
            p.build_number,
            p.result.as_deref().unwrap_or("ERROR")
        )));
    }
    if p.state == "PAUSED" || !state.pipelines.stop(p.id) {
        // No task holds it (paused before a manual step, or its task just ended): stop it here.
        let status = crate::pipelines::build_status(&state, &ws.slug, &repo.slug, &p, "STOPPED");
        let mut write = state.store.write().await?;
        write
            .complete_pipeline(p.id, "STOPPED", None, &now())
            .await?;
        write.put_status(repo.id, &status).await?;
        write.commit().await?;
    }
    Ok(no_content())
}

pub async fn steps(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let p = find_pipeline(&state, &repo, &id).await?;
    let items = state
        .store
        .steps(p.id)
        .await?
        .iter()
        .map(|st| step_value(&state, &ws, &repo, &p, st))
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn step(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, step)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let p = find_pipeline(&state, &repo, &id).await?;
    let st = find_step(&state, &p, &step).await?;
    Ok(Json(step_value(&state, &ws, &repo, &p, &st)))
}

/// `GET …/steps/{step}/log`: the step's output as text; honours `Range: bytes=a-b`, `a-` and
/// `-n` (the last n bytes), answering 206 with `Content-Range`, or 416 past the end.
pub async fn log(
    State(state): State<SharedState>,
    caller: Caller,
    headers: HeaderMap,
    P((workspace, slug, id, step)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (_, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let p = find_pipeline(&state, &repo, &id).await?;
    let st = find_step(&state, &p, &step).await?;
    if st.state == "PENDING" {
        return Err(ApiError::not_found(format!(
            "Step '{}' has no log yet",
            st.name
        )));
    }
    let text = state.store.step_log(st.id).await?.into_bytes();
    let len = text.len();
    let text_plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok((StatusCode::OK, text_plain, text).into_response());
    };
    let Some((start, end)) = byte_range(range, len) else {
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{len}"))],
        )
            .into_response());
    };
    let part = text[start..=end].to_vec();
    Ok((
        StatusCode::PARTIAL_CONTENT,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")),
        ],
        part,
    )
        .into_response())
}

/// The inclusive byte range a `Range` header asks of `len` bytes, or `None` when it cannot be
/// met (416).
fn byte_range(header: &str, len: usize) -> Option<(usize, usize)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if len == 0 {
        return None;
    }
    if a.is_empty() {
        let n: usize = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        return Some((len.saturating_sub(n), len - 1));
    }
    let start: usize = a.parse().ok()?;
    let end = if b.is_empty() {
        len - 1
    } else {
        b.parse::<usize>().ok()?.min(len - 1)
    };
    (start <= end && start < len).then_some((start, end))
}

#[derive(Debug, Deserialize)]
struct ConfigInput {
    enabled: Option<bool>,
}

pub async fn get_config(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let enabled = state.store.pipelines_enabled(repo.id).await?;
    Ok(Json(json!({
        "type": "repository_pipelines_configuration",
        "enabled": enabled,
        "repository": render::repository_ref(&state, &ws, &repo),
    })))
}

pub async fn put_config(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: ConfigInput = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Admin)
        .await?;
    let enabled = input
        .enabled
        .ok_or_else(|| bad("enabled", "This field is required."))?;
    let mut write = state.store.write().await?;
    write.set_pipelines_enabled(repo.id, enabled).await?;
    write.commit().await?;
    Ok(Json(json!({
        "type": "repository_pipelines_configuration",
        "enabled": enabled,
        "repository": render::repository_ref(&state, &ws, &repo),
    })))
}

// Variables: the same handlers for each scope.

pub(super) async fn list_variables(
    state: &SharedState,
    params: &Params,
    scope: VarScope,
) -> ApiResult<Json<Value>> {
    let items = state
        .store
        .variables(scope)
        .await?
        .iter()
        .map(variable_value)
        .collect();
    Ok(Json(paginate(&state.origin, params, items, MAX_PAGELEN)?))
}

pub(super) async fn create_variable(
    state: &SharedState,
    scope: VarScope,
    raw: &JsonBody,
) -> ApiResult<Response> {
    let input: VariableInput = raw.parse()?;
    let key = check_key("key", input.key)?;
    let value = value_text("value", input.value)?;
    let mut write = state.store.write().await?;
    let Some(row) = write
        .insert_variable(
            scope,
            &new_uuid(),
            &key,
            &value,
            input.secured.unwrap_or(false),
        )
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("A variable with the key '{key}' already exists."),
        ));
    };
    write.commit().await?;
    Ok((StatusCode::CREATED, Json(variable_value(&row))).into_response())
}

pub(super) async fn find_variable(
    state: &SharedState,
    scope: VarScope,
    id: &str,
) -> ApiResult<VariableRow> {
    let key = braced(id);
    state
        .store
        .variable(scope, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No variable {key}")))
}

pub(super) async fn update_variable(
    state: &SharedState,
    scope: VarScope,
    id: &str,
    raw: &JsonBody,
) -> ApiResult<Json<Value>> {
    let input: VariableInput = raw.parse()?;
    let old = find_variable(state, scope, id).await?;
    let key = match input.key {
        Some(k) => check_key("key", Some(k))?,
        None => old.key.clone(),
    };
    let value = match input.value {
        Some(v) => value_text("value", Some(v))?,
        None => old.value.clone(),
    };
    let secured = input.secured.unwrap_or(old.secured);
    if old.secured && !secured {
        return Err(bad(
            "secured",
            "a secured variable cannot be made unsecured; delete it and create it again",
        ));
    }
    let mut write = state.store.write().await?;
    let Some(row) = write.update_variable(old.id, &key, &value, secured).await? else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("A variable with the key '{key}' already exists."),
        ));
    };
    write.commit().await?;
    Ok(Json(variable_value(&row)))
}

pub(super) async fn delete_variable(
    state: &SharedState,
    scope: VarScope,
    id: &str,
) -> ApiResult<Response> {
    let old = find_variable(state, scope, id).await?;
    let mut write = state.store.write().await?;
    write.delete_variable(old.id).await?;
    write.commit().await?;
    Ok(no_content())
}

async fn repo_scope(
    state: &SharedState,
    caller: &Caller,
    (workspace, slug): (&str, &str),
    access: Access,
) -> ApiResult<VarScope> {
    let (_, repo) = state.repo(caller, workspace, slug, access).await?;
    Ok(VarScope::Repository(repo.id))
}

pub async fn repo_variables(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = repo_scope(&state, &caller, (&workspace, &slug), Access::Read).await?;
    list_variables(&state, &params, scope).await
}

pub async fn create_repo_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let scope = repo_scope(&state, &caller, (&workspace, &slug), Access::Admin).await?;
    create_variable(&state, scope, &raw).await
}

pub async fn get_repo_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = repo_scope(&state, &caller, (&workspace, &slug), Access::Read).await?;
    Ok(Json(variable_value(
        &find_variable(&state, scope, &id).await?,
    )))
}

pub async fn update_repo_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let scope = repo_scope(&state, &caller, (&workspace, &slug), Access::Admin).await?;
    update_variable(&state, scope, &id, &raw).await
}

pub async fn delete_repo_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Response> {
    let scope = repo_scope(&state, &caller, (&workspace, &slug), Access::Admin).await?;
    delete_variable(&state, scope, &id).await
}

/// A workspace's variables: members read them, owners change them.
async fn workspace_scope(
    state: &SharedState,
    caller: &Caller,
    workspace: &str,
    change: bool,
) -> ApiResult<VarScope> {
    let ws = state.workspace(caller, workspace).await?;
    if change {
        let user = caller.require()?;
        if state.permission(ws.id, user).await?.as_deref() != Some("owner") {
            return Err(ApiError::forbidden(format!(
                "Only an owner of workspace {} can change its pipeline variables.",
                ws.slug
            )));
        }
    }
    Ok(VarScope::Workspace(ws.id))
}

pub async fn workspace_variables(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P(workspace): P<String>,
) -> ApiResult<Json<Value>> {
    let scope = workspace_scope(&state, &caller, &workspace, false).await?;
    list_variables(&state, &params, scope).await
}

pub async fn create_workspace_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P(workspace): P<String>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let scope = workspace_scope(&state, &caller, &workspace, true).await?;
    create_variable(&state, scope, &raw).await
}

pub async fn get_workspace_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, id)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = workspace_scope(&state, &caller, &workspace, false).await?;
    Ok(Json(variable_value(
        &find_variable(&state, scope, &id).await?,
    )))
}

pub async fn update_workspace_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, id)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let scope = workspace_scope(&state, &caller, &workspace, true).await?;
    update_variable(&state, scope, &id, &raw).await
}

pub async fn delete_workspace_variable(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, id)): P<(String, String)>,
) -> ApiResult<Response> {
    let scope = workspace_scope(&state, &caller, &workspace, true).await?;
    delete_variable(&state, scope, &id).await
}

/// The retired `/teams/…` and `/users/…/pipelines_config/variables` paths.
pub async fn variables_gone() -> ApiError {
    ApiError::new(StatusCode::GONE, "This API is no longer supported.").with_detail(
        "Use /2.0/workspaces/{workspace}/pipelines-config/variables: a team's or user's variables are now their workspace's.",
    )
}
