//! Graceful shutdown: on SIGTERM or SIGINT each server (`sandbox`, `mcp --http`, `router`,
//! and `mcp` on stdio) stops accepting, answers the call in flight and exits 0 within its
//! drain timeout; a call still running after that gets a clear error, not silence.

use std::process::Stdio;
use std::time::Duration;

use bitbucket_client::ListParams;
use bitbucket_sandbox::FaultConfig;
use mcp_testkit::{Era, Session, connect_http, ok};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::{
    RouterUser, Running, World, command, exited_within, repo, send_signal, serve, tokio_command,
};

/// Generous: the drain timeout is 10 s and a slow answer 2 s.
const EXIT_WITHIN: Duration = Duration::from_secs(20);

/// Every request to the sandbox waits this long before it is processed.
fn slow(delay: &str) -> FaultConfig {
    format!("slow=1,delay={delay}").parse().expect("faults")
}

/// `host:port` of a URL such as `http://127.0.0.1:8000/mcp`.
fn authority(url: &str) -> &str {
    let rest = url.strip_prefix("http://").expect("http URL");
    rest.split('/').next().expect("authority")
}

/// Whether new connections to `url`'s address are refused within a few seconds.
async fn refuses_connections(url: &str) -> bool {
    for _ in 0..100 {
        if TcpStream::connect(authority(url)).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Sends `signal` once a call has had time to reach the server, then checks that the server
/// refuses new connections and exits 0.
async fn stop_amid_call(server: &mut Running, url: &str, signal: &str) {
    tokio::time::sleep(Duration::from_millis(600)).await;
    send_signal(server, signal).await;
    assert!(
        refuses_connections(url).await,
        "still accepting after SIG{signal}"
    );
    let status = exited_within(server, EXIT_WITHIN).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "after SIG{signal}: {status:?}"
    );
}

fn create_issue_call(title: &str) -> CallToolRequestParams {
    let args = json!({"workspace": "acme", "repo_slug": "widgets", "title": title});
    CallToolRequestParams::new("BITBUCKET_CREATE_ISSUE")
        .with_arguments(args.as_object().cloned().expect("object"))
}

/// How many issues of acme/widgets have `title`.
async fn issues_titled(world: &World, title: &str) -> usize {
    let query = ListParams::new().q(format!("title = \"{title}\""));
    world
        .bitbucket
        .list_issues(&repo("acme", "widgets"), &query)
        .await
        .expect("list issues")
        .values
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_http_answers_the_call_in_flight_then_exits_0() {
    for (era, signal) in [(Era::Sessions, "TERM"), (Era::Stateless, "INT")] {
        let world = World::start().await;
        let mut cmd = command(world.dir.path());
        world.env(&mut cmd);
        cmd.args(["mcp", "--http", "127.0.0.1:0"])
            .stderr(Stdio::null());
        let (mut server, url) = serve(cmd);
        let (session, _) = connect_http(&url, None, era, None).await;
        world.sandbox.set_faults(slow("2s"));
        let title = format!("in flight {era:?}");
        let call = tokio::spawn({
            let session: Session = session;
            let params = create_issue_call(&title);
            async move { (session.call_tool(params).await, session) }
        });
        stop_amid_call(&mut server, &url, signal).await;
        let (answer, session) = call.await.expect("call task");
        let answer = answer.unwrap_or_else(|e| panic!("{era:?}: the call in flight failed: {e}"));
        ok("BITBUCKET_CREATE_ISSUE", &answer);
        world.sandbox.set_faults(FaultConfig::default());
        assert_eq!(issues_titled(&world, &title).await, 1, "{era:?}");
        drop(session);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_beyond_the_drain_timeout_gets_an_error_and_the_server_still_exits_0() {
    let world = World::start().await;
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    cmd.args(["mcp", "--http", "127.0.0.1:0", "--drain-timeout", "300ms"])
        .stderr(Stdio::null());
    let (mut server, url) = serve(cmd);
    let (session, _) = connect_http(&url, None, Era::Stateless, None).await;
    world.sandbox.set_faults(slow("20s"));
    let call = tokio::spawn(async move {
        let answer = session.call_tool(create_issue_call("cut off")).await;
        (answer, session)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_signal(&server, "TERM").await;
    // Well before the sandbox would answer.
    let status = exited_within(&mut server, Duration::from_secs(8)).await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let (answer, _session) = tokio::time::timeout(Duration::from_secs(8), call)
        .await
        .expect("the client was left waiting")
        .expect("call task");
    assert!(answer.is_err(), "{answer:?}");
    world.sandbox.set_faults(FaultConfig::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_answers_the_call_in_flight_then_exits_0() {
    let world = World::start().await;
    let mut router = RouterUser::start(&world, &[]).await;
    let (session, _) = connect_http(&router.mcp_url, Some(&router.key), Era::Sessions, None).await;
    world.sandbox.set_faults(slow("2s"));
    let args = json!({"tools": [{"tool_slug": "BITBUCKET_CREATE_ISSUE", "arguments":
        {"workspace": "acme", "repo_slug": "widgets", "title": "routed in flight"}}]});
    let call = tokio::spawn(async move {
        let answer = session
            .call_tool(
                CallToolRequestParams::new("COMPOSIO_MULTI_EXECUTE_TOOL")
                    .with_arguments(args.as_object().cloned().expect("object")),
            )
            .await;
        (answer, session)
    });
    let url = router.url.clone();
    stop_amid_call(&mut router.running, &url, "INT").await;
    let (answer, _session) = call.await.expect("call task");
    let answer = ok(
        "COMPOSIO_MULTI_EXECUTE_TOOL",
        &answer.expect("the call in flight"),
    );
    assert_eq!(answer["data"]["success_count"], 1, "{answer}");
    world.sandbox.set_faults(FaultConfig::default());
    assert_eq!(issues_titled(&world, "routed in flight").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_answers_the_write_in_flight_exits_0_and_reopens_cleanly() {
    let dir = tempfile::tempdir().expect("dir");
    let start = |faults: &str| {
        let mut cmd = command(dir.path());
        cmd.args(["sandbox", "--listen", "127.0.0.1:0", "--data-dir", "data"])
            .args(["--faults", faults])
            .stderr(Stdio::null());
        serve(cmd)
    };
    let (mut sandbox, base) = start("slow=1,delay=2s");
    let http = reqwest::Client::new();
    let post = http
        .post(format!("{base}/repositories/acme/widgets/issues"))
        .basic_auth("demo@example.com", Some("sandbox-token"))
        .json(&json!({"title": "written while stopping"}))
        .send();
    let post = tokio::spawn(post);
    stop_amid_call(&mut sandbox, &base, "TERM").await;
    let answer = post.await.expect("task").expect("the write in flight");
    assert_eq!(answer.status(), reqwest::StatusCode::CREATED);
    let created: Value = answer.json().await.expect("json");

    let (_sandbox, base) = start("slow=0");
    let issue: Value = http
        .get(format!(
            "{base}/repositories/acme/widgets/issues/{}",
            created["id"]
        ))
        .basic_auth("demo@example.com", Some("sandbox-token"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(issue["title"], "written while stopping", "{issue}");
}

#[tokio::test]
async fn mcp_over_stdio_exits_0_on_end_of_input_and_on_sigterm() {
    let world = World::start().await;
    for signal in [None, Some("TERM")] {
        let mut cmd = tokio_command(world.dir.path());
        cmd.arg("mcp")
            .env("BITBUCKET_BASE_URL", world.sandbox.base_url())
            .env("BITBUCKET_EMAIL", "demo@example.com")
            .env("BITBUCKET_API_TOKEN", "sandbox-token")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        // A request proves the server is up (and its signal handler in place).
        stdin
            .write_all(
                br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}
"#,
            )
            .await
            .expect("write");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next_line().await.expect("read").expect("an answer");
        assert!(first.contains("\"id\":1"), "{first}");
        match signal {
            None => drop(stdin),
            Some(signal) => {
                let pid = child.id().expect("pid").to_string();
                let sent = tokio::process::Command::new("kill")
                    .args([format!("-{signal}"), pid])
                    .status()
                    .await
                    .expect("kill");
                assert!(sent.success());
            }
        }
        let status = tokio::time::timeout(EXIT_WITHIN, child.wait())
            .await
            .expect("the stdio server did not exit")
            .expect("wait");
        assert!(status.success(), "{signal:?}: {status:?}");
    }
}
