//! The meta-tools, with Composio's names and argument shapes, independent of the protocol:
//! the session's MCP endpoint and the REST `execute_meta` both call [`run`]. Every meta-tool
//! answers `{data, error, successful}`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bitbucket_toolkit::{ToolSpec, Toolkit};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::config::tags_of;
use crate::connections::{ConnectError, TOOLKIT};
use crate::state::{SessionCtx, Shared};

pub const SEARCH_TOOLS: &str = "COMPOSIO_SEARCH_TOOLS";
pub const GET_TOOL_SCHEMAS: &str = "COMPOSIO_GET_TOOL_SCHEMAS";
pub const MANAGE_CONNECTIONS: &str = "COMPOSIO_MANAGE_CONNECTIONS";
pub const WAIT_FOR_CONNECTIONS: &str = "COMPOSIO_WAIT_FOR_CONNECTIONS";
pub const MULTI_EXECUTE_TOOL: &str = "COMPOSIO_MULTI_EXECUTE_TOOL";
/// Composio's meta-tools we do not offer, refused by name.
pub const NOT_OFFERED: [&str; 2] = ["COMPOSIO_REMOTE_WORKBENCH", "COMPOSIO_REMOTE_BASH_TOOL"];

/// The most calls one `COMPOSIO_MULTI_EXECUTE_TOOL` takes.
pub const MAX_CALLS: usize = 50;

/// How a meta-tool is described to a model.
#[derive(Debug, Clone, Copy)]
pub struct MetaTool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

const SESSION_ID: &str = "The session_id a previous COMPOSIO_SEARCH_TOOLS answer gave, if any.";

