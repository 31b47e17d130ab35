//! Tools from an MCP server, through rmcp's client: Streamable HTTP (with custom headers such
//! as `x-api-key`) or a stdio child process, in either protocol era.
//!
//! The tool list is cached and listed again after the server says it changed
//! (`notifications/tools/list_changed`, or a `subscriptions/listen` stream on 2026-07-28).
//! An expired HTTP session is re-initialised by rmcp itself (it answers the 404); a dead
//! connection (the child exited, the worker gave up) is replaced once, transparently, before
//! the next request. Elicitation requests from the server become approval questions.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use http::{HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, ElicitationCapability, FormElicitationCapability,
    Implementation, ProtocolVersion, ServerNotification, SubscriptionFilter,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt as _, ErrorData, RoleClient};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};
use tokio::io::AsyncBufReadExt as _;

use super::{ToolAnnotations, ToolContext, ToolDefinition, ToolOutput, Toolset};
use crate::approval::ApprovalDecision;
use crate::error::ToolsetError;
use crate::history::ToolCall;

/// How to reach the server.
#[derive(Debug, Clone)]
pub enum McpTransport {
    /// Streamable HTTP, e.g. `http://127.0.0.1:8000/mcp`, with headers sent on every request
    /// (their values are secrets: they never appear in `Debug` output or errors).
    Http {
        url: String,
        headers: Vec<(String, SecretString)>,
    },
    /// A child process speaking MCP on its stdin and stdout.
    Stdio {
        program: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
}

/// Which protocol era to speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum McpProtocol {
    /// Try 2026-07-28 (`server/discover`, stateless) and fall back to 2025-11-25.
    #[default]
    Auto,
    /// 2025-11-25 only: `initialize` and a session.
    Sessions,
    /// 2026-07-28 only.
    Stateless,
}

/// One MCP server to take tools from.
#[derive(Debug, Clone)]
pub struct McpConfig {
    /// A short name for messages, e.g. `bitbucket`.
    pub name: String,
    pub transport: McpTransport,
    pub protocol: McpProtocol,
}

impl McpConfig {
    pub fn http(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            transport: McpTransport::Http {
                url: url.into(),
                headers: Vec::new(),
            },
            protocol: McpProtocol::Auto,
        }
    }

    pub fn stdio(name: impl Into<String>, program: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            transport: McpTransport::Stdio {
                program: program.into(),
                args: Vec::new(),
                env: Vec::new(),
            },
            protocol: McpProtocol::Auto,
        }
    }

    /// Adds a header to every HTTP request (ignored for stdio).
    pub fn with_header(mut self, name: impl Into<String>, value: SecretString) -> Self {
        if let McpTransport::Http { headers, .. } = &mut self.transport {
            headers.push((name.into(), value));
        }
        self
    }

    /// Adds arguments to the command (ignored for HTTP).
    pub fn with_args<I, S>(mut self, more: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let McpTransport::Stdio { args, .. } = &mut self.transport {
            args.extend(more.into_iter().map(Into::into));
        }
        self
    }

    /// Sets an environment variable for the command (ignored for HTTP).
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let McpTransport::Stdio { env, .. } = &mut self.transport {
            env.push((name.into(), value.into()));
        }
        self
    }

    pub fn with_protocol(mut self, protocol: McpProtocol) -> Self {
        self.protocol = protocol;
        self
    }
}

/// The tools of one MCP server.
pub struct McpToolset {
    config: McpConfig,
    shared: Arc<Shared>,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    tools: Mutex<Option<Vec<ToolDefinition>>>,
    connects: AtomicU64,
}

/// What the connection's handler shares with the toolset.
struct Shared {
    server: String,
    /// The tool list must be fetched again.
    stale: AtomicBool,
    /// Calls in flight, for routing the server's questions to the right call.
    active: Mutex<Vec<(u64, ToolContext)>>,
    next_call: AtomicU64,
}

