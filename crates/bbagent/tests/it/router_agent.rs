//! `bbagent ask --router`: the agent on a session of a running `bbagent router`, the model
//! scripted, Bitbucket played by an in-process sandbox the router talks to.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use llm_script::{Entry, Provider, ScriptedLlm, Turn};
use serde_json::json;

use crate::support::{World, command, repo, stderr, stdout, tokio_command};

/// A `bbagent router` on its own data folder, killed when the test ends.
struct Router {
    child: std::process::Child,
    url: String,
    data: String,
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Router {
    fn start(world: &World) -> Self {
        let data = world.dir.path().join("router");
        let data = data.to_str().expect("utf-8 path").to_owned();
        let mut cmd = command(world.dir.path());
        world.env(&mut cmd);
        let mut child = cmd
            .args(["router", "--listen", "127.0.0.1:0", "--data-dir", &data])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let out = child.stdout.take().expect("stdout");
        let mut router = Self {
            child,
            url: String::new(),
            data,
        };
        BufReader::new(out)
            .read_line(&mut router.url)
            .expect("first line");
        router.url = router.url.trim().to_owned();
        assert!(
            router.url.starts_with("http://127.0.0.1:"),
            "{}",
            router.url
        );
        router
    }

    /// A new API key, and user `user` connected as the sandbox's demo user.
    fn key_with_user(&self, world: &World, user: &str) -> String {
        let key = self
            .admin(world, &["keys", "create", "--name", "agent"])
            .trim()
            .to_owned();
        self.admin(
            world,
            &[
                "connect",
                "--user-id",
                user,
                "--email",
                "demo@example.com",
                "--api-token",
                "sandbox-token",
            ],
        );
        key
    }

    /// `bbagent router ARGS --data-dir DATA`, which must succeed; its stdout.
    fn admin(&self, world: &World, args: &[&str]) -> String {
        let mut cmd = command(world.dir.path());
        world.env(&mut cmd);
        let out = cmd
            .arg("router")
            .args(args)
            .args(["--data-dir", &self.data])
            .output()
            .expect("bbagent router runs");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }
}

async fn ask(world: &World, llm: &ScriptedLlm, args: &[&str]) -> std::process::Output {
    let mut cmd = tokio_command(world.dir.path());
    cmd.env("OPENAI_API_KEY", llm.api_key().unwrap_or("none"))
        .args([
            "ask",
            "--model",
            "openai:gpt-5",
            "--base-url",
            &llm.base_url(),
        ])
        .args(args);
    cmd.output().await.expect("bbagent runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_creates_a_branch_through_a_router_session() {
    let world = World::start().await;
    let router = Router::start(&world);
    let key = router.key_with_user(&world, "u1");

    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(Turn::tool_call(
        "COMPOSIO_MULTI_EXECUTE_TOOL",
        json!({"tools": [{
            "tool_slug": "BITBUCKET_CREATE_BRANCH",
            "arguments": {"workspace": "acme", "repo_slug": "widgets", "name": "feature/routed", "target": "main"}
        }], "thought": "Create the branch."}),
    ));
    llm.push_turn(Turn::text("Created feature/routed off main."));
    let out = ask(
        &world,
        &llm,
        &[
            "--router",
            &router.url,
            "--api-key",
            &key,
            "--user-id",
            "u1",
            "create a branch feature/routed off main in acme/widgets",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Created feature/routed off main."),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    let start = format!("tools from the tool router at {} (session ", router.url);
    assert!(
        err.contains(&start) && err.contains(", user u1)"),
        "start-up line: {err}"
    );
    assert!(!err.contains(&key), "the key is on stderr: {err}");

    let main = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .expect("main");
    let made = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "feature/routed")
        .await
        .expect("the branch was created in the sandbox");
    assert_eq!(made.target.map(|c| c.hash), main.target.map(|c| c.hash));

    // The model was offered the router's meta-tools, and read the call's result.
    let requests = llm.requests();
    assert_eq!(requests.len(), 2);
    let offered = requests[0].tool_names();
    for meta in [
        "COMPOSIO_SEARCH_TOOLS",
        "COMPOSIO_MULTI_EXECUTE_TOOL",
        "COMPOSIO_MANAGE_CONNECTIONS",
    ] {
        assert!(offered.iter().any(|n| n == meta), "{meta} in {offered:?}");
    }
    let results = requests[1].tool_results();
    assert_eq!(results.len(), 1);
    match &results[0] {
        Entry::ToolResult { content, .. } => {
            assert!(content.contains("feature/routed"), "{content}")
        }
        other => panic!("not a tool result: {other:?}"),
    }
}

/// The offline model in router mode: it searches, reads the found tools' schemas as its
/// catalogue, and runs the call through `COMPOSIO_MULTI_EXECUTE_TOOL`, with no key at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_model_creates_a_branch_through_a_router_session() {
    let world = World::start().await;
    let router = Router::start(&world);
    let key = router.key_with_user(&world, "u1");
    let local_ask = |user: &str, request: &str| {
        let mut cmd = tokio_command(world.dir.path());
        cmd.env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .args(["ask", "--model", "local", "--router", &router.url])
            .args(["--api-key", &key, "--user-id", user, request]);
        cmd
    };
    let out = local_ask("u1", "create a branch feature/x off main in acme/widgets")
        .output()
        .await
        .expect("bbagent runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("feature/x"), "{}", stdout(&out));
    let main = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .expect("main");
    let made = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "feature/x")
        .await
        .expect("the branch was created in the sandbox");
    assert_eq!(made.target.map(|c| c.hash), main.target.map(|c| c.hash));

    // A user with no connection gets the auth link, and nothing is created.
    let out = local_ask("u2", "create a branch feature/y off main in acme/widgets")
        .output()
        .await
        .expect("bbagent runs");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{}/link/", router.url)) && text.contains("try again"),
        "{text}\n{}",
        stderr(&out)
    );
    assert!(
        world
            .bitbucket
            .get_branch(&repo("acme", "widgets"), "feature/y")
            .await
            .is_err(),
        "no branch without a connection"
    );
}

/// The router asks about destructive calls itself (MCP elicitation); `ask` answers with
/// `--yes`, and refuses without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destructive_call_through_the_router_needs_yes() {
    let world = World::start().await;
    let router = Router::start(&world);
    let key = router.key_with_user(&world, "u1");
    let delete = || {
        Turn::tool_call(
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"tools": [{
                "tool_slug": "BITBUCKET_DELETE_REPOSITORY",
                "arguments": {"workspace": "acme", "repo_slug": "widgets"}
            }]}),
        )
    };
    let router_args = [
        "--router",
        router.url.as_str(),
        "--api-key",
        key.as_str(),
        "--user-id",
        "u1",
    ];

    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(delete());
    llm.push_turn(Turn::text("It was not deleted."));
    let mut args = router_args.to_vec();
    args.push("delete the widgets repository");
    let refused = ask(&world, &llm, &args).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("rerun with `--yes`"),
        "{}",
        stderr(&refused)
    );
    world
        .bitbucket
        .get_repository(&repo("acme", "widgets"))
        .await
        .expect("still there");

    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(delete());
    llm.push_turn(Turn::text("Deleted acme/widgets."));
    let mut args = router_args.to_vec();
    args.extend(["--yes", "delete the widgets repository"]);
    let done = ask(&world, &llm, &args).await;
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        world
            .bitbucket
            .get_repository(&repo("acme", "widgets"))
            .await
            .is_err(),
        "deleted: {}",
        stderr(&done)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_one_clear_line_without_the_key() {
    let world = World::start().await;
    let router = Router::start(&world);
    router.admin(&world, &["keys", "create", "--name", "real"]);
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    let wrong = "bbr_not-the-key-4242";
    let out = ask(
        &world,
        &llm,
        &[
            "--router",
            &router.url,
            "--api-key",
            wrong,
            "--user-id",
            "u1",
            "list branches",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with("error: the tool router at ")
            && lines[0].contains("refused the API key"),
        "{err}"
    );
    assert!(!err.contains(wrong) && !stdout(&out).contains(wrong));
    assert!(llm.requests().is_empty(), "no model call before the tools");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_router_is_one_clear_line() {
    let world = World::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    let out = ask(
        &world,
        &llm,
        &[
            "--router",
            &url,
            "--api-key",
            "bbr_secret-99",
            "--user-id",
            "u1",
            "list branches",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("error: cannot reach the tool router at {url}")),
        "{err}"
    );
    assert!(!err.contains("bbr_secret-99"));
}

#[test]
fn router_flags_go_together_and_not_with_mcp_url() {
    let dir = tempfile::tempdir().expect("dir");
    let without_user = command(dir.path())
        .args([
            "ask",
            "--router",
            "http://127.0.0.1:1",
            "--api-key",
            "k-hidden-1",
            "hi",
        ])
        .output()
        .expect("runs");
    assert_eq!(without_user.status.code(), Some(2));
    assert!(stderr(&without_user).contains("--user-id"));
    assert!(!stderr(&without_user).contains("k-hidden-1"));

    let both = command(dir.path())
        .args([
            "chat",
            "--router",
            "http://127.0.0.1:1",
            "--api-key",
            "k",
            "--user-id",
            "u1",
            "--mcp-url",
            "http://127.0.0.1:2/mcp",
        ])
        .output()
        .expect("runs");
    assert_eq!(both.status.code(), Some(2));
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );

    // The embedded router (`--tool-mode router`) is neither another router nor an MCP server.
    for other in [
        &[
            "--router",
            "http://127.0.0.1:1",
            "--api-key",
            "k",
            "--user-id",
            "u1",
        ][..],
        &["--mcp-url", "http://127.0.0.1:2/mcp"][..],
    ] {
        let out = command(dir.path())
            .args(["ask", "--tool-mode", "router"])
            .args(other)
            .arg("hi")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{other:?}");
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
    let wrong = command(dir.path())
        .args(["ask", "--tool-mode", "routed", "hi"])
        .output()
        .expect("runs");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("direct, router"),
        "{}",
        stderr(&wrong)
    );
}

/// `chat` takes the same settings from the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_on_a_router_session_from_the_environment() {
    use tokio::io::AsyncWriteExt as _;

    let world = World::start().await;
    let router = Router::start(&world);
    let key = router
        .admin(&world, &["keys", "create", "--name", "chat"])
        .trim()
        .to_owned();
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(Turn::text("Hello from the router session."));
    let mut cmd = tokio_command(world.dir.path());
    cmd.env("OPENAI_API_KEY", llm.api_key().unwrap_or("none"))
        .env("XDG_DATA_HOME", world.dir.path().join("data"))
        .env("BBAGENT_ROUTER_URL", &router.url)
        .env("BBAGENT_ROUTER_API_KEY", &key)
        .env("BBAGENT_USER_ID", "u2")
        .args([
            "chat",
            "--model",
            "openai:gpt-5",
            "--base-url",
            &llm.base_url(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"hello\nexit\n").await.expect("write");
    drop(stdin);
    let out = child.wait_with_output().await.expect("chat runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let start = format!(
        "Using openai:gpt-5 with tools from the tool router at {} (session ",
        router.url
    );
    assert!(
        text.contains(&start) && text.contains(", user u2)"),
        "{text}"
    );
    assert!(text.contains("Hello from the router session."), "{text}");
    assert!(!text.contains(&key) && !stderr(&out).contains(&key));
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0]
            .tool_names()
            .iter()
            .any(|n| n == "COMPOSIO_SEARCH_TOOLS")
    );
}
