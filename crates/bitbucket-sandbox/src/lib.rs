//! A local Bitbucket Cloud REST 2.0 server backed by git and SQLite.
//!
//! It answers the same paths, JSON shapes, errors and limits as Bitbucket Cloud under
//! `/2.0`, so that any Bitbucket client (ours, or a third party's) works against it
//! unchanged. Each repository is a real bare git repository; everything else lives in
//! SQLite. Start it in-process with [`Sandbox::start`], or from the CLI as `bbagent sandbox`.

mod api;
mod body;
mod error;
pub mod faults;
pub mod git;
mod paging;
pub mod pipelines;
pub mod query;
#[cfg(test)]
mod query_props;
mod render;
mod seed;
mod state;
mod store;

/// Entry points into the readers of request bodies, for the fuzz targets in `fuzz/`; not an
/// API. Each reads a request exactly as its handler does, with no state; a refusal is its
/// status and message.
#[doc(hidden)]
pub mod fuzzing {
    use axum::extract::{FromRequest as _, Request};

    use crate::error::ApiError;

    fn refusal(error: ApiError) -> (u16, String) {
        (error.status.as_u16(), error.message)
    }

    /// Reads a `POST /src` form (multipart or urlencoded, meta fields also in the query
    /// string) up to where the handler would open the repository.
    pub async fn commit_form(request: Request) -> Result<(), (u16, String)> {
        let params =
            crate::paging::Params::parse(request.uri().path(), request.uri().query().unwrap_or(""));
        crate::api::commit_files::read(&params, request, &())
            .await
            .map(drop)
            .map_err(refusal)
    }

    /// Reads a JSON body as every endpoint that takes JSON does.
    pub async fn json_body(request: Request) -> Result<serde_json::Value, (u16, String)> {
        let body = crate::body::JsonBody::from_request(request, &())
            .await
            .map_err(refusal)?;
        body.parse().map_err(refusal)
    }
}

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http_serve::Serving;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer as _;

pub use faults::FaultConfig;
pub use http_serve::Limits;
pub use seed::{ALICE_TOKEN, BOB_TOKEN, DEMO_EMAIL, DEMO_TOKEN, EVE_TOKEN};
pub use store::oauth::{ALL_SCOPES, SEED_CALLBACK, SEED_CLIENT_ID, SEED_CLIENT_SECRET};

/// How long an OAuth access token lives unless configured: 2 hours, as on Bitbucket.
pub const DEFAULT_OAUTH_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(7200);

use crate::faults::Faults;
use crate::git::GitStore;
use crate::state::AppState;
use crate::store::Store;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where the database and the git repositories live.
    pub data_dir: PathBuf,
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Replaces the demo user's token (`sandbox-token` by default).
    pub demo_token: Option<String>,
    /// Wipe the data folder and seed it again.
    pub reset: bool,
    pub faults: FaultConfig,
    /// Header and body timeouts, and the most connections at once.
    pub limits: Limits,
    /// How long an OAuth access token lives (Bitbucket: 2 hours).
    pub oauth_token_ttl: std::time::Duration,
    /// Run pipeline steps: each runs the repository's own `script` lines with `sh` on this
    /// machine, so it is off unless asked for. Off, a run completes at once with result ERROR.
    pub run_pipelines: bool,
    /// The longest a pipeline step may run, whatever its `max-time` says.
    pub step_time_limit: std::time::Duration,
}

/// A step's time limit unless the configuration sets another: Bitbucket's default `max-time`.
pub const DEFAULT_STEP_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(120 * 60);

impl SandboxConfig {
    /// A sandbox on a free loopback port, storing its data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            demo_token: None,
            reset: false,
            faults: FaultConfig::default(),
            limits: Limits::default(),
            oauth_token_ttl: DEFAULT_OAUTH_TOKEN_TTL,
            run_pipelines: false,
            step_time_limit: DEFAULT_STEP_TIME_LIMIT,
        }
    }

    /// Runs pipeline steps for real (see [`SandboxConfig::run_pipelines`]).
    pub fn with_run_pipelines(mut self, run: bool) -> Self {
        self.run_pipelines = run;
        self
    }

    pub fn with_step_time_limit(mut self, limit: std::time::Duration) -> Self {
        self.step_time_limit = limit;
        self
    }

    pub fn with_listen(mut self, listen: SocketAddr) -> Self {
        self.listen = listen;
        self
    }

    pub fn with_demo_token(mut self, token: impl Into<String>) -> Self {
        self.demo_token = Some(token.into());
        self
    }

    pub fn with_oauth_token_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.oauth_token_ttl = ttl;
        self
    }

    pub fn with_reset(mut self, reset: bool) -> Self {
        self.reset = reset;
        self
    }

    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot use the data folder `{path}`")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the data folder `{path}` is in use by another running sandbox")]
    Locked { path: PathBuf },
    #[error("cannot listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] store::DbError),
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    #[error("the demo token must not be empty")]
    EmptyToken,
    #[error("{0}")]
    InvalidConsumer(String),
    #[error("{0}")]
    InvalidUser(String),
    #[error("cannot settle the pipelines an earlier run left unfinished: {0}")]
    Pipelines(String),
}

