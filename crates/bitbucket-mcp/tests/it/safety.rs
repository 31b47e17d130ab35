//! The HTTP safety layer, probed with raw requests: API key, Origin, Host, body size, and the
//! refusal to serve publicly without a key.

use bitbucket_mcp::http::{HttpError, HttpOptions};
use bitbucket_mcp::{BitbucketMcp, ServerOptions};
use bitbucket_toolkit::Toolkit;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{KEY, start, transport};

fn initialize() -> serde_json::Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "0"}
        }
    })
}

async fn post(url: &str, headers: &[(&str, &str)], body: String) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.expect("request").status()
}

#[tokio::test]
async fn requests_are_checked_before_they_reach_mcp() {
    let env = start(ServerOptions::default()).await;
    let url = env.server.url().to_owned();
    let body = initialize().to_string();
    let bearer = format!("Bearer {KEY}");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode);
    let cases: Vec<Case> = vec![
        ("no key", vec![], StatusCode::UNAUTHORIZED),
        (
            "wrong key",
            vec![("x-api-key", "nope")],
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong bearer",
            vec![("authorization", "Bearer nope")],
            StatusCode::UNAUTHORIZED,
        ),
        ("key as x-api-key", vec![("x-api-key", KEY)], StatusCode::OK),
        (
            "key as bearer",
            vec![("authorization", bearer.as_str())],
            StatusCode::OK,
        ),
        (
            "foreign origin, no key",
            vec![("origin", "https://evil.example.com")],
            StatusCode::FORBIDDEN,
        ),
        (
            "foreign origin with key",
            vec![("x-api-key", KEY), ("origin", "https://evil.example.com")],
            StatusCode::FORBIDDEN,
        ),
        (
            "null origin",
            vec![("x-api-key", KEY), ("origin", "null")],
            StatusCode::FORBIDDEN,
        ),
        (
            "loopback origin",
            vec![("x-api-key", KEY), ("origin", "http://localhost:5173")],
            StatusCode::OK,
        ),
        (
            "rebinding host",
            vec![("x-api-key", KEY), ("host", "evil.example.com")],
            StatusCode::FORBIDDEN,
        ),
    ];
    for (name, headers, expected) in cases {
        assert_eq!(post(&url, &headers, body.clone()).await, expected, "{name}");
    }
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    assert_eq!(
        post(&url, &[("x-api-key", KEY)], huge).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // An unparseable body is a JSON-RPC parse error (see `limits.rs` for its body).
    assert_eq!(
        post(&url, &[("x-api-key", KEY)], "{not json".into()).await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn rejections_echo_the_request_id() {
    let env = start(ServerOptions::default()).await;
    let response = reqwest::Client::new()
        .post(env.server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["id"], 7, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("x-api-key")),
        "{body}"
    );
}

#[tokio::test]
async fn a_client_with_the_wrong_key_gets_a_clear_error() {
    use rmcp::ServiceExt as _;
    let env = start(ServerOptions::default()).await;
    let err = ().serve(transport(env.server.url(), Some("wrong"))).await.expect_err("must fail");
    let message = format!("{err:#}");
    assert!(
        message.contains("401") || message.to_lowercase().contains("unauthorized"),
        "{message}"
    );
}

#[tokio::test]
async fn serving_publicly_needs_a_key() {
    let env = start(ServerOptions::default()).await;
    let handler = BitbucketMcp::new(
        Toolkit::new(env.bitbucket.clone()),
        ServerOptions::default(),
    )
    .expect("handler");
    let err = bitbucket_mcp::http::serve(
        handler.clone(),
        HttpOptions::new("0.0.0.0:0".parse().expect("addr")),
    )
    .await
    .expect_err("refused");
    assert!(matches!(err, HttpError::PublicWithoutKey { .. }), "{err}");
    let err = bitbucket_mcp::http::serve(
        handler.clone(),
        HttpOptions::new("127.0.0.1:0".parse().expect("addr")).with_api_key(" ".to_owned().into()),
    )
    .await
    .expect_err("refused");
    assert!(matches!(err, HttpError::EmptyKey), "{err}");
    let err = bitbucket_mcp::http::serve(
        handler,
        HttpOptions::new("127.0.0.1:0".parse().expect("addr"))
            .with_allowed_origins(vec!["evil".into()]),
    )
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("invalid allowed origin"), "{err}");
}

#[tokio::test]
async fn extra_hosts_and_origins_can_be_allowed() {
    let env = start(ServerOptions::default()).await;
    let handler = BitbucketMcp::new(
        Toolkit::new(env.bitbucket.clone()),
        ServerOptions::default(),
    )
    .expect("handler");
    let server = bitbucket_mcp::http::serve(
        handler,
        HttpOptions::new("127.0.0.1:0".parse().expect("addr"))
            .with_allowed_hosts(vec!["mcp.internal".into()])
            .with_allowed_origins(vec!["https://app.example.com".into()]),
    )
    .await
    .expect("server");
    let url = server.url().to_owned();
    let body = initialize().to_string();
    assert_eq!(
        post(&url, &[("host", "mcp.internal")], body.clone()).await,
        StatusCode::OK
    );
    assert_eq!(
        post(&url, &[("host", "other.internal")], body.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&url, &[("origin", "https://app.example.com")], body.clone()).await,
        StatusCode::OK
    );
    assert_eq!(
        post(&url, &[("origin", "https://app.example.com:8443")], body).await,
        StatusCode::FORBIDDEN
    );
    server.shutdown().await;
}

/// The official Python MCP client warns "Session termination failed" unless a session
/// `DELETE` answers 200 or 204; rmcp's own answer is 202.
#[tokio::test]
async fn ending_a_session_answers_no_content() {
    let env = start(ServerOptions::default()).await;
    let url = env.server.url().to_owned();
    let http = reqwest::Client::new();
    let opened = http
        .post(&url)
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize().to_string())
        .send()
        .await
        .expect("initialize");
    assert_eq!(opened.status(), StatusCode::OK);
    let session = opened
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("a 2025-11-25 initialize opens a session")
        .to_owned();
    drop(opened);

    let delete = |session: String| {
        http.delete(&url)
            .header("x-api-key", KEY)
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25")
            .send()
    };
    let ended = delete(session.clone()).await.expect("delete");
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert!(ended.bytes().await.expect("body").is_empty());

    // The session is really gone: a request in it is refused.
    let after = http
        .post(&url)
        .header("x-api-key", KEY)
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string())
        .send()
        .await
        .expect("request after the end");
    assert_eq!(after.status(), StatusCode::NOT_FOUND);
}