/// Every meta-tool we offer.
pub const META_TOOLS: [MetaTool; 5] = [
    MetaTool {
        name: SEARCH_TOOLS,
        title: "Search tools",
        description: "Finds the Bitbucket tools for a task. Call it first whenever the user wants something done in Bitbucket. \
Give one query per atomic step (`use_case`, in English, without personal identifiers) and put known values in `known_fields` \
(`workspace:acme, repo_slug:widgets`). The answer lists, per query, the primary and related tool slugs, their input schemas, \
recommended plan steps and known pitfalls, and whether the user's Bitbucket connection is active. \
Run the chosen tools with COMPOSIO_MULTI_EXECUTE_TOOL; if the connection is not active, call COMPOSIO_MANAGE_CONNECTIONS first.",
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    MetaTool {
        name: GET_TOOL_SCHEMAS,
        title: "Get tool schemas",
        description: "Returns the complete input schemas of tools by slug. Pass only slugs that COMPOSIO_SEARCH_TOOLS returned; \
unknown slugs come back under `not_found` with suggestions.",
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    MetaTool {
        name: MANAGE_CONNECTIONS,
        title: "Manage connections",
        description: "Checks the user's connection to toolkits (use the toolkit slugs COMPOSIO_SEARCH_TOOLS returned, e.g. `bitbucket`). \
An active connection is returned with its account. Otherwise the answer has status `initiated` and a `redirect_url`: \
show it to the user as a Markdown link and ask them to open it and connect; then call COMPOSIO_WAIT_FOR_CONNECTIONS. \
Never run a toolkit's tools without an active connection. `reinitiate_all` makes a new link even when a connection is active.",
        read_only: false,
        destructive: false,
        idempotent: false,
    },
    MetaTool {
        name: WAIT_FOR_CONNECTIONS,
        title: "Wait for connections",
        description: "Waits until the user finishes connecting (after you showed the link from COMPOSIO_MANAGE_CONNECTIONS): \
returns when any (`mode: any`) or all (`mode: all`) of the toolkits are active, or after a timeout with their current status.",
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    MetaTool {
        name: MULTI_EXECUTE_TOOL,
        title: "Execute tools",
        description: "Runs 1 to 50 tools found by COMPOSIO_SEARCH_TOOLS, in parallel, with the user's own connection. \
Batch only calls that do not depend on each other. Each call gives `tool_slug` and `arguments` that follow the tool's input schema \
exactly; never invent slugs or fields. Each call gets its own result (a failing call does not hide the others). \
Destructive tools ask the user first.",
        read_only: false,
        destructive: true,
        idempotent: false,
    },
];

/// The meta-tool called `name`.
pub fn find(name: &str) -> Option<&'static MetaTool> {
    META_TOOLS.iter().find(|t| t.name == name)
}

/// The JSON Schema of a meta-tool's arguments (Composio's argument names and shapes).
pub fn input_schema(name: &str) -> Map<String, Value> {
    let session_id = json!({"type": "string", "description": SESSION_ID});
    let schema = match name {
        SEARCH_TOOLS => json!({
            "type": "object",
            "properties": {
                "queries": {
                    "type": "array",
                    "minItems": 1,
                    "description": "One query per atomic step of the task.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "use_case": {"type": "string", "maxLength": 1024, "description": "What to do, in English, e.g. `create a branch from main`."},
                            "known_fields": {"type": "string", "description": "Known values as comma-separated `key:value` pairs, e.g. `workspace:acme, repo_slug:widgets`."}
                        },
                        "required": ["use_case"]
                    }
                },
                "session": {
                    "type": "object",
                    "description": "Workflow correlation: `{generate_id: true}` for a new task, `{id}` to continue one.",
                    "properties": {
                        "id": {"type": "string"},
                        "generate_id": {"type": "boolean"}
                    }
                },
                "model": {"type": "string", "description": "The calling model's name (ignored)."}
            },
            "required": ["queries"]
        }),
        GET_TOOL_SCHEMAS => json!({
            "type": "object",
            "properties": {
                "tool_slugs": {"type": "array", "items": {"type": "string", "minLength": 1}, "description": "Tool slugs from COMPOSIO_SEARCH_TOOLS."},
                "include": {"type": "array", "items": {"type": "string", "enum": ["input_schema", "output_schema"]}, "default": ["input_schema"]},
                "session_id": session_id
            },
            "required": ["tool_slugs"]
        }),
        MANAGE_CONNECTIONS => json!({
            "type": "object",
            "properties": {
                "toolkits": {"type": "array", "items": {"type": "string"}, "description": "Toolkit slugs to check or connect, e.g. [\"bitbucket\"]."},
                "reinitiate_all": {"type": "boolean", "default": false, "description": "Make a new auth link even when a connection is active."},
                "session_id": session_id
            },
            "required": ["toolkits"]
        }),
        WAIT_FOR_CONNECTIONS => json!({
            "type": "object",
            "properties": {
                "toolkits": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "Toolkit slugs to wait for."},
                "mode": {"type": "string", "enum": ["any", "all"], "default": "any"},
                "session_id": session_id
            },
            "required": ["toolkits"]
        }),
        MULTI_EXECUTE_TOOL => json!({
            "type": "object",
            "properties": {
                "tools": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_CALLS,
                    "description": "Independent tool calls to run in parallel.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "tool_slug": {"type": "string", "minLength": 1, "description": "A slug from COMPOSIO_SEARCH_TOOLS."},
                            "arguments": {"type": "object", "additionalProperties": true, "description": "Arguments following the tool's input schema."}
                        },
                        "required": ["tool_slug", "arguments"]
                    }
                },
                "thought": {"type": "string", "description": "One sentence: why these calls."},
                "sync_response_to_workbench": {"type": "boolean", "description": "Accepted for compatibility; there is no workbench, results are always inline."},
                "current_step": {"type": "string"},
                "current_step_metric": {"type": "string"},
                "session_id": session_id
            },
            "required": ["tools"]
        }),
        _ => json!({"type": "object"}),
    };
    match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What a meta-tool answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaResult {
    pub data: Value,
    pub error: Option<String>,
    pub successful: bool,
}

impl MetaResult {
    pub fn ok(data: Value) -> Self {
        Self {
            data,
            error: None,
            successful: true,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            data: json!({}),
            error: Some(message.into()),
            successful: false,
        }
    }

    pub fn to_value(&self) -> Value {
        json!({"data": self.data, "error": self.error, "successful": self.successful})
    }
}

