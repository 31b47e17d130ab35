//! The auth link page: `GET /link/{token}` shows a small form, `POST` takes `email` and
//! `api_token` (or `access_token`) as form fields, so a script can complete it too. The
//! credentials are checked with Bitbucket before anything is stored; a link works once and
//! until it expires. The token in the URL is the only authority (no API key).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::SecretString;

use crate::connections::{ConnectError, Credentials};
use crate::state::Shared;
use crate::store::LinkState;

pub fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/link/{token}", get(show).post(submit))
        .with_state(shared)
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

async fn show(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    match shared.store.link(&token).await {
        Ok(state) => {
            closed(&state).unwrap_or_else(|| page(StatusCode::OK, "Connect Bitbucket", &form(None)))
        }
        Err(e) => failure(e),
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
    let owner = match shared.store.session_owner(&session_id).await {
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
    // Claim the link only now, so a mistyped token leaves it usable; claiming is atomic,
    // so two submissions cannot both connect.
    match shared.store.use_link(&token).await {
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
            &credentials,
            &account,
            Some(&connection_id),
        )
        .await
    {
        Ok(connection) => page(
            StatusCode::OK,
            "Connected",
            &format!(
                "<p>Connected as {}. You can close this page and go back to the assistant.</p>",
                escape(&connection.account_name)
            ),
        ),
        Err(e) => failure(e),
    }
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
