//! The auth link page: `GET /link/{token}` shows a small form, `POST` takes `email` and
//! `api_token` (or `access_token`) as form fields, so a script can complete it too. The
//! credentials are checked with Bitbucket before anything is stored; a link works once and
//! until it expires. The token in the URL is the only authority (no API key).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::SecretString;

use crate::connections::{ConnectError, Credentials, TOOLKIT};
use crate::oauth::{OAuthClient, pkce};
use crate::state::Shared;
use crate::store::LinkState;

pub fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/link/{token}", get(show).post(submit))
        .route("/oauth/callback", get(callback))
        .with_state(shared)
}

/// Where Bitbucket returns users after consent.
pub fn callback_url(shared: &Shared) -> String {
    format!("{}/oauth/callback", shared.public_url)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
<meta name=\"viewport\" content=\"width=device-width\"><style>body{{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}}\
label{{display:block;margin-top:1em}}input{{width:100%;padding:.4em}}button{{margin-top:1.2em;padding:.5em 1.2em}}.error{{color:#b00020}}</style></head>\
<body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn form(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        "{error}<p>Connect your Bitbucket account. Enter your Atlassian account email and an API token \
(create one at id.atlassian.com under Security, API tokens), or an access token.</p>\
<form method=\"post\"><label>Email <input name=\"email\" type=\"email\" autocomplete=\"email\"></label>\
<label>API token <input name=\"api_token\" type=\"password\" autocomplete=\"off\"></label>\
<p>or</p><label>Access token <input name=\"access_token\" type=\"password\" autocomplete=\"off\"></label>\
<button type=\"submit\">Connect</button></form>"
    )
}

fn closed(state: &LinkState) -> Option<Response> {
    match state {
        LinkState::Unknown => Some(page(
            StatusCode::NOT_FOUND,
            "Link not found",
            "<p>This link is not valid. Ask the assistant for a new one.</p>",
        )),
        LinkState::Used => Some(page(
            StatusCode::GONE,
            "Link already used",
            "<p>This link has already been used. Ask the assistant for a new one if you need to connect again.</p>",
        )),
        LinkState::Expired => Some(page(
            StatusCode::GONE,
            "Link expired",
            "<p>This link has expired. Ask the assistant for a new one.</p>",
        )),
        LinkState::Open { .. } => None,
    }
}

/// `?use=token` asks for the token form even when the router signs users in with OAuth.
#[derive(Debug, Default, serde::Deserialize)]
struct ShowParams {
    #[serde(rename = "use")]
    method: Option<String>,
}

async fn show(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    Query(params): Query<ShowParams>,
) -> Response {
    match shared.store.link(&token).await {
        Ok(state) => match closed(&state) {
            Some(closed) => closed,
            None => match shared.connections.oauth() {
                Some(client) if params.method.as_deref() != Some("token") => {
                    to_consent(&shared, client, &token).await
                }
                _ => page(StatusCode::OK, "Connect Bitbucket", &form(None)),
            },
        },
        Err(e) => failure(e),
    }
}

