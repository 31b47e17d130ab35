//! An agent session for `ask` (and the chat): which model, which Bitbucket tools, and the
//! instructions that carry the default workspace and repository.
//!
//! With `--router`, a session of that tool router is created at start and the tools come
//! from its MCP URL (see `router_session`). Without it or `--mcp-url`, the tools come from an embedded Bitbucket MCP server that this process
//! starts on loopback with a random API key and reaches through the real MCP protocol, backed
//! by Bitbucket Cloud when `BITBUCKET_*` settings exist and by the shared sandbox otherwise.
//! The model is the only part that can change during a session (`/model` in the chat): the
//! tools, the MCP server and Bitbucket stay as they were started.

use std::sync::Arc;

use agent::{Agent, Approver, McpConfig, McpToolset, ModelOptions, ModelSpec, Toolset};
use anyhow::Context as _;
use bitbucket_mcp::http::{HttpOptions, HttpServer};
use bitbucket_mcp::{BitbucketMcp, DestructivePolicy, ServerOptions};
use bitbucket_toolkit::Toolkit;
use secrecy::SecretString;

use crate::backend::{Backend, BackendArgs};
use crate::settings::{AgentSettings, ModelEnv, ToolMode, Tools};

#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// The model, as `provider:model`: `openai:gpt-5`, `anthropic:claude-sonnet-4-5`, any
    /// OpenAI-compatible server's model with `--base-url` (e.g. `openai:llama3.1`), or `local`
    /// (offline: common Bitbucket requests, no key). Default: OpenAI if `OPENAI_API_KEY` is
    /// set, else Anthropic if `ANTHROPIC_API_KEY` is, else `local`.
    #[arg(long, env = "BBAGENT_MODEL", value_name = "PROVIDER:MODEL")]
    pub model: Option<String>,

    /// Base URL of the model's API, e.g. `http://localhost:11434/v1` for Ollama
    /// [default: the provider's, or `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL`].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Take the tools from this MCP server (Streamable HTTP) instead of the embedded one.
    #[arg(long, env = "BBAGENT_MCP_URL", value_name = "URL")]
    pub mcp_url: Option<String>,

    /// A header for the MCP server, as `Name: value` (repeatable), e.g. `x-api-key: KEY`.
    /// `BBAGENT_MCP_HEADERS` takes several, separated by newlines or `;`.
    #[arg(long = "mcp-header", value_name = "NAME:VALUE")]
    pub mcp_headers: Vec<String>,

    /// Take the tools from a session of this tool router (`bbagent router`, or any server
    /// with its session API), created at start for `--user-id` with `--api-key`.
    #[arg(
        long,
        env = "BBAGENT_ROUTER_URL",
        value_name = "URL",
        requires_all = ["api_key", "user_id"],
        conflicts_with_all = ["mcp_url", "sandbox"]
    )]
    pub router: Option<String>,

    /// The tool router's API key (`bbagent router keys create`), with `--router`.
    #[arg(
        long,
        env = "BBAGENT_ROUTER_API_KEY",
        hide_env_values = true,
        value_name = "KEY",
        requires = "router"
    )]
    pub api_key: Option<String>,

    /// The user whose connections the tool router uses, with `--router`.
    #[arg(
        long,
        env = "BBAGENT_USER_ID",
        value_name = "USER",
        requires = "router"
    )]
    pub user_id: Option<String>,

    /// The default workspace, e.g. `acme`, so requests need not name it.
    #[arg(long, env = "BBAGENT_WORKSPACE", value_name = "SLUG")]
    pub workspace: Option<String>,

    /// The default repository slug, e.g. `widgets`.
    #[arg(long, env = "BBAGENT_REPO", value_name = "SLUG")]
    pub repo: Option<String>,

    /// How the tools are offered: `direct` (the Bitbucket tools) or `router` (a tool router
    /// session embedded in this process: search, connections and execution as meta-tools,
    /// for the user `local`, connected to the Bitbucket this command uses; no account needed).
    #[arg(
        long,
        env = "BBAGENT_TOOL_MODE",
        value_enum,
        default_value_t = ToolMode::Direct,
        conflicts_with_all = ["mcp_url", "router"]
    )]
    pub tool_mode: ToolMode,

    /// Lockdown: withhold what people without write access to a repository wrote (issues,
    /// pull requests, comments, tasks), as on a public repository anyone may; the results
    /// say what was withheld. For the tools of this process only: a server named by
    /// `--mcp-url` or `--router` sets its own (`bbagent mcp --lockdown`, `bbagent router --lockdown`).
    #[arg(long, env = "BBAGENT_LOCKDOWN", conflicts_with_all = ["mcp_url", "router"])]
    pub lockdown: bool,

    #[command(flatten)]
    pub backend: BackendArgs,
}

