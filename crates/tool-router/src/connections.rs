//! Connections: a user's credentials for a toolkit, checked against Bitbucket (through the
//! toolkit's `BITBUCKET_GET_CURRENT_USER`) before they are stored, sealed by the vault, and
//! turned back into a toolkit acting as that user for each call. Three kinds: an Atlassian
//! API token, an access token, and OAuth tokens, which refresh themselves before they expire
//! (once across concurrent calls, in this router and in others on the same database, through
//! a lease in the store; a rotated refresh token is stored before it is used again).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bitbucket_toolkit::{Auth, Toolkit};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};

use crate::oauth::{OAuthClient, OAuthError, REFRESH_MARGIN_SECS, Tokens};
use crate::store::{ConnectionRow, Store, StoreError, new_id as fresh_id};
use crate::vault::{Vault, VaultError};

/// How long a refresh may hold a connection's lease before another caller may try: longer
/// than a token request ever takes.
const REFRESH_LEASE: Duration = Duration::from_secs(30);
/// How long a caller waits for another's refresh before it says to try again.
const REFRESH_WAIT: Duration = Duration::from_secs(35);

/// The one toolkit the router serves.
pub const TOOLKIT: &str = "bitbucket";

/// A user's credentials; `Debug` never shows the secret.
#[derive(Clone)]
pub enum Credentials {
    /// An Atlassian account email and API token (HTTP Basic).
    ApiToken { email: String, token: SecretString },
    /// An access token (Bearer).
    AccessToken(SecretString),
    /// OAuth 2.0 tokens from the consent flow.
    OAuth(Tokens),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiToken { email, .. } => write!(f, "ApiToken({email}, ***)"),
            Self::AccessToken(_) => f.write_str("AccessToken(***)"),
            Self::OAuth(t) => write!(f, "OAuth(***, expires at {})", t.expires_at),
        }
    }
}

