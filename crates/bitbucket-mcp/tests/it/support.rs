//! A sandbox, the MCP server over HTTP in front of it, and rmcp clients of both eras.

use bitbucket_client::{Auth, Client, ClientConfig, RepoId};
use bitbucket_mcp::http::{HttpOptions, HttpServer};
use bitbucket_mcp::{BitbucketMcp, ServerOptions};
use bitbucket_sandbox::{Sandbox, SandboxConfig};
use bitbucket_toolkit::Toolkit;
use tempfile::TempDir;

pub const KEY: &str = "test-api-key";

pub struct Env {
    pub _sandbox: Sandbox,
    pub _dir: TempDir,
    /// Talks to the sandbox directly, to check effects.
    pub bitbucket: Client,
    pub server: HttpServer,
}

pub async fn start(options: ServerOptions) -> Env {
    start_with(options, |http| http).await
}

/// With the HTTP options changed by `http` (limits, sessions).
pub async fn start_with(
    options: ServerOptions,
    http: impl FnOnce(HttpOptions) -> HttpOptions,
) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()).with_run_pipelines(true))
        .await
        .expect("sandbox");
    let bitbucket = Client::new(
        ClientConfig::new(sandbox.base_url())
            .with_auth(Auth::api_token("demo@example.com", "sandbox-token")),
    )
    .expect("client");
    let handler = BitbucketMcp::new(Toolkit::new(bitbucket.clone()), options).expect("handler");
    let server = bitbucket_mcp::http::serve(
        handler,
        http(
            HttpOptions::new("127.0.0.1:0".parse().expect("addr"))
                .with_api_key(KEY.to_owned().into()),
        ),
    )
    .await
    .expect("server");
    Env {
        _sandbox: sandbox,
        _dir: dir,
        bitbucket,
        server,
    }
}

pub use mcp_testkit::{Answer, ERAS, Era, Session, call, failed, ok, transport};

pub async fn connect(
    env: &Env,
    era: Era,
    answer: Option<Answer>,
) -> (Session, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    mcp_testkit::connect_http(env.server.url(), Some(KEY), era, answer).await
}

/// The id of a repository in the sandbox.
pub fn repo(workspace: &str, slug: &str) -> RepoId {
    RepoId::new(workspace, slug).expect("valid repository id")
}
