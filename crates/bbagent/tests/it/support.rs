//! Running the binary in a clean environment, next to an in-process sandbox.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use bitbucket_client::{Auth, Client, ClientConfig, RepoId};
use bitbucket_sandbox::{Sandbox, SandboxConfig};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_bbagent");

/// Variables that would point the binary elsewhere than the test wants.
const INHERITED: &[&str] = &[
    "BITBUCKET_BASE_URL",
    "BITBUCKET_EMAIL",
    "BITBUCKET_API_TOKEN",
    "BITBUCKET_ACCESS_TOKEN",
    "BBAGENT_API_KEY",
    "BBAGENT_SANDBOX_DIR",
    "BBAGENT_SANDBOX_TOKEN",
    "BBAGENT_SANDBOX_LISTEN",
    "BBAGENT_SANDBOX_IDLE",
    "BBAGENT_MASTER_KEY",
    "BBAGENT_ROUTER_DIR",
    "BBAGENT_ROUTER_LISTEN",
    "BBAGENT_ROUTER_PUBLIC_URL",
    "BBAGENT_CONNECT_API_TOKEN",
    "BBAGENT_CONNECT_ACCESS_TOKEN",
    "BBAGENT_LOG",
    "BBAGENT_MODEL",
    "BBAGENT_MCP_URL",
    "BBAGENT_MCP_HEADERS",
    "BBAGENT_ROUTER_URL",
    "BBAGENT_ROUTER_API_KEY",
    "BBAGENT_USER_ID",
    "BBAGENT_WORKSPACE",
    "BBAGENT_REPO",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
];

/// A command for the binary that sees none of the caller's Bitbucket settings and runs in
/// `cwd`, so no `.env` of the developer's leaks in.
pub fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for var in INHERITED {
        cmd.env_remove(var);
    }
    // A sandbox a command starts stops soon after its last user, so tests leave none behind.
    cmd.current_dir(cwd)
        .env("BBAGENT_SANDBOX_IDLE", "500ms")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// The same for tokio (child processes speaking MCP on stdio).
pub fn tokio_command(cwd: &Path) -> tokio::process::Command {
    tokio::process::Command::from(command(cwd))
}

pub fn run(cwd: &Path, args: &[&str]) -> Output {
    command(cwd).args(args).output().expect("bbagent runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A server the test started; it is killed when the test ends, passing or not.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `cmd`, a `bbagent` server (its stderr as the caller set it), and waits for the URL
/// it prints as its first line on stdout.
pub fn serve(mut cmd: Command) -> (Running, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the server");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let mut url = String::new();
    BufReader::new(stdout)
        .read_line(&mut url)
        .expect("the server prints its URL");
    let url = url.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "no URL: {url:?}");
    (running, url)
}

/// Sends `signal` (`TERM`, `INT`) to a server the test started, as an operator's `kill`.
pub async fn send_signal(server: &Running, signal: &str) {
    let status = tokio::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(server.0.id().to_string())
        .status()
        .await
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} failed");
}

/// How the server ended, once it has; `None` if it still runs after `within`.
pub async fn exited_within(server: &mut Running, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = server.0.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A process's memory now and at its peak, in KiB (`VmRSS` and `VmHWM` of `/proc/<pid>/status`).
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Every regular file under `dir` (sockets and the like hold nothing at rest).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                found.push(path);
            }
        }
    }
    found
}

/// A seeded sandbox in-process, a client to check effects, and the settings that point the
/// binary at it as if it were Bitbucket Cloud.
pub struct World {
    pub sandbox: Sandbox,
    pub bitbucket: Client,
    pub dir: TempDir,
}

impl World {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let sandbox =
            Sandbox::start(SandboxConfig::new(dir.path().join("sandbox")).with_run_pipelines(true))
                .await
                .expect("sandbox");
        let bitbucket = Client::new(
            ClientConfig::new(sandbox.base_url())
                .with_auth(Auth::api_token("demo@example.com", "sandbox-token")),
        )
        .expect("client");
        Self {
            sandbox,
            bitbucket,
            dir,
        }
    }

    /// Points a command at this sandbox through the `BITBUCKET_*` settings.
    pub fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("BITBUCKET_BASE_URL", self.sandbox.base_url())
            .env("BITBUCKET_EMAIL", "demo@example.com")
            .env("BITBUCKET_API_TOKEN", "sandbox-token")
    }
}

/// `bbagent router` on a world's sandbox, with one key and one user connected as the demo user.
pub struct RouterUser {
    pub running: Running,
    /// The base URL, e.g. `http://127.0.0.1:8900`.
    pub url: String,
    pub key: String,
    /// The MCP URL of a session of the user.
    pub mcp_url: String,
}

impl RouterUser {
    /// Starts the router with its data in `world`'s folder and `extra` flags.
    pub async fn start(world: &World, extra: &[&str]) -> Self {
        let dir = world.dir.path();
        let created = tokio_command(dir)
            .args([
                "router",
                "keys",
                "create",
                "--name",
                "t",
                "--data-dir",
                "router",
            ])
            .output()
            .await
            .expect("keys create");
        assert!(created.status.success(), "{}", stderr(&created));
        let key = stdout(&created).trim().to_owned();
        let mut connect = tokio_command(dir);
        connect
            .args([
                "router",
                "connect",
                "--data-dir",
                "router",
                "--user-id",
                "u1",
            ])
            .args([
                "--email",
                "demo@example.com",
                "--api-token",
                "sandbox-token",
            ])
            .env("BITBUCKET_BASE_URL", world.sandbox.base_url())
            .env("BITBUCKET_EMAIL", "demo@example.com")
            .env("BITBUCKET_API_TOKEN", "sandbox-token");
        let connected = connect.output().await.expect("connect");
        assert!(connected.status.success(), "{}", stderr(&connected));
        let mut cmd = command(dir);
        world.env(&mut cmd);
        cmd.args(["router", "--listen", "127.0.0.1:0", "--data-dir", "router"])
            .args(extra)
            .stderr(Stdio::null());
        let (running, url) = serve(cmd);
        let session: serde_json::Value = reqwest::Client::new()
            .post(format!("{url}/api/v3.1/tool_router/session"))
            .header("x-api-key", &key)
            .json(&serde_json::json!({"user_id": "u1", "toolkits": {"enable": ["bitbucket"]}}))
            .send()
            .await
            .expect("create a session")
            .json()
            .await
            .expect("json");
        let mcp_url = session["mcp"]["url"].as_str().expect("mcp url").to_owned();
        Self {
            running,
            url,
            key,
            mcp_url,
        }
    }
}

/// The id of a repository in the sandbox.
pub fn repo(workspace: &str, slug: &str) -> RepoId {
    RepoId::new(workspace, slug).expect("valid repository id")
}
