//! Connections: a user's credentials for a toolkit, checked against Bitbucket (through the
//! toolkit's `BITBUCKET_GET_CURRENT_USER`) before they are stored, sealed by the vault, and
//! turned back into a toolkit acting as that user for each call. Two kinds for now, an
//! Atlassian API token and an access token; OAuth connections would be a third
//! [`Credentials`] variant.

use std::fmt;

use bitbucket_toolkit::{Auth, Toolkit};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};

use crate::store::{ConnectionRow, Store, StoreError, new_id as fresh_id};
use crate::vault::{Vault, VaultError};

/// The one toolkit the router serves.
pub const TOOLKIT: &str = "bitbucket";

/// A user's credentials; `Debug` never shows the secret.
#[derive(Clone)]
pub enum Credentials {
    /// An Atlassian account email and API token (HTTP Basic).
    ApiToken { email: String, token: SecretString },
    /// An access token (Bearer).
    AccessToken(SecretString),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiToken { email, .. } => write!(f, "ApiToken({email}, ***)"),
            Self::AccessToken(_) => f.write_str("AccessToken(***)"),
        }
    }
}

impl Credentials {
    /// `api_token` or `access_token`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ApiToken { .. } => "api_token",
            Self::AccessToken(_) => "access_token",
        }
    }

    fn auth(&self) -> Auth {
        match self {
            Self::ApiToken { email, token } => Auth::api_token(email, token.expose_secret()),
            Self::AccessToken(token) => Auth::bearer(token.expose_secret()),
        }
    }

    fn to_plain(&self) -> SecretString {
        let value = match self {
            Self::ApiToken { email, token } => {
                serde_json::json!({"email": email, "token": token.expose_secret()})
            }
            Self::AccessToken(token) => serde_json::json!({"token": token.expose_secret()}),
        };
        SecretString::from(value.to_string())
    }

    fn from_plain(kind: &str, plain: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(plain).ok()?;
        let token = SecretString::from(value.get("token")?.as_str()?.to_owned());
        match kind {
            "api_token" => Some(Self::ApiToken {
                email: value.get("email")?.as_str()?.to_owned(),
                token,
            }),
            "access_token" => Some(Self::AccessToken(token)),
            _ => None,
        }
    }
}

/// A stored connection, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: String,
    pub user_id: String,
    pub toolkit: String,
    pub kind: String,
    pub account_name: String,
    pub account_uuid: String,
    pub status: String,
    pub created_at: i64,
}

impl From<&ConnectionRow> for Connection {
    fn from(row: &ConnectionRow) -> Self {
        Self {
            id: row.id.clone(),
            user_id: row.user_id.clone(),
            toolkit: row.toolkit.clone(),
            kind: row.kind.clone(),
            account_name: row.account_name.clone(),
            account_uuid: row.account_uuid.clone(),
            status: row.status.clone(),
            created_at: row.created_at,
        }
    }
}

