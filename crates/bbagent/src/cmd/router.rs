//! `bbagent router`: the self-hosted tool router (per-user sessions, tool search, auth
//! links, execution with each user's own connection), and its admin commands (`keys`,
//! `connect`), which work on the same data folder while the router runs.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bitbucket_client::{Client, ClientConfig};
use bitbucket_toolkit::Toolkit;
use secrecy::SecretString;
use tool_router::connections::{Credentials, TOOLKIT};
use tool_router::{RouterConfig, vault::ENV_MASTER_KEY};

use super::{ConnectionArgs, SessionArgs};
use crate::backend::{Backend, BackendArgs};
use crate::settings::WhenUnset;

#[derive(Debug, clap::Args)]
pub struct RouterArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8900", env = "BBAGENT_ROUTER_LISTEN")]
    listen: SocketAddr,

    /// Folder for the router's database and master key [default: the platform data folder,
    /// e.g. ~/.local/share/bbagent/router].
    #[arg(long, value_name = "DIR", env = "BBAGENT_ROUTER_DIR", global = true)]
    data_dir: Option<PathBuf>,

    /// Keep everything in this PostgreSQL database (`postgres://user:password@host/db`)
    /// instead of `router.db` in the data folder: several routers on one database serve the
    /// same keys, sessions, connections and links (give them the same `BBAGENT_MASTER_KEY`).
    #[arg(
        long,
        value_name = "URL",
        env = "BBAGENT_ROUTER_DATABASE",
        hide_env_values = true,
        global = true
    )]
    database: Option<String>,

    /// The URL clients reach the router at (e.g. behind a proxy) [default: http://LISTEN].
    #[arg(long, value_name = "URL", env = "BBAGENT_ROUTER_PUBLIC_URL")]
    public_url: Option<String>,

    /// Host names (besides loopback and the public URL's) accepted in `Host`.
    #[arg(long = "allowed-host", value_name = "HOST")]
    allowed_hosts: Vec<String>,

    /// Lockdown for every session: results withhold what people without write access to a
    /// repository wrote (issues, pull requests, comments, tasks) and say so. Who may write is
    /// read with the user's own credentials, which must administer the repository; for
    /// anyone else only their own text is shown.
    #[arg(long, env = "BBAGENT_LOCKDOWN")]
    lockdown: bool,

    /// At most this many tool calls per minute for each user (`120` or `120/min`); beyond it
    /// REST answers 429 with `Retry-After`, MCP a result saying when to retry [default: no limit].
    #[arg(long, env = "BBAGENT_ROUTER_RATE_PER_USER", value_name = "N")]
    rate_per_user: Option<tool_router::limits::Rate>,

    /// At most this many tool calls per minute for each API key's project [default: no limit].
    #[arg(long, env = "BBAGENT_ROUTER_RATE_PER_KEY", value_name = "N")]
    rate_per_key: Option<tool_router::limits::Rate>,

    /// An OAuth consumer's key: auth links then send users to Bitbucket's consent page, and
    /// their tokens refresh themselves (API tokens still work through `/link/…?use=token`).
    /// On the local sandbox: `sandbox-consumer`, secret `sandbox-consumer-secret`.
    #[arg(
        long,
        env = "BBAGENT_OAUTH_CLIENT_ID",
        value_name = "KEY",
        requires = "oauth_client_secret"
    )]
    oauth_client_id: Option<String>,

    /// The OAuth consumer's secret.
    #[arg(
        long,
        env = "BBAGENT_OAUTH_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        requires = "oauth_client_id"
    )]
    oauth_client_secret: Option<String>,

    /// Scopes to ask for, space-separated [default: the consumer's own].
    #[arg(
        long,
        env = "BBAGENT_OAUTH_SCOPES",
        value_name = "SCOPES",
        requires = "oauth_client_id"
    )]
    oauth_scopes: Option<String>,

    /// Where the OAuth pages are [default: https://bitbucket.org for Bitbucket Cloud, else the
    /// API's origin, as the sandbox serves them].
    #[arg(long, value_name = "URL", requires = "oauth_client_id")]
    oauth_site: Option<String>,

    #[command(flatten)]
    connections: ConnectionArgs,

    #[command(flatten)]
    sessions: SessionArgs,

    #[command(flatten)]
    backend: BackendArgs,

    #[command(subcommand)]
    command: Option<RouterCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum RouterCommand {
    /// Manage API keys (each key belongs to a project; projects never see each other).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Connect a user's Bitbucket account from the command line (checked with Bitbucket first).
    Connect(ConnectArgs),
    /// Print the audit log: every tool execution, newest first, with its user, session,
    /// outcome (`ok`, `error`, `refused`), latency and the SHA-256 of its arguments.
    Audit(AuditArgs),
}

