//! `bbagent mcp` driven by a real rmcp client: over stdio as a child process and over
//! Streamable HTTP, in both protocol eras, calling every tool.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use mcp_testkit::{ERAS, Era, connect, connect_http, exercise_every_tool};
use rmcp::transport::TokioChildProcess;

use crate::support::{World, command, run, stderr, tokio_command};

#[tokio::test]
async fn every_tool_over_stdio_in_both_eras() {
    for era in ERAS {
        let world = World::start().await;
        let mut cmd = tokio_command(world.dir.path());
        cmd.args(["mcp", "--destructive", "allow"])
            .env("BITBUCKET_BASE_URL", world.sandbox.base_url())
            .env("BITBUCKET_EMAIL", "demo@example.com")
            .env("BITBUCKET_API_TOKEN", "sandbox-token");
        let child = TokioChildProcess::new(cmd).expect("spawn");
        let (session, _) = connect(child, era, None).await;
        exercise_every_tool(&session, &world.bitbucket).await;
        session.cancel().await.expect("close");
    }
}

/// Starts `bbagent mcp --http` and returns the child and the URL it prints first.
fn spawn_http(world: &World, extra: &[&str]) -> (std::process::Child, String) {
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    let mut child = cmd
        .args(["mcp", "--http", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut url = String::new();
    BufReader::new(stdout)
        .read_line(&mut url)
        .expect("first line");
    (child, url.trim().to_owned())
}

#[tokio::test]
async fn every_tool_over_http_with_an_api_key() {
    let world = World::start().await;
    // A key may start with `-` (random keys do, one in 32).
    let (mut child, url) = spawn_http(&world, &["--api-key", "-k3y", "--destructive", "allow"]);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
        "{url}"
    );
    let (session, _) = connect_http(&url, Some("-k3y"), Era::Stateless, None).await;
    exercise_every_tool(&session, &world.bitbucket).await;
    session.cancel().await.expect("close");
    child.kill().expect("kill");
    let _ = child.wait();
}

#[tokio::test]
async fn the_tool_list_is_stable() {
    let world = World::start().await;
    let (mut child, url) = spawn_http(&world, &[]);
    let (session, _) = connect_http(&url, None, Era::Sessions, None).await;
    let tools = session.list_all_tools().await.expect("list");
    let listed = serde_json::to_value(&tools).expect("json");
    insta::assert_json_snapshot!("tools_list", listed);
    session.cancel().await.expect("close");
    child.kill().expect("kill");
    let _ = child.wait();
}

#[test]
fn without_a_bitbucket_mcp_says_how_to_configure_one() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(dir.path(), &["mcp"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no Bitbucket to talk to"), "{err}");
    assert!(
        err.contains("BITBUCKET_API_TOKEN") && err.contains("--sandbox"),
        "{err}"
    );
}

#[test]
fn a_public_address_needs_an_api_key() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(
        dir.path(),
        &[
            "mcp",
            "--http",
            "0.0.0.0:0",
            "--sandbox",
            "--sandbox-dir",
            "sb",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("without an API key"), "{err}");
    assert!(err.contains("hint: pass `--api-key"), "{err}");
}

#[test]
fn bad_scope_flags_are_usage_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(
        dir.path(),
        &["mcp", "--sandbox", "--toolsets", "branches,nope"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nope"));
    let out = run(dir.path(), &["mcp", "--sandbox", "--destructive", "maybe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("confirm"));
    let out = run(
        dir.path(),
        &[
            "mcp",
            "--sandbox",
            "--sandbox-dir",
            "sb",
            "--tools",
            "BITBUCKET_NOPE",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown tool `BITBUCKET_NOPE`"),
        "{}",
        stderr(&out)
    );
}
