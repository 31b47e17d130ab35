//! The REST API: the subset of Composio's v3.1 tool router API that the SDK uses, in the
//! shapes it parses. Every route is behind the key check; the key's project scopes every
//! lookup, so another project's session is simply not found (404).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::config::{ConfigError, SessionConfig};
use crate::connections::TOOLKIT;
use crate::meta::{self, Approval, Approver, MetaResult, Outcome};
use crate::state::{SessionCtx, Shared, iso};
use crate::store::{SessionRow, new_id};

/// The project a request's API key belongs to (put in the request by the key check).
#[derive(Debug, Clone)]
pub struct Project(pub String);

/// An error answer: `{"error": {"message", "status"}}`; internal details stay in the log.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Seconds for `Retry-After` (429 answers).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 429 for a call over its rate limit.
    fn limited(limited: &crate::limits::Limited) -> Self {
        Self {
            retry_after: Some(limited.retry_after_secs()),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, limited.message())
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("session `{id}` not found"))
    }

    fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the router's log has the details",
        )
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> Self {
        Self::bad_request(e.0)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"message": self.message, "status": self.status.as_u16()}});
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

type ApiResult = Result<Response, ApiError>;

/// The REST routes (without the key check, which the server adds).
pub fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v3.1/tool_router/session", post(create))
        .route(
            "/api/v3.1/tool_router/session/{id}",
            get(retrieve).patch(patch).delete(delete),
        )
        .route("/api/v3.1/tool_router/session/{id}/search", post(search))
        .route("/api/v3.1/tool_router/session/{id}/execute", post(execute))
        .route(
            "/api/v3.1/tool_router/session/{id}/execute_meta",
            post(execute_meta),
        )
        .route("/api/v3.1/tool_router/session/{id}/link", post(link))
        .route("/api/v3.1/tool_router/session/{id}/toolkits", get(toolkits))
        .route("/api/v3.1/tool_router/session/{id}/tools", get(tools))
        .route("/api/v3.1/tool_router/audit", get(audit))
        .with_state(shared)
}

/// The body as a JSON object; malformed JSON and other shapes are 400s.
fn object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("malformed JSON body: {e}"))),
    }
}

/// Refuses fields outside `allowed`, naming the first unknown one.
fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(ApiError::bad_request(format!(
            "unknown field `{key}`; expected one of {}",
            allowed
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => Ok(()),
    }
}

fn string<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, ApiError> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(ApiError::bad_request(format!(
            "`{field}` must not be empty"
        ))),
        Some(_) => Err(ApiError::bad_request(format!("`{field}` must be a string"))),
        None => Err(ApiError::bad_request(format!("`{field}` is required"))),
    }
}

async fn load(shared: &Arc<Shared>, project: &Project, id: &str) -> Result<SessionCtx, ApiError> {
    SessionCtx::load(shared, &project.0, id)
        .await?
        .ok_or_else(|| ApiError::not_found(id))
}

/// The tool names a session's MCP endpoint lists.
fn tool_names(config: &SessionConfig) -> Vec<&'static str> {
    let mut names = config.meta_tools();
    names.extend(config.preloaded().iter().map(|spec| spec.name));
    names
}

/// A session in the create/retrieve shape.
fn session_json(ctx: &SessionCtx) -> Value {
    json!({
        "session_id": ctx.session.id,
        "mcp": {"type": "http", "url": ctx.mcp_url()},
        "config": ctx.config.render(&ctx.session.user_id),
        "config_version": ctx.session.config_version,
        "tool_router_tools": tool_names(&ctx.config),
        "experimental": null,
        "warnings": null,
    })
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    body: Bytes,
) -> ApiResult {
    let body = object(&body)?;
    let user_id = string(&body, "user_id")?.to_owned();
    let mut config = SessionConfig::default();
    config.apply(&body, false)?;
    let config_json = serde_json::to_value(&config).map_err(ApiError::internal)?;
    let session = SessionRow {
        id: new_id("trs"),
        project_id: project.0.clone(),
        user_id,
        config: config_json,
        config_version: 1,
    };
    shared.store.insert_session(&session).await?;
    let ctx = SessionCtx {
        shared: Arc::clone(&shared),
        session,
        config,
    };
    Ok((StatusCode::CREATED, axum::Json(session_json(&ctx))).into_response())
}

