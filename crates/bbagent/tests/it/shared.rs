//! One sandbox for many `bbagent` processes: two chats, an `ask`, `tools` and an MCP server on
//! stdio all use the sandbox of one data folder at the same time, see each other's changes,
//! keep working when the process that started it leaves, and the sandbox stops by itself once
//! nobody uses it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use llm_script::{Provider, ScriptedLlm, Turn};
use mcp_testkit::{Era, call, connect, ok, text};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::support::{command, run, stderr, stdout, tokio_command};

const WAIT: Duration = Duration::from_secs(90);

/// The sandbox of `dir`, as its socket greets: `(pid, base URL)`; `None` when nobody serves.
async fn serving(dir: &Path) -> Option<(u32, String)> {
    let stream = tokio::net::UnixStream::connect(dir.join("sandbox.sock"))
        .await
        .ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).await.ok()?;
    let greeting: Value = serde_json::from_str(&line).ok()?;
    Some((
        u32::try_from(greeting["pid"].as_u64()?).ok()?,
        greeting["url"].as_str()?.to_owned(),
    ))
}

/// True while `pid` runs (a zombie, waiting for a parent to reap it, has stopped).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

/// The process group of `pid`.
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split(' ').nth(2)?.parse().ok()
}

async fn wait_until_stopped(dir: &Path, pid: u32) {
    let deadline = Instant::now() + WAIT;
    while running(pid) || dir.join("sandbox.sock").exists() {
        assert!(
            Instant::now() < deadline,
            "the sandbox (pid {pid}) still runs with nobody using it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `bbagent chat` with piped input, read line by line as it answers.
struct Chat {
    child: Child,
    stdin: ChildStdin,
    lines: tokio::io::Lines<BufReader<ChildStdout>>,
    seen: String,
    errors: PathBuf,
}

impl Chat {
    async fn start(home: &Path, sandbox: &Path, llm: &ScriptedLlm, name: &str) -> Self {
        let errors = home.join(format!("{name}.stderr"));
        let mut cmd = tokio_command(home);
        cmd.env("OPENAI_API_KEY", llm.api_key().unwrap_or("none"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("BBAGENT_SANDBOX_DIR", sandbox)
            .args([
                "chat",
                "--model",
                "openai:gpt-5",
                "--base-url",
                &llm.base_url(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&errors).expect("stderr file"))
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn chat");
        let stdin = child.stdin.take().expect("stdin");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut chat = Self {
            child,
            stdin,
            lines,
            seen: String::new(),
            errors,
        };
        chat.expect("/help lists commands").await;
        chat
    }

    /// Reads until a line contains `needle`; returns that line.
    async fn expect(&mut self, needle: &str) -> String {
        let found = tokio::time::timeout(WAIT, async {
            while let Some(line) = self.lines.next_line().await.expect("read") {
                self.seen.push_str(&line);
                self.seen.push('\n');
                if line.contains(needle) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            _ => panic!(
                "the chat never printed {needle:?}; stdout:\n{}\nstderr:\n{}",
                self.seen,
                std::fs::read_to_string(&self.errors).unwrap_or_default()
            ),
        }
    }

    async fn send(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write");
    }

    async fn leave(mut self) {
        self.send("exit").await;
        self.expect("Bye.").await;
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the chat exits")
            .expect("wait");
        assert!(status.success(), "chat exit status {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_ask_and_mcp_share_one_sandbox() {
    let home = tempfile::tempdir().expect("dir");
    let sandbox = home.path().join("sandbox");
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");

    // The first chat finds no sandbox and starts one, in a process of its own.
    let mut first = Chat::start(home.path(), &sandbox, &llm, "first").await;
    let (pid, url) = serving(&sandbox)
        .await
        .expect("a sandbox serves the folder");
    assert_ne!(first.child.id(), Some(pid), "the sandbox is not the chat");
    let chat_group = first.child.id().and_then(process_group);
    assert!(chat_group.is_some());
    assert_ne!(
        process_group(pid),
        chat_group,
        "Ctrl-C in the chat's terminal does not reach the sandbox"
    );
    assert!(
        first
            .seen
            .contains(&format!("on the local sandbox at {url}")),
        "{}",
        first.seen
    );

    // The second chat and the MCP server use that one.
    let mut second = Chat::start(home.path(), &sandbox, &llm, "second").await;
    assert!(
        second
            .seen
            .contains(&format!("on the local sandbox at {url}")),
        "the second chat uses the running sandbox: {}",
        second.seen
    );
    let mut mcp = tokio_command(home.path());
    mcp.args(["mcp", "--sandbox", "--sandbox-dir"])
        .arg(&sandbox)
        .stderr(Stdio::null());
    let (mcp, _) = connect(
        TokioChildProcess::new(mcp).expect("spawn mcp"),
        Era::Sessions,
        None,
    )
    .await;
    assert_eq!(serving(&sandbox).await.map(|s| s.0), Some(pid));

    // The first chat creates a branch, then leaves: the sandbox it started stays for the others.
    llm.push_turn(Turn::tool_call(
        "BITBUCKET_CREATE_BRANCH",
        json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/shared", "target": "main"}),
    ));
    llm.push_turn(Turn::text("Created feature/shared."));
    first.send("create feature/shared off main").await;
    first.expect("Created feature/shared.").await;
    first.leave().await;
    assert!(
        running(pid),
        "the sandbox outlives the chat that started it"
    );

    // The MCP client sees the branch and opens an issue.
    let branch = ok(
        "BITBUCKET_GET_BRANCH",
        &call(
            &mcp,
            "BITBUCKET_GET_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/shared"}),
        )
        .await,
    );
    assert_eq!(branch["name"], "feature/shared", "{branch}");
    let issue = ok(
        "BITBUCKET_CREATE_ISSUE",
        &call(
            &mcp,
            "BITBUCKET_CREATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": "Shared by four processes", "kind": "task"}),
        )
        .await,
    );
    let issue_id = issue["id"].as_u64().expect("issue id");

    // `ask` reads the issue the MCP client made.
    llm.push_turn(Turn::tool_call(
        "BITBUCKET_LIST_ISSUES",
        json!({"workspace": "acme", "repo_slug": "widgets"}),
    ));
    llm.push_turn(Turn::text("Listed."));
    let asked = tokio_command(home.path())
        .env("OPENAI_API_KEY", llm.api_key().unwrap_or("none"))
        .env("BBAGENT_SANDBOX_DIR", &sandbox)
        .args([
            "ask",
            "--model",
            "openai:gpt-5",
            "--base-url",
            &llm.base_url(),
            "list the issues of acme/widgets",
        ])
        .output()
        .await
        .expect("ask runs");
    assert!(asked.status.success(), "{}", stderr(&asked));
    assert!(
        stderr(&asked).contains(&format!("the local sandbox at {url}")),
        "{}",
        stderr(&asked)
    );
    let seen = format!(
        "{:?}",
        llm.requests().last().expect("request").tool_results()
    );
    assert!(seen.contains("Shared by four processes"), "{seen}");

    // The second chat sees the first one's branch and the MCP client's issue.
    llm.push_turn(
        Turn::tool_call(
            "BITBUCKET_GET_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/shared"}),
        )
        .with_tool_call(
            "BITBUCKET_UPDATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": issue_id, "state": "resolved"}),
        ),
    );
    llm.push_turn(Turn::text("Both there; resolved it."));
    second
        .send("check the shared branch and resolve the issue")
        .await;
    second.expect("Both there; resolved it.").await;
    let seen = format!(
        "{:?}",
        llm.requests().last().expect("request").tool_results()
    );
    assert!(
        seen.contains("feature/shared") && seen.contains("resolved"),
        "{seen}"
    );
    second.leave().await;

    // The MCP client sees the second chat's change; then it leaves too.
    let got = text(
        &call(
            &mcp,
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": "acme", "repo_slug": "widgets", "q": "state = \"resolved\""}),
        )
        .await,
    );
    assert!(got.contains("Shared by four processes"), "{got}");
    mcp.cancel().await.expect("close");

    // Nobody uses it any more: it stops by itself, and removes its socket.
    wait_until_stopped(&sandbox, pid).await;

    // Nothing was lost: the next command starts a new sandbox on the same data.
    let out = run(
        home.path(),
        &[
            "tools",
            "call",
            "BITBUCKET_GET_BRANCH",
            "--sandbox",
            "--sandbox-dir",
            sandbox.to_str().expect("utf-8"),
            "--args",
            r#"{"workspace":"acme","repo_slug":"widgets","name":"feature/shared"}"#,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("feature/shared"), "{}", stdout(&out));
    let log = std::fs::read_to_string(sandbox.join("sandbox.log")).expect("the log");
    let pids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("shared sandbox (pid "))
        .collect();
    assert_eq!(pids.len(), 2, "one sandbox, then one more later: {log}");
    let second_pid: u32 = pids[1]
        .split(')')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a pid");
    wait_until_stopped(&sandbox, second_pid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_model_keeps_bitbucket() {
    let home = tempfile::tempdir().expect("dir");
    let sandbox = home.path().join("sandbox");
    let mut cmd = tokio_command(home.path());
    cmd.env("XDG_DATA_HOME", home.path().join("data"))
        .env("BBAGENT_SANDBOX_DIR", &sandbox)
        .args(["chat", "--model", "local"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"who am I\n/model local\nwho am I\n/model nope:x\nwho am I\nexit\n")
        .await
        .expect("write");
    drop(stdin);
    let mut err = String::new();
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let mut out = String::new();
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let (read_out, read_err) = tokio::join!(
        stdout_pipe.read_to_string(&mut out),
        stderr_pipe.read_to_string(&mut err)
    );
    read_out.expect("stdout");
    read_err.expect("stderr");
    let status = child.wait().await.expect("wait");
    assert!(status.success(), "{err}");
    assert!(out.contains("Using local (the offline model"), "{out}");
    assert!(!err.contains("in use"), "{err}");
    // Three requests reached Bitbucket: before, after the switch, and after a failed one.
    assert_eq!(
        err.matches("✓ get current user").count(),
        3,
        "stdout:\n{out}\nstderr:\n{err}"
    );
    assert!(err.contains("invalid `--model`"), "{err}");
    // One sandbox for the whole chat: started once.
    let log = std::fs::read_to_string(sandbox.join("sandbox.log")).expect("log");
    assert_eq!(log.matches("shared sandbox (pid ").count(), 1, "{log}");
}

#[test]
fn tools_takes_the_same_backend_flags_everywhere() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(
        dir.path(),
        &["tools", "list", "--sandbox", "--sandbox-dir", "sb"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().count(),
        bitbucket_toolkit::Toolkit::catalogue().len(),
        "{}",
        stdout(&out)
    );
    assert!(
        !dir.path().join("sb").exists(),
        "listing the catalogue starts no sandbox"
    );
    let commands: [&[&str]; 5] = [
        &["tools", "list"],
        &["tools", "call"],
        &["mcp"],
        &["chat"],
        &["ask"],
    ];
    for sub in commands {
        let out = run(dir.path(), &[sub, &["--help"][..]].concat());
        let help = stdout(&out);
        assert!(
            help.matches("--sandbox").count() >= 2 && help.contains("--sandbox-dir <DIR>"),
            "`{}` takes the backend flags: {help}",
            sub.join(" ")
        );
    }
}

/// A sandbox in the foreground serves the commands of its folder; a second one is refused with
/// a hint naming the right flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreground_sandbox_serves_commands_and_refuses_a_second() {
    use std::io::{BufRead as _, BufReader as StdReader};
    let dir = tempfile::tempdir().expect("dir");
    let mut first = command(dir.path())
        .args(["sandbox", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut url = String::new();
    StdReader::new(first.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("line");
    let url = url.trim().to_owned();

    let out = run(
        dir.path(),
        &[
            "tools",
            "call",
            "BITBUCKET_CREATE_BRANCH",
            "--sandbox",
            "--sandbox-dir",
            "data",
            "--args",
            r#"{"workspace":"acme","repo_slug":"widgets","name":"via-foreground"}"#,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let branch = reqwest::Client::new()
        .get(format!(
            "{url}/repositories/acme/widgets/refs/branches/via-foreground"
        ))
        .basic_auth("demo@example.com", Some("sandbox-token"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        branch.status(),
        200,
        "the command used the foreground sandbox"
    );
    assert!(
        !dir.path().join("data/sandbox.log").exists(),
        "no other sandbox was started"
    );

    let out = run(
        dir.path(),
        &["sandbox", "--listen", "127.0.0.1:0", "--data-dir", "data"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("already serves this folder at {url}"))
            && err.contains("in use by another running sandbox"),
        "{err}"
    );
    assert!(
        err.contains("hint:") && err.contains("`--data-dir`"),
        "{err}"
    );
    first.kill().expect("kill");
    let _ = first.wait();
}

/// A command that dies without a word still lets go of the sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_command_lets_go_of_the_sandbox() {
    let home = tempfile::tempdir().expect("dir");
    let sandbox = home.path().join("sandbox");
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    let mut chat = Chat::start(home.path(), &sandbox, &llm, "chat").await;
    let (pid, _) = serving(&sandbox)
        .await
        .expect("a sandbox serves the folder");
    chat.child.start_kill().expect("kill");
    let _ = chat.child.wait().await;
    wait_until_stopped(&sandbox, pid).await;
}

/// When the sandbox cannot start, the command says why, from the sandbox's own log.
#[test]
fn a_sandbox_that_cannot_start_is_explained() {
    let dir = tempfile::tempdir().expect("dir");
    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir_all(&sandbox).expect("dir");
    std::fs::write(sandbox.join("sandbox.db"), "not a database").expect("write");
    let out = run(
        dir.path(),
        &[
            "tools",
            "call",
            "BITBUCKET_GET_CURRENT_USER",
            "--sandbox",
            "--sandbox-dir",
            "sandbox",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("did not start")
            && err.contains("sandbox.log")
            && err.contains("not a database"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
