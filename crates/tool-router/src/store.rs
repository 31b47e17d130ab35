//! The router's storage: SQLite in the data folder by default, or PostgreSQL (`--database
//! postgres://...`) for several routers at once, through one code path: sqlx's `Any` driver,
//! with `$N` parameters, which both understand. Each dialect has its own text of the same
//! numbered migrations (`migrations/{sqlite,postgres}/NNNN_*.sql`; a test checks that they
//! define the same tables and columns). Projects, API keys (hashed), sessions, connections
//! (credentials sealed by the vault), auth links (hashed tokens), OAuth sign-ins in flight and
//! the audit log. SQLite runs in WAL mode with a busy timeout, so `bbagent router keys` and
//! `connect` can write while the router runs.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, ConnectOptions as _, Connection as _, Executor as _, Row as _};

/// The migrations of each dialect, in order: the same numbers, the same schema.
const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_oauth.sql"),
    include_str!("../migrations/sqlite/0003_audit.sql"),
    include_str!("../migrations/sqlite/0004_instances.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_oauth.sql"),
    include_str!("../migrations/postgres/0003_audit.sql"),
    include_str!("../migrations/postgres/0004_instances.sql"),
];

/// The advisory lock that makes routers starting at once on one PostgreSQL database apply
/// each migration once (an arbitrary constant: "bbag" in ASCII).
const POSTGRES_MIGRATION_LOCK: i64 = 0x6262_6167;

/// Which SQL database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn migrations(self) -> &'static [&'static str] {
        match self {
            Dialect::Sqlite => SQLITE_MIGRATIONS,
            Dialect::Postgres => POSTGRES_MIGRATIONS,
        }
    }
}

/// A database URL as it may be shown: without its password.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "(an unreadable URL)".to_owned(),
    }
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the router database at `{path}`")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "the router database has schema version {found}, newer than this bbagent understands ({known})"
    )]
    TooNew { found: i64, known: usize },
    #[error("`{url}` is no database URL: {why}")]
    BadUrl { url: String, why: String },
    #[error("the router database failed")]
    Sql(#[from] sqlx::Error),
    #[error("no project `{0}` (give a project id or name that `keys list` shows)")]
    NoProject(String),
    #[error("a stored value is corrupt: {0}")]
    Corrupt(String),
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A new random id with a prefix, e.g. `trs_3f2a...`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A high-entropy secret for keys and link tokens: 32 random bytes, URL-safe base64.
pub fn new_secret(prefix: &str) -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// SHA-256 of a secret: what the database keeps instead of it.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// One audited tool execution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Unix milliseconds.
    pub at_ms: i64,
    pub project_id: String,
    pub user_id: String,
    pub session_id: String,
    pub tool: String,
    /// `ok`, `error` or `refused`.
    pub outcome: String,
    pub latency_us: i64,
    pub arguments_sha256: String,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub project_id: Option<String>,
    pub user_id: Option<String>,
    /// Unix milliseconds: entries at or after.
    pub since_ms: Option<i64>,
    pub limit: u32,
}

/// Reads `since` as a time: unix seconds, an RFC 3339 time (`2026-12-03T09:00:00Z`), or a
/// duration back from now (`90s`, `30m`, `2h`, `7d`); unix milliseconds.
pub fn parse_since(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds.saturating_mul(1000));
    }
    if let Ok(t) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
    {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| format!("`{text}` is out of range"));
    }
    let unit = match text.chars().last() {
        Some('s') => 1_000,
        Some('m') => 60_000,
        Some('h') => 3_600_000,
        Some('d') => 86_400_000,
        _ => 0,
    };
    match text[..text.len().saturating_sub(1)].parse::<i64>() {
        Ok(n) if unit > 0 && n >= 0 => Ok(now_ms.saturating_sub(n.saturating_mul(unit))),
        _ => Err(format!(
            "`{text}` is no time: give unix seconds, an RFC 3339 time, or a duration back from now like `2h` or `7d`"
        )),
    }
}

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub project_id: String,
    pub project_name: String,
    pub name: String,
    pub created_at: i64,
    pub revoked: bool,
}