async fn retrieve(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
) -> ApiResult {
    let ctx = load(&shared, &project, &id).await?;
    Ok(axum::Json(session_json(&ctx)).into_response())
}

async fn patch(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = object(&body)?;
    let mut ctx = load(&shared, &project, &id).await?;
    ctx.config.apply(&body, true)?;
    let expected = ctx.session.config_version;
    ctx.session.config = serde_json::to_value(&ctx.config).map_err(ApiError::internal)?;
    ctx.session.config_version = expected + 1;
    if !shared.store.update_session(&ctx.session, expected).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the session changed while this update was made; retrieve it and try again",
        ));
    }
    Ok(axum::Json(session_json(&ctx)).into_response())
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
) -> ApiResult {
    if !shared.store.delete_session(&project.0, &id).await? {
        return Err(ApiError::not_found(&id));
    }
    Ok(axum::Json(json!({"session_id": id, "deleted": true})).into_response())
}

async fn search(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = object(&body)?;
    only(
        &body,
        &["queries", "model", "search_strategy", "experimental"],
    )?;
    if body.get("experimental").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::bad_request(
            "`experimental` (custom tools) is not offered by this router",
        ));
    }
    let ctx = load(&shared, &project, &id).await?;
    let arguments = json!({"queries": body.get("queries").cloned().unwrap_or(Value::Null)});
    if let Err(message) = meta::validate(
        &Value::Object(meta::input_schema(meta::SEARCH_TOOLS)),
        &arguments,
    ) {
        return Err(ApiError::bad_request(format!("invalid search: {message}")));
    }
    let result = meta::search(&ctx, &arguments).await;
    let mut data = match result.data {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    data.insert("success".into(), json!(result.successful));
    data.insert("error".into(), json!(result.error));
    Ok(axum::Json(Value::Object(data)).into_response())
}

/// Approval over REST: the answer comes back in `input_responses` on the retried request.
struct RestApprover {
    responses: Option<Map<String, Value>>,
}

const CONFIRM_KEY: &str = "confirm_destructive";

impl Approver for RestApprover {
    type Ask = Value;

    async fn approve(
        &self,
        spec: &'static bitbucket_toolkit::ToolSpec,
        arguments: &Value,
    ) -> Approval<Value> {
        if let Some(answer) = self.responses.as_ref().and_then(|r| r.get(CONFIRM_KEY)) {
            // Composio's approval form answers `decision`; an MCP-style form `confirm`.
            let content = answer.get("content");
            let ticked = content
                .and_then(|c| c.get("confirm"))
                .and_then(Value::as_bool)
                == Some(true)
                || content
                    .and_then(|c| c.get("decision"))
                    .and_then(Value::as_str)
                    .is_some_and(|d| d == "approve" || d == "always_approve");
            return match answer.get("action").and_then(Value::as_str) {
                Some("accept") if ticked => Approval::Approved,
                Some("accept") => Approval::Refused(format!(
                    "the user did not confirm `{}`; nothing was changed",
                    spec.name
                )),
                Some("decline") | Some("cancel") => Approval::Refused(format!(
                    "the user declined `{}`; nothing was changed",
                    spec.name
                )),
                _ => Approval::Refused(format!(
                    "`{}` was not run: the answer in `input_responses.{CONFIRM_KEY}` was not accept, decline or cancel",
                    spec.name
                )),
            };
        }
        Approval::Ask(json!({
            "result_type": "input_required",
            "input_requests": {
                CONFIRM_KEY: {
                    "type": "elicitation",
                    "mode": "form",
                    "message": format!("{} ({})? This needs your approval. Arguments: {arguments}", spec.title, spec.name),
                    "requested_schema": {
                        "type": "object",
                        "properties": {"decision": {"type": "string", "enum": ["approve", "deny"], "title": "Decision", "description": "approve to run this action once, deny to refuse it"}},
                        "required": ["decision"]
                    }
                }
            },
            "request_state": null,
        }))
    }
}

