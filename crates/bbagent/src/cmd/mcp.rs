//! `bbagent mcp`: the Bitbucket toolkit as an MCP server, on stdio or Streamable HTTP.

use std::net::SocketAddr;

use anyhow::Context as _;
use bitbucket_mcp::http::{DEFAULT_MAX_BODY_BYTES, HttpOptions};
use bitbucket_mcp::{BitbucketMcp, DestructivePolicy, ServerOptions};
use bitbucket_toolkit::{Toolkit, Toolset};
use secrecy::SecretString;

use super::{ConnectionArgs, SessionArgs};
use crate::backend::{Backend, BackendArgs};
use crate::settings::WhenUnset;

/// Serve the Bitbucket tools over MCP.
///
/// Over stdio by default (for Claude Desktop, Cursor and other clients that launch the
/// server), or over Streamable HTTP at `/mcp` with `--http`. The tools reach Bitbucket Cloud
/// with the `BITBUCKET_*` settings, or the local sandbox with `--sandbox` (shared with the
/// other bbagent commands on the same folder).
#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// Serve Streamable HTTP on this address (e.g. `127.0.0.1:8000`) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,

    #[command(flatten)]
    pub backend: BackendArgs,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Require this key from HTTP clients, as `x-api-key: KEY` or `Authorization: Bearer KEY`.
    /// Required when binding a non-loopback address.
    #[arg(
        long,
        env = "BBAGENT_API_KEY",
        hide_env_values = true,
        value_name = "KEY",
        allow_hyphen_values = true
    )]
    pub api_key: Option<String>,

    /// Also accept this `Host` (repeatable), e.g. the name a reverse proxy forwards.
    /// Loopback names are always accepted.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,

    /// Also accept browser requests from this Origin (repeatable), e.g. `https://app.example.com`
    /// or `http://localhost:*`. Loopback origins are always accepted.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,

    /// Largest accepted HTTP request body, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    pub max_body_bytes: usize,

    #[command(flatten)]
    pub connections: ConnectionArgs,

    #[command(flatten)]
    pub sessions: SessionArgs,
}

/// Which tools are offered, shared by `mcp` and `tools`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScopeArgs {
    /// Offer only tools that read.
    #[arg(long)]
    pub read_only: bool,

    /// Offer only these toolsets (comma-separated): repositories, branches, pull_requests,
    /// reviews, commits, ci, pipelines, admin, issues, snippets, users, workspaces.
    #[arg(long, value_delimiter = ',', value_parser = parse_toolset, value_name = "SETS")]
    pub toolsets: Option<Vec<Toolset>>,

    /// Offer only these tools (comma-separated names, e.g. `BITBUCKET_CREATE_BRANCH`).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub tools: Option<Vec<String>>,

    /// What to do when a destructive tool is called: `confirm` asks the user through MCP
    /// elicitation, `deny` refuses, `allow` runs it.
    #[arg(long, default_value_t = DestructivePolicy::Confirm, value_parser = parse_policy, value_name = "POLICY")]
    pub destructive: DestructivePolicy,

    /// Lockdown: withhold what people without write access to a repository wrote (issues,
    /// pull requests, comments, tasks), as on a public repository anyone may; the results
    /// say what was withheld. Who may write is read from the repository's permissions, which
    /// Bitbucket shows only to its administrators: for anyone else, only their own text is shown.
    #[arg(long, env = "BBAGENT_LOCKDOWN")]
    pub lockdown: bool,
}

fn parse_toolset(s: &str) -> Result<Toolset, String> {
    s.parse::<Toolset>().map_err(|e| e.to_string())
}

fn parse_policy(s: &str) -> Result<DestructivePolicy, String> {
    s.parse()
}

impl ScopeArgs {
    pub fn options(&self) -> ServerOptions {
        ServerOptions {
            read_only: self.read_only,
            toolsets: self.toolsets.clone(),
            tools: self.tools.clone(),
            destructive: self.destructive,
        }
    }
}

pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    let bitbucket = args.backend.resolve(WhenUnset::Refuse)?;
    let backend = Backend::connect(&bitbucket).await?;
    let toolkit = Toolkit::new(backend.client.clone()).with_lockdown(args.scope.lockdown);
    let handler = BitbucketMcp::new(toolkit, args.scope.options())?;
    match args.http {
        None => {
            tracing::info!(backend = %backend.description, "serving MCP on stdio");
            // The client ends the server by closing stdin, or its launcher by a signal: both
            // are a clean stop.
            tokio::select! {
                result = bitbucket_mcp::serve_stdio(handler) => {
                    result.context("the stdio MCP server failed")?;
                }
                () = http_serve::shutdown_signal() => {
                    tracing::info!("stopping the stdio MCP server");
                }
            }
        }
        Some(addr) => {
            let mut options = HttpOptions::new(addr)
                .with_allowed_hosts(args.allowed_hosts)
                .with_allowed_origins(args.allowed_origins)
                .with_max_body_bytes(args.max_body_bytes)
                .with_limits(args.connections.limits())
                .with_sessions(args.sessions.limits());
            if let Some(key) = args.api_key {
                options = options.with_api_key(SecretString::from(key));
            }
            let tools = handler.tools().len();
            let mut server = bitbucket_mcp::http::serve(handler, options).await?;
            println!("{}", server.url());
            eprintln!(
                "MCP server listening at {} ({tools} tools) on {}\nPress Ctrl-C to stop.",
                server.url(),
                backend.description
            );
            tokio::select! {
                () = http_serve::shutdown_signal() => {
                    eprintln!("stopping the MCP server: finishing the calls in flight");
                    server.shutdown().await;
                }
                result = server.stopped() => result.context("the MCP HTTP server stopped")?,
            }
        }
    }
    backend.shutdown().await;
    Ok(())
}