/// A session row.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub config: serde_json::Value,
    pub config_version: i64,
}

/// A connection row; `credentials` is still sealed.
#[derive(Debug, Clone)]
pub struct ConnectionRow {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub toolkit: String,
    pub kind: String,
    pub credentials: Vec<u8>,
    pub account_name: String,
    pub account_uuid: String,
    pub status: String,
    pub created_at: i64,
}

/// What redeeming an auth link found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Unknown,
    Used,
    Expired,
    Open {
        session_id: String,
        toolkit: String,
        connection_id: String,
    },
}

/// The database handle.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

impl Store {
    /// Opens (creating) `router.db` in `dir` and applies pending migrations.
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("router.db");
        let url = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .to_url_lossy();
        Self::connect_url(&url, &path.display().to_string()).await
    }

    /// Opens the database `url` (`postgres://user:password@host/db`, or `sqlite:path`) and
    /// applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let shown = redact_url(url);
        let parsed = url::Url::parse(url).map_err(|e| StoreError::BadUrl {
            url: shown.clone(),
            why: e.to_string(),
        })?;
        Self::connect_url(&parsed, &shown).await
    }

    /// `router.db` in `dir`, or the database `url` when one is given.
    pub async fn open_at(dir: &Path, url: Option<&str>) -> Result<Self, StoreError> {
        match url {
            Some(url) => Self::connect(url).await,
            None => Self::open(dir).await,
        }
    }

    async fn connect_url(url: &url::Url, shown: &str) -> Result<Self, StoreError> {
        let dialect = match url.scheme() {
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            other => {
                return Err(StoreError::BadUrl {
                    url: shown.to_owned(),
                    why: format!(
                        "`{other}:` is no database this router knows: give postgres://... or sqlite:..."
                    ),
                });
            }
        };
        sqlx::any::install_default_drivers();
        let open_err = |source| StoreError::Open {
            path: shown.to_owned(),
            source,
        };
        let options = AnyConnectOptions::from_url(url).map_err(open_err)?;
        if dialect == Dialect::Postgres {
            // One plain connection first: an unreachable server or a refused login fails now,
            // with its cause, rather than after the pool's retries time out.
            options
                .connect()
                .await
                .map_err(open_err)?
                .close()
                .await
                .ok();
        }
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // A writer elsewhere (an admin command, another router) is waited for.
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(open_err)?;
        if dialect == Dialect::Sqlite {
            // Lasting: readers and one writer at once, across processes.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(open_err)?;
        }
        let store = Store { pool, dialect };
        store.migrate().await?;
        Ok(store)
    }

    /// The database this store runs on.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = self.dialect.migrations();
        let mut tx = self.pool.begin().await?;
        // Taking a lock first makes concurrent openers apply each migration once.
        let applied: i64 = match self.dialect {
            Dialect::Sqlite => {
                sqlx::query("CREATE TABLE IF NOT EXISTS migration_lock (id INTEGER PRIMARY KEY)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query_scalar("PRAGMA user_version")
                    .fetch_one(&mut *tx)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                    .bind(POSTGRES_MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        let known = migrations.len();
        let applied_count = usize::try_from(applied).unwrap_or(usize::MAX);
        if applied_count > known {
            return Err(StoreError::TooNew {
                found: applied,
                known,
            });
        }
        for (index, sql) in migrations.iter().enumerate().skip(applied_count) {
            // Both are our own text: the embedded migrations and a number.
            sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                .execute(&mut *tx)
                .await?;
            let version = index + 1;
            match self.dialect {
                Dialect::Sqlite => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "PRAGMA user_version = {version}"
                    )))
                    .execute(&mut *tx)
                    .await?;
                }
                Dialect::Postgres => {
                    sqlx::query("DELETE FROM schema_version")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                        .bind(i64::try_from(version).unwrap_or(i64::MAX))
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // --- projects and keys -------------------------------------------------------------

    /// Creates a key; in `project` when given (by id or name), else in a new project named
    /// `name`. Returns the key, shown only now.
    pub async fn create_key(
        &self,
        name: &str,
        project: Option<&str>,
    ) -> Result<(String, KeyInfo), StoreError> {
        let mut tx = self.pool.begin().await?;
        let project_id = match project {
            Some(wanted) => {
                let found: Option<String> =
                    sqlx::query_scalar("SELECT id FROM projects WHERE id = $1 OR name = $1")
                        .bind(wanted)
                        .fetch_optional(&mut *tx)
                        .await?;
                found.ok_or_else(|| StoreError::NoProject(wanted.to_owned()))?
            }
            None => {
                let id = new_id("proj");
                sqlx::query("INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(name)
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        let key = new_secret("bbr_");
        let id = new_id("key");
        sqlx::query(
            "INSERT INTO api_keys (id, project_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(&project_id)
        .bind(name)
        .bind(hash_secret(&key))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let info = self
            .list_keys()
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or_else(|| StoreError::Corrupt("the new key vanished".into()))?;
        Ok((key, info))
    }

    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.id, k.project_id, p.name AS project_name, k.name, k.created_at, k.revoked_at \
             FROM api_keys k JOIN projects p ON p.id = k.project_id ORDER BY k.created_at, k.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(KeyInfo {
                    id: row.try_get("id")?,
                    project_id: row.try_get("project_id")?,
                    project_name: row.try_get("project_name")?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Revokes a key by id or name; false when no live key matched.
    pub async fn revoke_key(&self, id_or_name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $2 WHERE (id = $1 OR name = $1) AND revoked_at IS NULL",
        )
        .bind(id_or_name)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The project a live key belongs to.
    pub async fn project_of_key(&self, key: &str) -> Result<Option<String>, StoreError> {
        let hash = hash_secret(key);
        let row: Option<(Vec<u8>, String)> = sqlx::query_as(
            "SELECT key_hash, project_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(stored, project)| {
            bitbucket_mcp::http::constant_time_eq(&stored, &hash).then_some(project)
        }))
    }

    /// The project by id or name.
    pub async fn find_project(&self, id_or_name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM projects WHERE id = $1 OR name = $1 LIMIT 1")
                .bind(id_or_name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every project id, oldest first.
    pub async fn projects(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, name FROM projects ORDER BY created_at, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    // --- sessions ------------------------------------------------------------------------

    pub async fn insert_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, project_id, user_id, config, config_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&session.id)
        .bind(&session.project_id)
        .bind(&session.user_id)
        .bind(session.config.to_string())
        .bind(session.config_version)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session, only when it belongs to `project_id`.
    pub async fn session(
        &self,
        project_id: &str,
        id: &str,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, project_id, user_id, config, config_version FROM sessions \
             WHERE id = $1 AND project_id = $2",
        )
        .bind(id)
        .bind(project_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| session_from(&row)).transpose()
    }

    /// Replaces the config if the version is still `expected`; false when it moved on.
    pub async fn update_session(
        &self,
        session: &SessionRow,
        expected: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET config = $1, config_version = $2 \
             WHERE id = $3 AND project_id = $4 AND config_version = $5",
        )
        .bind(session.config.to_string())
        .bind(session.config_version)
        .bind(&session.id)
        .bind(&session.project_id)
        .bind(expected)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn delete_session(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND project_id = $2")
            .bind(id)
            .bind(project_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // --- connections ---------------------------------------------------------------------

    /// Inserts or replaces the connection of (project, user, toolkit); returns its id.
    pub async fn upsert_connection(&self, c: &ConnectionRow) -> Result<String, StoreError> {
        let id: String = sqlx::query_scalar(
            "INSERT INTO connections (id, project_id, user_id, toolkit, kind, credentials, \
             account_name, account_uuid, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (project_id, user_id, toolkit) DO UPDATE SET kind = excluded.kind, \
             credentials = excluded.credentials, account_name = excluded.account_name, \
             account_uuid = excluded.account_uuid, status = excluded.status, \
             updated_at = excluded.updated_at RETURNING id",
        )
        .bind(&c.id)
        .bind(&c.project_id)
        .bind(&c.user_id)
        .bind(&c.toolkit)
        .bind(&c.kind)
        .bind(&c.credentials)
        .bind(&c.account_name)
        .bind(&c.account_uuid)
        .bind(&c.status)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn connection(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, project_id, user_id, toolkit, kind, credentials, account_name, \
             account_uuid, status, created_at FROM connections \
             WHERE project_id = $1 AND user_id = $2 AND toolkit = $3",
        )
        .bind(project_id)
        .bind(user_id)
        .bind(toolkit)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| connection_from(&row))
            .transpose()
            .map_err(StoreError::from)
    }

    pub async fn delete_connection(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM connections WHERE project_id = $1 AND user_id = $2 AND toolkit = $3",
        )
        .bind(project_id)
        .bind(user_id)
        .bind(toolkit)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    // --- auth links ----------------------------------------------------------------------

    /// A new link token for `session_id`, valid for `ttl`; the connection it makes will have
    /// the id `connection_id`.
    pub async fn create_link(
        &self,
        session_id: &str,
        toolkit: &str,
        connection_id: &str,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        let token = new_secret("ln_");
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO auth_links (token_hash, session_id, toolkit, connection_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash_secret(&token))
        .bind(session_id)
        .bind(toolkit)
        .bind(connection_id)
        .bind(now().saturating_add(ttl))
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// What the link `token` is now, without using it.
    pub async fn link(&self, token: &str) -> Result<LinkState, StoreError> {
        self.link_by_hash(&hash_secret(token)).await
    }

    /// Marks the link used; false when another request used it first or it expired.
    pub async fn use_link(&self, token: &str) -> Result<bool, StoreError> {
        self.use_link_by_hash(&hash_secret(token)).await
    }

    /// What the link whose token hashes to `hash` is now (for OAuth callbacks, which carry
    /// the `state` rather than the link's token).
    pub async fn link_by_hash(&self, hash: &[u8]) -> Result<LinkState, StoreError> {
        let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT session_id, toolkit, connection_id, expires_at, used_at FROM auth_links WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => LinkState::Unknown,
            Some((_, _, _, _, Some(_))) => LinkState::Used,
            Some((_, _, _, expires, None)) if expires <= now() => LinkState::Expired,
            Some((session_id, toolkit, connection_id, _, None)) => LinkState::Open {
                session_id,
                toolkit,
                connection_id,
            },
        })
    }

    /// [`Store::use_link`] by the token's hash.
    pub async fn use_link_by_hash(&self, hash: &[u8]) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE auth_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records an OAuth sign-in for the link `link_token`: `state` (kept hashed) finds it
    /// again, `verifier` is sealed.
    pub async fn insert_oauth_state(
        &self,
        state: &str,
        link_token: &str,
        verifier: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, link_hash, verifier, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(hash_secret(state))
        .bind(hash_secret(link_token))
        .bind(verifier)
        .bind(now().saturating_add(ttl))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes out the sign-in of `state` (it works once): the link's token hash and the sealed
    /// verifier; `None` when unknown or expired.
    pub async fn take_oauth_state(
        &self,
        state: &str,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
        let row: Option<(Vec<u8>, Vec<u8>, i64)> = sqlx::query_as(
            "DELETE FROM oauth_states WHERE state_hash = $1 RETURNING link_hash, verifier, expires_at",
        )
        .bind(hash_secret(state))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .filter(|(_, _, expires)| *expires > now())
            .map(|(link, verifier, _)| (link, verifier)))
    }

    /// Replaces a connection's sealed credentials if they are still `old` (so a refresh that
    /// lost a race never overwrites the winner's rotated tokens); true when it did.
    pub async fn replace_credentials(
        &self,
        id: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE connections SET credentials = $3, status = 'ACTIVE', updated_at = $4, \
             refresh_lease_until = NULL WHERE id = $1 AND credentials = $2",
        )
        .bind(id)
        .bind(old)
        .bind(new)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Takes the lease to refresh connection `id`'s tokens for `ttl`, if its credentials are
    /// still `sealed` and no one else (this process or another router on the same database)
    /// holds an unexpired lease; true when the caller now holds it. Storing new credentials
    /// ends it ([`Store::replace_credentials`]), as does [`Store::release_refresh_lease`].
    pub async fn take_refresh_lease(
        &self,
        id: &str,
        sealed: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = now();
        let until = now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
        let done = sqlx::query(
            "UPDATE connections SET refresh_lease_until = $3 WHERE id = $1 AND credentials = $2 \
             AND (refresh_lease_until IS NULL OR refresh_lease_until <= $4)",
        )
        .bind(id)
        .bind(sealed)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Gives up the refresh lease of connection `id` (a refresh that failed).
    pub async fn release_refresh_lease(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE connections SET refresh_lease_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a connection, e.g. `EXPIRED` when its refresh token was refused.
    pub async fn set_connection_status(&self, id: &str, status: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE connections SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The vault's check value, sealing `fresh` first when the database has none yet (the
    /// first router to start on it wins); what is stored afterwards.
    pub async fn vault_check(&self, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        sqlx::query(
            "INSERT INTO vault_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(fresh)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT sealed FROM vault_check WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Records one tool execution.
    pub async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (at_ms, project_id, user_id, session_id, tool, outcome, latency_us, arguments_sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.at_ms)
        .bind(&entry.project_id)
        .bind(&entry.user_id)
        .bind(&entry.session_id)
        .bind(&entry.tool)
        .bind(&entry.outcome)
        .bind(entry.latency_us)
        .bind(&entry.arguments_sha256)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Audit entries, newest first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at_ms, project_id, user_id, session_id, tool, outcome, latency_us, arguments_sha256 FROM audit \
             WHERE ($1 IS NULL OR project_id = $1) AND ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR at_ms >= $3) \
             ORDER BY at_ms DESC, id DESC LIMIT $4",
        )
        .bind(&filter.project_id)
        .bind(&filter.user_id)
        .bind(filter.since_ms)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at_ms: row.try_get("at_ms")?,
                    project_id: row.try_get("project_id")?,
                    user_id: row.try_get("user_id")?,
                    session_id: row.try_get("session_id")?,
                    tool: row.try_get("tool")?,
                    outcome: row.try_get("outcome")?,
                    latency_us: row.try_get("latency_us")?,
                    arguments_sha256: row.try_get("arguments_sha256")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The project and user of a session, by id alone (for auth links, whose token is the
    /// authority).
    pub async fn session_owner(&self, id: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT project_id, user_id FROM sessions WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

fn session_from(row: &AnyRow) -> Result<SessionRow, StoreError> {
    let config: String = row.try_get("config")?;
    Ok(SessionRow {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        user_id: row.try_get("user_id")?,
        config: serde_json::from_str(&config)
            .map_err(|e| StoreError::Corrupt(format!("session config: {e}")))?,
        config_version: row.try_get("config_version")?,
    })
}

fn connection_from(row: &AnyRow) -> Result<ConnectionRow, sqlx::Error> {
    Ok(ConnectionRow {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        user_id: row.try_get("user_id")?,
        toolkit: row.try_get("toolkit")?,
        kind: row.try_get("kind")?,
        credentials: row.try_get("credentials")?,
        account_name: row.try_get("account_name")?,
        account_uuid: row.try_get("account_uuid")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Tables with their columns, and indexes, as a migration set defines them (a reading of
    /// our own migration text: `CREATE TABLE`, `ALTER TABLE ... ADD COLUMN`, `CREATE INDEX`).
    fn schema_of(migrations: &[&str]) -> Vec<String> {
        let mut schema = Vec::new();
        let mut table: Option<String> = None;
        for line in migrations.iter().flat_map(|m| m.lines()) {
            let line = line.trim();
            let words: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || c == '(' || c == ',')
                .filter(|w| !w.is_empty())
                .collect();
            match words.as_slice() {
                ["CREATE", "TABLE", name, ..] => table = Some((*name).to_owned()),
                ["CREATE", "INDEX", name, "ON", on, columns @ ..] => {
                    schema.push(format!("index {name} on {on} {}", columns.join(" ")));
                }
                ["ALTER", "TABLE", name, "ADD", "COLUMN", column, ..] => {
                    schema.push(format!("{name}.{column}"));
                }
                [");"] => table = None,
                [first, ..] if first.starts_with("--") => {}
                ["UNIQUE", rest @ ..] => {
                    if let Some(table) = &table {
                        schema.push(format!("{table} unique {}", rest.join(" ")));
                    }
                }
                [column, rest @ ..] => {
                    if let Some(table) = &table {
                        let not_null = line.contains("NOT NULL") || line.contains("PRIMARY KEY");
                        let key = if line.contains("PRIMARY KEY") {
                            " key"
                        } else {
                            ""
                        };
                        let refs = rest
                            .iter()
                            .position(|w| *w == "REFERENCES")
                            .map(|i| format!(" -> {}", rest[i + 1..].join(" ")))
                            .unwrap_or_default();
                        schema.push(format!(
                            "{table}.{column}{}{key}{refs}",
                            if not_null { " not null" } else { "" }
                        ));
                    }
                }
                [] => {}
            }
        }
        schema
    }

    #[test]
    fn both_dialects_define_the_same_schema() {
        let sqlite = schema_of(SQLITE_MIGRATIONS);
        let postgres = schema_of(POSTGRES_MIGRATIONS);
        assert!(
            sqlite.len() > 40,
            "the reading found the schema: {sqlite:#?}"
        );
        assert!(
            sqlite.contains(&"connections.refresh_lease_until".to_owned()),
            "{sqlite:#?}"
        );
        assert_eq!(sqlite, postgres);
    }

    #[tokio::test]
    async fn keys_are_hashed_scoped_and_revocable_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let (key, info) = store.create_key("ci", None).await.unwrap();
        let (other, other_info) = store.create_key("other", None).await.unwrap();
        assert_ne!(info.project_id, other_info.project_id);
        assert_eq!(
            store.project_of_key(&key).await.unwrap(),
            Some(info.project_id.clone())
        );
        assert_eq!(store.project_of_key("bbr_nope").await.unwrap(), None);
        store.close().await;

        let store = Store::open(dir.path()).await.unwrap();
        assert!(store.project_of_key(&other).await.unwrap().is_some());
        assert!(store.revoke_key("ci").await.unwrap());
        assert!(!store.revoke_key("ci").await.unwrap());
        assert_eq!(store.project_of_key(&key).await.unwrap(), None);
        store.close().await;
        let bytes = std::fs::read(dir.path().join("router.db")).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&key) && !text.contains(&other));
    }

    #[tokio::test]
    async fn a_link_is_used_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let (_, info) = store.create_key("ci", None).await.unwrap();
        let session = SessionRow {
            id: new_id("trs"),
            project_id: info.project_id,
            user_id: "u1".into(),
            config: serde_json::json!({}),
            config_version: 1,
        };
        store.insert_session(&session).await.unwrap();
        let token = store
            .create_link(&session.id, "bitbucket", "ca_1", Duration::from_secs(60))
            .await
            .unwrap();
        assert!(matches!(
            store.link(&token).await.unwrap(),
            LinkState::Open { .. }
        ));
        assert!(store.use_link(&token).await.unwrap());
        assert!(!store.use_link(&token).await.unwrap());
        assert_eq!(store.link(&token).await.unwrap(), LinkState::Used);
        let expired = store
            .create_link(&session.id, "bitbucket", "ca_2", Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(store.link(&expired).await.unwrap(), LinkState::Expired);
        assert!(!store.use_link(&expired).await.unwrap());
        assert_eq!(store.link("ln_nope").await.unwrap(), LinkState::Unknown);
    }
}