/// A ready agent and what keeps its tools alive.
pub struct Session {
    pub agent: Agent,
    /// E.g. `openai:gpt-5`.
    pub model_label: String,
    /// E.g. `the local sandbox at http://127.0.0.1:41234/2.0 (...)`, or, with `--router`,
    /// `tools from the tool router at URL (session ID, user USER)`.
    pub bitbucket_label: String,
    /// The tools come from a tool router session (the label then says so itself).
    pub via_router: bool,
    settings: AgentSettings,
    toolset: Arc<dyn Toolset>,
    approver: Arc<dyn Approver>,
    embedded: Option<(HttpServer, Backend)>,
    router: Option<crate::router_session::Embedded>,
}

impl Session {
    /// Switches to the model `name` names (with the session's `--base-url` and keys); the
    /// tools, the MCP server and Bitbucket are kept.
    pub fn switch_model(&mut self, name: &str) -> anyhow::Result<()> {
        let model = build_model(
            name,
            self.settings.base_url.as_deref(),
            &self.settings.model_env,
        )?;
        self.settings.model = name.to_owned();
        self.agent = assemble(
            model,
            &self.settings,
            self.toolset.clone(),
            self.approver.clone(),
        );
        self.model_label = model_label(name);
        Ok(())
    }

    pub async fn shutdown(self) {
        if let Some((server, backend)) = self.embedded {
            server.shutdown().await;
            backend.shutdown().await;
        }
        if let Some(router) = self.router {
            router.shutdown().await;
        }
    }
}

/// How the offline model introduces itself, so nobody mistakes it for a language model.
pub const LOCAL_MODEL_LABEL: &str = "local (the offline model: it understands common Bitbucket requests; set `OPENAI_API_KEY` or `ANTHROPIC_API_KEY`, or pass `--model`, for full language)";

pub fn is_local(model: &str) -> bool {
    let model = model.trim();
    model.eq_ignore_ascii_case(local_model::NAME)
        || model.to_ascii_lowercase().starts_with("local:")
}

fn model_label(name: &str) -> String {
    if is_local(name) {
        LOCAL_MODEL_LABEL.to_owned()
    } else {
        name.to_owned()
    }
}

/// Builds the model a `--model` string names.
fn build_model(
    name: &str,
    base_url: Option<&str>,
    env: &ModelEnv,
) -> anyhow::Result<Arc<dyn agent::Model>> {
    if is_local(name) {
        return Ok(Arc::new(local_model::LocalModel::new()));
    }
    let spec = ModelSpec::parse(name).context("invalid `--model`")?;
    let mut options = ModelOptions::default();
    if let Some(url) = base_url {
        options = options.with_base_url(url.to_owned());
    }
    agent::build_model(&spec, env.fill(options, spec.provider)).context("cannot set up the model")
}

fn instructions(settings: &AgentSettings) -> String {
    let mut text = String::from(
        "You are bbagent, an assistant that works on Bitbucket for an engineering team through the Bitbucket tools. \
Use the tools to act, then answer briefly and factually: say what was done, and include the `html` links the tool results carry. \
Never invent workspaces, repositories, branches or ids: list or look them up. If something required is missing and cannot be found, ask one short question.",
    );
    text.push('\n');
    text.push_str(bitbucket_toolkit::DATA_INSTRUCTIONS);
    match (&settings.workspace, &settings.repo) {
        (Some(w), Some(r)) => text.push_str(&format!(
            "\nUnless the user names others, use workspace `{w}` and repository `{r}` (repo_slug)."
        )),
        (Some(w), None) => text.push_str(&format!(
            "\nUnless the user names another, use workspace `{w}`."
        )),
        (None, Some(r)) => text.push_str(&format!(
            "\nUnless the user names another, use repository `{r}` (repo_slug)."
        )),
        (None, None) => {}
    }
    text
}

