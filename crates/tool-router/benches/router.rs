//! What the tool router costs: sessions created per second over the REST API, the overhead
//! of one tool call through `COMPOSIO_MULTI_EXECUTE_TOOL` against the same call through the
//! plain MCP server (`bbagent mcp`'s), and the size of `tools/list` for a router session
//! against the plain server, in bytes and o200k tokens. Everything runs in this process over
//! loopback against a sandbox. Run with `cargo bench -p tool-router --bench router` (or
//! `./scripts/bench`); `-- --quick` for a smoke run. Writes `target/bench-router.md`.

use std::time::{Duration, Instant};

use bitbucket_client::{Auth, Client, ClientConfig};
use bitbucket_mcp::http::HttpOptions;
use bitbucket_mcp::{BitbucketMcp, DestructivePolicy, ServerOptions};
use bitbucket_sandbox::{DEMO_EMAIL, DEMO_TOKEN, Sandbox, SandboxConfig};
use bitbucket_toolkit::Toolkit;
use mcp_testkit::{Era, Session, call, connect_http};
use serde_json::{Value, json};
use tool_router::RouterConfig;
use tool_router::store::Store;

const DIRECT_KEY: &str = "bench-direct-key";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn time_calls(session: &Session, rounds: usize, name: &str, args: &Value) -> Duration {
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let result = call(session, name, args.clone()).await;
        samples.push(started.elapsed());
        assert_ne!(result.is_error, Some(true), "{name} failed: {result:?}");
    }
    median(samples)
}

async fn tools_list(session: &Session) -> (usize, String) {
    let tools = session.list_all_tools().await.expect("tools/list");
    let text = serde_json::to_string(&json!({"tools": tools})).expect("json");
    (tools.len(), text)
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 20 } else { 300 };
    let sessions = if quick { 20 } else { 500 };

    let sandbox_dir = tempfile::tempdir().expect("dir");
    let router_dir = tempfile::tempdir().expect("dir");
    let sandbox = Sandbox::start(SandboxConfig::new(sandbox_dir.path()))
        .await
        .expect("sandbox");
    let demo = Client::new(
        ClientConfig::new(sandbox.base_url()).with_auth(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN)),
    )
    .expect("client");
    let mut config = RouterConfig::new("127.0.0.1:0".parse().expect("addr"), router_dir.path());
    config.master_key = Some("ab".repeat(32));
    let router = tool_router::start(config, Toolkit::new(demo.clone()))
        .await
        .expect("router");
    let store = Store::open(router_dir.path()).await.expect("store");
    let (key, _) = store.create_key("bench", None).await.expect("key");
    let http = reqwest::Client::new();
    let api = format!("{}/api/v3.1/tool_router/session", router.url());

    // 1. Sessions created per second, one after another.
    let body = json!({"user_id": "u1", "toolkits": {"enable": ["bitbucket"]}, "manage_connections": {"enable": true}});
    let started = Instant::now();
    let mut id = String::new();
    for _ in 0..sessions {
        let created: Value = http
            .post(&api)
            .header("x-api-key", &key)
            .json(&body)
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        id = created["session_id"].as_str().expect("id").to_owned();
    }
    let per_second = sessions as f64 / started.elapsed().as_secs_f64();

    // The user connects through the auth link, as in the reference flow.
    let link: Value = http
        .post(format!("{api}/{id}/link"))
        .header("x-api-key", &key)
        .json(&json!({"toolkit": "bitbucket"}))
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    let page = http
        .post(link["redirect_url"].as_str().expect("url"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email=demo%40example.com&api_token={DEMO_TOKEN}"))
        .send()
        .await
        .expect("form");
    assert!(page.status().is_success());

    // 2. One call through the router against the same call through the plain MCP server.
    let direct = bitbucket_mcp::http::serve(
        BitbucketMcp::new(
            Toolkit::new(demo),
            ServerOptions {
                destructive: DestructivePolicy::Allow,
                ..ServerOptions::default()
            },
        )
        .expect("handler"),
        HttpOptions::new("127.0.0.1:0".parse().expect("addr"))
            .with_api_key(DIRECT_KEY.to_owned().into()),
    )
    .await
    .expect("direct server");
    let (plain, _) = connect_http(direct.url(), Some(DIRECT_KEY), Era::Sessions, None).await;
    let mcp_url = format!("{}/tool_router/{id}/mcp", router.url());
    let (routed, _) = connect_http(&mcp_url, Some(&key), Era::Sessions, None).await;
    let args = json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1});
    let batch = json!({"tools": [{"tool_slug": "BITBUCKET_GET_PULL_REQUEST", "arguments": args}]});
    // Warm both paths first.
    time_calls(&plain, 3, "BITBUCKET_GET_PULL_REQUEST", &args).await;
    time_calls(&routed, 3, "COMPOSIO_MULTI_EXECUTE_TOOL", &batch).await;
    let plain_call = time_calls(&plain, rounds, "BITBUCKET_GET_PULL_REQUEST", &args).await;
    let routed_call = time_calls(&routed, rounds, "COMPOSIO_MULTI_EXECUTE_TOOL", &batch).await;

    // 3. tools/list: the router's meta-tools against the whole catalogue.
    let bpe = tiktoken_rs::o200k_base().expect("o200k_base");
    let (plain_tools, plain_text) = tools_list(&plain).await;
    let (routed_tools, routed_text) = tools_list(&routed).await;
    let tokens = |text: &str| bpe.encode_ordinary(text).len();

    let report = format!(
        "# Tool router benchmark\n\n\
{mode} run, sequential requests over loopback against an in-process sandbox.\n\n\
| measure | value |\n|---|---|\n\
| sessions created per second (REST, one at a time, {sessions} sessions) | {per_second:.0} |\n\
| `BITBUCKET_GET_PULL_REQUEST` through `bbagent mcp` (median of {rounds}) | {plain:.2} ms |\n\
| the same through `COMPOSIO_MULTI_EXECUTE_TOOL` (median of {rounds}) | {routed:.2} ms |\n\
| overhead of the router per call | {overhead:+.2} ms |\n\
| `tools/list`, plain server ({plain_tools} tools) | {plain_bytes} bytes, {plain_tokens} tokens |\n\
| `tools/list`, router session ({routed_tools} tools) | {routed_bytes} bytes, {routed_tokens} tokens |\n\n\
Tokens: `tiktoken-rs` o200k_base over the compact JSON of the tool list.\n",
        mode = if quick { "Quick (smoke)" } else { "Full" },
        plain = millis(plain_call),
        routed = millis(routed_call),
        overhead = millis(routed_call) - millis(plain_call),
        plain_bytes = plain_text.len(),
        plain_tokens = tokens(&plain_text),
        routed_bytes = routed_text.len(),
        routed_tokens = tokens(&routed_text),
    );
    print!("{report}");
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").to_owned());
    let path = std::path::Path::new(&target).join("bench-router.md");
    if let Err(e) = std::fs::write(&path, &report) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    let _ = plain.cancel().await;
    let _ = routed.cancel().await;
    direct.shutdown().await;
    router.shutdown().await;
    store.close().await;
    sandbox.shutdown().await;
}