struct Connection {
    service: RunningService<RoleClient, Handler>,
    /// The 2026-07-28 `subscriptions/listen` stream for tool list changes.
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl Connection {
    fn alive(&self) -> bool {
        !self.service.is_closed() && !self.service.peer().is_transport_closed()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl McpToolset {
    /// Connects now, so a wrong URL, key or command is reported before the first prompt.
    pub async fn connect(config: McpConfig) -> Result<Self, ToolsetError> {
        let toolset = Self {
            shared: Arc::new(Shared {
                server: config.name.clone(),
                stale: AtomicBool::new(true),
                active: Mutex::new(Vec::new()),
                next_call: AtomicU64::new(0),
            }),
            config,
            connection: tokio::sync::Mutex::new(None),
            tools: Mutex::new(None),
            connects: AtomicU64::new(0),
        };
        toolset.connection().await?;
        Ok(toolset)
    }

    /// The negotiated protocol version, e.g. `2025-11-25`.
    pub async fn protocol_version(&self) -> Option<String> {
        let slot = self.connection.lock().await;
        let info = slot.as_ref()?.service.peer_info()?;
        Some(info.protocol_version.to_string())
    }

    /// How many connections were opened so far (1 unless one had to be replaced).
    pub fn connections_opened(&self) -> u64 {
        self.connects.load(Ordering::SeqCst)
    }

    /// Forgets the cached tool list.
    pub fn invalidate_tools(&self) {
        self.shared.stale.store(true, Ordering::SeqCst);
    }

    /// Closes the connection (for stdio: ends the child process).
    pub async fn close(&self) {
        let taken = self.connection.lock().await.take();
        if let Some(connection) = taken
            && let Ok(mut connection) = Arc::try_unwrap(connection)
        {
            let _ = connection.service.close().await;
        }
    }

    /// The live connection, opening a new one if there is none or it died.
    async fn connection(&self) -> Result<Arc<Connection>, ToolsetError> {
        let mut slot = self.connection.lock().await;
        if let Some(current) = slot.as_ref()
            && current.alive()
        {
            return Ok(current.clone());
        }
        let fresh = Arc::new(self.open().await?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// Replaces `dead`, unless another call did so already.
    async fn reconnect(&self, dead: &Arc<Connection>) -> Result<Arc<Connection>, ToolsetError> {
        let mut slot = self.connection.lock().await;
        if let Some(current) = slot.as_ref()
            && !Arc::ptr_eq(current, dead)
            && current.alive()
        {
            return Ok(current.clone());
        }
        tracing::info!(server = %self.config.name, "reconnecting to the MCP server");
        let fresh = Arc::new(self.open().await?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    async fn open(&self) -> Result<Connection, ToolsetError> {
        let server = self.config.name.clone();
        let handler = Handler {
            shared: self.shared.clone(),
        };
        let lifecycle = match self.config.protocol {
            McpProtocol::Auto => ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: Some(ProtocolVersion::V_2025_11_25),
            },
            McpProtocol::Sessions => ClientLifecycleMode::Initialize,
            McpProtocol::Stateless => ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        };
        let connect_error = |e: rmcp::service::ClientInitializeError| connect_error(&server, &e);
        let service = match &self.config.transport {
            McpTransport::Http { url, headers } => {
                let mut map = HashMap::new();
                for (name, value) in headers {
                    let bad = || ToolsetError::Header {
                        server: server.clone(),
                        name: name.clone(),
                    };
                    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
                    let mut value =
                        HeaderValue::from_str(value.expose_secret()).map_err(|_| bad())?;
                    value.set_sensitive(true);
                    map.insert(name, value);
                }
                let transport = StreamableHttpClientTransport::from_config(
                    StreamableHttpClientTransportConfig::with_uri(url.clone()).custom_headers(map),
                );
                handler
                    .serve_with_lifecycle(transport, lifecycle)
                    .await
                    .map_err(connect_error)?
            }
            McpTransport::Stdio { program, args, env } => {
                let mut command = tokio::process::Command::new(program);
                command.args(args).envs(env.iter().map(|(k, v)| (k, v)));
                let (transport, stderr) = TokioChildProcess::builder(command)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|source| ToolsetError::Spawn {
                        server: server.clone(),
                        command: program.clone(),
                        source,
                    })?;
                if let Some(stderr) = stderr {
                    // The server's diagnostics go to our log, not over the user's terminal.
                    let server = server.clone();
                    tokio::spawn(async move {
                        let mut lines = tokio::io::BufReader::new(stderr).lines();
                        while let Ok(Some(line)) = lines.next_line().await {
                            tracing::debug!(server = %server, "{line}");
                        }
                    });
                }
                handler
                    .serve_with_lifecycle(transport, lifecycle)
                    .await
                    .map_err(connect_error)?
            }
        };
        self.connects.fetch_add(1, Ordering::SeqCst);
        self.shared.stale.store(true, Ordering::SeqCst);
        let listener = self.listen_for_changes(&service);
        Ok(Connection { service, listener })
    }

    /// On 2026-07-28, list changes arrive only on a subscription stream.
    fn listen_for_changes(
        &self,
        service: &RunningService<RoleClient, Handler>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let info = service.peer_info()?;
        let stateless = !info.protocol_version.has_initialize();
        let announces = info
            .capabilities
            .tools
            .as_ref()
            .and_then(|t| t.list_changed)
            == Some(true);
        if !stateless || !announces {
            return None;
        }
        let peer = service.peer().clone();
        let shared = self.shared.clone();
        Some(tokio::spawn(async move {
            let filter = SubscriptionFilter::builder().tools_list_changed().build();
            let mut subscription = match peer.listen(filter).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(server = %shared.server, error = %e, "cannot subscribe to tool list changes");
                    return;
                }
            };
            while let Ok(Some(notification)) = subscription.next().await {
                if matches!(
                    notification,
                    ServerNotification::ToolListChangedNotification(_)
                ) {
                    shared.stale.store(true, Ordering::SeqCst);
                }
            }
        }))
    }

    async fn list(&self) -> Result<Vec<ToolDefinition>, ToolsetError> {
        let cached = lock(&self.tools).clone();
        if let Some(tools) = cached
            && !self.shared.stale.load(Ordering::SeqCst)
        {
            return Ok(tools);
        }
        let connection = self.connection().await?;
        // Cleared before listing: a change announced while we list marks it stale again.
        self.shared.stale.store(false, Ordering::SeqCst);
        let listed = match connection.service.list_all_tools().await {
            Ok(tools) => tools,
            Err(e) if is_transport(&e) => {
                let fresh = self.reconnect(&connection).await?;
                self.shared.stale.store(false, Ordering::SeqCst);
                fresh
                    .service
                    .list_all_tools()
                    .await
                    .map_err(|e| self.list_error(&e))?
            }
            Err(e) => return Err(self.list_error(&e)),
        };
        let tools: Vec<ToolDefinition> = listed.into_iter().map(definition).collect();
        *lock(&self.tools) = Some(tools.clone());
        Ok(tools)
    }

    fn list_error(&self, e: &ServiceError) -> ToolsetError {
        ToolsetError::List {
            server: self.config.name.clone(),
            message: first_line(&e.to_string()),
        }
    }

    fn cached(&self, name: &str) -> Option<ToolDefinition> {
        lock(&self.tools)
            .as_ref()?
            .iter()
            .find(|t| t.name == name)
            .cloned()
    }

    async fn run(&self, call: &ToolCall, context: ToolContext) -> ToolOutput {
        let arguments = match &call.arguments {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                return ToolOutput::error(format!(
                    "`{}` takes its arguments as a JSON object, not `{other}`",
                    call.name
                ));
            }
        };
        let params = CallToolRequestParams::new(call.name.clone()).with_arguments(arguments);
        let _in_flight = self.shared.begin(context);
        let connection = match self.connection().await {
            Ok(c) => c,
            Err(e) => return ToolOutput::error(e.to_string()),
        };
        let server = &self.config.name;
        match connection.service.call_tool(params.clone()).await {
            Ok(result) => output(result),
            Err(e) if is_transport(&e) => {
                let repeatable = self.cached(&call.name).is_some_and(|t| t.is_repeatable());
                match self.reconnect(&connection).await {
                    Ok(fresh) if repeatable => match fresh.service.call_tool(params).await {
                        Ok(result) => output(result),
                        Err(e) => ToolOutput::error(format!(
                            "calling `{}` on the MCP server `{server}` failed twice: {}",
                            call.name,
                            first_line(&e.to_string())
                        )),
                    },
                    Ok(_) => ToolOutput::error(format!(
                        "the connection to the MCP server `{server}` broke while `{}` ran, so it may or may not have taken effect; \
the connection is back, so check the current state before calling it again",
                        call.name
                    )),
                    Err(e) => ToolOutput::error(e.to_string()),
                }
            }
            Err(ServiceError::McpError(error)) => ToolOutput::error(format!(
                "the MCP server `{server}` refused the call to `{}`: {}",
                call.name, error.message
            )),
            Err(e) => ToolOutput::error(format!(
                "calling `{}` on the MCP server `{server}` failed: {}",
                call.name,
                first_line(&e.to_string())
            )),
        }
    }
}

impl Toolset for McpToolset {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn tools(&self) -> BoxFuture<'_, Result<Vec<ToolDefinition>, ToolsetError>> {
        Box::pin(self.list())
    }

    fn call<'a>(&'a self, call: &'a ToolCall, context: ToolContext) -> BoxFuture<'a, ToolOutput> {
        Box::pin(self.run(call, context))
    }
}

/// A connection failure in a line a user can act on.
fn connect_error(server: &str, error: &rmcp::service::ClientInitializeError) -> ToolsetError {
    use rmcp::service::ClientInitializeError as E;
    use rmcp::transport::streamable_http_client::StreamableHttpError;
    let server = server.to_owned();
    let E::TransportError {
        error: transport, ..
    } = error
    else {
        return ToolsetError::Connect {
            server,
            message: first_line(&error.to_string()),
        };
    };
    let cause = transport.error.as_ref();
    if let Some(http) = cause.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        match http {
            StreamableHttpError::UnexpectedServerResponse(text) => {
                for status in [401, 403] {
                    if text.contains(&format!("HTTP {status}")) {
                        return ToolsetError::Unauthorized { server, status };
                    }
                }
                return ToolsetError::Connect {
                    server,
                    message: first_line(text),
                };
            }
            StreamableHttpError::Client(e) => {
                return ToolsetError::Connect {
                    server,
                    message: http_reason(e),
                };
            }
            _ => {}
        }
    }
    ToolsetError::Connect {
        server,
        message: first_line(&cause.to_string()),
    }
}

