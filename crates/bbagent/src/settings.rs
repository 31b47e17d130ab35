//! Flags and environment resolved into settings before a command does anything: which
//! Bitbucket, which model, where the tools come from. This is the one place (besides clap's
//! `env` attributes and `.env` loading in `main`) that reads the environment, so `backend.rs`
//! and `session.rs` work from plain values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use agent::{ModelOptions, Provider};
use anyhow::Context as _;
use bitbucket_client::ClientConfig;
use secrecy::{ExposeSecret as _, SecretString};

use crate::backend::BackendArgs;
use crate::session::AgentArgs;

/// The model used when `OPENAI_API_KEY` is set and no model is named.
pub const OPENAI_DEFAULT: &str = "openai:gpt-5";
/// The model used when only `ANTHROPIC_API_KEY` is set.
pub const ANTHROPIC_DEFAULT: &str = "anthropic:claude-sonnet-4-5";

const BITBUCKET_VARS: [&str; 4] = [
    "BITBUCKET_BASE_URL",
    "BITBUCKET_ACCESS_TOKEN",
    "BITBUCKET_API_TOKEN",
    "BITBUCKET_EMAIL",
];

pub const HOW_TO_CONFIGURE: &str = "set `BITBUCKET_EMAIL` and `BITBUCKET_API_TOKEN` (an Atlassian API token), or `BITBUCKET_ACCESS_TOKEN`, in the environment or a `.env` file; or pass `--sandbox` to use a local sandbox";

/// Which Bitbucket a command talks to.
#[derive(Debug, Clone)]
pub enum Bitbucket {
    /// Bitbucket Cloud, or any Bitbucket the `BITBUCKET_*` settings name.
    Remote(ClientConfig),
    /// The sandbox of this data folder, shared with every other command that uses it.
    Shared { dir: PathBuf },
    /// A sandbox of this process alone (`eval`: a fresh folder per conversation).
    Embedded { dir: PathBuf },
}

/// What a command does when neither `--sandbox` nor `BITBUCKET_*` says which Bitbucket.
#[derive(Debug, Clone, Copy)]
pub enum WhenUnset {
    /// `chat` and `ask`: the shared sandbox.
    UseSandbox,
    /// `mcp` and `tools call`: an error saying how to configure one, since a server or a
    /// script silently working on a local sandbox would surprise.
    Refuse,
}

fn env_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

impl BackendArgs {
    /// `--sandbox` wins; then the `BITBUCKET_*` settings; then `when_unset`.
    pub fn resolve(&self, when_unset: WhenUnset) -> anyhow::Result<Bitbucket> {
        let configured = BITBUCKET_VARS.iter().any(|k| env_set(k));
        if self.sandbox || (!configured && matches!(when_unset, WhenUnset::UseSandbox)) {
            let dir = match &self.sandbox_dir {
                Some(dir) => dir.clone(),
                None => crate::cmd::default_sandbox_dir()?,
            };
            return Ok(Bitbucket::Shared { dir });
        }
        if !configured {
            anyhow::bail!("no Bitbucket to talk to: {HOW_TO_CONFIGURE}");
        }
        let config = ClientConfig::from_env().context("invalid Bitbucket settings")?;
        Ok(Bitbucket::Remote(config))
    }
}

/// The model keys and base URLs from the environment, kept for `/model` switches.
#[derive(Clone, Default)]
pub struct ModelEnv {
    vars: BTreeMap<&'static str, SecretString>,
}

impl std::fmt::Debug for ModelEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl ModelEnv {
    pub fn from_env() -> Self {
        let mut vars = BTreeMap::new();
        for provider in [Provider::OpenAi, Provider::Anthropic] {
            for name in [provider.key_var(), provider.base_url_var()] {
                if let Ok(value) = std::env::var(name)
                    && !value.trim().is_empty()
                {
                    vars.insert(name, SecretString::from(value));
                }
            }
        }
        Self { vars }
    }

