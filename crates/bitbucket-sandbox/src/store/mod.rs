//! SQLite storage for everything that is not git: users, workspaces, repositories' metadata,
//! issues, pull requests (with their comments and tasks), commit comments and snippets.
//! Handlers never write SQL; they call the methods of this module, one file per resource.
//!
//! Reads go through [`Store`] directly. Writes go through a [`Write`], which holds the one
//! in-process write lock and a transaction: [`Store::write`] is the only way to get one, so
//! no write can forget the lock. The lock makes sequential ids (issue and pull request
//! numbers per repository) gap-free and unique under concurrency, and keeps SQLite from ever
//! answering "database is locked" to a concurrent writer. A `Write` dropped without
//! [`Write::commit`] rolls back.
//!
//! The schema is a list of numbered migrations (`migrations/NNNN_*.sql`); the database's
//! `user_version` says how many have run, so an existing data folder upgrades in place.

mod code_comments;
mod issues;
pub mod oauth;
mod pipeline_settings;
mod pipelines;
mod pr_tasks;
mod pullrequests;
mod reports;
mod repos;
pub mod rows;
mod snippets;
mod statuses;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, MutexGuard};

pub use code_comments::{CodeCommentRow, NewCodeComment, Thread};
pub use issues::NewIssue;
pub use pipeline_settings::{KnownHostRow, RunnerRow, ScheduleRow, Setting};
pub use pipelines::{
    DeploymentRow, EnvironmentRow, NewPipeline, NewStep, PipelineRow, StepRow, VarScope,
    VariableRow,
};
pub use pr_tasks::{NewPrTask, PrTaskRow};
pub use pullrequests::NewPullRequest;
pub use reports::{AnnotationRow, ReportRow};
pub use repos::NewRepo;
pub use rows::*;
pub use statuses::StatusRow;
pub use users::NewUserRow;
pub use users::token_digest;

/// The schema, one step per entry, applied in order. Never edit a shipped step; add one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_participants.sql")),
    (3, include_str!("migrations/0003_statuses.sql")),
    (4, include_str!("migrations/0004_pr_comments.sql")),
    (5, include_str!("migrations/0005_pr_tasks.sql")),
    (6, include_str!("migrations/0006_commit_comments.sql")),
    (7, include_str!("migrations/0007_pr_closing.sql")),
    (8, include_str!("migrations/0008_oauth.sql")),
    (9, include_str!("migrations/0009_reports.sql")),
    (10, include_str!("migrations/0010_pipelines.sql")),
    (11, include_str!("migrations/0011_pipeline_settings.sql")),
    (12, include_str!("migrations/0012_manual_steps.sql")),
];

/// The schema version this build writes: the number of the last migration.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Errors opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the sandbox database at `{path}`")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "the sandbox database has schema version {found}, newer than this bbagent understands ({SCHEMA_VERSION})"
    )]
    TooNew { found: i64 },
    #[error("cannot upgrade the sandbox database to schema version {version}")]
    Migrate {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// The database handle shared by all handlers.
#[derive(Debug)]
pub struct Store {
    pool: SqlitePool,
    write_lock: Mutex<()>,
}

/// A write in progress: the write lock and a transaction, released together.
#[derive(Debug)]
pub struct Write<'a> {
    tx: Transaction<'static, Sqlite>,
    _guard: MutexGuard<'a, ()>,
}

impl Store {
    /// Opens (creating if needed) the database and runs the migrations it has not seen.
    pub async fn open(path: &Path) -> Result<Self, DbError> {
        let open_err = |source| DbError::Open {
            path: path.display().to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        migrate(&pool).await?;
        users::digest_plain_tokens(&pool).await?;
        Ok(Self {
            pool,
            write_lock: Mutex::new(()),
        })
    }

    /// Takes the write lock and begins a transaction; hold it for the whole
    /// read-modify-write.
    pub async fn write(&self) -> Result<Write<'_>, sqlx::Error> {
        let guard = self.write_lock.lock().await;
        let tx = self.pool.begin().await?;
        Ok(Write { tx, _guard: guard })
    }

    /// True when the database holds no users yet, i.e. it needs seeding.
    pub async fn is_empty(&self) -> Result<bool, sqlx::Error> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(n == 0)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Write<'_> {
    /// Makes the writes visible and releases the lock.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// The transaction's connection, for the seed, which writes whole tables at once.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

/// Runs every migration newer than the database's `user_version`, each in its own
/// transaction together with the version bump, so an interrupted upgrade resumes cleanly.
async fn migrate(pool: &SqlitePool) -> Result<(), DbError> {
    let found: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(pool)
        .await?;
    if found > SCHEMA_VERSION {
        return Err(DbError::TooNew { found });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        let step = async {
            let mut tx = pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            // PRAGMA takes no bound parameters; the version is our own constant.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "PRAGMA user_version = {version}"
            )))
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        };
        step.await
            .map_err(|source| DbError::Migrate { version, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
