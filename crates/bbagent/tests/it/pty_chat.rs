//! `bbagent chat` in a pseudo-terminal, as a user meets it: the reference design's four
//! requests on both providers, tools from a separate `bbagent mcp --http` with an API key, a
//! conversation saved in one process and continued in another, approval, and Ctrl-C.
//!
//! The model is the scripted LLM; Bitbucket is the in-process sandbox, checked through the
//! client or its REST API after each request.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bitbucket_sandbox::FaultConfig;
use llm_script::{Entry, Provider, ScriptedLlm, Turn};
use serde_json::{Value, json};

use crate::pty::Pty;
use crate::support::{World, command, repo};

fn model(provider: Provider) -> (&'static str, &'static str) {
    match provider {
        Provider::OpenAi => ("openai:gpt-5", "OPENAI_API_KEY"),
        Provider::Anthropic => ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
    }
}

/// The command for `bbagent chat` on `llm`, against the world's sandbox as Bitbucket, with
/// the input history kept in the test's folder. `NO_COLOR` is off: answers render as styled
/// Markdown, as on a user's terminal.
fn chat_command(world: &World, llm: &ScriptedLlm, extra: &[&str]) -> Command {
    let (model, key_var) = model(llm.provider());
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    cmd.env_remove("NO_COLOR")
        .env(key_var, llm.api_key().unwrap_or("none"))
        .env("XDG_DATA_HOME", world.dir.path().join("data"))
        .args(["chat", "--model", model, "--base-url", &llm.base_url()])
        .args(extra);
    cmd
}

/// Starts the chat and waits for its first prompt.
async fn start_chat(world: &World, llm: &ScriptedLlm, extra: &[&str]) -> Pty {
    start(&chat_command(world, llm, extra)).await
}

pub(crate) async fn start(cmd: &Command) -> Pty {
    let mut chat = Pty::spawn(cmd);
    chat.expect("Chat started! Type 'exit' or 'quit' to end.")
        .await;
    chat.prompt().await;
    chat
}

pub(crate) async fn leave(mut chat: Pty) {
    chat.send_line("exit").await;
    chat.expect("Bye.").await;
    let status = chat.wait_exit().await;
    assert!(status.success(), "exit status {}", status.exit_code());
}

fn widgets(args: Value) -> Value {
    let mut all = json!({"workspace": "acme", "repo_slug": "widgets"});
    if let (Some(all), Value::Object(args)) = (all.as_object_mut(), args) {
        all.extend(args);
    }
    all
}

/// Every tool result the model was sent in `llm`'s last request, as one string.
fn results_seen(llm: &ScriptedLlm) -> String {
    format!(
        "{:?}",
        llm.requests().last().expect("a request").tool_results()
    )
}

