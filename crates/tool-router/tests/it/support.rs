//! A sandbox, the router in front of it, API keys of two projects, and request helpers.

use std::path::PathBuf;

use bitbucket_client::{Auth, Client, ClientConfig, RepoId};
use bitbucket_sandbox::{DEMO_EMAIL, DEMO_TOKEN, Sandbox, SandboxConfig};
use bitbucket_toolkit::Toolkit;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tool_router::store::Store;
use tool_router::{RouterConfig, RunningRouter};

/// Where a router keeps its state: a data folder (the vault's key file, and `router.db` unless
/// `database` names a PostgreSQL database).
#[derive(Debug, Clone)]
pub struct Storage {
    pub data_dir: PathBuf,
    pub database: Option<String>,
}

impl Storage {
    /// A data folder, and a fresh PostgreSQL database when the suite runs on one.
    pub async fn new(data_dir: &std::path::Path) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            database: mcp_testkit::postgres::fresh().await,
        }
    }

    pub async fn store(&self) -> Store {
        Store::open_at(&self.data_dir, self.database.as_deref())
            .await
            .expect("store")
    }

    /// Everything the router has persisted, as text: the files of the data folder (but the
    /// vault's key file) and, on PostgreSQL, every row of every table (with `bytea` in hex, so
    /// a secret stored as bytes shows too).
    pub async fn stored_text(&self) -> String {
        let mut stored = Vec::new();
        for entry in std::fs::read_dir(&self.data_dir).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n != "master.key") && path.is_file() {
                stored.extend(std::fs::read(&path).expect("read"));
            }
        }
        let mut text = String::from_utf8_lossy(&stored).into_owned();
        if let Some(database) = &self.database {
            use sqlx::{Connection as _, Row as _};
            let mut db = sqlx::PgConnection::connect(database)
                .await
                .expect("connect");
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
            )
            .fetch_all(&mut db)
            .await
            .expect("tables");
            for table in tables {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{table}\" t"
                )))
                .fetch_all(&mut db)
                .await
                .expect("rows");
                for row in rows {
                    let row: String = row.get(0);
                    text.push_str(&row);
                    text.push('\n');
                    // `bytea` columns print as `\x...` hex (the backslash doubled inside a
                    // row): decode every hex run too.
                    for run in row.split("\\x").skip(1) {
                        let digits: Vec<u8> = run
                            .chars()
                            .map_while(|c| c.to_digit(16))
                            .map(|d| d as u8)
                            .collect();
                        let bytes: Vec<u8> =
                            digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect();
                        text.push_str(&String::from_utf8_lossy(&bytes));
                        text.push('\n');
                    }
                }
            }
            db.close().await.ok();
        }
        text
    }
}

pub struct Env {
    pub router: Option<RunningRouter>,
    /// Checks effects in the sandbox directly, as the demo user.
    pub bitbucket: Client,
    pub sandbox_url: String,
    /// A key of project A, and one of project B.
    pub key: String,
    pub other_key: String,
    pub http: reqwest::Client,
    pub storage: Storage,
    pub _sandbox: Sandbox,
    pub _dirs: (TempDir, TempDir),
}

