//! What the process benchmarks share: running `bbagent` servers with none of the caller's
//! settings, reading their memory, and percentiles.

#![allow(dead_code)] // Each bench uses its own part.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use tokio::io::AsyncBufReadExt as _;

pub const BIN: &str = env!("CARGO_BIN_EXE_bbagent");
pub const EMAIL: &str = "demo@example.com";
pub const TOKEN: &str = "sandbox-token";
/// The longest a server may take to start or print its URL.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Variables that would point the binary elsewhere than the bench wants.
const INHERITED: &[&str] = &[
    "BITBUCKET_BASE_URL",
    "BITBUCKET_EMAIL",
    "BITBUCKET_API_TOKEN",
    "BITBUCKET_ACCESS_TOKEN",
    "BBAGENT_API_KEY",
    "BBAGENT_SANDBOX_DIR",
    "BBAGENT_SANDBOX_TOKEN",
    "BBAGENT_SANDBOX_LISTEN",
    "BBAGENT_MASTER_KEY",
    "BBAGENT_ROUTER_DIR",
    "BBAGENT_ROUTER_DATABASE",
    "BBAGENT_ROUTER_LISTEN",
    "BBAGENT_LOG",
    "BBAGENT_MODEL",
    "BBAGENT_MCP_URL",
    "BBAGENT_MCP_HEADERS",
    "BBAGENT_WORKSPACE",
    "BBAGENT_REPO",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
];

/// A `bbagent` command that sees none of the caller's settings and runs in `cwd` (so no
/// `.env` leaks in).
pub fn bare(cwd: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    for var in INHERITED {
        cmd.env_remove(var);
    }
    cmd.current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// [`bare`], pointed at the sandbox at `base_url` as its demo user.
pub fn command(base_url: &str, cwd: &Path) -> tokio::process::Command {
    let mut cmd = bare(cwd);
    cmd.env("BITBUCKET_BASE_URL", base_url)
        .env("BITBUCKET_EMAIL", EMAIL)
        .env("BITBUCKET_API_TOKEN", TOKEN);
    cmd
}

pub fn step(what: &str) {
    eprintln!("==> {what}");
}

/// Spawns a server and reads the URL it prints first.
pub async fn serve(
    mut cmd: tokio::process::Command,
) -> anyhow::Result<(tokio::process::Child, u32, String)> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().context("cannot spawn the server")?;
    let pid = child.id().context("the server has no pid")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut url = String::new();
    tokio::time::timeout(
        STEP_TIMEOUT,
        tokio::io::BufReader::new(stdout).read_line(&mut url),
    )
    .await
    .context("the server printed no URL in time")??;
    let url = url.trim().to_owned();
    ensure!(
        url.starts_with("http://127.0.0.1:"),
        "unexpected first line `{url}`"
    );
    Ok((child, pid, url))
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
pub fn memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read the status of process {pid}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .with_context(|| format!("no `{name}` in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// The nearest-rank percentile `p` of `samples`.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let rank = (p * samples.len() as f64).ceil() as usize;
    samples
        .get(rank.saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `target/{name}`, found from the binary cargo built next to the bench.
pub fn report_path(name: &str) -> std::path::PathBuf {
    Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new("."))
        .join(name)
}