pub(crate) async fn issue_comments(world: &World, issue: u64) -> Vec<String> {
    let url = format!(
        "{}/repositories/acme/widgets/issues/{issue}/comments",
        world.sandbox.base_url()
    );
    let page: Value = reqwest::Client::new()
        .get(url)
        .basic_auth("demo@example.com", Some("sandbox-token"))
        .send()
        .await
        .expect("comments answer")
        .json()
        .await
        .expect("comments JSON");
    page["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|c| c["content"]["raw"].as_str().map(str::to_owned))
        .collect()
}

/// The reference design's four requests, one after the other in one chat.
async fn reference_requests(provider: Provider) {
    let world = World::start().await;
    let llm = ScriptedLlm::start(provider).await.expect("llm");
    let readme = world
        .bitbucket
        .get_file(&repo("acme", "widgets"), Some("main"), "README.md")
        .await
        .expect("README")
        .into_file()
        .expect("a file");
    let readme = readme.text().expect("utf-8").to_owned();
    llm.push_turns([
        Turn::text("Creating it.").with_tool_call(
            "BITBUCKET_CREATE_BRANCH",
            widgets(json!({"name": "feature/pty", "target": "main"})),
        ),
        Turn::text("Created **feature/pty** off `main`."),
        Turn::tool_call(
            "BITBUCKET_CREATE_PULL_REQUEST",
            widgets(json!({
                "title": "Add the login form to develop",
                "source_branch": "feature/login",
                "destination_branch": "develop"
            })),
        ),
        Turn::text("Opened pull request #2 from feature/login into develop."),
        Turn::tool_call(
            "BITBUCKET_LIST_ISSUES",
            widgets(json!({"state": "open", "sort": "-created_on", "pagelen": 1})),
        ),
        Turn::tool_call(
            "BITBUCKET_CREATE_ISSUE_COMMENT",
            widgets(json!({"issue_id": 2, "content": "Picked up from the terminal."})),
        ),
        Turn::text("Commented on issue #2, *Add dark mode*."),
        Turn::tool_call(
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            widgets(json!({"path": "README.md"})),
        ),
        Turn::text(&format!("Here is `README.md`:\n\n{readme}")),
    ]);
    let mut chat = start_chat(&world, &llm, &["--workspace", "acme", "--repo", "widgets"]).await;

    // "create a new branch off main": the branch exists at main's head.
    chat.send_line("create a new branch off main").await;
    chat.expect("✓ create branch · acme/widgets · feature/pty · main")
        .await;
    chat.expect("Created feature/pty off main.").await;
    chat.prompt().await;
    let main = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .expect("main");
    let made = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "feature/pty")
        .await
        .expect("the branch exists");
    assert_eq!(
        made.target.map(|c| c.hash),
        main.target.map(|c| c.hash),
        "at main's head"
    );
    let first = llm.requests()[0].body.to_string();
    assert!(
        first.contains("workspace `acme` and repository `widgets`"),
        "the defaults reach the model: {first}"
    );

    // "open a pull request for my feature": the PR exists.
    chat.send_line("open a pull request for my feature").await;
    chat.expect("✓ create pull request").await;
    chat.expect("Opened pull request #2").await;
    chat.prompt().await;
    let pr = world
        .bitbucket
        .get_pull_request(&repo("acme", "widgets"), 2)
        .await
        .expect("the pull request exists");
    assert_eq!(pr.title, "Add the login form to develop");
    let side = |end: Option<bitbucket_client::models::PullRequestEndpoint>| {
        end.and_then(|e| e.branch_name().map(str::to_owned))
    };
    assert_eq!(side(pr.source).as_deref(), Some("feature/login"));
    assert_eq!(side(pr.destination).as_deref(), Some("develop"));

    // "comment on the latest open issue": the comment is on issue #2.
    chat.send_line("comment on the latest open issue").await;
    chat.expect("✓ list issues").await;
    chat.expect("✓ create issue comment").await;
    chat.expect("Commented on issue #2, Add dark mode.").await;
    chat.prompt().await;
    let seen = results_seen(&llm);
    assert!(
        seen.contains("Add dark mode") && !seen.contains("Crash when saving settings"),
        "the model learnt which issue is the latest open one: {seen}"
    );
    assert_eq!(
        issue_comments(&world, 2).await,
        ["Picked up from the terminal."]
    );

    // "fetch the readme file from the repository": its text is shown, as Markdown.
    chat.send_line("fetch the readme file from the repository")
        .await;
    chat.expect("✓ get file from repository").await;
    let shown = chat.expect("Getting started").await;
    chat.expect("cargo run -- --config widgets.toml").await;
    chat.prompt().await;
    assert!(
        results_seen(&llm).contains("Widgets is Acme's small Rust service"),
        "the model was given the file"
    );
    assert!(
        shown.contains("Here is README.md:")
            && shown.contains("Widgets is Acme's small Rust service")
            && !shown.contains("# Widgets"),
        "the README shows, rendered: {shown}"
    );
    let raw = chat.raw();
    assert!(
        raw.contains("\x1b[1m\x1b[4mWidgets\x1b[0m") && raw.contains("\x1b[1mGetting started"),
        "headings are styled: {raw:?}"
    );
    assert_eq!(llm.remaining_turns(), 0);
    leave(chat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_requests_over_openai() {
    reference_requests(Provider::OpenAi).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_requests_over_anthropic() {
    reference_requests(Provider::Anthropic).await;
}

/// `bbagent mcp --http` in its own process; killed when dropped.
struct McpServer {
    child: std::process::Child,
    url: String,
}

impl McpServer {
    fn start(world: &World, api_key: &str) -> Self {
        let mut cmd = command(world.dir.path());
        world.env(&mut cmd);
        let mut child = cmd
            .args(["mcp", "--http", "127.0.0.1:0", "--api-key", api_key])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn bbagent mcp");
        let mut url = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut url);
        }
        let url = url.trim().to_owned();
        let server = Self { child, url };
        assert!(server.url.ends_with("/mcp"), "first line: {:?}", server.url);
        server
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_from_a_separate_mcp_server_with_an_api_key() {
    let world = World::start().await;
    let key = "pty-mcp-key-7f3a";
    let server = McpServer::start(&world, key);
    let llm = ScriptedLlm::start(Provider::Anthropic).await.expect("llm");

    // Without the right key the chat cannot start, and says so in one line.
    let mut refused = Pty::spawn(&chat_command(
        &world,
        &llm,
        &["--mcp-url", &server.url, "--mcp-header", "x-api-key: wrong"],
    ));
    refused
        .expect("error: cannot reach the Bitbucket MCP server")
        .await;
    let status = refused.wait_exit().await;
    assert_eq!(status.exit_code(), 1);
    let text = refused.text();
    assert!(
        !text.contains("panicked") && !text.contains("Chat started"),
        "{text}"
    );

    llm.push_turns([
        Turn::tool_call(
            "BITBUCKET_GET_PULL_REQUEST",
            widgets(json!({"pull_request_id": 1})),
        ),
        Turn::text("PR #1, *Add login form*, is open."),
    ]);
    let header = format!("x-api-key: {key}");
    let mut chat = Pty::spawn(&chat_command(
        &world,
        &llm,
        &["--mcp-url", &server.url, "--mcp-header", &header],
    ));
    chat.expect(&format!(
        "Using anthropic:claude-sonnet-4-5 on the MCP server at {}",
        server.url
    ))
    .await;
    chat.prompt().await;
    chat.send_line("is PR 1 in acme/widgets still open?").await;
    chat.expect("✓ get pull request").await;
    chat.expect("PR #1, Add login form, is open.").await;
    chat.prompt().await;
    assert!(
        results_seen(&llm).contains("Add login form"),
        "{}",
        results_seen(&llm)
    );
    assert!(!chat.text().contains(key), "the key is never shown");
    leave(chat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_conversation_continues_in_a_new_process() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turns([
        Turn::tool_call(
            "BITBUCKET_CREATE_BRANCH",
            widgets(json!({"name": "feature/saved", "target": "main"})),
        ),
        Turn::text("Created feature/saved."),
        Turn::text("You had me create **feature/saved** off main."),
    ]);

    let mut chat = start_chat(&world, &llm, &[]).await;
    chat.send_line("create a branch feature/saved off main in acme/widgets")
        .await;
    chat.expect("Created feature/saved.").await;
    chat.prompt().await;
    chat.send_line("/save conversation.json").await;
    chat.expect("Saved 4 messages to conversation.json.").await;
    chat.prompt().await;
    leave(chat).await;

    // NO_COLOR: on a terminal still, but the answer shows as the model wrote it.
    let mut cmd = chat_command(&world, &llm, &[]);
    cmd.env("NO_COLOR", "1");
    let mut chat = start(&cmd).await;
    chat.send_line("/load conversation.json").await;
    chat.expect("Loaded 4 messages from conversation.json.")
        .await;
    chat.prompt().await;
    chat.send_line("what did I ask you before?").await;
    chat.expect("You had me create **feature/saved** off main.")
        .await;
    chat.prompt().await;
    assert!(!chat.raw().contains("\x1b[1m"), "{:?}", chat.raw());
    leave(chat).await;

    let transcript = llm.requests().last().expect("request").transcript();
    let said: Vec<String> = transcript
        .iter()
        .filter_map(|e| match e {
            Entry::User { text } => Some(text.clone()),
            Entry::Assistant { text, .. } if !text.is_empty() => Some(text.clone()),
            Entry::Assistant { tool_calls, .. } => tool_calls.first().map(|c| c.name.clone()),
            Entry::ToolResult { .. } => Some("(tool result)".to_owned()),
            Entry::System { .. } => None,
        })
        .collect();
    assert_eq!(
        said,
        [
            "create a branch feature/saved off main in acme/widgets",
            "BITBUCKET_CREATE_BRANCH",
            "(tool result)",
            "Created feature/saved.",
            "what did I ask you before?",
        ],
        "the model receives the earlier turns"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destructive_call_waits_for_a_yes() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    let delete = json!({"workspace": "acme", "repo_slug": "website"});
    llm.push_turns([
        Turn::tool_call("BITBUCKET_DELETE_REPOSITORY", delete.clone()),
        Turn::text("Kept **acme/website**."),
        Turn::tool_call("BITBUCKET_DELETE_REPOSITORY", delete),
        Turn::text("Deleted acme/website."),
    ]);
    let mut chat = start_chat(&world, &llm, &["--plain"]).await;

    chat.send_line("delete the website repository").await;
    chat.expect("Allow delete repository · acme/website?").await;
    chat.expect("[y/N] ").await;
    // Blocked: a while later, nothing has reached Bitbucket or gone back to the model.
    tokio::time::sleep(Duration::from_millis(500)).await;
    world
        .bitbucket
        .get_repository(&repo("acme", "website"))
        .await
        .expect("still there while the question waits");
    assert_eq!(llm.requests().len(), 1);
    chat.send_line("n").await;
    chat.expect("✗ delete repository · acme/website: the user denied")
        .await;
    chat.expect("Kept **acme/website**.").await;
    chat.prompt().await;
    world
        .bitbucket
        .get_repository(&repo("acme", "website"))
        .await
        .expect("still there after no");
    let told = results_seen(&llm);
    assert!(
        told.contains("the user denied running `BITBUCKET_DELETE_REPOSITORY`"),
        "the model receives the denial: {told}"
    );

    chat.send_line("delete it after all").await;
    chat.expect("[y/N] ").await;
    chat.send_line("y").await;
    chat.expect("✓ delete repository · acme/website").await;
    chat.expect("Deleted acme/website.").await;
    chat.prompt().await;
    let gone = world
        .bitbucket
        .get_repository(&repo("acme", "website"))
        .await
        .expect_err("deleted after yes");
    assert!(gone.is_not_found(), "{gone}");
    let raw = chat.raw();
    assert!(
        !raw.contains("thinking…") && !raw.contains("\x1b[1m"),
        "--plain: no status line, no styles: {raw:?}"
    );
    leave(chat).await;
}

/// Waits until `done` holds, failing the test after the pty's timeout.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + crate::pty::TIMEOUT;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within the timeout"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that every tool call in the saved conversation has exactly one result, before the
/// next message that is not a result; returns the names of the calls.
fn assert_no_dangling_calls(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("saved conversation");
    let saved: Value = serde_json::from_str(&text).expect("JSON");
    let mut open: BTreeSet<String> = BTreeSet::new();
    let mut names = Vec::new();
    for message in saved["messages"].as_array().expect("messages") {
        match message["role"].as_str() {
            Some("tool") => {
                let id = message["call_id"].as_str().unwrap_or_default();
                assert!(open.remove(id), "a result without its call: {text}");
            }
            _ => {
                assert!(open.is_empty(), "calls without results {open:?}: {text}");
                for call in message["tool_calls"].as_array().into_iter().flatten() {
                    open.insert(call["id"].as_str().unwrap_or_default().to_owned());
                    names.push(call["name"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
    }
    assert!(open.is_empty(), "calls without results {open:?}: {text}");
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_a_streaming_turn_and_the_chat_goes_on() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turns([
        Turn::tool_call(
            "BITBUCKET_LIST_ISSUES",
            widgets(json!({"state": "open", "sort": "-created_on"})),
        ),
        // The first line arrives whole, then the stream hangs mid-answer.
        Turn::text("Issue #2 is the latest open one.\nIt asks for a dark theme")
            .with_stall_after(7),
        Turn::text("You're welcome."),
    ]);
    let mut chat = start_chat(&world, &llm, &[]).await;

    // At the prompt, Ctrl-C only clears the line.
    chat.ctrl_c();
    chat.prompt().await;

    chat.send_line("which issue in acme/widgets is the latest?")
        .await;
    chat.expect("✓ list issues").await;
    chat.expect("Issue #2 is the latest open one.").await;
    chat.ctrl_c();
    chat.expect("(cancelled)").await;
    chat.prompt().await;
    eventually("the model's stream is dropped", || {
        llm.abandoned_streams() == 1
    })
    .await;
    assert!(!chat.text().contains("ERROR"), "{}", chat.text());

    chat.send_line("thanks").await;
    chat.expect("You're welcome.").await;
    chat.prompt().await;
    chat.send_line("/save cancelled.json").await;
    chat.expect("Saved").await;
    chat.prompt().await;
    leave(chat).await;

    let calls = assert_no_dangling_calls(&world.dir.path().join("cancelled.json"));
    assert_eq!(calls, ["BITBUCKET_LIST_ISSUES"]);
    let saved = std::fs::read_to_string(world.dir.path().join("cancelled.json")).expect("saved");
    assert!(
        !saved.contains("Issue #2 is the latest open one."),
        "no half answer is kept: {saved}"
    );
    // The next turn's request carried the consistent history (the scripted server refuses
    // a tool call without its result, as the real APIs do).
    let last = llm.requests().last().expect("request").clone();
    assert_eq!(last.last_user_text().as_deref(), Some("thanks"));
    assert_eq!(last.tool_results().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_tool_call_leaves_no_dangling_call() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::Anthropic).await.expect("llm");
    llm.push_turns([
        Turn::text("Listing them.").with_tool_call("BITBUCKET_LIST_BRANCHES", widgets(json!({}))),
        Turn::text("Fine, I stopped."),
    ]);
    let mut chat = start_chat(&world, &llm, &[]).await;
    // Bitbucket hangs, so the call is still running when Ctrl-C comes.
    world.sandbox.set_faults(FaultConfig {
        slow: 1.0,
        delay: Duration::from_secs(10),
        ..FaultConfig::default()
    });
    chat.send_line("list the branches of acme/widgets").await;
    // The status line names the call that runs.
    chat.expect("list branches · acme/widgets…").await;
    chat.ctrl_c();
    chat.expect("(cancelled)").await;
    chat.prompt().await;
    world.sandbox.set_faults(FaultConfig::default());
    assert!(!chat.text().contains("✓ list branches"), "{}", chat.text());
    // The MCP client's "channel closed" log line does not land over the prompt.
    assert!(
        !chat.text().contains("ERROR") && !chat.text().contains("rmcp"),
        "{}",
        chat.text()
    );

    chat.send_line("never mind").await;
    chat.expect("Fine, I stopped.").await;
    chat.prompt().await;
    chat.send_line("/save cancelled.json").await;
    chat.expect("Saved").await;
    chat.prompt().await;
    leave(chat).await;

    let calls = assert_no_dangling_calls(&world.dir.path().join("cancelled.json"));
    assert_eq!(calls, ["BITBUCKET_LIST_BRANCHES"]);
    let told = results_seen(&llm);
    assert!(told.contains("cancel"), "the model is told: {told}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_starting_ends_the_chat() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    // An MCP server that takes the connection and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let url = format!("http://{}/mcp", silent.local_addr().expect("addr"));
    let mut chat = Pty::spawn(&chat_command(&world, &llm, &["--mcp-url", &url]));
    let (_held, _) = tokio::time::timeout(crate::pty::TIMEOUT, silent.accept())
        .await
        .expect("the chat connects")
        .expect("accept");
    chat.ctrl_c();
    chat.expect("error: interrupted while starting").await;
    let status = chat.wait_exit().await;
    assert_eq!(status.exit_code(), 1, "{}", chat.text());
}