    fn has(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// `options` with the provider's key and base URL filled in where still unset.
    pub fn fill(&self, options: ModelOptions, provider: Provider) -> ModelOptions {
        options.with_vars(provider, |name| {
            self.vars.get(name).map(|v| v.expose_secret().to_owned())
        })
    }
}

/// Where the agent's tools come from.
#[derive(Debug, Clone)]
pub enum Tools {
    /// An MCP server elsewhere (`--mcp-url`), with its headers.
    Remote {
        url: String,
        headers: Vec<(String, SecretString)>,
    },
    /// A session of a tool router (`--router`), created at start for this user.
    Router {
        url: String,
        api_key: SecretString,
        user_id: String,
    },
    /// The MCP server this process embeds, in front of this Bitbucket.
    Embedded(Bitbucket),
    /// A tool router this process embeds (`--tool-mode router`), in front of this Bitbucket,
    /// with the user `local` connected to it.
    EmbeddedRouter(Bitbucket),
}

/// How the agent is offered the tools (`--tool-mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ToolMode {
    // The Bitbucket tools themselves.
    #[default]
    Direct,
    // A tool router session: search, connections and execution as meta-tools.
    Router,
}

/// Everything `session::start` needs.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// The model string, e.g. `openai:gpt-5` or `local`.
    pub model: String,
    /// `--base-url`, which wins over the environment's.
    pub base_url: Option<String>,
    pub model_env: ModelEnv,
    pub tools: Tools,
    pub workspace: Option<String>,
    pub repo: Option<String>,
    /// `--lockdown`, for the tools of this process.
    pub lockdown: bool,
}

impl AgentArgs {
    pub fn resolve(&self) -> anyhow::Result<AgentSettings> {
        let model_env = ModelEnv::from_env();
        let model = match &self.model {
            Some(model) => model.clone(),
            None if model_env.has(Provider::OpenAi.key_var()) => OPENAI_DEFAULT.to_owned(),
            None if model_env.has(Provider::Anthropic.key_var()) => ANTHROPIC_DEFAULT.to_owned(),
            None => local_model::NAME.to_owned(),
        };
        let tools = match (&self.router, &self.mcp_url) {
            (Some(url), _) => self.router_tools(url)?,
            (None, Some(url)) => Tools::Remote {
                url: url.clone(),
                headers: self.headers()?,
            },
            (None, None) => {
                let bitbucket = self.backend.resolve(WhenUnset::UseSandbox)?;
                match self.tool_mode {
                    ToolMode::Direct => Tools::Embedded(bitbucket),
                    ToolMode::Router => Tools::EmbeddedRouter(bitbucket),
                }
            }
        };
        Ok(AgentSettings {
            model,
            base_url: self.base_url.clone(),
            model_env,
            tools,
            workspace: self.workspace.clone(),
            repo: self.repo.clone(),
            lockdown: self.lockdown,
        })
    }

    /// `--router` with its `--api-key` and `--user-id` (clap makes them go together; empty
    /// values from the environment are caught here).
    fn router_tools(&self, url: &str) -> anyhow::Result<Tools> {
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!(
                "invalid `--router` URL `{url}`: expected http:// or https://, e.g. `http://127.0.0.1:8900`"
            );
        }
        let api_key = self
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .context("`--router` needs `--api-key` (or `BBAGENT_ROUTER_API_KEY`)")?;
        let user_id = self
            .user_id
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .context("`--router` needs `--user-id` (or `BBAGENT_USER_ID`)")?;
        Ok(Tools::Router {
            url: url.to_owned(),
            api_key: SecretString::from(api_key.to_owned()),
            user_id: user_id.to_owned(),
        })
    }

    fn headers(&self) -> anyhow::Result<Vec<(String, SecretString)>> {
        let mut raw: Vec<String> = self.mcp_headers.clone();
        if let Ok(env) = std::env::var("BBAGENT_MCP_HEADERS") {
            raw.extend(
                env.split(['\n', ';'])
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned),
            );
        }
        raw.iter().map(|h| parse_header(h)).collect()
    }
}

fn parse_header(raw: &str) -> anyhow::Result<(String, SecretString)> {
    let (name, value) = raw.split_once(':').with_context(|| {
        format!(
            "invalid MCP header `{}`: expected `Name: value`",
            raw.split(':').next().unwrap_or("")
        )
    })?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        anyhow::bail!("invalid MCP header name `{name}`: expected letters, digits and `-`");
    }
    Ok((name.to_owned(), SecretString::from(value.trim().to_owned())))
}