fn approver(body: &Map<String, Value>) -> Result<RestApprover, ApiError> {
    let responses = match body.get("input_responses") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map.clone()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "`input_responses` must be an object keyed by input request",
            ));
        }
    };
    Ok(RestApprover { responses })
}

fn executed(outcome: Outcome<Value>) -> Response {
    match outcome {
        Outcome::Ask(ask) => axum::Json(ask).into_response(),
        Outcome::Done(result) => axum::Json(execute_json(result)).into_response(),
    }
}

fn execute_json(result: MetaResult) -> Value {
    json!({
        "data": if result.data.is_object() { result.data } else { json!({"value": result.data}) },
        "error": result.error,
        "successful": result.successful,
        "log_id": new_id("log"),
        "result_type": if result.successful { "completed" } else { "failed" },
    })
}

async fn execute(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = object(&body)?;
    only(
        &body,
        &[
            "tool_slug",
            "arguments",
            "account",
            "input_responses",
            "request_state",
            "enable_auto_workbench_offload",
            "experimental",
        ],
    )?;
    let slug = string(&body, "tool_slug")?.to_owned();
    let arguments = arguments(&body)?;
    let approver = approver(&body)?;
    let ctx = load(&shared, &project, &id).await?;
    shared
        .limiter
        .check(&project.0, &ctx.session.user_id)
        .map_err(|limited| ApiError::limited(&limited))?;
    // `execute` runs meta-tools too, as Composio's does.
    if meta::find(&slug).is_some() || meta::NOT_OFFERED.contains(&slug.as_str()) {
        return Ok(executed(meta::run(&ctx, &slug, arguments, &approver).await));
    }
    Ok(executed(
        meta::execute_one(&ctx, &slug, arguments, &approver).await,
    ))
}

/// A request's `arguments`: an object, `{}` when absent or null.
fn arguments(body: &Map<String, Value>) -> Result<Value, ApiError> {
    match body.get("arguments") {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(ApiError::bad_request("`arguments` must be an object")),
    }
}

async fn execute_meta(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = object(&body)?;
    only(
        &body,
        &[
            "slug",
            "arguments",
            "input_responses",
            "request_state",
            "experimental",
        ],
    )?;
    let slug = string(&body, "slug")?.to_owned();
    let arguments = arguments(&body)?;
    let approver = approver(&body)?;
    let ctx = load(&shared, &project, &id).await?;
    shared
        .limiter
        .check(&project.0, &ctx.session.user_id)
        .map_err(|limited| ApiError::limited(&limited))?;
    Ok(executed(meta::run(&ctx, &slug, arguments, &approver).await))
}