/// "connection refused" rather than reqwest's nested "error sending request for url (...)".
fn http_reason(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                _ => first_line(&io.to_string()),
            };
        }
        source = e.source();
    }
    first_line(&error.to_string())
}

fn is_transport(e: &ServiceError) -> bool {
    matches!(
        e,
        ServiceError::TransportClosed | ServiceError::TransportSend(_)
    )
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

fn definition(tool: rmcp::model::Tool) -> ToolDefinition {
    let annotations = tool.annotations.map(|a| ToolAnnotations {
        title: a.title,
        read_only: a.read_only_hint,
        destructive: a.destructive_hint,
        idempotent: a.idempotent_hint,
        open_world: a.open_world_hint,
    });
    ToolDefinition {
        name: tool.name.into_owned(),
        description: tool.description.map(|d| d.into_owned()),
        input_schema: Value::Object((*tool.input_schema).clone()),
        annotations: annotations.unwrap_or_default(),
    }
}

/// The text the model reads: the text blocks, or the structured content when there are none.
fn output(result: CallToolResult) -> ToolOutput {
    let mut parts: Vec<String> = result
        .content
        .iter()
        .map(|block| match block.as_text() {
            Some(text) => text.text.clone(),
            None => {
                let kind = serde_json::to_value(block)
                    .ok()
                    .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| "non-text".to_owned());
                format!("[{kind} content]")
            }
        })
        .collect();
    if parts.is_empty()
        && let Some(structured) = &result.structured_content
    {
        parts.push(structured.to_string());
    }
    ToolOutput {
        content: parts.join("\n"),
        is_error: result.is_error == Some(true),
        structured: result.structured_content,
    }
}