/// The user's answer about a call that needs approval.
pub enum Approval<A> {
    Approved,
    Refused(String),
    /// Ask the client (2026-07-28 MCP, or REST): the whole request answers "input required".
    Ask(A),
}

/// Asks the user before a call that needs approval, in the way the caller's protocol allows.
pub trait Approver: Sync {
    type Ask: Send;

    fn approve(
        &self,
        spec: &'static ToolSpec,
        arguments: &Value,
    ) -> impl Future<Output = Approval<Self::Ask>> + Send;
}

/// A meta-tool's outcome: a result, or a question for the user first.
pub enum Outcome<A> {
    Done(MetaResult),
    Ask(A),
}

/// Runs meta-tool `name` for the session. Unknown names are failed results.
pub async fn run<P: Approver>(
    ctx: &SessionCtx,
    name: &str,
    arguments: Value,
    approver: &P,
) -> Outcome<P::Ask> {
    if NOT_OFFERED.contains(&name) {
        return Outcome::Done(MetaResult::failed(format!(
            "`{name}` is not offered by this router (there is no remote workbench or bash); use COMPOSIO_MULTI_EXECUTE_TOOL"
        )));
    }
    if !ctx.config.meta_tools().contains(&name) {
        let known = ctx.config.meta_tools().join("`, `");
        return Outcome::Done(MetaResult::failed(format!(
            "`{name}` is not a meta-tool of this session (it offers `{known}`)"
        )));
    }
    if let Err(message) = meta_validator(name).map_or_else(
        || validate(&Value::Object(input_schema(name)), &arguments),
        |validator| check(validator, &arguments),
    ) {
        return Outcome::Done(MetaResult::failed(format!(
            "invalid arguments for `{name}`: {message}"
        )));
    }
    match name {
        SEARCH_TOOLS => Outcome::Done(search(ctx, &arguments).await),
        GET_TOOL_SCHEMAS => Outcome::Done(get_tool_schemas(ctx, &arguments)),
        MANAGE_CONNECTIONS => Outcome::Done(manage_connections(ctx, &arguments).await),
        WAIT_FOR_CONNECTIONS => Outcome::Done(wait_for_connections(ctx, &arguments).await),
        MULTI_EXECUTE_TOOL => multi_execute(ctx, &arguments, approver).await,
        _ => Outcome::Done(MetaResult::failed(format!("unknown meta-tool `{name}`"))),
    }
}

/// Checks `instance` against `schema`; the message names the failing paths.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    let validator = jsonschema::validator_for(schema).map_err(|e| e.to_string())?;
    check(&validator, instance)
}