impl Credentials {
    /// `api_token` or `access_token`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ApiToken { .. } => "api_token",
            Self::AccessToken(_) => "access_token",
            Self::OAuth(_) => "oauth",
        }
    }

    fn auth(&self) -> Auth {
        match self {
            Self::ApiToken { email, token } => Auth::api_token(email, token.expose_secret()),
            Self::AccessToken(token) => Auth::bearer(token.expose_secret()),
            Self::OAuth(tokens) => Auth::bearer(tokens.access.expose_secret()),
        }
    }

    fn to_plain(&self) -> SecretString {
        let value = match self {
            Self::ApiToken { email, token } => {
                serde_json::json!({"email": email, "token": token.expose_secret()})
            }
            Self::AccessToken(token) => serde_json::json!({"token": token.expose_secret()}),
            Self::OAuth(t) => serde_json::json!({
                "token": t.access.expose_secret(),
                "refresh": t.refresh.as_ref().map(|r| r.expose_secret()),
                "expires_at": t.expires_at,
            }),
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
            "oauth" => Some(Self::OAuth(Tokens {
                access: token,
                refresh: value
                    .get("refresh")
                    .and_then(Value::as_str)
                    .map(|r| SecretString::from(r.to_owned())),
                expires_at: value.get("expires_at")?.as_i64()?,
            })),
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
    /// The OAuth tokens expired and could not be refreshed: the user must connect again.
    #[error("the Bitbucket connection expired and could not be renewed ({0})")]
    Expired(String),
    /// Bitbucket's token endpoint failed; the connection is kept.
    #[error("the Bitbucket connection could not be renewed now: {0}")]
    RefreshUnavailable(String),
}

/// Connections of every project and user.
#[derive(Debug, Clone)]
pub struct Connections {
    store: Store,
    vault: Vault,
    toolkit: Toolkit,
    oauth: Option<Arc<OAuthClient>>,
    http: reqwest::Client,
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
            oauth: None,
            http: reqwest::Client::new(),
        }
    }

    /// Connects users through this OAuth consumer too.
    pub fn with_oauth(mut self, client: OAuthClient) -> Self {
        self.oauth = Some(Arc::new(client));
        self
    }

    /// The OAuth consumer, when users may connect through Bitbucket's consent page.
    pub fn oauth(&self) -> Option<&OAuthClient> {
        self.oauth.as_deref()
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn vault(&self) -> &Vault {
        &self.vault
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
            Credentials::AccessToken(_) | Credentials::OAuth(_) => {}
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

    /// A toolkit acting as the user, or `None` when the user has no connection. OAuth tokens
    /// that expire within a minute are refreshed first.
    pub async fn toolkit_for(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<Option<Toolkit>, ConnectError> {
        self.toolkit_refreshed(project_id, user_id, toolkit, false)
            .await
    }

    /// [`Connections::toolkit_for`] after Bitbucket refused the access token (a 401): OAuth
    /// tokens are refreshed even when they should still be valid.
    pub async fn toolkit_after_refusal(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<Option<Toolkit>, ConnectError> {
        self.toolkit_refreshed(project_id, user_id, toolkit, true)
            .await
    }

    /// True when the user's connection is an OAuth one (a 401 may be cured by a refresh).
    pub async fn is_oauth(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .store
            .connection(project_id, user_id, toolkit)
            .await?
            .is_some_and(|row| row.kind == "oauth"))
    }

    fn decode(&self, row: &ConnectionRow) -> Result<Credentials, ConnectError> {
        let plain = self.vault.open_sealed(
            &row.credentials,
            &owner(&row.project_id, &row.user_id, &row.toolkit),
        )?;
        Credentials::from_plain(&row.kind, &plain).ok_or_else(|| {
            ConnectError::Store(StoreError::Corrupt(format!(
                "connection `{}` has unreadable credentials",
                row.id
            )))
        })
    }

    async fn toolkit_refreshed(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: &str,
        refused: bool,
    ) -> Result<Option<Toolkit>, ConnectError> {
        let Some(row) = self.store.connection(project_id, user_id, toolkit).await? else {
            return Ok(None);
        };
        if row.status == "EXPIRED" {
            return Err(ConnectError::Expired(
                "it was marked expired after a failed renewal".to_owned(),
            ));
        }
        let credentials = self.decode(&row)?;
        let credentials = match credentials {
            Credentials::OAuth(tokens)
                if refused || tokens.expires_at <= crate::store::now() + REFRESH_MARGIN_SECS =>
            {
                Credentials::OAuth(self.refresh(&row, &tokens, refused).await?)
            }
            other => other,
        };
        Ok(Some(self.toolkit.with_auth(credentials.auth())))
    }

    /// Refreshes the OAuth tokens of `row`, once across concurrent callers in this router and
    /// in every other router on the same database: the caller that takes the connection's
    /// refresh lease in the store refreshes; the others wait until the stored credentials
    /// change (or the connection is marked expired) and use what the store then holds.
    async fn refresh(
        &self,
        row: &ConnectionRow,
        seen: &Tokens,
        refused: bool,
    ) -> Result<Tokens, ConnectError> {
        let deadline = tokio::time::Instant::now() + REFRESH_WAIT;
        let mut pause = Duration::from_millis(10);
        loop {
            let current = self
                .store
                .connection(&row.project_id, &row.user_id, &row.toolkit)
                .await?
                .ok_or_else(|| ConnectError::Expired("the connection was removed".to_owned()))?;
            let tokens = match self.decode(&current)? {
                Credentials::OAuth(tokens) => tokens,
                // Replaced by another kind of connection meanwhile: nothing to refresh.
                _ => {
                    return Err(ConnectError::RefreshUnavailable(
                        "the connection changed".into(),
                    ));
                }
            };
            let renewed_meanwhile = tokens.access.expose_secret() != seen.access.expose_secret();
            let still_fresh = tokens.expires_at > crate::store::now() + REFRESH_MARGIN_SECS;
            if renewed_meanwhile || (still_fresh && !refused) {
                return Ok(tokens);
            }
            if current.status == "EXPIRED" {
                return Err(ConnectError::Expired(
                    "Bitbucket refused the refresh token".to_owned(),
                ));
            }
            if self
                .store
                .take_refresh_lease(&current.id, &current.credentials, REFRESH_LEASE)
                .await?
            {
                let outcome = self.refresh_with_lease(&current, &tokens).await;
                if outcome.is_err() {
                    // Expired or not, the next caller may look again (and find the status).
                    self.store.release_refresh_lease(&current.id).await?;
                }
                return outcome;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ConnectError::RefreshUnavailable(
                    "another request is still renewing the connection; try again shortly".into(),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// The refresh itself, by the holder of the lease on `current`.
    async fn refresh_with_lease(
        &self,
        current: &ConnectionRow,
        tokens: &Tokens,
    ) -> Result<Tokens, ConnectError> {
        let (Some(client), Some(refresh)) = (self.oauth.as_deref(), tokens.refresh.as_ref()) else {
            self.store
                .set_connection_status(&current.id, "EXPIRED")
                .await?;
            return Err(ConnectError::Expired(
                "there is no refresh token, or this router has no OAuth consumer".to_owned(),
            ));
        };
        match client.refresh(&self.http, refresh).await {
            Ok(mut fresh) => {
                // Some providers keep the refresh token; Bitbucket rotates it.
                if fresh.refresh.is_none() {
                    fresh.refresh = tokens.refresh.clone();
                }
                let sealed = self.vault.seal(
                    Credentials::OAuth(fresh.clone())
                        .to_plain()
                        .expose_secret()
                        .as_bytes(),
                    &owner(&current.project_id, &current.user_id, &current.toolkit),
                )?;
                // Compare-and-set: credentials stored meanwhile (a new connection through a
                // link, say) are never overwritten.
                if !self
                    .store
                    .replace_credentials(&current.id, &current.credentials, &sealed)
                    .await?
                {
                    return Err(ConnectError::RefreshUnavailable(
                        "the connection changed".into(),
                    ));
                }
                tracing::info!(connection = %current.id, "refreshed OAuth tokens");
                Ok(fresh)
            }
            Err(OAuthError::Refused { .. }) => {
                self.store
                    .set_connection_status(&current.id, "EXPIRED")
                    .await?;
                Err(ConnectError::Expired(
                    "Bitbucket refused the refresh token".to_owned(),
                ))
            }
            Err(OAuthError::Unavailable(why)) => Err(ConnectError::RefreshUnavailable(why)),
        }
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
