//! The router's limits (issue 14's probe): an unfinished request is closed, the MCP sessions
//! of one API key are bounded, and a malformed message is a JSON-RPC error.

use std::time::Duration;

use bitbucket_mcp::endpoint::SessionLimits;
use bitbucket_mcp::http::Limits;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::start_with;

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let env = start_with(|config| {
        config.limits = Limits::default().with_header_timeout(Duration::from_millis(200));
    })
    .await;
    let addr = env.router.as_ref().expect("running").addr();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"POST /api/v3.1/tool_router/session HTTP/1.1\r\nHost: localhost\r\nx-api-key: ")
        .await
        .expect("write");
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut seen)).await;
    assert!(read.is_ok(), "the router kept a half-sent request open");
}

#[tokio::test]
async fn sessions_per_key_are_bounded_and_refusals_are_jsonrpc() {
    let env = start_with(|config| {
        config.sessions = SessionLimits::default().with_max_per_key(2);
    })
    .await;
    let id = env.session("u1").await;
    let url = format!("{}/tool_router/{id}/mcp", env.url());
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let post = |body: String| {
        env.http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("x-api-key", &env.key)
            .body(body)
            .send()
    };
    for _ in 0..2 {
        let answer = post(init.to_string()).await.expect("send");
        assert_eq!(answer.status(), 200);
        assert!(answer.headers().contains_key("mcp-session-id"));
    }
    let refused = post(init.to_string()).await.expect("send");
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], -32000, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the limit is 2")),
        "{body}"
    );

    let malformed = post("{not json".to_owned()).await.expect("send");
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.expect("json");
    assert_eq!(body["error"]["code"], -32700, "{body}");
}
