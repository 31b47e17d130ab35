//! What an outside probe found: unfinished requests, unbounded sessions, and refusals that
//! were not JSON-RPC. Raw requests on real sockets, with short configured limits.

use std::time::Duration;

use bitbucket_mcp::ServerOptions;
use bitbucket_mcp::endpoint::SessionLimits;
use bitbucket_mcp::http::Limits;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::{Env, KEY, start_with};

/// Generous: every limit in these tests is a few hundred milliseconds.
const WITHIN: Duration = Duration::from_secs(5);

fn short_limits() -> Limits {
    Limits::default()
        .with_header_timeout(Duration::from_millis(200))
        .with_body_timeout(Duration::from_millis(200))
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "0"}
        }
    })
}

/// Posts `body` with `content_type`; the status, the session header and the JSON-RPC answer
/// (read from an SSE `data:` line when the answer is a stream).
async fn post(
    env: &Env,
    session: Option<&str>,
    content_type: &str,
    body: String,
) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(env.server.url())
        .header("x-api-key", KEY)
        .header("content-type", content_type)
        .header("accept", "application/json, text/event-stream")
        .body(body);
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let response = tokio::time::timeout(WITHIN, request.send())
        .await
        .expect("answered")
        .expect("request");
    let status = response.status();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = tokio::time::timeout(WITHIN, response.text())
        .await
        .expect("body ended")
        .expect("body");
    let json = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .find(|data| !data.is_empty())
        .unwrap_or(&text);
    let value = if json.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, session, value)
}

async fn open_session(env: &Env) -> (StatusCode, Option<String>, Value) {
    post(env, None, "application/json", initialize().to_string()).await
}