/// The Bitbucket account credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub display_name: String,
    pub uuid: String,
}

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unknown toolkit `{0}`; this router serves `bitbucket`")]
    UnknownToolkit(String),
    #[error("the credentials were not accepted by Bitbucket: {0}")]
    Rejected(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Connections of every project and user.
#[derive(Debug, Clone)]
pub struct Connections {
    store: Store,
    vault: Vault,
    toolkit: Toolkit,
}

fn owner(project_id: &str, user_id: &str, toolkit: &str) -> String {
    // Lengths first, so no choice of ids can make two owners collide.
    format!(
        "{}:{project_id}/{}:{user_id}/{toolkit}",
        project_id.len(),
        user_id.len()
    )
}

impl Connections {
    /// `toolkit` is the base toolkit; its credentials are never used for a user.
    pub fn new(store: Store, vault: Vault, toolkit: Toolkit) -> Self {
        Self {
            store,
            vault,
            toolkit,
        }
    }

    /// Checks `credentials` with Bitbucket, then stores them (replacing an older connection,
    /// whose id is kept). A new connection gets `new_id` when given.
    pub async fn connect(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
        credentials: Credentials,
        new_id: Option<&str>,
    ) -> Result<Connection, ConnectError> {
        let account = self.verify(toolkit, &credentials).await?;
        self.store(project_id, user_id, &credentials, &account, new_id)
            .await
    }

    /// Asks Bitbucket whose credentials these are; stores nothing.
    pub async fn verify(
        &self,
        toolkit: &str,
        credentials: &Credentials,
    ) -> Result<Account, ConnectError> {
        if toolkit != TOOLKIT {
            return Err(ConnectError::UnknownToolkit(toolkit.to_owned()));
        }
        match credentials {
            Credentials::ApiToken { email, token } => {
                if email.trim().is_empty() {
                    return Err(ConnectError::Empty("the email"));
                }
                if token.expose_secret().trim().is_empty() {
                    return Err(ConnectError::Empty("the API token"));
                }
            }
            Credentials::AccessToken(token) if token.expose_secret().trim().is_empty() => {
                return Err(ConnectError::Empty("the access token"));
            }
            Credentials::AccessToken(_) => {}
        }
        let as_user = self.toolkit.with_auth(credentials.auth());
        let outcome = as_user
            .call("BITBUCKET_GET_CURRENT_USER", Value::Object(Map::new()))
            .await
            .map_err(|e| ConnectError::Rejected(e.to_string()))?;
        let account = match outcome.structured {
            Some(account) if !outcome.is_error => account,
            _ => return Err(ConnectError::Rejected(outcome.text)),
        };
        let text = |k: &str| account.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Account {
            display_name: text("display_name")
                .or_else(|| text("nickname"))
                .unwrap_or_else(|| "unknown".into()),
            uuid: text("uuid").unwrap_or_default(),
        })
    }

    /// Seals and stores checked credentials for the user's Bitbucket connection.
    pub async fn store(
        &self,
        project_id: &str,
        user_id: &str,
        credentials: &Credentials,
        account: &Account,
        new_id: Option<&str>,
    ) -> Result<Connection, ConnectError> {
        let sealed = self.vault.seal(
            credentials.to_plain().expose_secret().as_bytes(),
            &owner(project_id, user_id, TOOLKIT),
        )?;
        let mut row = ConnectionRow {
            id: new_id.map_or_else(|| fresh_id("ca"), str::to_owned),
            project_id: project_id.to_owned(),
            user_id: user_id.to_owned(),
            toolkit: TOOLKIT.to_owned(),
            kind: credentials.kind().to_owned(),
            credentials: sealed,
            account_name: account.display_name.clone(),
            account_uuid: account.uuid.clone(),
            status: "ACTIVE".into(),
            created_at: crate::store::now(),
        };
        row.id = self.store.upsert_connection(&row).await?;
        Ok(Connection::from(&row))
    }

    /// The user's connection to `toolkit`, if any.
    pub async fn get(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<Option<Connection>, StoreError> {
        Ok(self
            .store
            .connection(project_id, user_id, toolkit)
            .await?
            .as_ref()
            .map(Connection::from))
    }

    /// A toolkit acting as the user, or `None` when the user has no connection.
    pub async fn toolkit_for(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<Option<Toolkit>, ConnectError> {
        let Some(row) = self.store.connection(project_id, user_id, toolkit).await? else {
            return Ok(None);
        };
        let plain = self
            .vault
            .open_sealed(&row.credentials, &owner(project_id, user_id, toolkit))?;
        let credentials = Credentials::from_plain(&row.kind, &plain).ok_or_else(|| {
            ConnectError::Store(StoreError::Corrupt(format!(
                "connection `{}` has unreadable credentials",
                row.id
            )))
        })?;
        Ok(Some(self.toolkit.with_auth(credentials.auth())))
    }

    pub async fn remove(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<bool, StoreError> {
        self.store
            .delete_connection(project_id, user_id, toolkit)
            .await
    }
}