pub const MASTER_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub async fn start_router(
    storage: &Storage,
    sandbox_url: &str,
    tweak: impl FnOnce(&mut RouterConfig),
) -> RunningRouter {
    let mut config = RouterConfig::new("127.0.0.1:0".parse().expect("addr"), &storage.data_dir);
    config.database = storage.database.clone();
    config.master_key = Some(MASTER_KEY.into());
    config.wait_timeout = std::time::Duration::from_secs(2);
    tweak(&mut config);
    // The router's own credentials are never used for a user; anonymous makes that visible.
    let toolkit = Toolkit::new(Client::new(ClientConfig::new(sandbox_url)).expect("client"));
    tool_router::start(config, toolkit)
        .await
        .expect("router starts")
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// A router whose settings `tweak` changes.
pub async fn start_with(tweak: impl FnOnce(&mut RouterConfig)) -> Env {
    start_on(|_| {}, |config, _| tweak(config)).await
}

/// A sandbox whose settings `sandbox` changes, and a router whose settings `tweak` changes
/// knowing the sandbox's API URL.
pub async fn start_on(
    sandbox: impl FnOnce(&mut SandboxConfig),
    tweak: impl FnOnce(&mut RouterConfig, &str),
) -> Env {
    let sandbox_dir = tempfile::tempdir().expect("temp dir");
    let router_dir = tempfile::tempdir().expect("temp dir");
    let mut sandbox_config = SandboxConfig::new(sandbox_dir.path());
    sandbox(&mut sandbox_config);
    let sandbox = Sandbox::start(sandbox_config).await.expect("sandbox");
    let sandbox_url = sandbox.base_url().to_owned();
    let tweak = |config: &mut RouterConfig| tweak(config, &sandbox_url);
    let bitbucket = Client::new(
        ClientConfig::new(&sandbox_url).with_auth(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN)),
    )
    .expect("client");
    let storage = Storage::new(router_dir.path()).await;
    let router = start_router(&storage, &sandbox_url, tweak).await;
    // Keys are made as `bbagent router keys create` makes them: in the same database, while
    // the router runs.
    let store = storage.store().await;
    let (key, _) = store.create_key("a", None).await.expect("key a");
    let (other_key, _) = store.create_key("b", None).await.expect("key b");
    store.close().await;
    Env {
        router: Some(router),
        bitbucket,
        sandbox_url,
        key,
        other_key,
        http: reqwest::Client::new(),
        storage,
        _sandbox: sandbox,
        _dirs: (sandbox_dir, router_dir),
    }
}

impl Env {
    /// The URL clients are told to use (the public URL).
    pub fn url(&self) -> String {
        self.router.as_ref().expect("running").url().to_owned()
    }

    /// Where the router really listens.
    pub fn base(&self) -> String {
        format!("http://{}", self.router.as_ref().expect("running").addr())
    }

    /// `METHOD /api/v3.1/tool_router/session{path}` with `key`; the status and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(
            method,
            format!("{}/api/v3.1/tool_router/session{path}", self.base()),
        );
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {status} {text}"));
        (status, value)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(&self.key), Some(body))
            .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, Some(&self.key), None)
            .await
    }

    /// A session for `user`, created with the body the SDK sends for
    /// `composio.create(user_id=user, toolkits=["bitbucket"])`.
    pub async fn session(&self, user: &str) -> String {
        let (status, body) = self
            .post(
                "",
                json!({"user_id": user, "toolkits": {"enable": ["bitbucket"]}, "manage_connections": {"enable": true}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["session_id"].as_str().expect("session_id").to_owned()
    }

    /// An auth link for the session, from `POST …/link`.
    pub async fn link(&self, session: &str) -> String {
        let (status, body) = self
            .post(&format!("/{session}/link"), json!({"toolkit": "bitbucket"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["redirect_url"]
            .as_str()
            .expect("redirect_url")
            .to_owned()
    }

    /// Submits the link form as a browser would; the status and page.
    pub async fn submit(&self, link: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = self
            .http
            .post(link)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", self.url())
            .body(body)
            .send()
            .await
            .expect("form post");
        (response.status(), response.text().await.expect("page"))
    }

    /// Connects the session's user through a fresh link with an access token.
    pub async fn connect_with(&self, session: &str, access_token: &str) {
        let link = self.link(session).await;
        let (status, page) = self.submit(&link, &[("access_token", access_token)]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Connected as"), "{page}");
    }

    /// Runs one app tool through `…/execute`.
    pub async fn execute(&self, session: &str, slug: &str, arguments: Value) -> Value {
        let (status, body) = self
            .post(
                &format!("/{session}/execute"),
                json!({"tool_slug": slug, "arguments": arguments}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn restart(&mut self) {
        if let Some(router) = self.router.take() {
            router.shutdown().await;
        }
        self.router = Some(start_router(&self.storage, &self.sandbox_url, |_| {}).await);
    }
}

/// The id of a repository in the sandbox.
pub fn repo(workspace: &str, slug: &str) -> RepoId {
    RepoId::new(workspace, slug).expect("valid repository id")
}
