//! The PostgreSQL server the router's suites run on when the test script started one
//! (`BBAGENT_TEST_POSTGRES`, from `scripts/postgres`): each test gets a fresh database there.

use sqlx::Connection as _;

/// The server's URL, when the suite runs on PostgreSQL; `None` runs it on SQLite.
pub fn server() -> Option<String> {
    std::env::var("BBAGENT_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A new, empty database on the server at `server`; its URL.
pub async fn fresh_database(server: &str) -> String {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server: {e}"));
    // The name is a uuid of our own: nothing to inject.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    admin.close().await.ok();
    let mut url = reqwest::Url::parse(server).expect("server URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A fresh database when the suite runs on PostgreSQL.
pub async fn fresh() -> Option<String> {
    match server() {
        Some(server) => Some(fresh_database(&server).await),
        None => None,
    }
}