/// Sends the user to Bitbucket's consent page with a fresh `state` and PKCE challenge.
async fn to_consent(shared: &Shared, client: &OAuthClient, link_token: &str) -> Response {
    let state = crate::store::new_secret("st_");
    let (verifier, challenge) = pkce();
    let sealed = match shared
        .connections
        .vault()
        .seal(verifier.as_bytes(), &format!("oauth-state:{state}"))
    {
        Ok(sealed) => sealed,
        Err(e) => return failure(e),
    };
    if let Err(e) = shared
        .store
        .insert_oauth_state(&state, link_token, &sealed, shared.link_ttl)
        .await
    {
        return failure(e);
    }
    let target = client.authorize_redirect(&state, &challenge, &callback_url(shared));
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, target),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
    )
        .into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/callback`: Bitbucket's answer to the consent page. The `state` names the link
/// (once); the code is exchanged with the PKCE verifier, the account checked, the tokens
/// sealed, and the user sent to the session's `callback_url` or told they are connected.
async fn callback(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let Some(client) = shared.connections.oauth() else {
        return page(
            StatusCode::NOT_FOUND,
            "Not found",
            "<p>This router does not sign users in with OAuth.</p>",
        );
    };
    let Some(state) = params.state.as_deref() else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            "<p>Bitbucket's answer has no state. Ask the assistant for a new link.</p>",
        );
    };
    let (link_hash, sealed) = match shared.store.take_oauth_state(state).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Not connected",
                "<p>This sign-in is unknown, expired or already finished. Ask the assistant for a new link.</p>",
            );
        }
        Err(e) => return failure(e),
    };
    let (session_id, connection_id) = match shared.store.link_by_hash(&link_hash).await {
        Ok(LinkState::Open {
            session_id,
            connection_id,
            ..
        }) => (session_id, connection_id),
        Ok(state) => return closed(&state).unwrap_or_else(|| failure("link state changed")),
        Err(e) => return failure(e),
    };
    if let Some(error) = params.error.as_deref() {
        let why = if error == "access_denied" {
            "You declined access on Bitbucket's page."
        } else {
            "Bitbucket did not grant access."
        };
        return page(
            StatusCode::OK,
            "Not connected",
            &format!(
                "<p>{why} Nothing was stored; ask the assistant for a new link to try again.</p>"
            ),
        );
    }
    let Some(code) = params.code.as_deref() else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            "<p>Bitbucket's answer has no code. Ask the assistant for a new link.</p>",
        );
    };
    let verifier = match shared
        .connections
        .vault()
        .open_sealed(&sealed, &format!("oauth-state:{state}"))
    {
        Ok(v) => String::from_utf8_lossy(&v).into_owned(),
        Err(e) => return failure(e),
    };
    let tokens = match client
        .exchange(
            shared.connections.http(),
            code,
            &verifier,
            &callback_url(&shared),
        )
        .await
    {
        Ok(tokens) => tokens,
        Err(e) => {
            return page(
                StatusCode::BAD_GATEWAY,
                "Not connected",
                &format!(
                    "<p>{}</p><p>Ask the assistant for a new link.</p>",
                    escape(&e.to_string())
                ),
            );
        }
    };
    let credentials = Credentials::OAuth(tokens);
    let account = match shared.connections.verify(TOOLKIT, &credentials).await {
        Ok(account) => account,
        Err(ConnectError::Store(e)) => return failure(e),
        Err(ConnectError::Vault(e)) => return failure(e),
        Err(e) => {
            return page(
                StatusCode::BAD_GATEWAY,
                "Not connected",
                &format!("<p>Not connected: {}</p>", escape(&e.to_string())),
            );
        }
    };
    claim_and_store(
        &shared,
        &link_hash,
        &session_id,
        &connection_id,
        &credentials,
        &account,
    )
    .await
}

/// Stores checked credentials through the link (by its token's hash): the session must still
/// exist, and the link is claimed only now, so a mistyped token leaves it usable; claiming is
/// atomic, so two submissions cannot both connect. Then "Connected as …" or the session's
/// `callback_url`.
async fn claim_and_store(
    shared: &Shared,
    link_hash: &[u8],
    session_id: &str,
    connection_id: &str,
    credentials: &Credentials,
    account: &crate::connections::Account,
) -> Response {
    let owner = match shared.store.session_owner(session_id).await {
        Ok(Some(owner)) => owner,
        Ok(None) => {
            return page(
                StatusCode::GONE,
                "Session ended",
                "<p>The session this link belongs to was deleted. Nothing was stored.</p>",
            );
        }
        Err(e) => return failure(e),
    };
    match shared.store.use_link_by_hash(link_hash).await {
        Ok(true) => {}
        Ok(false) => {
            return page(
                StatusCode::GONE,
                "Link already used",
                "<p>This link has just been used or has expired. Nothing was stored.</p>",
            );
        }
        Err(e) => return failure(e),
    }
    match shared
        .connections
        .store(
            &owner.0,
            &owner.1,
            credentials,
            account,
            Some(connection_id),
        )
        .await
    {
        Ok(connection) => connected(shared, &owner.0, session_id, &connection.account_name).await,
        Err(e) => failure(e),
    }
}

/// "Connected as …", or a redirect to the session's `callback_url` when it has one.
async fn connected(shared: &Shared, project_id: &str, session_id: &str, account: &str) -> Response {
    let callback = match shared.store.session(project_id, session_id).await {
        Ok(Some(session)) => session
            .config
            .get("callback_url")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    match callback {
        Some(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
        None => page(
            StatusCode::OK,
            "Connected",
            &format!(
                "<p>Connected as {}. You can close this page and go back to the assistant.</p>",
                escape(account)
            ),
        ),
    }
}

fn failure(error: impl std::fmt::Display) -> Response {
    tracing::error!(error = %error, "the link page failed");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "<p>The connection could not be saved; try again.</p>",
    )
}

/// The credentials in a form body, or the message to show.
fn credentials(body: &[u8]) -> Result<Credentials, &'static str> {
    let mut email = None;
    let mut api_token = None;
    let mut access_token = None;
    for (key, value) in url::form_urlencoded::parse(body) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "email" => email = Some(value),
            "api_token" => api_token = Some(SecretString::from(value)),
            "access_token" => access_token = Some(SecretString::from(value)),
            _ => {}
        }
    }
    match (email, api_token, access_token) {
        (_, Some(_), Some(_)) => Err("Enter an API token or an access token, not both."),
        (Some(email), Some(token), None) => Ok(Credentials::ApiToken { email, token }),
        (None, Some(_), None) => Err("An API token needs the email of its Atlassian account."),
        (_, None, Some(token)) => Ok(Credentials::AccessToken(token)),
        (_, None, None) => Err("Enter your email and API token, or an access token."),
    }
}

async fn submit(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let (session_id, toolkit, connection_id) = match shared.store.link(&token).await {
        Ok(LinkState::Open {
            session_id,
            toolkit,
            connection_id,
        }) => (session_id, toolkit, connection_id),
        Ok(state) => {
            return closed(&state).unwrap_or_else(|| failure("link state changed"));
        }
        Err(e) => return failure(e),
    };
    let credentials = match credentials(&body) {
        Ok(c) => c,
        Err(message) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Connect Bitbucket",
                &form(Some(message)),
            );
        }
    };
    let account = match shared.connections.verify(&toolkit, &credentials).await {
        Ok(account) => account,
        Err(ConnectError::Store(e)) => return failure(e),
        Err(ConnectError::Vault(e)) => return failure(e),
        Err(e) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Connect Bitbucket",
                &form(Some(&format!("Not connected: {e}"))),
            );
        }
    };
    claim_and_store(
        &shared,
        &crate::store::hash_secret(&token),
        &session_id,
        &connection_id,
        &credentials,
        &account,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_credentials() {
        assert!(matches!(
            credentials(b"email=a%40b.c&api_token=t&access_token="),
            Ok(Credentials::ApiToken { .. })
        ));
        assert!(matches!(
            credentials(b"access_token=x"),
            Ok(Credentials::AccessToken(_))
        ));
        assert!(credentials(b"api_token=t").is_err());
        assert!(credentials(b"").is_err());
        assert!(credentials(b"email=a&api_token=t&access_token=x").is_err());
        assert_eq!(escape("<b>\"x\"&"), "&lt;b&gt;&quot;x&quot;&amp;");
    }
}
