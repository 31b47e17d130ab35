//! OAuth 2.0 consumers, authorization codes and tokens. Secrets, codes and tokens are kept
//! as digests ([`token_digest`]); the plaintext exists only in the answer that hands it out.

use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use super::{Store, Write, token_digest};

/// The seeded consumer's client id and secret (printed by `bbagent sandbox`).
pub const SEED_CLIENT_ID: &str = "sandbox-consumer";
pub const SEED_CLIENT_SECRET: &str = "sandbox-consumer-secret";
/// The seeded consumer accepts callbacks anywhere on loopback.
pub const SEED_CALLBACK: &str = "http://127.0.0.1";

/// Every scope the sandbox grants (Bitbucket Cloud's names).
pub const ALL_SCOPES: &[&str] = &[
    "account",
    "account:write",
    "email",
    "team",
    "team:write",
    "repository",
    "repository:write",
    "repository:admin",
    "repository:delete",
    "pullrequest",
    "pullrequest:write",
    "issue",
    "issue:write",
    "snippet",
    "snippet:write",
    "webhook",
    "project",
    "project:admin",
    "pipeline",
    "pipeline:write",
    "pipeline:variable",
    "runner",
    "runner:write",
    "wiki",
];

/// An OAuth consumer (an app).
#[derive(Debug, Clone)]
pub struct ConsumerRow {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub callback_url: String,
    pub scopes: String,
    pub owner_id: i64,
}

impl ConsumerRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(ConsumerRow {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            name: row.try_get("name")?,
            callback_url: row.try_get("callback_url")?,
            scopes: row.try_get("scopes")?,
            owner_id: row.try_get("owner_id")?,
        })
    }
}

/// An authorization code as issued.
#[derive(Debug, Clone)]
pub struct CodeRow {
    pub consumer_id: i64,
    pub user_id: i64,
    pub scopes: String,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

/// An access token's grant.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub consumer_id: i64,
    pub user_id: i64,
    pub scopes: String,
    pub expires_at: i64,
    pub refresh_used: bool,
}

impl TokenRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(TokenRow {
            id: row.try_get("id")?,
            consumer_id: row.try_get("consumer_id")?,
            user_id: row.try_get("user_id")?,
            scopes: row.try_get("scopes")?,
            expires_at: row.try_get("expires_at")?,
            refresh_used: row.try_get::<i64, _>("refresh_used")? != 0,
        })
    }
}

impl Store {
    /// The consumer with this client id, if its secret is `secret` (any secret when `None`).
    pub async fn consumer(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<Option<ConsumerRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM oauth_consumers WHERE client_id = ?")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        if let Some(secret) = secret {
            let digest: String = row.try_get("secret_digest")?;
            if digest != token_digest(secret) {
                return Ok(None);
            }
        }
        ConsumerRow::from_row(&row).map(Some)
    }

    pub async fn consumer_by_id(&self, id: i64) -> Result<Option<ConsumerRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM oauth_consumers WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ConsumerRow::from_row).transpose()
    }

    /// The grant behind an access token, expired or not.
    pub async fn token_by_access(&self, token: &str) -> Result<Option<TokenRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM oauth_tokens WHERE access_digest = ?")
            .bind(token_digest(token))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(TokenRow::from_row).transpose()
    }
}

impl Write<'_> {
    /// Adds the seeded consumer (owned by demo) unless it is there.
    pub async fn ensure_seed_consumer(&mut self, created_on: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT OR IGNORE INTO oauth_consumers (client_id, secret_digest, name, callback_url, scopes, owner_id, created_on)
             SELECT ?, ?, 'Sandbox app', ?, ?, id, ? FROM users WHERE username = 'demo'",
        )
        .bind(SEED_CLIENT_ID)
        .bind(token_digest(SEED_CLIENT_SECRET))
        .bind(SEED_CALLBACK)
        .bind(ALL_SCOPES.join(" "))
        .bind(created_on)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// A new consumer; the caller made the client id and secret.
    #[allow(clippy::too_many_arguments, reason = "one row's columns")]
    pub async fn create_consumer(
        &mut self,
        client_id: &str,
        secret: &str,
        name: &str,
        callback_url: &str,
        scopes: &str,
        owner_id: i64,
        created_on: &str,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO oauth_consumers (client_id, secret_digest, name, callback_url, scopes, owner_id, created_on)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(client_id)
        .bind(token_digest(secret))
        .bind(name)
        .bind(callback_url)
        .bind(scopes)
        .bind(owner_id)
        .bind(created_on)
        .fetch_one(&mut *self.tx)
        .await
    }

    pub async fn insert_code(&mut self, code: &str, row: &CodeRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO oauth_codes (code_digest, consumer_id, user_id, scopes, redirect_uri, code_challenge, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token_digest(code))
        .bind(row.consumer_id)
        .bind(row.user_id)
        .bind(&row.scopes)
        .bind(&row.redirect_uri)
        .bind(&row.code_challenge)
        .bind(row.expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Takes a code out (it works once).
    pub async fn take_code(&mut self, code: &str) -> Result<Option<CodeRow>, sqlx::Error> {
        let row = sqlx::query("DELETE FROM oauth_codes WHERE code_digest = ? RETURNING *")
            .bind(token_digest(code))
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| {
            Ok(CodeRow {
                consumer_id: row.try_get("consumer_id")?,
                user_id: row.try_get("user_id")?,
                scopes: row.try_get("scopes")?,
                redirect_uri: row.try_get("redirect_uri")?,
                code_challenge: row.try_get("code_challenge")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Stores a grant: an access token and, optionally, its refresh token.
    pub async fn insert_token(
        &mut self,
        access: &str,
        refresh: Option<&str>,
        consumer_id: i64,
        user_id: i64,
        scopes: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO oauth_tokens (access_digest, refresh_digest, consumer_id, user_id, scopes, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(token_digest(access))
        .bind(refresh.map(token_digest))
        .bind(consumer_id)
        .bind(user_id)
        .bind(scopes)
        .bind(expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The grant of a refresh token, marking it used (refresh tokens rotate: each works once).
    pub async fn use_refresh(&mut self, refresh: &str) -> Result<Option<TokenRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM oauth_tokens WHERE refresh_digest = ?")
            .bind(token_digest(refresh))
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(token) = row.as_ref().map(TokenRow::from_row).transpose()? else {
            return Ok(None);
        };
        sqlx::query("UPDATE oauth_tokens SET refresh_used = 1 WHERE id = ?")
            .bind(token.id)
            .execute(&mut *self.tx)
            .await?;
        Ok(Some(token))
    }
}