fn check(validator: &jsonschema::Validator, instance: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(3)
        .map(|e| {
            let path = e.instance_path().to_string();
            if path.is_empty() {
                e.to_string()
            } else {
                format!("at `{path}`: {e}")
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// One compiled validator per meta-tool, made on first use.
fn meta_validator(name: &str) -> Option<&'static jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<&'static str, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS
        .get_or_init(|| {
            META_TOOLS
                .iter()
                .filter_map(|m| {
                    jsonschema::validator_for(&Value::Object(input_schema(m.name)))
                        .ok()
                        .map(|v| (m.name, v))
                })
                .collect()
        })
        .get(name)
}

/// One compiled validator per catalogue tool, made on first use.
fn tool_validator(spec: &'static ToolSpec) -> Option<&'static jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<&'static str, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS
        .get_or_init(|| {
            Toolkit::catalogue()
                .iter()
                .filter_map(|spec| {
                    jsonschema::validator_for(&Value::Object(spec.input_schema()))
                        .ok()
                        .map(|v| (spec.name, v))
                })
                .collect()
        })
        .get(spec.name)
}

/// A tool's entry in `tool_schemas`.
pub fn tool_schema(spec: &ToolSpec, output: bool) -> Value {
    let mut entry = json!({
        "tool_slug": spec.name,
        "toolkit": TOOLKIT,
        "description": spec.description,
        "input_schema": spec.input_schema(),
        "tags": tags_of(spec),
    });
    if output && let Some(object) = entry.as_object_mut() {
        object.insert("output_schema".into(), Value::Object(spec.output_schema()));
    }
    entry
}

fn session_info(ctx: &SessionCtx) -> Value {
    json!({
        "id": ctx.session.id,
        "instructions": "This session is fixed by the MCP URL; pass its id as session_id in later meta-tool calls.",
    })
}

/// The connection status of the toolkit, as search and manage report it.
async fn connection_status(ctx: &SessionCtx) -> Value {
    match ctx
        .shared
        .connections
        .get(&ctx.session.project_id, &ctx.session.user_id, TOOLKIT)
        .await
    {
        Ok(Some(c)) => json!({
            "toolkit": TOOLKIT,
            "description": "Bitbucket Cloud: repositories, branches, pull requests, issues, snippets, workspaces.",
            "has_active_connection": c.status == "ACTIVE",
            "connection_details": {"connected_account_id": c.id, "kind": c.kind},
            "current_user_info": {"display_name": c.account_name, "uuid": c.account_uuid},
            "status_message": format!("Connected to Bitbucket as {}. Run the tools with COMPOSIO_MULTI_EXECUTE_TOOL.", c.account_name),
        }),
        Ok(None) => json!({
            "toolkit": TOOLKIT,
            "description": "Bitbucket Cloud: repositories, branches, pull requests, issues, snippets, workspaces.",
            "has_active_connection": false,
            "connection_details": {},
            "status_message": "No active Bitbucket connection for this user: call COMPOSIO_MANAGE_CONNECTIONS with toolkits [\"bitbucket\"] and show the user the link it returns.",
        }),
        Err(e) => {
            tracing::error!(error = %e, "reading a connection failed");
            json!({
                "toolkit": TOOLKIT,
                "description": "Bitbucket Cloud",
                "has_active_connection": false,
                "connection_details": {},
                "status_message": "The connection status could not be read; try again.",
            })
        }
    }
}

pub async fn search(ctx: &SessionCtx, arguments: &Value) -> MetaResult {
    let allowed: Vec<&'static ToolSpec> = ctx.config.policy().offered().collect();
    let queries = arguments
        .get("queries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut results = Vec::new();
    let mut schemas = Map::new();
    for (index, query) in queries.iter().enumerate() {
        let use_case = query.get("use_case").and_then(Value::as_str).unwrap_or("");
        let known = query.get("known_fields").and_then(Value::as_str);
        let found = crate::search_adapter::find(use_case, known, &allowed);
        for spec in found.primary.iter().chain(&found.related) {
            schemas
                .entry(spec.name.to_owned())
                .or_insert_with(|| tool_schema(spec, false));
        }
        let names = |specs: &[&'static ToolSpec]| specs.iter().map(|s| s.name).collect::<Vec<_>>();
        results.push(json!({
            "index": index + 1,
            "use_case": use_case,
            "primary_tool_slugs": names(&found.primary),
            "related_tool_slugs": names(&found.related),
            "toolkits": if found.primary.is_empty() { json!([]) } else { json!([TOOLKIT]) },
            "reasoning": found.reasoning,
            "task_difficulty": if found.primary.len() > 1 { "medium" } else { "easy" },
            "recommended_plan_steps": found.plan,
            "known_pitfalls": found.pitfalls,
            "error": if found.primary.is_empty() { json!("no tool in this session matches this use case") } else { Value::Null },
        }));
    }
    let status = connection_status(ctx).await;
    let connected = status["has_active_connection"].as_bool() == Some(true);
    let mut next = vec![
        "Read each primary tool's input_schema and call the tools with COMPOSIO_MULTI_EXECUTE_TOOL, with arguments that follow the schema exactly.".to_owned(),
    ];
    if !connected {
        next.insert(
            0,
            "Bitbucket is not connected for this user: call COMPOSIO_MANAGE_CONNECTIONS with toolkits [\"bitbucket\"] first."
                .to_owned(),
        );
    }
    let now = time::OffsetDateTime::now_utc();
    MetaResult::ok(json!({
        "results": results,
        "tool_schemas": schemas,
        "toolkit_connection_statuses": [status],
        "time_info": {
            "current_time_utc": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "current_time_utc_epoch_seconds": now.unix_timestamp(),
            "message": "Times are UTC.",
        },
        "session": {"id": ctx.session.id, "generate_id": false, "instructions": "Reuse this session id in later meta-tool calls."},
        "next_steps_guidance": next,
    }))
}

fn get_tool_schemas(ctx: &SessionCtx, arguments: &Value) -> MetaResult {
    let policy = ctx.config.policy();
    let output = arguments
        .get("include")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|v| v == "output_schema"));
    let mut schemas = Map::new();
    let mut not_found = Vec::new();
    let mut suggestions = Map::new();
    for slug in arguments
        .get("tool_slugs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        match Toolkit::find(slug).filter(|spec| policy.offers(spec)) {
            Some(spec) => {
                schemas.insert(slug.to_owned(), tool_schema(spec, output));
            }
            None => {
                not_found.push(slug.to_owned());
                let near = bitbucket_toolkit::UnknownTool::new(slug).suggestions;
                suggestions.insert(slug.to_owned(), json!(near));
            }
        }
    }
    let mut data = json!({"success": not_found.is_empty(), "tool_schemas": schemas});
    if !not_found.is_empty() {
        data["not_found"] = json!(not_found);
        data["suggestions"] = Value::Object(suggestions);
        data["not_found_message"] = json!(
            "Some slugs are not tools of this session; check the suggestions or search again with COMPOSIO_SEARCH_TOOLS."
        );
    }
    MetaResult::ok(data)
}

/// A new auth link for the session's user.
pub struct NewLink {
    pub redirect_url: String,
    pub token: String,
    /// The id the connection will have (the current one's, when reconnecting).
    pub connection_id: String,
}

/// Makes an auth link for the session's user.
pub async fn new_link(
    shared: &Shared,
    ctx_session: &crate::store::SessionRow,
) -> Result<NewLink, String> {
    let connection_id = match shared
        .connections
        .get(&ctx_session.project_id, &ctx_session.user_id, TOOLKIT)
        .await
    {
        Ok(Some(existing)) => existing.id,
        _ => crate::store::new_id("ca"),
    };
    let token = shared
        .store
        .create_link(&ctx_session.id, TOOLKIT, &connection_id, shared.link_ttl)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "creating an auth link failed");
            "the auth link could not be created; try again".to_owned()
        })?;
    Ok(NewLink {
        redirect_url: format!("{}/link/{token}", shared.public_url),
        token,
        connection_id,
    })
}