fn assemble(
    model: Arc<dyn agent::Model>,
    settings: &AgentSettings,
    toolset: Arc<dyn Toolset>,
    approver: Arc<dyn Approver>,
) -> Agent {
    Agent::new(model)
        .with_instructions(instructions(settings))
        .with_toolset(toolset)
        .with_approver(approver)
}

/// Builds the model, connects the tools and assembles the agent.
pub async fn start(
    settings: AgentSettings,
    approver: Arc<dyn Approver>,
) -> anyhow::Result<Session> {
    let model = build_model(
        &settings.model,
        settings.base_url.as_deref(),
        &settings.model_env,
    )?;
    let mut router = None;
    let (config, bitbucket_label, embedded) = match &settings.tools {
        Tools::Remote { url, headers } => {
            let mut config = McpConfig::http("bitbucket", url.clone());
            for (name, value) in headers {
                config = config.with_header(name.clone(), value.clone());
            }
            (config, format!("the MCP server at {url}"), None)
        }
        Tools::Router {
            url,
            api_key,
            user_id,
        } => {
            let session = crate::router_session::create(url, api_key, user_id).await?;
            let config = McpConfig::http("bitbucket", session.mcp_url.clone())
                .with_header("x-api-key", api_key.clone());
            let label = format!(
                "tools from the tool router at {url} (session {}, user {user_id})",
                session.id
            );
            (config, label, None)
        }
        Tools::EmbeddedRouter(bitbucket) => {
            let started =
                crate::router_session::Embedded::start(bitbucket, settings.lockdown).await?;
            let key = started.api_key.clone();
            let session = crate::router_session::create(
                &started.url,
                &key,
                crate::router_session::LOCAL_USER,
            )
            .await?;
            let config =
                McpConfig::http("bitbucket", session.mcp_url.clone()).with_header("x-api-key", key);
            let label = format!(
                "tools from a tool router of this process at {} (session {}, user {}) on {}",
                started.url,
                session.id,
                crate::router_session::LOCAL_USER,
                started.backend.description
            );
            router = Some(started);
            (config, label, None)
        }
        Tools::Embedded(bitbucket) => {
            let backend = Backend::connect(bitbucket).await?;
            // The agent asks before destructive calls itself; the server need not ask again.
            let handler = BitbucketMcp::new(
                Toolkit::new(backend.client.clone()).with_lockdown(settings.lockdown),
                ServerOptions {
                    destructive: DestructivePolicy::Allow,
                    ..ServerOptions::default()
                },
            )?;
            let key = random_key();
            let server = bitbucket_mcp::http::serve(
                handler,
                HttpOptions::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                    .with_api_key(SecretString::from(key.clone())),
            )
            .await
            .context("cannot start the embedded MCP server")?;
            let config = McpConfig::http("bitbucket", server.url().to_owned())
                .with_header("x-api-key", SecretString::from(key));
            let label = backend.description.clone();
            (config, label, Some((server, backend)))
        }
    };
    let via_router = matches!(
        settings.tools,
        Tools::Router { .. } | Tools::EmbeddedRouter(_)
    );
    let mcp = McpToolset::connect(config).await.context(if via_router {
        "cannot reach the tool router session's MCP endpoint"
    } else {
        "cannot reach the Bitbucket MCP server"
    })?;
    let toolset: Arc<dyn Toolset> = if via_router {
        Arc::new(crate::router_session::RouterTools::new(mcp))
    } else {
        Arc::new(mcp)
    };
    let agent = assemble(model, &settings, toolset.clone(), approver.clone());
    Ok(Session {
        agent,
        model_label: model_label(&settings.model),
        bitbucket_label,
        via_router,
        settings,
        toolset,
        approver,
        embedded,
        router,
    })
}

fn random_key() -> String {
    use rand::Rng as _;
    let bytes: [u8; 24] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
