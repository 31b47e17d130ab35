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

/// Tool calls over a user's rate get 429 with `Retry-After` on REST and a result saying when
/// to retry on MCP; another user's calls go on.
#[tokio::test]
async fn tool_calls_over_the_rate_are_refused_with_when_to_retry() {
    use bitbucket_sandbox::ALICE_TOKEN;
    use serde_json::json;
    let env = crate::support::start_with(|config| {
        config.rate_limits.per_user = Some(tool_router::limits::Rate { per_minute: 3 });
    })
    .await;
    let alice = env.session("alice").await;
    env.connect_with(&alice, ALICE_TOKEN).await;
    let call = json!({"tool_slug": "BITBUCKET_GET_CURRENT_USER", "arguments": {}});
    for _ in 0..3 {
        let (status, body) = env.post(&format!("/{alice}/execute"), call.clone()).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    }
    let over = env
        .http
        .post(format!(
            "{}/api/v3.1/tool_router/session/{alice}/execute",
            env.base()
        ))
        .header("x-api-key", &env.key)
        .json(&call)
        .send()
        .await
        .expect("post");
    assert_eq!(over.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = over.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=20).contains(&wait), "{wait}");
    let body: serde_json::Value = over.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("try again in")),
        "{body}"
    );
    let url = format!("{}/tool_router/{alice}/mcp", env.url());
    let (s, _) =
        mcp_testkit::connect_http(&url, Some(&env.key), mcp_testkit::Era::Stateless, None).await;
    let result = mcp_testkit::call(
        &s,
        "COMPOSIO_SEARCH_TOOLS",
        json!({"queries": [{"use_case": "list branches"}]}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        mcp_testkit::text(&result).contains("rate limited"),
        "{}",
        mcp_testkit::text(&result)
    );
    s.cancel().await.expect("close");
    let bob = env.session("bob").await;
    let (status, _) = env
        .post(&format!("/{bob}/execute_meta"), json!({"slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {"queries": [{"use_case": "list branches"}]}}))
        .await;
    assert_eq!(
        status,
        reqwest::StatusCode::OK,
        "another user is not limited"
    );
}