#[derive(Debug, clap::Args)]
struct AuditArgs {
    /// Only this user's executions.
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Only executions since this time: unix seconds, RFC 3339, or a duration back from now
    /// (`30m`, `2h`, `7d`).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    since: Option<i64>,
    /// Only this project's (id or name).
    #[arg(long, value_name = "PROJECT")]
    project: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
    /// One JSON object per line instead of columns.
    #[arg(long)]
    json: bool,
}

fn parse_since(text: &str) -> Result<i64, String> {
    tool_router::store::parse_since(text)
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Create a key and print it (once) on stdout; a new project unless `--project` is given.
    Create {
        /// A name for the key (and for its new project).
        #[arg(long, default_value = "default")]
        name: String,
        /// Add the key to this existing project (id or name) instead.
        #[arg(long)]
        project: Option<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id or name.
    Revoke {
        /// The key's id or name.
        key: String,
    },
}

#[derive(Debug, clap::Args)]
struct ConnectArgs {
    /// The user (as the program creating sessions names them).
    #[arg(long)]
    user_id: String,
    /// The toolkit to connect.
    #[arg(long, default_value = TOOLKIT)]
    toolkit: String,
    /// The project (id or name) the user belongs to [default: the only project].
    #[arg(long)]
    project: Option<String>,
    /// Atlassian account email, with `--api-token`.
    #[arg(long, requires = "api_token", conflicts_with = "access_token")]
    email: Option<String>,
    /// Atlassian API token, with `--email`.
    #[arg(
        long,
        requires = "email",
        env = "BBAGENT_CONNECT_API_TOKEN",
        hide_env_values = true
    )]
    api_token: Option<String>,
    /// A Bitbucket access token.
    #[arg(long, env = "BBAGENT_CONNECT_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
    /// The Bitbucket to check the credentials with: the router's (the `BITBUCKET_*`
    /// settings, else the shared local sandbox).
    #[command(flatten)]
    backend: BackendArgs,
}

fn data_dir(args: &RouterArgs) -> anyhow::Result<PathBuf> {
    match &args.data_dir {
        Some(dir) => Ok(dir.clone()),
        None => dirs::data_dir()
            .map(|d| d.join("bbagent").join("router"))
            .context("cannot find a data folder for this platform; pass `--data-dir`"),
    }
}

