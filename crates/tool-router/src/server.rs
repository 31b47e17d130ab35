//! Starting the router: storage and vault from the data folder, then one HTTP server with
//! the REST API, the sessions' MCP endpoints and the auth link page, each behind the shared
//! safety layer (Origin, Host, key, body size).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bitbucket_mcp::endpoint::{EndpointStop, McpSettings, SessionLimits, mcp_endpoint};
use bitbucket_mcp::http::{
    DEFAULT_MAX_BODY_BYTES, Guard, HttpError, KeyCheck, Limits, RejectStyle, Serving, SingleKey,
    allowed_hosts,
};
use bitbucket_toolkit::Toolkit;
use tokio_util::sync::CancellationToken;

use crate::api::{self, ApiError, Project};
use crate::connections::Connections;
use crate::mcp::{RouterMcp, resolve_session};
use crate::state::Shared;
use crate::store::{Store, StoreError};
use crate::vault::{Vault, VaultError};

/// How to run the router.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The database (`postgres://...`), shared by every router instance that names it;
    /// `router.db` in the data folder when `None`.
    pub database: Option<String>,
    /// The origin clients use (e.g. behind a proxy); `http://{bound address}` when `None`.
    pub public_url: Option<String>,
    /// The master key (`BBAGENT_MASTER_KEY`), else the key file in the data folder.
    pub master_key: Option<String>,
    /// Host names (besides loopback and the public URL's) that may appear in `Host`.
    pub allowed_hosts: Vec<String>,
    pub max_body_bytes: usize,
    pub link_ttl: Duration,
    pub wait_timeout: Duration,
    /// Header and body timeouts, and the most connections at once.
    pub limits: Limits,
    /// Idle expiry of MCP sessions and the most one API key may hold.
    pub sessions: SessionLimits,
    /// The OAuth consumer users connect through (Bitbucket's consent page); without one,
    /// auth links take API tokens and access tokens only.
    pub oauth: Option<crate::oauth::OAuthClient>,
    /// Tool calls per minute per user and per API key's project (unlimited when `None`).
    pub rate_limits: crate::limits::RateLimits,
}

impl RouterConfig {
    pub fn new(listen: SocketAddr, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen,
            data_dir: data_dir.into(),
            database: None,
            public_url: None,
            master_key: None,
            allowed_hosts: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            link_ttl: Duration::from_secs(15 * 60),
            wait_timeout: Duration::from_secs(60),
            limits: Limits::default(),
            sessions: SessionLimits::default(),
            oauth: None,
            rate_limits: crate::limits::RateLimits::default(),
        }
    }
}

/// Why the router did not start.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    #[error("cannot create the data folder `{path}`")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(
        "the master key differs from the one this database's credentials were sealed with: every router on one database needs the same key (set the same `BBAGENT_MASTER_KEY` for each, or copy `master.key` from the first router's data folder)"
    )]
    MasterKeyMismatch,
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("invalid public URL `{0}`: expected `http(s)://host[:port]` without a path")]
    PublicUrl(String),
    #[error("cannot listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Storage and connections of a data folder (or of `database`, when given), for the router
