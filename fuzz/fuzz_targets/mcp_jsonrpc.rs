//! JSON-RPC messages into the MCP server: the bytes after the first are the body of a POST to
//! `/mcp`, sent in-process to the very app `bitbucket_mcp::http::serve` serves (the checks,
//! the session limits, rmcp's Streamable HTTP service and our handler). The first byte picks
//! how: `0` as a 2026-07-28 stateless request, `1` with no session, anything else inside a
//! 2025-11-25 session opened (and ended) around it. The toolkit's client points at a closed
//! loopback port, so a tool call that passes every check fails to connect.
//!
//! Whatever the body, the server answers without a 5xx, and every refusal is a JSON-RPC error.

#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use bitbucket_client::{Client, ClientConfig, RetryPolicy};
use bitbucket_mcp::http::HttpOptions;
use bitbucket_mcp::{BitbucketMcp, ServerOptions};
use bitbucket_toolkit::Toolkit;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
});

static APP: LazyLock<Router> = LazyLock::new(|| {
    let _entered = RUNTIME.enter();
    let config = ClientConfig::new("http://127.0.0.1:1/2.0").with_retry(RetryPolicy::none());
    let toolkit = Toolkit::new(Client::new(config).expect("a client for loopback"));
    let handler = BitbucketMcp::new(toolkit, ServerOptions::default()).expect("default options");
    let addr = "127.0.0.1:8000".parse().expect("an address");
    bitbucket_mcp::http::app(
        handler,
        &HttpOptions::new(addr),
        addr,
        bitbucket_mcp::endpoint::EndpointStop::default(),
    )
    .expect("the app")
});

/// The longest any answer may take; a stream still open after it is refused as a hang.
const PATIENCE: Duration = Duration::from_secs(5);

fn post(body: Vec<u8>, version: Option<&str>, session: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/mcp")
        .header("host", "127.0.0.1:8000")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(version) = version {
        request = request.header("mcp-protocol-version", version);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.body(Body::from(body)).expect("a request")
}

/// Sends `request`; its status, session id (if it opened one) and body.
async fn send(request: Request<Body>) -> (StatusCode, Option<String>, Vec<u8>) {
    let response: Response<Body> = APP.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = tokio::time::timeout(
        PATIENCE,
        axum::body::to_bytes(response.into_body(), 1 << 24),
    )
    .await
    .expect("the answer ends")
    .expect("the answer is readable");
    (status, session, body.to_vec())
}

/// The answer is no server error, and a refusal is a JSON-RPC error.
fn check(status: StatusCode, body: &[u8]) {
    assert!(
        !status.is_server_error(),
        "{status}: {}",
        String::from_utf8_lossy(body)
    );
    if status.is_client_error() {
        let error: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
            panic!(
                "{status} is not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            )
        });
        assert_eq!(error["jsonrpc"], "2.0", "{error}");
        assert!(error["error"]["code"].is_i64(), "{error}");
    }
}

async fn end(session: &str) {
    let request = Request::delete("/mcp")
        .header("host", "127.0.0.1:8000")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .body(Body::empty())
        .expect("a request");
    let (status, _, body) = send(request).await;
    check(status, &body);
}

async fn open_session() -> String {
    let initialize = json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "fuzz", "version": "0"}}
    });
    let (status, session, _) = send(post(initialize.to_string().into_bytes(), None, None)).await;
    assert_eq!(status, StatusCode::OK);
    let session = session.expect("an initialize opens a session");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _, body) = send(post(
        initialized.to_string().into_bytes(),
        Some("2025-11-25"),
        Some(&session),
    ))
    .await;
    check(status, &body);
    session
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let body = body.to_vec();
    RUNTIME.block_on(async {
        match mode {
            0 => {
                let (status, _, answer) = send(post(body, Some("2026-07-28"), None)).await;
                check(status, &answer);
            }
            1 => {
                let (status, session, answer) = send(post(body, None, None)).await;
                check(status, &answer);
                if let Some(session) = session {
                    end(&session).await;
                }
            }
            _ => {
                let session = open_session().await;
                let (status, _, answer) =
                    send(post(body, Some("2025-11-25"), Some(&session))).await;
                check(status, &answer);
                end(&session).await;
            }
        }
    });
});
