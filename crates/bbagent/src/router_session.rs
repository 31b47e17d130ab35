//! `chat` and `ask` with `--router`: a session is created through the tool router's REST API
//! (`POST /api/v3.1/tool_router/session`, the key in `x-api-key`), and the agent takes its
//! tools from the session's MCP URL with the same key. Every failure is one line that names
//! the router and never the key.

use std::sync::Arc;
use std::time::Duration;

use agent::{McpToolset, ToolCall, ToolContext, ToolDefinition, ToolOutput, Toolset, ToolsetError};
use anyhow::bail;
use futures::future::BoxFuture;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

/// How long the router may take to create a session.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A session the router created.
#[derive(Debug, Clone)]
pub struct RouterSession {
    pub id: String,
    pub mcp_url: String,
}

/// Creates a session for `user_id` with the Bitbucket toolkit and connection management on.
pub async fn create(
    url: &str,
    api_key: &SecretString,
    user_id: &str,
) -> anyhow::Result<RouterSession> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up an HTTP client: {}", innermost(&e)))?;
    let endpoint = format!("{url}/api/v3.1/tool_router/session");
    let body = json!({
        "user_id": user_id,
        "toolkits": {"enable": ["bitbucket"]},
        "manage_connections": {"enable": true},
    });
    let response = match client
        .post(&endpoint)
        .header("x-api-key", api_key.expose_secret())
        .json(&body)
        .send()
        .await
    {
        Ok(response) => response,
        Err(e) if e.is_timeout() => bail!(
            "the tool router at {url} did not answer within {}s",
            TIMEOUT.as_secs()
        ),
        Err(e) => bail!("cannot reach the tool router at {url}: {}", innermost(&e)),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        bail!(
            "the tool router at {url} refused the API key ({status}): check `--api-key` (or `BBAGENT_ROUTER_API_KEY`); `bbagent router keys create` makes one"
        );
    }
    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        let message = parsed
            .as_ref()
            .and_then(|v| v["error"]["message"].as_str())
            .map(|m| one_line(m, api_key))
            .unwrap_or_else(|| "no explanation".to_owned());
        bail!("the tool router at {url} could not create a session ({status}): {message}");
    }
    let session = parsed.as_ref().and_then(|v| {
        let id = v["session_id"].as_str().filter(|s| !s.trim().is_empty())?;
        let mcp = v["mcp"]["url"]
            .as_str()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))?;
        Some(RouterSession {
            id: id.to_owned(),
            mcp_url: mcp.to_owned(),
        })
    });
    match session {
        Some(session) => Ok(session),
        None => bail!(
            "the tool router at {url} answered without a session (`session_id` and an http(s) `mcp.url`): is that URL a tool router?"
        ),
    }
}

/// The deepest cause of a request error (e.g. "Connection refused (os error 111)").
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A server's message on one short line, without the key should the server echo it.
fn one_line(message: &str, api_key: &SecretString) -> String {
    let flat: String = message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(300)
        .collect();
    let key = api_key.expose_secret();
    if key.is_empty() {
        flat
    } else {
        flat.replace(key, "[key]")
    }
}

/// The meta-tool that runs any tool of the catalogue, marked destructive for that reason.
const MULTI_EXECUTE_TOOL: &str = "COMPOSIO_MULTI_EXECUTE_TOOL";

/// A router session's tools as the agent sees them. `COMPOSIO_MULTI_EXECUTE_TOOL` carries
/// `destructiveHint` because it can run anything; the router asks about the destructive
/// calls in it itself, through MCP elicitation, which reaches this run's approver (the chat's
/// question, `ask`'s `--yes`). So the agent does not also ask before every call of it; every
/// other tool keeps its own hints.
pub struct RouterTools {
    inner: Arc<McpToolset>,
}

impl RouterTools {
    pub fn new(inner: McpToolset) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl Toolset for RouterTools {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn tools(&self) -> BoxFuture<'_, Result<Vec<ToolDefinition>, ToolsetError>> {
        Box::pin(async move {
            let mut tools = self.inner.tools().await?;
            for tool in &mut tools {
                if tool.name == MULTI_EXECUTE_TOOL {
                    tool.annotations.destructive = Some(false);
                }
            }
            Ok(tools)
        })
    }

    fn call<'a>(&'a self, call: &'a ToolCall, context: ToolContext) -> BoxFuture<'a, ToolOutput> {
        self.inner.call(call, context)
    }
}

/// The user an embedded router's session is for.
pub const LOCAL_USER: &str = "local";

/// A tool router of this process (`--tool-mode router`): its data in a temporary folder, a key
/// made in-process, and the user [`LOCAL_USER`] connected with the credentials of the
/// Bitbucket this command uses. It lives as long as the session.
pub struct Embedded {
    pub url: String,
    pub api_key: SecretString,
    pub backend: crate::backend::Backend,
    router: tool_router::RunningRouter,
    _data: tempfile::TempDir,
}

impl Embedded {
    pub async fn start(
        bitbucket: &crate::settings::Bitbucket,
        lockdown: bool,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        use tool_router::connections::{Credentials, TOOLKIT};

        let backend = crate::backend::Backend::connect(bitbucket).await?;
        let credentials = match &backend.auth {
            bitbucket_client::Auth::ApiToken { email, token } => Credentials::ApiToken {
                email: email.clone(),
                token: token.clone(),
            },
            bitbucket_client::Auth::Bearer(token) => Credentials::AccessToken(token.clone()),
            bitbucket_client::Auth::Anonymous => {
                bail!(
                    "`--tool-mode router` needs Bitbucket credentials to connect its user: {}",
                    crate::settings::HOW_TO_CONFIGURE
                )
            }
        };
        let data = tempfile::Builder::new()
            .prefix("bbagent-router-")
            .tempdir()
            .context("cannot create a data folder for the embedded tool router")?;
        // A fresh 32-byte master key: the credentials stored in the folder die with it.
        let master_key: String = {
            use rand::Rng as _;
            let bytes: [u8; 32] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        let toolkit =
            bitbucket_toolkit::Toolkit::new(backend.client.clone()).with_lockdown(lockdown);
        let (store, connections) =
            tool_router::open(data.path(), None, Some(&master_key), toolkit.clone())
                .await
                .context("cannot open the embedded tool router's data")?;
        let prepared = async {
            let (key, info) = store.create_key("bbagent", None).await?;
            connections
                .connect(&info.project_id, LOCAL_USER, TOOLKIT, credentials, None)
                .await
                .context("cannot connect the embedded tool router's user to Bitbucket")?;
            anyhow::Ok(key)
        }
        .await;
        store.close().await;
        let key = prepared?;
        let mut config = tool_router::RouterConfig::new(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            data.path(),
        );
        config.master_key = Some(master_key);
        let router = tool_router::start(config, toolkit)
            .await
            .context("cannot start the embedded tool router")?;
        Ok(Self {
            url: router.url().to_owned(),
            api_key: SecretString::from(key),
            backend,
            router,
            _data: data,
        })
    }

    pub async fn shutdown(self) {
        self.router.shutdown().await;
        self.backend.shutdown().await;
    }
}
