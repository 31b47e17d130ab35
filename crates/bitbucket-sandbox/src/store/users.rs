//! Users, workspaces and memberships: who may see what.
//!
//! API tokens are kept as digests (`sha256:<hex>`), as Bitbucket keeps them: a copy of the
//! data folder gives no one a way in, and a token of the user's own never rests in plaintext.

use sha2::{Digest as _, Sha256};
use sqlx::SqlitePool;

use super::{Store, UserRow, WorkspaceRow, Write, col};

const DIGEST_PREFIX: &str = "sha256:";

/// A user to add.
#[derive(Debug, Clone, Copy)]
pub struct NewUserRow<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
    pub token: &'a str,
    pub created_on: &'a str,
}

/// What the database keeps of `token`.
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut text = String::with_capacity(DIGEST_PREFIX.len() + 64);
    text.push_str(DIGEST_PREFIX);
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Replaces tokens that an older sandbox stored in plaintext by their digests, then rewrites
/// the file so that no old page keeps them. Returns how many there were.
pub(super) async fn digest_plain_tokens(pool: &SqlitePool) -> Result<usize, sqlx::Error> {
    let plain: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, token FROM users WHERE token NOT LIKE 'sha256:%'")
            .fetch_all(pool)
            .await?;
    if plain.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    for (id, token) in &plain {
        sqlx::query("UPDATE users SET token = ? WHERE id = ?")
            .bind(token_digest(token))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    sqlx::raw_sql("VACUUM").execute(pool).await?;
    sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    Ok(plain.len())
}

impl Store {
    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(UserRow::from_row).transpose()
    }

    pub async fn all_users(&self) -> Result<Vec<UserRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(UserRow::from_row).collect()
    }

    /// Finds a user by username, `{uuid}`, account id or email.
    pub async fn find_user(&self, key: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT * FROM users WHERE username = ?1 OR uuid = lower(?1) OR account_id = ?1 OR email = ?1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(UserRow::from_row).transpose()
    }

    /// The user holding a bearer token.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM users WHERE token = ?")
            .bind(token_digest(token))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(UserRow::from_row).transpose()
    }

    /// The user whose email or username is `login` and whose API token is `token`.
    pub async fn user_by_login(
        &self,
        login: &str,
        token: &str,
    ) -> Result<Option<UserRow>, sqlx::Error> {
        let row =
            sqlx::query("SELECT * FROM users WHERE (email = ?1 OR username = ?1) AND token = ?2")
                .bind(login)
                .bind(token_digest(token))
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(UserRow::from_row).transpose()
    }

    pub async fn workspace_by_id(&self, id: i64) -> Result<Option<WorkspaceRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(WorkspaceRow::from_row).transpose()
    }

    /// A workspace by slug or `{uuid}`.
    pub async fn workspace_by_key(&self, key: &str) -> Result<Option<WorkspaceRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE slug = ?1 OR uuid = lower(?1)")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(WorkspaceRow::from_row).transpose()
    }

    /// A user's permission in a workspace (`owner`, `collaborator` or `member`).
    pub async fn permission(
        &self,
        workspace_id: i64,
        user_id: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT permission FROM memberships WHERE workspace_id = ? AND user_id = ?",
        )
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// The workspaces a user belongs to, by slug, with the user's permission in each.
    pub async fn user_workspaces(
        &self,
        user_id: i64,
    ) -> Result<Vec<(WorkspaceRow, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT w.*, m.permission FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
             WHERE m.user_id = ? ORDER BY w.slug",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((WorkspaceRow::from_row(row)?, col(row, "permission")?)))
            .collect()
    }

    /// A workspace's members by username, with their permission.
    pub async fn members(&self, workspace_id: i64) -> Result<Vec<(UserRow, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT u.*, m.permission FROM users u JOIN memberships m ON m.user_id = u.id
             WHERE m.workspace_id = ? ORDER BY u.username",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((UserRow::from_row(row)?, col(row, "permission")?)))
            .collect()
    }
}

impl Write<'_> {
    /// Adds a user with an API token (kept as its digest) and, when `membership` names one, a
    /// membership of that workspace with that permission; the new user's id.
    pub async fn create_user(
        &mut self,
        user: &NewUserRow<'_>,
        membership: Option<(i64, &str)>,
    ) -> Result<i64, sqlx::Error> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (uuid, account_id, username, display_name, email, token, created_on)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(crate::state::new_uuid())
        .bind(format!("712020:{}", uuid::Uuid::new_v4()))
        .bind(user.username)
        .bind(user.display_name)
        .bind(user.email)
        .bind(token_digest(user.token))
        .bind(user.created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        if let Some((workspace_id, permission)) = membership {
            sqlx::query(
                "INSERT INTO memberships (workspace_id, user_id, permission, added_on) VALUES (?, ?, ?, ?)",
            )
            .bind(workspace_id)
            .bind(id)
            .bind(permission)
            .bind(user.created_on)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(id)
    }

    /// Replaces a user's API token.
    pub async fn set_token(&mut self, username: &str, token: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET token = ? WHERE username = ?")
            .bind(token_digest(token))
            .bind(username)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