async fn manage_connections(ctx: &SessionCtx, arguments: &Value) -> MetaResult {
    let reinitiate = arguments
        .get("reinitiate_all")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut results = Map::new();
    let (mut active, mut initiated, mut failed) = (0, 0, 0);
    for toolkit in arguments
        .get("toolkits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let slug = toolkit.trim().to_ascii_lowercase();
        if slug != TOOLKIT {
            failed += 1;
            results.insert(
                toolkit.to_owned(),
                json!({"toolkit": toolkit, "status": "failed", "has_active_connection": false,
                       "error_message": format!("unknown toolkit `{toolkit}`; this router serves `{TOOLKIT}`")}),
            );
            continue;
        }
        let existing = ctx
            .shared
            .connections
            .get(&ctx.session.project_id, &ctx.session.user_id, TOOLKIT)
            .await;
        let result = match existing {
            Ok(Some(c)) if !reinitiate && c.status == "ACTIVE" => {
                active += 1;
                json!({"toolkit": TOOLKIT, "status": "active", "has_active_connection": true,
                       "connected_account_id": c.id,
                       "created_at": crate::state::iso(c.created_at),
                       "current_user_info": {"display_name": c.account_name, "uuid": c.account_uuid}})
            }
            Ok(existing) => match new_link(&ctx.shared, &ctx.session).await {
                Ok(link) => {
                    initiated += 1;
                    json!({"toolkit": TOOLKIT, "status": "initiated", "has_active_connection": false,
                           "redirect_url": link.redirect_url, "connected_account_id": link.connection_id,
                           "was_reinitiated": existing.is_some(),
                           "instruction": "Show this link to the user as a Markdown link and ask them to open it and connect Bitbucket; then call COMPOSIO_WAIT_FOR_CONNECTIONS."})
                }
                Err(message) => {
                    failed += 1;
                    json!({"toolkit": TOOLKIT, "status": "failed", "has_active_connection": false, "error_message": message})
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "reading a connection failed");
                failed += 1;
                json!({"toolkit": TOOLKIT, "status": "failed", "has_active_connection": false,
                       "error_message": "the connection could not be read; try again"})
            }
        };
        results.insert(TOOLKIT.to_owned(), result);
    }
    let total = active + initiated + failed;
    let message = format!("{active} active, {initiated} initiated, {failed} failed");
    MetaResult {
        data: json!({
            "message": message,
            "results": results,
            "summary": {"total_toolkits": total, "active_connections": active,
                        "initiated_connections": initiated, "failed_connections": failed},
            "session": session_info(ctx),
        }),
        error: (failed > 0).then(|| message.clone()),
        successful: failed == 0,
    }
}