/// A user to add with [`Sandbox::create_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub token: String,
}

/// An OAuth consumer to add with [`create_consumer`].
#[derive(Debug, Clone)]
pub struct NewConsumer {
    pub name: String,
    /// Where the consumer's users return; a redirect URI must start with it.
    pub callback_url: String,
    /// Bitbucket scope names, e.g. `repository`, `pullrequest:write`.
    pub scopes: Vec<String>,
}

/// Adds an OAuth consumer, owned by the demo user, to the sandbox data in `data_dir` (which
/// no running sandbox may hold); its client id and secret. The secret is shown only here.
pub async fn create_consumer(
    data_dir: &Path,
    consumer: &NewConsumer,
) -> Result<(String, String), SandboxError> {
    let name = consumer.name.trim();
    if name.is_empty() {
        return Err(SandboxError::InvalidConsumer(
            "the consumer needs a name".to_owned(),
        ));
    }
    let callback = consumer.callback_url.trim();
    if !(callback.starts_with("http://") || callback.starts_with("https://"))
        || url::Url::parse(callback).is_err()
    {
        return Err(SandboxError::InvalidConsumer(format!(
            "the callback URL must be an http or https URL, not `{callback}`"
        )));
    }
    if consumer.scopes.is_empty() {
        return Err(SandboxError::InvalidConsumer(format!(
            "give at least one scope: {}",
            ALL_SCOPES.join(", ")
        )));
    }
    if let Some(unknown) = consumer
        .scopes
        .iter()
        .find(|s| !ALL_SCOPES.contains(&s.as_str()))
    {
        return Err(SandboxError::InvalidConsumer(format!(
            "unknown scope `{unknown}`; scopes are: {}",
            ALL_SCOPES.join(", ")
        )));
    }
    let io_err = |source| SandboxError::DataDir {
        path: data_dir.to_owned(),
        source,
    };
    if !data_dir.join("sandbox.db").exists() {
        return Err(SandboxError::InvalidConsumer(format!(
            "no sandbox data in `{}`: start `bbagent sandbox` on it once first",
            data_dir.display()
        )));
    }
    let lock = File::create(data_dir.join(".lock")).map_err(io_err)?;
    if lock.try_lock().is_err() {
        return Err(SandboxError::Locked {
            path: data_dir.to_owned(),
        });
    }
    let store = Store::open(&data_dir.join("sandbox.db")).await?;
    let owner = store
        .find_user("demo")
        .await
        .map_err(store::DbError::from)?
        .ok_or_else(|| SandboxError::InvalidConsumer("the sandbox has no demo user".to_owned()))?;
    let client_id = format!(
        "consumer-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let secret = {
        use rand::Rng as _;
        let bytes: [u8; 24] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let mut write = store.write().await.map_err(store::DbError::from)?;
    write
        .create_consumer(
            &client_id,
            &secret,
            name,
            callback,
            &consumer.scopes.join(" "),
            owner.id,
            &state::now(),
        )
        .await
        .map_err(store::DbError::from)?;
    write.commit().await.map_err(store::DbError::from)?;
    store.close().await;
    Ok((client_id, secret))
}

/// A running sandbox. Dropping it stops the server.
#[derive(Debug)]
pub struct Sandbox {
    state: Arc<AppState>,
    addr: SocketAddr,
    base_url: String,
    seeded: bool,
    serving: Serving,
    _lock: File,
}

impl Sandbox {
    /// Opens (or creates and seeds) the data folder and starts serving.
    pub async fn start(config: SandboxConfig) -> Result<Self, SandboxError> {
        let dir = &config.data_dir;
        let io_err = |source| SandboxError::DataDir {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io_err)?;
        let lock = File::create(dir.join(".lock")).map_err(io_err)?;
        if lock.try_lock().is_err() {
            return Err(SandboxError::Locked { path: dir.clone() });
        }
        if config.reset {
            wipe(dir).map_err(io_err)?;
        }
        let store = Store::open(&dir.join("sandbox.db")).await?;
        let git = GitStore::new(dir.join("repos"));
        let seeded = store.is_empty().await.map_err(store::DbError::from)?;
        if seeded {
            // A half-seeded folder from an interrupted start has repositories but no rows.
            let repos = dir.join("repos");
            if repos.exists() {
                std::fs::remove_dir_all(&repos).map_err(io_err)?;
            }
            seed::seed(&store, &git).await?;
        }
        {
            let mut write = store.write().await.map_err(store::DbError::from)?;
            write
                .ensure_seed_consumer(&state::now())
                .await
                .map_err(store::DbError::from)?;
            write.commit().await.map_err(store::DbError::from)?;
        }
        if let Some(token) = &config.demo_token {
            if token.trim().is_empty() {
                return Err(SandboxError::EmptyToken);
            }
            let mut write = store.write().await.map_err(store::DbError::from)?;
            write
                .set_token("demo", token)
                .await
                .map_err(store::DbError::from)?;
            write.commit().await.map_err(store::DbError::from)?;
        }

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SandboxError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        let link_host = if addr.ip().is_unspecified() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        } else {
            addr
        };
        let origin = format!("http://{link_host}");
        // Checkouts an earlier process left behind; a run never outlives its process.
        let _ = std::fs::remove_dir_all(dir.join("pipelines-work"));
        let state = Arc::new(AppState {
            store,
            git,
            origin: origin.clone(),
            faults: Faults::new(config.faults.clone()),
            requests: AtomicU64::new(0),
            oauth_token_ttl: config.oauth_token_ttl,
            oauth_tickets: std::sync::Mutex::default(),
            pipelines: pipelines::Runner::new(
                config.run_pipelines,
                config.step_time_limit,
                dir.join("pipelines-work"),
            ),
        });
        pipelines::fail_interrupted(&state)
            .await
            .map_err(|e| SandboxError::Pipelines(e.message))?;
        let app = tower::util::MapRequestLayer::new(api::normalize_path)
            .layer(api::router(state.clone()));
        let serving = Serving::spawn(listener, app, config.limits, CancellationToken::new());
        tracing::info!(%origin, seeded, "sandbox listening");
        Ok(Self {
            state,
            addr,
            base_url: format!("{origin}/2.0"),
            seeded,
            serving,
            _lock: lock,
        })
    }

    /// The API base URL, e.g. `http://127.0.0.1:7990/2.0`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// True when this start wrote the seed (a new or reset data folder).
    pub fn was_seeded(&self) -> bool {
        self.seeded
    }

    /// Changes fault injection while running.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.state.faults.set(faults);
    }

    /// Adds a user who signs in with `email` and `token` (a team's worth of people for load
    /// tests), a member of the workspace `workspace` when given; errors when the username or
    /// email is taken or the workspace does not exist.
    pub async fn create_user(
        &self,
        user: &NewUser,
        workspace: Option<&str>,
    ) -> Result<(), SandboxError> {
        let invalid = |why: String| SandboxError::InvalidUser(why);
        if user.username.trim().is_empty() || user.token.is_empty() {
            return Err(invalid("a user needs a username and a token".to_owned()));
        }
        let store = &self.state.store;
        let db = |e: sqlx::Error| SandboxError::Db(store::DbError::from(e));
        for key in [&user.username, &user.email] {
            if store.find_user(key).await.map_err(db)?.is_some() {
                return Err(invalid(format!("a user `{key}` exists already")));
            }
        }
        // A token names one user (it is also a Bearer token).
        if store
            .user_by_token(&user.token)
            .await
            .map_err(db)?
            .is_some()
        {
            return Err(invalid("another user has this token".to_owned()));
        }
        let membership = match workspace {
            Some(slug) => Some(
                store
                    .workspace_by_key(slug)
                    .await
                    .map_err(db)?
                    .ok_or_else(|| invalid(format!("no workspace `{slug}`")))?
                    .id,
            ),
            None => None,
        };
        let now = state::now();
        let mut write = store.write().await.map_err(db)?;
        write
            .create_user(
                &store::NewUserRow {
                    username: &user.username,
                    display_name: &user.display_name,
                    email: &user.email,
                    token: &user.token,
                    created_on: &now,
                },
                membership.map(|id| (id, "member")),
            )
            .await
            .map_err(db)?;
        write.commit().await.map_err(db)?;
        Ok(())
    }

    /// Requests received so far, faulted ones included.
    pub fn request_count(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Stops accepting requests, finishes those in flight and closes the database.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    /// Serves until the server fails or is shut down from elsewhere.
    pub async fn wait(mut self) -> std::io::Result<()> {
        self.serving.stopped().await
    }

    async fn stop(&mut self) {
        self.serving.shutdown().await;
        self.state.store.close().await;
    }
}

/// Removes the database and repositories, keeping the lock file we hold.
fn wipe(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() == ".lock" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}
