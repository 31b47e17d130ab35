//! Migrations: a new database gets every step, an old one the missing steps, a newer one is
//! refused.

use super::*;

async fn raw_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .expect("options")
        .filename(path)
        .create_if_missing(true);
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("pool")
}

async fn user_version(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(pool)
        .await
        .expect("user_version")
}

#[tokio::test]
async fn a_new_database_gets_every_migration() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("db")).await.expect("open");
    assert_eq!(user_version(&store.pool).await, SCHEMA_VERSION);
    assert!(store.is_empty().await.expect("empty"));
    store.close().await;
    // Opening again runs nothing and keeps the version.
    let store = Store::open(&dir.path().join("db")).await.expect("reopen");
    assert_eq!(user_version(&store.pool).await, SCHEMA_VERSION);
}

/// A data folder written by the first schema (which set `user_version` to 1 itself) opens
/// with its rows intact and is upgraded to the latest version.
#[tokio::test]
async fn a_first_schema_database_upgrades_in_place() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("db");
    let pool = raw_pool(&path).await;
    sqlx::raw_sql(MIGRATIONS[0].1)
        .execute(&pool)
        .await
        .expect("schema 1");
    sqlx::raw_sql(
        "PRAGMA user_version = 1;
         INSERT INTO users (uuid, account_id, username, display_name, email, token, created_on)
         VALUES ('{u}', 'a', 'old', 'Old User', 'old@example.com', 't', '2026-01-01');",
    )
    .execute(&pool)
    .await
    .expect("rows");
    pool.close().await;

    let store = Store::open(&path).await.expect("upgrade");
    assert_eq!(user_version(&store.pool).await, SCHEMA_VERSION);
    let user = store.find_user("old").await.expect("query").expect("kept");
    // The old plaintext token is kept as a digest, and still lets its user in.
    assert_eq!(user.token, token_digest("t"));
    let by_login = store.user_by_login("old", "t").await.expect("query");
    assert_eq!(by_login.map(|u| u.username), Some("old".to_owned()));
    assert_eq!(user.display_name, "Old User");
    // Migration 2 ran: the table of reviews exists.
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'pr_participants'",
    )
    .fetch_one(&store.pool)
    .await
    .expect("query");
    assert_eq!(tables, 1);
}

#[tokio::test]
async fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("db");
    let pool = raw_pool(&path).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PRAGMA user_version = {}",
        SCHEMA_VERSION + 1
    )))
    .execute(&pool)
    .await
    .expect("pragma");
    pool.close().await;
    let err = Store::open(&path).await.expect_err("too new");
    assert!(matches!(err, DbError::TooNew { found } if found == SCHEMA_VERSION + 1));
}

#[test]
fn migrations_are_numbered_from_one_without_gaps() {
    for (i, (version, _)) in MIGRATIONS.iter().enumerate() {
        assert_eq!(*version, i as i64 + 1);
    }
}

/// A write dropped without commit leaves nothing behind, and releases the lock.
#[tokio::test]
async fn an_uncommitted_write_rolls_back() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("db")).await.expect("open");
    {
        let mut w = store.write().await.expect("write");
        sqlx::query(
            "INSERT INTO users (uuid, account_id, username, display_name, email, token, created_on)
             VALUES ('{u}', 'a', 'gone', 'Gone', 'gone@example.com', 't', '2026-01-01')",
        )
        .execute(w.conn())
        .await
        .expect("insert");
    }
    let w = store.write().await.expect("lock released");
    drop(w);
    assert!(store.find_user("gone").await.expect("query").is_none());
}
