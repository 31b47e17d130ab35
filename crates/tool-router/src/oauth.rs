//! OAuth 2.0 connections: the auth link sends the user to Bitbucket's consent page (with
//! `state` and PKCE), the callback exchanges the code, and tokens refresh themselves. The
//! consumer (client id, secret, scopes) and Bitbucket's two URLs are the toolkit's auth config.

use std::time::Duration;

use base64::Engine as _;
use rand::Rng as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// Bitbucket Cloud's OAuth URLs.
pub const BITBUCKET_AUTHORIZE_URL: &str = "https://bitbucket.org/site/oauth2/authorize";
pub const BITBUCKET_TOKEN_URL: &str = "https://bitbucket.org/site/oauth2/access_token";

/// A token is refreshed once it has less than this left.
pub const REFRESH_MARGIN_SECS: i64 = 60;

/// The consumer the router signs users in with.
#[derive(Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Space-separated; empty means the consumer's own.
    pub scopes: String,
    pub authorize_url: String,
    pub token_url: String,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scopes", &self.scopes)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .finish()
    }
}

/// Tokens from the token endpoint.
#[derive(Clone)]
pub struct Tokens {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Why the token endpoint gave no tokens.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The grant or the client was refused (`invalid_grant`, `invalid_client`, ...): the
    /// user must connect again.
    #[error("Bitbucket refused the {what}: {error}{description}")]
    Refused {
        what: &'static str,
        error: String,
        description: String,
    },
    /// Bitbucket could not be reached or answered nonsense: try again later.
    #[error("Bitbucket's token endpoint failed: {0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A fresh PKCE verifier (43 URL-safe characters) and its S256 challenge.
pub fn pkce() -> (String, String) {
    let bytes: [u8; 32] = rand::rng().random();
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

impl OAuthClient {
    /// Where the auth link sends the user.
    pub fn authorize_redirect(&self, state: &str, challenge: &str, redirect_uri: &str) -> String {
        let mut pairs = vec![
            ("client_id", self.client_id.as_str()),
            ("response_type", "code"),
            ("state", state),
            ("redirect_uri", redirect_uri),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        if !self.scopes.trim().is_empty() {
            pairs.push(("scope", self.scopes.as_str()));
        }
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let sep = if self.authorize_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{query}", self.authorize_url)
    }

    /// Exchanges an authorization code.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<Tokens, OAuthError> {
        self.token(
            http,
            "authorization code",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", verifier),
                ("redirect_uri", redirect_uri),
            ],
        )
        .await
    }

    /// Trades a refresh token for new tokens (the refresh token rotates).
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh: &SecretString,
    ) -> Result<Tokens, OAuthError> {
        self.token(
            http,
            "refresh token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.expose_secret()),
            ],
        )
        .await
    }

    async fn token(
        &self,
        http: &reqwest::Client,
        what: &'static str,
        fields: &[(&str, &str)],
    ) -> Result<Tokens, OAuthError> {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .header("content-type", "application/x-www-form-urlencoded")
            .timeout(Duration::from_secs(30))
            .body(body)
            .send()
            .await
            .map_err(|e| OAuthError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let answer: TokenAnswer = response.json().await.map_err(|_| {
            OAuthError::Unavailable(format!("an answer that is not JSON ({status})"))
        })?;
        if let Some(error) = answer.error {
            let refused = status.is_client_error();
            let description = answer
                .error_description
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            return Err(if refused {
                OAuthError::Refused {
                    what,
                    error,
                    description,
                }
            } else {
                OAuthError::Unavailable(format!("{error}{description}"))
            });
        }
        let access = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::Unavailable(format!("no access token ({status})")))?;
        Ok(Tokens {
            access: SecretString::from(access),
            refresh: answer.refresh_token.map(SecretString::from),
            expires_at: crate::store::now().saturating_add(answer.expires_in.unwrap_or(3600)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_verifiers_sha256() {
        let (verifier, challenge) = pkce();
        assert_eq!(verifier.len(), 43);
        let again = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        assert_eq!(challenge, again);
    }

    #[test]
    fn the_redirect_carries_state_and_pkce() {
        let client = OAuthClient {
            client_id: "id".into(),
            client_secret: SecretString::from("s".to_owned()),
            scopes: "repository pullrequest:write".into(),
            authorize_url: "http://127.0.0.1:1/site/oauth2/authorize".into(),
            token_url: String::new(),
        };
        let url = client.authorize_redirect("st", "ch", "http://r/cb");
        assert!(url.starts_with(
            "http://127.0.0.1:1/site/oauth2/authorize?client_id=id&response_type=code&state=st"
        ));
        assert!(url.contains("code_challenge=ch&code_challenge_method=S256"));
        assert!(url.contains("scope=repository+pullrequest%3Awrite"));
        assert!(format!("{client:?}").contains("client_secret: \"***\""));
    }
}