/// Removes a call from the in-flight list when it ends, however it ends.
struct InFlight {
    shared: Arc<Shared>,
    token: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.shared.active).retain(|(t, _)| *t != self.token);
    }
}

impl Shared {
    fn begin(self: &Arc<Self>, context: ToolContext) -> InFlight {
        let token = self.next_call.fetch_add(1, Ordering::SeqCst);
        lock(&self.active).push((token, context));
        InFlight {
            shared: self.clone(),
            token,
        }
    }

    /// Answers the server's question. The user is asked through the run's approver, unless
    /// they already approved the one call in flight and the form only asks to confirm it.
    async fn elicit(&self, request: ElicitRequestParams) -> ElicitResult {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = request
        else {
            // URL mode asks the user to visit a page; a terminal agent cannot do that for them.
            return ElicitResult::new(ElicitationAction::Decline);
        };
        let (calls, context) = {
            let active = lock(&self.active);
            (active.len(), active.first().map(|(_, c)| c.clone()))
        };
        let Some(context) = context else {
            return ElicitResult::new(ElicitationAction::Cancel);
        };
        let schema = serde_json::to_value(&requested_schema).unwrap_or(Value::Null);
        let yes = confirmation(&schema);
        if calls == 1
            && context.is_approved()
            && let Some(content) = &yes
        {
            return ElicitResult::new(ElicitationAction::Accept).with_content(content.clone());
        }
        let reason = format!("the MCP server `{}` asks: {message}", self.server);
        match (context.ask(reason).await, yes) {
            (ApprovalDecision::Approve, Some(content)) => {
                ElicitResult::new(ElicitationAction::Accept).with_content(content)
            }
            (ApprovalDecision::Approve, None) => {
                tracing::warn!(server = %self.server, "declined a form that needs more than a yes");
                ElicitResult::new(ElicitationAction::Decline)
            }
            (ApprovalDecision::Deny { .. } | ApprovalDecision::Refuse { .. }, _) => {
                ElicitResult::new(ElicitationAction::Decline)
            }
        }
    }
}