async fn link(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = object(&body)?;
    only(&body, &["toolkit", "alias", "callback_url", "experimental"])?;
    let toolkit = string(&body, "toolkit")?;
    if !toolkit.eq_ignore_ascii_case(TOOLKIT) {
        return Err(ApiError::bad_request(format!(
            "unknown toolkit `{toolkit}`; this router serves `{TOOLKIT}`"
        )));
    }
    if body.get("experimental").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::bad_request(
            "`experimental` (shared accounts) is not offered by this router",
        ));
    }
    let ctx = load(&shared, &project, &id).await?;
    let link = meta::new_link(&shared, &ctx.session)
        .await
        .map_err(|m| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m))?;
    Ok(axum::Json(json!({
        "connected_account_id": link.connection_id,
        "link_token": link.token,
        "redirect_url": link.redirect_url,
    }))
    .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
struct AuditQuery {
    user_id: Option<String>,
    since: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v3.1/tool_router/audit?user_id=&since=&limit=`: the key's project's tool
/// executions, newest first (at most `limit`, 100 by default, 1000 at most).
async fn audit(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Query(query): Query<AuditQuery>,
) -> ApiResult {
    let since_ms = query
        .since
        .as_deref()
        .map(crate::store::parse_since)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => match text.parse::<u32>() {
            Ok(n @ 1..=1000) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "`limit` must be a number from 1 to 1000, not `{text}`"
                )));
            }
        },
    };
    let entries = shared
        .store
        .audit(&crate::store::AuditFilter {
            project_id: Some(project.0.clone()),
            user_id: query.user_id.clone(),
            since_ms,
            limit,
        })
        .await?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "at": iso(e.at_ms / 1000),
                "at_ms": e.at_ms,
                "user_id": e.user_id,
                "session_id": e.session_id,
                "tool_slug": e.tool,
                "outcome": e.outcome,
                "latency_ms": e.latency_us as f64 / 1000.0,
                "arguments_sha256": e.arguments_sha256,
            })
        })
        .collect();
    Ok(axum::Json(json!({"items": items, "count": items.len()})).into_response())
}

async fn toolkits(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
    Query(_query): Query<Vec<(String, String)>>,
) -> ApiResult {
    let ctx = load(&shared, &project, &id).await?;
    let connection = shared
        .connections
        .get(&project.0, &ctx.session.user_id, TOOLKIT)
        .await?;
    let enabled = ctx.config.policy().offered().next().is_some();
    let connected_account = connection.map(|c| {
        json!({
            "id": c.id,
            "status": c.status,
            "user_id": c.user_id,
            "created_at": iso(c.created_at),
            "auth_config": {"id": format!("ac_{}", c.kind), "auth_scheme": match c.kind.as_str() { "api_token" => "API_KEY", "oauth" => "OAUTH2", _ => "BEARER_TOKEN" }, "is_composio_managed": false},
        })
    });
    Ok(axum::Json(json!({
        "items": [{
            "slug": TOOLKIT,
            "name": "Bitbucket",
            "enabled": enabled,
            "is_no_auth": false,
            "composio_managed_auth_schemes": [],
            "connected_account": connected_account,
            "meta": {"description": "Bitbucket Cloud: repositories, branches, pull requests, issues, snippets, workspaces.", "logo": ""},
        }],
        "current_page": 1,
        "total_items": 1,
        "total_pages": 1,
        "next_cursor": null,
    }))
    .into_response())
}

async fn tools(
    State(shared): State<Arc<Shared>>,
    Extension(project): Extension<Project>,
    Path(id): Path<String>,
) -> ApiResult {
    let ctx = load(&shared, &project, &id).await?;
    let composio = json!({"slug": "composio", "name": "Composio", "logo": ""});
    let bitbucket = json!({"slug": TOOLKIT, "name": "Bitbucket", "logo": ""});
    let item = |slug: &str,
                name: &str,
                description: &str,
                input: Map<String, Value>,
                output: Map<String, Value>,
                tags: Vec<&str>,
                toolkit: &Value| {
        json!({
            "slug": slug,
            "name": name,
            "description": description,
            "input_parameters": input,
            "output_parameters": output,
            "tags": tags,
            "toolkit": toolkit,
            "version": "1",
            "available_versions": ["1"],
            "is_deprecated": false,
            "deprecated": {"available_versions": ["1"], "displayName": name, "is_deprecated": false, "toolkit": {"logo": ""}, "version": "1"},
            "no_auth": false,
            "scopes": [],
        })
    };
    let mut items: Vec<Value> = ctx
        .config
        .meta_tools()
        .into_iter()
        .filter_map(meta::find)
        .map(|m| {
            let mut tags = Vec::new();
            if m.read_only {
                tags.push("readOnlyHint");
            }
            if m.destructive {
                tags.push("destructiveHint");
            }
            item(
                m.name,
                m.title,
                m.description,
                meta::input_schema(m.name),
                Map::new(),
                tags,
                &composio,
            )
        })
        .collect();
    items.extend(ctx.config.preloaded().into_iter().map(|spec| {
        item(
            spec.name,
            spec.title,
            spec.description,
            spec.input_schema(),
            spec.output_schema(),
            crate::config::tags_of(spec),
            &bitbucket,
        )
    }));
    let total = items.len();
    Ok(axum::Json(json!({
        "items": items,
        "current_page": 1,
        "total_items": total,
        "total_pages": 1,
        "next_cursor": null,
    }))
    .into_response())
}