/// and its admin commands.
pub async fn open(
    data_dir: &Path,
    database: Option<&str>,
    master_key: Option<&str>,
    toolkit: Toolkit,
) -> Result<(Store, Connections), RouterError> {
    std::fs::create_dir_all(data_dir).map_err(|source| RouterError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let store = Store::open_at(data_dir, database).await?;
    let vault = Vault::open(data_dir, master_key)?;
    // Every router on one database must hold the same master key: a value sealed by the first
    // one tells, before any user's credentials fail to open.
    const CHECK_OWNER: &str = "vault-check";
    const CHECK_PLAIN: &[u8] = b"bbagent router vault check";
    let stored = store
        .vault_check(&vault.seal(CHECK_PLAIN, CHECK_OWNER)?)
        .await?;
    if vault.open_sealed(&stored, CHECK_OWNER).ok().as_deref() != Some(CHECK_PLAIN) {
        store.close().await;
        return Err(RouterError::MasterKeyMismatch);
    }
    let connections = Connections::new(store.clone(), vault, toolkit);
    Ok((store, connections))
}

/// The key check of the REST API and MCP endpoints: a key in the store, to its project.
#[derive(Clone)]
struct StoredKeys(Store);

impl KeyCheck for StoredKeys {
    type Identity = Project;

    async fn check(&self, presented: Option<&str>) -> Option<Project> {
        let key = presented?;
        match self.0.project_of_key(key).await {
            Ok(project) => project.map(Project),
            Err(e) => {
                tracing::error!(error = %e, "checking an API key failed");
                None
            }
        }
    }
}

/// A running router.
#[derive(Debug)]
pub struct RunningRouter {
    addr: SocketAddr,
    url: String,
    store: Store,
    serving: Serving,
    /// Ends every MCP session, after the calls in flight (or when this is dropped).
    sessions: tokio_util::sync::DropGuard,
}

impl RunningRouter {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:8900`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting, lets the calls in flight finish (within the drain timeout), ends
    /// every MCP session and closes the database.
    pub async fn shutdown(mut self) {
        self.serving.shutdown().await;
        drop(self.sessions);
        self.store.close().await;
    }

    /// Resolves when the server stops by itself (an I/O failure); pending while it serves.
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        self.serving.stopped().await
    }
}

/// `scheme://host[:port]` of a URL, and its host name.
fn origin_of(url: &str) -> Option<(String, String)> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.path().trim_matches('/').is_empty() {
        return None;
    }
    let host = parsed.host_str()?.to_owned();
    let origin = match parsed.port() {
        Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
        None => format!("{}://{host}", parsed.scheme()),
    };
    Some((origin, host.trim_matches(['[', ']']).to_owned()))
}

/// Starts the router; `toolkit` reaches Bitbucket (its own credentials are never used for a
/// user: each call uses the user's connection).
pub async fn start(config: RouterConfig, toolkit: Toolkit) -> Result<RunningRouter, RouterError> {
    let (store, connections) = open(
        &config.data_dir,
        config.database.as_deref(),
        config.master_key.as_deref(),
        toolkit,
    )
    .await?;
    let connections = match config.oauth.clone() {
        Some(client) => connections.with_oauth(client),
        None => connections,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| RouterError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| RouterError::Bind {
        addr: config.listen,
        source,
    })?;
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    let public_url = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{shown}"),
    };
    let (origin, public_host) =
        origin_of(&public_url).ok_or_else(|| RouterError::PublicUrl(public_url.clone()))?;
    let mut extra_hosts = config.allowed_hosts.clone();
    extra_hosts.push(public_host);
    let hosts = allowed_hosts(addr, &extra_hosts);
    let origins = vec![origin];

    let shared = Arc::new(Shared {
        store: store.clone(),
        connections,
        public_url: public_url.clone(),
        link_ttl: config.link_ttl,
        wait_timeout: config.wait_timeout,
        limiter: crate::limits::Limiter::new(config.rate_limits),
    });
    let ct = CancellationToken::new();
    let keys = StoredKeys(store.clone());

    let rest = Guard::new(keys.clone(), &origins)?
        .with_hosts(hosts.clone())
        .with_style(RejectStyle::Json)
        .apply(api::routes(Arc::clone(&shared)));
    let settings = McpSettings {
        hosts: hosts.clone(),
        max_body_bytes: config.max_body_bytes,
        sessions: config.sessions,
    };
    let stop = EndpointStop {
        stopping: ct.child_token(),
        sessions: CancellationToken::new(),
    };
    let sessions = stop.sessions.clone().drop_guard();
    let mcp = mcp_endpoint("/tool_router/{id}/mcp", || Ok(RouterMcp), settings, stop).route_layer(
        axum::middleware::from_fn_with_state(Arc::clone(&shared), resolve_session),
    );
    let mcp = Guard::new(keys, &origins)?
        .with_hosts(hosts.clone())
        .apply(mcp);
    let links = Guard::new(SingleKey::default(), &origins)?
        .with_hosts(hosts)
        .with_style(RejectStyle::Json)
        .apply(crate::link::routes(Arc::clone(&shared)));
    let app = rest
        .merge(mcp)
        .merge(links)
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no such endpoint").into_response()
        })
        .layer(DefaultBodyLimit::max(config.max_body_bytes));

    Ok(RunningRouter {
        addr,
        url: public_url,
        store,
        serving: Serving::spawn(listener, app, config.limits, ct),
        sessions,
    })
}