/// The answer that means "yes" to a form of booleans (and fields with defaults); `None` when
/// the form asks for something a yes cannot supply.
fn confirmation(schema: &Value) -> Option<Value> {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut answer = Map::new();
    for (name, property) in properties {
        if property.get("type").and_then(Value::as_str) == Some("boolean") {
            answer.insert(name.clone(), Value::Bool(true));
        } else if let Some(default) = property.get("default") {
            answer.insert(name.clone(), default.clone());
        } else if required.contains(&name.as_str()) {
            return None;
        }
    }
    Some(Value::Object(answer))
}

struct Handler {
    shared: Arc<Shared>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::new()));
        ClientConfig::new(
            capabilities,
            Implementation::new("bbagent", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        Ok(self.shared.elicit(request).await)
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.stale.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn confirmation_answers_yes_only_to_yes_no_forms() {
        let cases = [
            (
                json!({"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}),
                Some(json!({"confirm": true})),
            ),
            (
                json!({"type": "object", "properties": {"confirm": {"type": "boolean"}, "note": {"type": "string", "default": "ok"}}}),
                Some(json!({"confirm": true, "note": "ok"})),
            ),
            (
                json!({"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}),
                None,
            ),
            (
                json!({"type": "object", "properties": {"email": {"type": "string"}}}),
                Some(json!({})),
            ),
        ];
        for (schema, expected) in cases {
            assert_eq!(confirmation(&schema), expected, "{schema}");
        }
    }
}
