//! Test support for the MCP suites: rmcp clients of both protocol eras, with a scripted
//! "user" for confirmations, the script that calls every Bitbucket tool and checks its
//! effect in the sandbox, a load run of many sessions at once ([`load`]), and fresh
//! PostgreSQL databases for the router's suites ([`postgres`]).

mod every_tool;
pub mod load;
pub mod postgres;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig as McpClientConfig,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability,
    FormElicitationCapability, Implementation, ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{
    ClientHandler, ClientLifecycleMode, ClientServiceExt as _, ErrorData, RoleClient,
    ServiceExt as _,
};
use serde_json::Value;

pub use every_tool::{exercise_every_tool, exercise_review_lifecycle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2025-11-25: `initialize`, sessions, server-to-client requests.
    Sessions,
    /// 2026-07-28: stateless, "input required" results.
    Stateless,
}

pub const ERAS: [Era; 2] = [Era::Sessions, Era::Stateless];

/// What the test's "user" answers when asked to confirm.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Accept,
    Decline,
}

pub struct TestClient {
    /// `None`: the client declares no elicitation capability and cannot be asked.
    answer: Option<Answer>,
    asked: Arc<AtomicUsize>,
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> McpClientConfig {
        let mut caps = ClientCapabilities::default();
        if self.answer.is_some() {
            caps.elicitation =
                Some(ElicitationCapability::new().with_form(FormElicitationCapability::new()));
        }
        McpClientConfig::new(caps, Implementation::new("bbagent-tests", "0"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        assert!(matches!(
            request,
            ElicitRequestParams::FormElicitationParams { .. }
        ));
        Ok(match self.answer {
            Some(Answer::Accept) => ElicitResult::new(ElicitationAction::Accept)
                .with_content(serde_json::json!({"confirm": true})),
            _ => ElicitResult::new(ElicitationAction::Decline),
        })
    }
}

pub type Session = RunningService<RoleClient, TestClient>;

pub fn transport(url: &str, key: Option<&str>) -> StreamableHttpClientTransport<reqwest::Client> {
    let mut headers = HashMap::new();
    if let Some(key) = key {
        headers.insert(
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_str(key).expect("header"),
        );
    }
    StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()).custom_headers(headers),
    )
}

/// Connects over HTTP to `url`, sending `key` as `x-api-key`.
pub async fn connect_http(
    url: &str,
    key: Option<&str>,
    era: Era,
    answer: Option<Answer>,
) -> (Session, Arc<AtomicUsize>) {
    connect(transport(url, key), era, answer).await
}

/// Connects over any transport (HTTP, a child process's stdio) in the given era.
pub async fn connect<T, E, A>(
    transport: T,
    era: Era,
    answer: Option<Answer>,
) -> (Session, Arc<AtomicUsize>)
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let asked = Arc::new(AtomicUsize::new(0));
    let handler = TestClient {
        answer,
        asked: asked.clone(),
    };
    let session = match era {
        Era::Sessions => handler.serve(transport).await.expect("initialize"),
        Era::Stateless => handler
            .serve_with_lifecycle(
                transport,
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await
            .expect("discover"),
    };
    let negotiated = session.peer_info().map(|i| i.protocol_version.clone());
    let expected = match era {
        Era::Sessions => ProtocolVersion::V_2025_11_25,
        Era::Stateless => ProtocolVersion::V_2026_07_28,
    };
    assert_eq!(negotiated, Some(expected), "{era:?}");
    (session, asked)
}

pub async fn call(session: &Session, name: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().expect("arguments are an object");
    session
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{name}: protocol error {e}"))
}

/// The text the model reads.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks that a call succeeded; returns the structured result.
pub fn ok(name: &str, result: &CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "{name} failed: {}",
        text(result)
    );
    result
        .structured_content
        .clone()
        .unwrap_or_else(|| panic!("{name}: no structured content"))
}

/// Checks that `text` is one data block whose closing tag carries its opening tag's id (see
/// `bitbucket_toolkit::DATA_INSTRUCTIONS`).
pub fn assert_marked(name: &str, text: &str) {
    let id = text
        .strip_prefix("<data id=\"")
        .and_then(|rest| rest.split_once('"'))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("{name}: the result is not marked as data: {text}"));
    let closing = format!("</data id=\"{id}\">");
    assert!(
        text.ends_with(&closing) && text.matches(&closing).count() == 1,
        "{name}: the data block ends once, at the end: {text}"
    );
}

pub fn failed(name: &str, result: &CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "{name} should fail: {}",
        text(result)
    );
    text(result)
}