fn master_key() -> Option<String> {
    std::env::var(ENV_MASTER_KEY)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

pub async fn run(args: RouterArgs) -> anyhow::Result<()> {
    let dir = data_dir(&args)?;
    match &args.command {
        None => serve(&args, dir).await,
        Some(RouterCommand::Keys(command)) => keys(command, &dir, args.database.as_deref()).await,
        Some(RouterCommand::Connect(connect_args)) => {
            connect(connect_args, &dir, args.database.as_deref()).await
        }
        Some(RouterCommand::Audit(audit_args)) => {
            audit(audit_args, &dir, args.database.as_deref()).await
        }
    }
}

async fn serve(args: &RouterArgs, dir: PathBuf) -> anyhow::Result<()> {
    let bitbucket = args.backend.resolve(WhenUnset::UseSandbox)?;
    let backend = Backend::connect(&bitbucket).await?;
    let mut config = RouterConfig::new(args.listen, &dir);
    config.database = args.database.clone();
    config.public_url = args.public_url.clone();
    config.master_key = master_key();
    config.allowed_hosts = args.allowed_hosts.clone();
    config.limits = args.connections.limits();
    config.sessions = args.sessions.limits();
    config.oauth = oauth_client(args, &backend)?;
    config.rate_limits = tool_router::limits::RateLimits {
        per_user: args.rate_per_user,
        per_key: args.rate_per_key,
    };
    let toolkit = Toolkit::new(backend.client.clone()).with_lockdown(args.lockdown);
    let mut router = tool_router::start(config, toolkit)
        .await
        .context("cannot start the tool router")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", router.url())?;
    out.flush()?;
    drop(out);
    let (data, keys) = match &args.database {
        // The URL's password stays out of the banner; `keys` finds the database in the same
        // `BBAGENT_ROUTER_DATABASE` (or `--database`) the router was given.
        Some(url) => (
            tool_router::store::redact_url(url),
            "bbagent router --database <URL> keys create".to_owned(),
        ),
        None => (
            dir.display().to_string(),
            format!("bbagent router keys create --data-dir {}", dir.display()),
        ),
    };
    // Behind a proxy (or beside other instances) the public URL is not where this one listens.
    let listening = format!("http://{}", router.addr());
    let public = if listening == router.url() {
        String::new()
    } else {
        format!(" (public URL {})", router.url())
    };
    eprintln!(
        "Tool router listening at {listening}{public} on {bitbucket}\n  data:  {data}\n  keys:  {keys}\n  SDK:   COMPOSIO_BASE_URL={url} COMPOSIO_API_KEY=<key>\nPress Ctrl-C to stop.",
        url = router.url(),
        bitbucket = backend.description,
    );
    let result = tokio::select! {
        () = http_serve::shutdown_signal() => {
            eprintln!("stopping the tool router: finishing the calls in flight");
            Ok(())
        }
        result = router.stopped() => result.context("the tool router stopped"),
    };
    router.shutdown().await;
    backend.shutdown().await;
    result
}

/// The OAuth consumer of `--oauth-client-id`, its pages at `--oauth-site`, the sandbox's
/// origin, or Bitbucket Cloud's.
fn oauth_client(
    args: &RouterArgs,
    backend: &Backend,
) -> anyhow::Result<Option<tool_router::oauth::OAuthClient>> {
    let (Some(client_id), Some(secret)) = (&args.oauth_client_id, &args.oauth_client_secret) else {
        return Ok(None);
    };
    if client_id.trim().is_empty() || secret.trim().is_empty() {
        anyhow::bail!("`--oauth-client-id` and `--oauth-client-secret` must not be empty");
    }
    let site = match &args.oauth_site {
        Some(site) => {
            let site = site.trim_end_matches('/');
            if reqwest::Url::parse(site).is_err() || !site.starts_with("http") {
                anyhow::bail!("`--oauth-site` must be an http(s) URL, e.g. https://bitbucket.org");
            }
            Some(site.to_owned())
        }
        // Bitbucket Cloud's API is at api.bitbucket.org and its pages at bitbucket.org; any
        // other Bitbucket (the sandbox) serves both at its API's origin.
        None => reqwest::Url::parse(backend.client.base_url())
            .ok()
            .filter(|url| url.host_str() != Some("api.bitbucket.org"))
            .map(|url| url.origin().ascii_serialization()),
    };
    let (authorize_url, token_url) = match site {
        Some(site) => (
            format!("{site}/site/oauth2/authorize"),
            format!("{site}/site/oauth2/access_token"),
        ),
        None => (
            tool_router::oauth::BITBUCKET_AUTHORIZE_URL.to_owned(),
            tool_router::oauth::BITBUCKET_TOKEN_URL.to_owned(),
        ),
    };
    Ok(Some(tool_router::oauth::OAuthClient {
        client_id: client_id.trim().to_owned(),
        client_secret: SecretString::from(secret.trim().to_owned()),
        scopes: args.oauth_scopes.clone().unwrap_or_default(),
        authorize_url,
        token_url,
    }))
}

/// A toolkit for admin commands, which never act for a user by themselves.
fn admin_toolkit() -> anyhow::Result<Toolkit> {
    let client = Client::new(ClientConfig::new("http://127.0.0.1:9/2.0"))
        .context("cannot set up the Bitbucket client")?;
    Ok(Toolkit::new(client))
}

async fn audit(args: &AuditArgs, dir: &Path, database: Option<&str>) -> anyhow::Result<()> {
    if database.is_none() && !dir.join("router.db").exists() {
        anyhow::bail!(
            "no router data in `{}`: nothing has run there yet",
            dir.display()
        );
    }
    let store = tool_router::store::Store::open_at(dir, database).await?;
    let result = async {
        let project_id = match &args.project {
            Some(p) => Some(store.find_project(p).await?.with_context(|| {
                format!("no project `{p}`; `bbagent router keys list` shows them")
            })?),
            None => None,
        };
        let entries = store
            .audit(&tool_router::store::AuditFilter {
                project_id,
                user_id: args.user.clone(),
                since_ms: args.since,
                limit: args.limit,
            })
            .await?;
        let mut out = std::io::stdout();
        if entries.is_empty() {
            eprintln!("no executions match");
        }
        for e in entries {
            if args.json {
                writeln!(out, "{}", serde_json::to_string(&e)?)?;
            } else {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{:.1} ms\targs {}",
                    tool_router::state::iso(e.at_ms / 1000),
                    e.project_id,
                    e.user_id,
                    e.session_id,
                    e.tool,
                    e.outcome,
                    e.latency_us as f64 / 1000.0,
                    &e.arguments_sha256[..e.arguments_sha256.len().min(12)],
                )?;
            }
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    result
}

async fn keys(command: &KeysCommand, dir: &Path, database: Option<&str>) -> anyhow::Result<()> {
    let (store, _) =
        tool_router::open(dir, database, master_key().as_deref(), admin_toolkit()?).await?;
    let result = keys_in(command, &store).await;
    store.close().await;
    result
}

async fn keys_in(command: &KeysCommand, store: &tool_router::store::Store) -> anyhow::Result<()> {
    // Not locked: no lock is held across an await.
    let mut out = std::io::stdout();
    match command {
        KeysCommand::Create { name, project } => {
            let (key, info) = store.create_key(name, project.as_deref()).await?;
            writeln!(out, "{key}")?;
            eprintln!(
                "created key `{}` ({}) in project `{}` ({}); it is shown only now",
                info.name, info.id, info.project_name, info.project_id
            );
        }
        KeysCommand::List => {
            let keys = store.list_keys().await?;
            if keys.is_empty() {
                eprintln!("no keys yet; create one with `bbagent router keys create`");
            }
            for key in keys {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    key.id,
                    key.name,
                    key.project_name,
                    tool_router::state::iso(key.created_at),
                    if key.revoked { "revoked" } else { "active" }
                )?;
            }
        }
        KeysCommand::Revoke { key } => {
            if !store.revoke_key(key).await? {
                anyhow::bail!("no active key `{key}`; `bbagent router keys list` shows them");
            }
            eprintln!("revoked key `{key}`");
        }
    }
    Ok(())
}

async fn connect(c: &ConnectArgs, dir: &Path, database: Option<&str>) -> anyhow::Result<()> {
    let credentials = match (&c.email, &c.api_token, &c.access_token) {
        (Some(email), Some(token), None) => Credentials::ApiToken {
            email: email.clone(),
            token: SecretString::from(token.clone()),
        },
        (None, None, Some(token)) => Credentials::AccessToken(SecretString::from(token.clone())),
        _ => anyhow::bail!("give `--email` with `--api-token`, or `--access-token`"),
    };
    let bitbucket = c.backend.resolve(WhenUnset::UseSandbox)?;
    let backend = Backend::connect(&bitbucket).await?;
    let (store, connections) = tool_router::open(
        dir,
        database,
        master_key().as_deref(),
        Toolkit::new(backend.client.clone()),
    )
    .await?;
    let result = async {
        let project = match &c.project {
            Some(p) => store.find_project(p).await?.with_context(|| {
                format!("no project `{p}`; `bbagent router keys list` shows them")
            })?,
            None => {
                let projects = store.projects().await?;
                match projects.as_slice() {
                    [(id, _)] => id.clone(),
                    [] => anyhow::bail!(
                        "no project yet; create a key first with `bbagent router keys create`"
                    ),
                    _ => anyhow::bail!("there are several projects; name one with `--project`"),
                }
            }
        };
        let connection = connections
            .connect(&project, &c.user_id, &c.toolkit, credentials, None)
            .await?;
        eprintln!(
            "connected user `{}` to {} as {} ({})",
            connection.user_id, connection.toolkit, connection.account_name, connection.id
        );
        Ok(())
    }
    .await;
    store.close().await;
    backend.shutdown().await;
    result
}