async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(WITHIN, stream.read_to_end(&mut seen)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn unfinished_requests_are_closed() {
    let env = start_with(ServerOptions::default(), |http| {
        http.with_limits(short_limits())
    })
    .await;
    let addr = env.server.addr();

    let mut half_sent = TcpStream::connect(addr).await.expect("connect");
    half_sent
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nx-api-key: ")
        .await
        .expect("write");
    let said = read_until_closed(&mut half_sent).await;
    assert!(!said.contains("200"), "{said}");

    let mut slow_body = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nx-api-key: {KEY}\r\n\
         content-type: application/json\r\naccept: application/json, text/event-stream\r\n\
         content-length: 500\r\n\r\n{{\"jsonrpc\""
    );
    slow_body.write_all(head.as_bytes()).await.expect("write");
    let said = read_until_closed(&mut slow_body).await;
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("\"code\":-32600"), "{said}");
}

#[tokio::test]
async fn slow_clients_beyond_the_cap_do_not_stop_the_server() {
    let env = start_with(ServerOptions::default(), |http| {
        http.with_limits(short_limits().with_max_connections(4))
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(env.server.addr())
            .await
            .expect("connect");
        let _ = stream.write_all(b"POST /mcp HTTP/1.1\r\nHost: x\r\n").await;
        slow.push(stream);
    }
    let (status, session, _) = tokio::time::timeout(Duration::from_secs(20), open_session(&env))
        .await
        .expect("the server stopped answering");
    assert_eq!(status, StatusCode::OK);
    assert!(session.is_some());
}

#[tokio::test]
async fn idle_sessions_expire_and_a_new_one_can_start() {
    let sessions = SessionLimits::default().with_idle(Duration::from_millis(300));
    let env = start_with(ServerOptions::default(), |http| {
        http.with_sessions(sessions)
    })
    .await;
    let (status, session, _) = open_session(&env).await;
    assert_eq!(status, StatusCode::OK);
    let session = session.expect("a session id");
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
    let (status, _, answer) = post(&env, Some(&session), "application/json", list.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["result"]["tools"].is_array(), "{answer}");

    // Each probe is activity, so each waits well past the idle time.
    let mut expired = None;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        let (status, _, answer) =
            post(&env, Some(&session), "application/json", list.clone()).await;
        if status == StatusCode::NOT_FOUND {
            expired = Some(answer);
            break;
        }
    }
    let answer = expired.expect("the idle session did not expire");
    assert_eq!(answer["error"]["code"], -32001, "{answer}");
    assert_eq!(answer["id"], 2, "{answer}");

    let (status, again, _) = open_session(&env).await;
    assert_eq!(status, StatusCode::OK);
    assert!(again.is_some_and(|id| id != session));
}

#[tokio::test]
async fn sessions_per_key_are_bounded_with_a_clear_error() {
    let sessions = SessionLimits::default().with_max_per_key(2);
    let env = start_with(ServerOptions::default(), |http| {
        http.with_sessions(sessions)
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let (status, session, _) = open_session(&env).await;
        assert_eq!(status, StatusCode::OK);
        open.push(session.expect("a session id"));
    }
    let (status, session, answer) = open_session(&env).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!(session.is_none());
    assert_eq!(answer["id"], 1, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("the limit is 2"), "{message}");
    assert!(message.contains("--max-sessions-per-key"), "{message}");

    // Ending one makes room.
    let ended = reqwest::Client::new()
        .delete(env.server.url())
        .header("x-api-key", KEY)
        .header("mcp-session-id", &open[0])
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .expect("delete");
    assert!(ended.status().is_success());
    let (status, _, answer) = open_session(&env).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn malformed_messages_get_jsonrpc_errors() {
    let env = start_with(ServerOptions::default(), |http| http).await;
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}).to_string();
    let cases = [
        (
            "application/json",
            "{not json".to_owned(),
            StatusCode::BAD_REQUEST,
            -32700,
        ),
        (
            "text/plain",
            ping.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            -32700,
        ),
        (
            "application/x-www-form-urlencoded",
            ping,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            -32700,
        ),
        (
            "application/json",
            r#"{"hello": 1}"#.to_owned(),
            StatusCode::BAD_REQUEST,
            -32600,
        ),
    ];
    for (content_type, body, status, code) in cases {
        let (seen, _, answer) = post(&env, None, content_type, body.clone()).await;
        assert_eq!(seen, status, "{content_type} {body}: {answer}");
        assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
        assert_eq!(
            answer["error"]["code"], code,
            "{content_type} {body}: {answer}"
        );
    }
}

#[tokio::test]
async fn a_tool_call_with_malformed_params_is_invalid_params() {
    let env = start_with(ServerOptions::default(), |http| http).await;
    let (_, session, _) = open_session(&env).await;
    let session = session.expect("a session id");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _, _) = post(
        &env,
        Some(&session),
        "application/json",
        initialized.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for params in [
        json!({"name": "BITBUCKET_LIST_WORKSPACES", "arguments": "not an object"}),
        json!({"name": 5}),
        json!({}),
    ] {
        let call = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": params});
        let (status, _, answer) =
            post(&env, Some(&session), "application/json", call.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["id"], 4, "{answer}");
        assert_eq!(answer["error"]["code"], -32602, "{params}: {answer}");
    }
    let unknown = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/frobnicate"});
    let (_, _, answer) = post(
        &env,
        Some(&session),
        "application/json",
        unknown.to_string(),
    )
    .await;
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
}

#[tokio::test]
async fn a_session_is_not_idle_while_a_call_runs() {
    let sessions = SessionLimits::default().with_idle(Duration::from_millis(300));
    let env = start_with(ServerOptions::default(), |http| {
        http.with_sessions(sessions)
    })
    .await;
    let (status, session, _) = open_session(&env).await;
    assert_eq!(status, StatusCode::OK);
    let session = session.expect("a session id");
    // Bitbucket takes three idle times to answer.
    env._sandbox
        .set_faults("slow=1,delay=900ms".parse().expect("faults"));
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "BITBUCKET_GET_CURRENT_USER", "arguments": {}}})
    .to_string();
    let (status, _, answer) = post(&env, Some(&session), "application/json", call).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["id"], 2, "{answer}");
    assert!(answer["result"]["content"].is_array(), "{answer}");
    assert_ne!(answer["result"]["isError"], true, "{answer}");
    env._sandbox.set_faults(Default::default());

    // Once the call is over, the idle time counts again.
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}).to_string();
    let mut expired = false;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        let (status, _, _) = post(&env, Some(&session), "application/json", list.clone()).await;
        if status == StatusCode::NOT_FOUND {
            expired = true;
            break;
        }
    }
    assert!(expired, "the session never expired after its call");
}
