//! Subcommands, each resolved from flags and environment into settings before it runs.

mod ask;
mod chat;
mod eval;
mod mcp;
mod router;
mod sandbox;
mod tools;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use bitbucket_mcp::endpoint::SessionLimits;
use bitbucket_mcp::http::Limits;
use clap::builder::RangedU64ValueParser;
use clap::{Parser, Subcommand};

/// Drive Bitbucket with an AI agent, safely and visibly.
///
/// Without Bitbucket credentials everything runs against a local sandbox that speaks the
/// Bitbucket Cloud REST API.
#[derive(Debug, Parser)]
#[command(name = "bbagent", version, propagate_version = true)]
pub struct Cli {
    /// More logging on stderr (-v, -vv); `BBAGENT_LOG` takes a full filter.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Talk to Bitbucket in plain English (the REPL).
    Chat(chat::ChatArgs),
    /// Run one request through the agent and exit (for scripts; `--json` for events).
    Ask(ask::AskArgs),
    /// Serve the Bitbucket tools over MCP (stdio, or Streamable HTTP with `--http`).
    Mcp(mcp::McpArgs),
    /// Serve the tool router: per-user sessions, tool search, auth links, execution (the
    /// Composio v3.1 API subset the composio SDK uses, and one MCP URL per session).
    Router(router::RouterArgs),
    /// List and call the Bitbucket tools directly, without a model.
    Tools(tools::ToolsArgs),
    /// Run a local Bitbucket Cloud sandbox (REST 2.0 over HTTP, real git, SQLite).
    Sandbox(sandbox::SandboxArgs),
    /// Measure a model on recorded conversations against fresh sandboxes.
    Eval(eval::EvalArgs),
}

impl Command {
    /// Commands a person reads as they run (a prompt, an answer): library log lines would
    /// print over them, so only bbagent's own warnings show unless `-v` asks for more.
    pub fn is_conversation(&self) -> bool {
        matches!(self, Self::Chat(_) | Self::Ask(_) | Self::Eval(_))
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ask(args) => ask::run(args).await,
        Command::Chat(args) => chat::run(args).await,
        Command::Mcp(args) => mcp::run(args).await,
        Command::Router(args) => router::run(args).await,
        Command::Tools(args) => tools::run(args).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Eval(args) => eval::run(args).await,
    }
}

/// How many clients a server we run (`sandbox`, `mcp --http`, `router`) takes at once, and
/// how it stops.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// The most HTTP connections served at once; more wait until one closes. Whatever the
    /// cap, a request's headers must arrive within 15s and its body within 60s, or the
    /// connection is closed.
    #[arg(
        long,
        default_value_t = Limits::DEFAULT_MAX_CONNECTIONS,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        value_name = "N"
    )]
    pub max_connections: usize,

    /// On SIGTERM or Ctrl-C, stop accepting connections and give the requests in flight this
    /// long to finish (`10s`, `500ms`); then close what is left and exit 0.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub drain_timeout: Duration,
}

impl ConnectionArgs {
    pub fn limits(&self) -> Limits {
        Limits::default()
            .with_max_connections(self.max_connections)
            .with_drain_timeout(self.drain_timeout)
    }
}

/// How many MCP sessions an HTTP MCP endpoint (`mcp --http`, `router`) keeps.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// The most MCP sessions open at once with one API key; a client asking for more gets a
    /// JSON-RPC error until one ends.
    #[arg(
        long,
        default_value_t = SessionLimits::DEFAULT_MAX_PER_KEY,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        value_name = "N"
    )]
    pub max_sessions_per_key: usize,

    /// End an MCP session after this long without a request (`30m`, `90s`); its client then
    /// starts a new one.
    #[arg(long, default_value = "30m", value_parser = parse_session_idle, value_name = "DURATION")]
    pub session_idle: Duration,
}

impl SessionArgs {
    pub fn limits(&self) -> SessionLimits {
        SessionLimits::default()
            .with_max_per_key(self.max_sessions_per_key)
            .with_idle(self.session_idle)
    }
}

fn parse_session_idle(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        Duration::ZERO => Err("a session must be allowed to idle for more than `0s`".to_owned()),
        idle => Ok(idle),
    }
}

/// A duration such as `5s`, `300ms`, `30m` or `2h`, at most a day.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration `{s}`: expected e.g. `5s`, `300ms` or `30m`");
    let (number, unit) = if let Some(ms) = s.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(m) = s.strip_suffix('m') {
        (m, 60.0)
    } else if let Some(h) = s.strip_suffix('h') {
        (h, 3600.0)
    } else {
        (s.strip_suffix('s').unwrap_or(s), 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !value.is_finite() || value < 0.0 || value * unit > 86_400.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(value * unit))
}

/// The embedded sandbox's data folder, e.g. `~/.local/share/bbagent/sandbox`.
pub fn default_sandbox_dir() -> anyhow::Result<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join("bbagent").join("sandbox"))
        .context("cannot find a data folder for this platform; pass `--sandbox-dir` (`--data-dir` for `bbagent sandbox`)")
}

/// A `hint:` line for errors whose cure is known.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<bitbucket_mcp::http::HttpError>() {
            return match e {
                bitbucket_mcp::http::HttpError::PublicWithoutKey { .. } => Some(
                    "pass `--api-key KEY` (or set `BBAGENT_API_KEY`), or listen on 127.0.0.1"
                        .into(),
                ),
                bitbucket_mcp::http::HttpError::Bind { .. } => Some(
                    "another program uses that port: pick another, or port 0 for a free one".into(),
                ),
                _ => None,
            };
        }

        if let Some(tool_router::RouterError::Bind { .. }) = cause.downcast_ref() {
            return Some(
                "another program uses that port: pick another with `--listen 127.0.0.1:PORT` (port 0 picks a free one)".into(),
            );
        }
        if let Some(tool_router::vault::VaultError::Open) = cause.downcast_ref() {
            return Some(
                "set `BBAGENT_MASTER_KEY` to the key the credentials were sealed with, or reconnect the users".into(),
            );
        }

        if let Some(e) = cause.downcast_ref::<bitbucket_sandbox::SandboxError>() {
            return match e {
                // Only `bbagent sandbox` meets it: other commands share the running sandbox.
                bitbucket_sandbox::SandboxError::Locked { .. } => Some(
                    "bbagent commands on this folder use the sandbox that runs; to start this one instead, stop that one (a sandbox started by a command stops by itself once no command uses it), or give this one its own folder with `--data-dir`".into(),
                ),
                bitbucket_sandbox::SandboxError::Bind { .. } => Some(
                    "another program uses that port: pick another with `--listen 127.0.0.1:PORT` (port 0 picks a free one)".into(),
                ),
                _ => None,
            };
        }
    }
    None
}