async fn wait_for_connections(ctx: &SessionCtx, arguments: &Value) -> MetaResult {
    let all = arguments.get("mode").and_then(Value::as_str) == Some("all");
    let toolkits: Vec<String> = arguments
        .get("toolkits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let deadline = tokio::time::Instant::now() + ctx.shared.wait_timeout;
    loop {
        let mut results = Map::new();
        let mut done = 0;
        for toolkit in &toolkits {
            let result = if toolkit.to_ascii_lowercase() != TOOLKIT {
                done += 1;
                json!({"toolkit": toolkit, "status": "FAILED", "has_active_connection": false,
                       "error_message": format!("unknown toolkit `{toolkit}`; this router serves `{TOOLKIT}`")})
            } else {
                match ctx
                    .shared
                    .connections
                    .get(&ctx.session.project_id, &ctx.session.user_id, TOOLKIT)
                    .await
                {
                    Ok(Some(c)) if c.status == "ACTIVE" => {
                        done += 1;
                        json!({"toolkit": TOOLKIT, "status": "ACTIVE", "has_active_connection": true,
                               "connected_account_id": c.id, "created_at": crate::state::iso(c.created_at),
                               "current_user_info": {"display_name": c.account_name, "uuid": c.account_uuid}})
                    }
                    Ok(_) => {
                        json!({"toolkit": TOOLKIT, "status": "INITIATED", "has_active_connection": false})
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reading a connection failed");
                        json!({"toolkit": TOOLKIT, "status": "INITIATED", "has_active_connection": false})
                    }
                }
            };
            results.insert(toolkit.clone(), result);
        }
        let finished = if all {
            done == toolkits.len()
        } else {
            done > 0
        };
        if finished || tokio::time::Instant::now() >= deadline {
            let message = if finished {
                "the connections are ready".to_owned()
            } else {
                "timed out waiting; the user has not finished connecting yet (call again to keep waiting)".to_owned()
            };
            return MetaResult::ok(
                json!({"message": message, "results": results, "session": session_info(ctx)}),
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One checked call of a multi-execute.
struct Call {
    index: usize,
    slug: String,
    /// The arguments' SHA-256, for the audit log.
    digest: String,
    plan: Result<(&'static ToolSpec, Value), String>,
}

/// Runs one app tool for the session's user: checks it is allowed and its arguments, asks
/// approval when needed, then runs it with the user's connection.
pub async fn execute_one<P: Approver>(
    ctx: &SessionCtx,
    slug: &str,
    arguments: Value,
    approver: &P,
) -> Outcome<P::Ask> {
    let digest = arguments_digest(&arguments);
    match check_call(ctx, slug, arguments) {
        Err(message) => {
            audit(ctx, slug, &digest, "refused", Duration::ZERO).await;
            Outcome::Done(MetaResult::failed(message))
        }
        Ok((spec, arguments)) => {
            if ctx.config.needs_approval(spec) {
                match approver.approve(spec, &arguments).await {
                    Approval::Approved => {}
                    Approval::Refused(why) => {
                        audit(ctx, slug, &digest, "refused", Duration::ZERO).await;
                        return Outcome::Done(MetaResult::failed(why));
                    }
                    Approval::Ask(ask) => return Outcome::Ask(ask),
                }
            }
            Outcome::Done(run_audited(ctx, spec, arguments, &digest).await)
        }
    }
}

fn check_call(
    ctx: &SessionCtx,
    slug: &str,
    arguments: Value,
) -> Result<(&'static ToolSpec, Value), String> {
    let Some(spec) = Toolkit::find(slug) else {
        return Err(bitbucket_toolkit::UnknownTool::new(slug).to_string());
    };
    if !ctx.config.policy().offers(spec) {
        return Err(format!(
            "`{slug}` is not enabled in this session (its toolkits, tools or tags filters leave it out)"
        ));
    }
    let arguments = match arguments {
        Value::Null => Value::Object(Map::new()),
        other => other,
    };
    if let Some(validator) = tool_validator(spec) {
        check(validator, &arguments).map_err(|m| format!("invalid arguments for `{slug}`: {m}"))?;
    }
    Ok((spec, arguments))
}

/// SHA-256 of the arguments' JSON (keys sorted), as the audit keeps them.
fn arguments_digest(arguments: &Value) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(arguments.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records one execution in the audit log; a failure to record is logged, not the caller's.
async fn audit(ctx: &SessionCtx, tool: &str, digest: &str, outcome: &str, latency: Duration) {
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let entry = crate::store::AuditEntry {
        at_ms,
        project_id: ctx.session.project_id.clone(),
        user_id: ctx.session.user_id.clone(),
        session_id: ctx.session.id.clone(),
        tool: tool.to_owned(),
        outcome: outcome.to_owned(),
        latency_us: i64::try_from(latency.as_micros()).unwrap_or(i64::MAX),
        arguments_sha256: digest.to_owned(),
    };
    if let Err(e) = ctx.shared.store.insert_audit(&entry).await {
        tracing::error!(error = %e, tool, "recording an execution in the audit log failed");
    }
}

/// [`run_tool`], timed and recorded.
async fn run_audited(
    ctx: &SessionCtx,
    spec: &'static ToolSpec,
    arguments: Value,
    digest: &str,
) -> MetaResult {
    let started = std::time::Instant::now();
    let result = run_tool(ctx, spec, arguments).await;
    let outcome = if result.successful { "ok" } else { "error" };
    audit(ctx, spec.name, digest, outcome, started.elapsed()).await;
    result
}

async fn run_tool(ctx: &SessionCtx, spec: &'static ToolSpec, arguments: Value) -> MetaResult {
    let (project, user) = (&ctx.session.project_id, &ctx.session.user_id);
    let connections = &ctx.shared.connections;
    let lockdown = ctx.config.lockdown;
    let toolkit = match connections.toolkit_for(project, user, TOOLKIT).await {
        Ok(Some(toolkit)) if lockdown => toolkit.with_lockdown(true),
        Ok(Some(toolkit)) => toolkit,
        Ok(None) => {
            return MetaResult::failed(format!(
                "no active connection for toolkit `{TOOLKIT}`: call COMPOSIO_MANAGE_CONNECTIONS and have the user connect first"
            ));
        }
        Err(e) => return connection_failed(ctx, &e).await,
    };
    let mut outcome = toolkit.call(spec.name, arguments.clone()).await;
    // An OAuth access token Bitbucket refused (revoked, or expired early) is renewed once.
    if let Ok(refused) = &outcome
        && refused.status == Some(401)
        && connections
            .is_oauth(project, user, TOOLKIT)
            .await
            .unwrap_or(false)
    {
        outcome = match connections
            .toolkit_after_refusal(project, user, TOOLKIT)
            .await
        {
            Ok(Some(renewed)) if lockdown => {
                renewed.with_lockdown(true).call(spec.name, arguments).await
            }
            Ok(Some(renewed)) => renewed.call(spec.name, arguments).await,
            Ok(None) => {
                return MetaResult::failed(
                    "the user's Bitbucket connection was removed; call COMPOSIO_MANAGE_CONNECTIONS",
                );
            }
            Err(e) => return connection_failed(ctx, &e).await,
        };
    }
    match outcome {
        Ok(outcome) if !outcome.is_error => MetaResult::ok(
            outcome
                .structured
                .unwrap_or_else(|| json!({"text": outcome.text})),
        ),
        Ok(outcome) => MetaResult::failed(outcome.text),
        Err(unknown) => MetaResult::failed(unknown.to_string()),
    }
}

/// A connection that could not act: expired OAuth tokens get a new auth link in the answer,
/// a token endpoint that failed a message to retry, anything else the way to reconnect.
async fn connection_failed(ctx: &SessionCtx, error: &ConnectError) -> MetaResult {
    match error {
        ConnectError::Expired(why) => match new_link(&ctx.shared, &ctx.session).await {
            Ok(link) => MetaResult::failed(format!(
                "the user's Bitbucket connection expired ({why}); show the user this link to connect again, then retry: {}",
                link.redirect_url
            )),
            Err(message) => MetaResult::failed(format!(
                "the user's Bitbucket connection expired ({why}); {message}"
            )),
        },
        ConnectError::RefreshUnavailable(why) => MetaResult::failed(format!(
            "the user's Bitbucket connection could not be renewed just now ({why}); try again in a minute"
        )),
        other => {
            tracing::error!(error = %other, "opening a connection failed");
            MetaResult::failed(
                "the user's Bitbucket connection could not be opened; reconnect with COMPOSIO_MANAGE_CONNECTIONS",
            )
        }
    }
}

async fn multi_execute<P: Approver>(
    ctx: &SessionCtx,
    arguments: &Value,
    approver: &P,
) -> Outcome<P::Ask> {
    let items = arguments
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut calls: Vec<Call> = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let slug = item
                .get("tool_slug")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let arguments = item.get("arguments").cloned().unwrap_or(Value::Null);
            let digest = arguments_digest(&arguments);
            let plan = check_call(ctx, &slug, arguments);
            Call {
                index,
                slug,
                digest,
                plan,
            }
        })
        .collect();
    // Approval before anything runs; one question per request, so a batch that would need
    // several asks the first and refuses the others (they can be sent again on their own).
    let mut asked = false;
    for call in &mut calls {
        let Ok((spec, args)) = &call.plan else {
            continue;
        };
        if !ctx.config.needs_approval(spec) {
            continue;
        }
        if asked {
            call.plan = Err(format!(
                "`{}` needs the user's approval and another call in this batch already asks; send it again in its own COMPOSIO_MULTI_EXECUTE_TOOL call",
                spec.name
            ));
            continue;
        }
        asked = true;
        match approver.approve(spec, args).await {
            Approval::Approved => {}
            Approval::Refused(why) => call.plan = Err(why),
            Approval::Ask(ask) => return Outcome::Ask(ask),
        }
    }
    let ctx = Arc::new(ctx.clone());
    let runs = calls.into_iter().map(|call| {
        let ctx = Arc::clone(&ctx);
        async move {
            let result = match call.plan {
                Ok((spec, args)) => run_audited(&ctx, spec, args, &call.digest).await,
                Err(message) => {
                    audit(&ctx, &call.slug, &call.digest, "refused", Duration::ZERO).await;
                    MetaResult::failed(message)
                }
            };
            (call.index, call.slug, result)
        }
    });
    let done = futures::future::join_all(runs).await;
    let success = done.iter().filter(|(_, _, r)| r.successful).count();
    let total = done.len();
    let results: Vec<Value> = done
        .into_iter()
        .map(|(index, slug, result)| {
            if result.successful {
                json!({"tool_slug": slug, "index": index, "error": null,
                       "response": {"data": result.data, "error": null, "successful": true,
                                    "log_id": crate::store::new_id("log")}})
            } else {
                json!({"tool_slug": slug, "index": index, "error": result.error, "response": null})
            }
        })
        .collect();
    let errors = total - success;
    Outcome::Done(MetaResult {
        data: json!({
            "results": results,
            "total_count": total,
            "success_count": success,
            "error_count": errors,
            "session": session_info(&ctx),
        }),
        error: (errors > 0).then(|| format!("{errors} out of {total} tools failed")),
        successful: errors == 0,
    })
}
