//! OAuth 2.0, as Bitbucket Cloud offers it (`/site/oauth2/...`), and the scopes of its
//! access tokens on the REST API.
//!
//! The authorization-code flow, with the exact form fields a script or test sends:
//! 1. `GET /site/oauth2/authorize?client_id=…&response_type=code[&redirect_uri=…][&state=…]
//!    [&scope=…][&code_challenge=…&code_challenge_method=S256|plain]` shows a sign-in form.
//! 2. `POST /site/oauth2/authorize` with those fields plus `login` (email or username) and
//!    `token` (the user's API token) signs in and shows the consent page: which consumer asks
//!    for which scopes, and a one-time `ticket`.
//! 3. `POST /site/oauth2/authorize` with `ticket` and `decision=approve` (or `deny`) redirects
//!    (302) to the redirect URI with `code` and `state` (or `error=access_denied`).
//! 4. `POST /site/oauth2/access_token`, client authentication as HTTP Basic or the form fields
//!    `client_id` and `client_secret`, with `grant_type=authorization_code&code=…`
//!    (`redirect_uri` when step 1 had one, `code_verifier` when it had a challenge), or
//!    `grant_type=refresh_token&refresh_token=…` (refresh tokens rotate: each works once), or
//!    `grant_type=client_credentials` (the consumer's owner, the consumer's scopes).
//!
//! Access tokens are Bearer tokens on `/2.0` and expire (`--oauth-token-ttl`, 2 hours by
//! default). Each REST operation needs the scopes the official spec lists for it
//! (`oauth_scopes.json`, generated from the spec and checked against it by a test); a token
//! without them gets 403 naming the scopes.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use rand::Rng as _;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::{SharedState, now};
use crate::store::UserRow;
use crate::store::oauth::{CodeRow, ConsumerRow};

/// How long a code and a consent ticket live.
const CODE_TTL: Duration = Duration::from_secs(600);

/// The user an OAuth access token acts for, found by [`enforce`] and read by the `Caller`
/// extractor.
#[derive(Debug, Clone)]
pub struct OAuthUser(pub UserRow);

/// A signed-in user's pending consent, behind a one-time ticket.
#[derive(Debug, Clone)]
pub struct Ticket {
    consumer_id: i64,
    user_id: i64,
    scopes: String,
    redirect_uri: String,
    /// Whether step 1 named the redirect URI (then the token request must repeat it).
    explicit_redirect: bool,
    state: Option<String>,
    code_challenge: Option<String>,
    expires_at: i64,
}

/// Consent tickets waiting for a decision, by ticket.
pub type Tickets = std::sync::Mutex<HashMap<String, Ticket>>;

/// The fields of a form post (`application/x-www-form-urlencoded`); repeated or unknown
/// fields are ignored, missing ones are `None`.
fn form<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> T {
    let fields: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(fields)).unwrap_or_default()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn random_secret() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// --- scopes ---

/// `METHOD /path/{}/…` → the scopes the official spec requires for it.
fn required_scopes() -> &'static HashMap<String, Vec<String>> {
    static TABLE: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    TABLE
        .get_or_init(|| serde_json::from_str(include_str!("oauth_scopes.json")).unwrap_or_default())
}

/// `/repositories/{workspace}/{repo_slug}` → `/repositories/{}/{}` (axum's `{*path}` too).
pub fn template_key(method: &str, path: &str) -> String {
    let mut key = String::with_capacity(path.len() + 8);
    key.push_str(method);
    key.push(' ');
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                key.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => key.push(c),
            _ => {}
        }
    }
    key
}

/// The scopes `granted` stands for, with those each implies (a `:write` scope its read scope,
/// pull requests the repository, Bitbucket's documented implications).
fn expand(granted: &str) -> HashSet<&str> {
    let mut all: HashSet<&str> = HashSet::new();
    for scope in granted.split_whitespace() {
        all.insert(scope);
        let implied: &[&str] = match scope {
            "repository:write" => &["repository"],
            "repository:admin" => &["repository"],
            "pullrequest" => &["repository"],
            "pullrequest:write" => &["pullrequest", "repository", "repository:write"],
            "issue:write" => &["issue"],
            "snippet:write" => &["snippet"],
            "account:write" => &["account"],
            "team:write" => &["team"],
            "project:admin" => &["project"],
            "pipeline:write" | "pipeline:variable" => &["pipeline"],
            "runner:write" => &["runner"],
            _ => &[],
        };
        all.extend(implied);
    }
    all
}

/// On routes of `/2.0`: an OAuth access token must be live and carry the operation's scopes;
/// its user goes into the request for the `Caller` extractor. Other credentials pass.
pub async fn enforce(
    State(state): State<SharedState>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(request.headers()) else {
        return next.run(request).await;
    };
    match check(&state, &token, request.method(), matched.as_ref()).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(OAuthUser(user));
            next.run(request).await
        }
        Ok(None) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The OAuth user of `token`, `None` when it is no OAuth token (an API token, or unknown:
/// the `Caller` extractor answers those).
async fn check(
    state: &SharedState,
    token: &str,
    method: &Method,
    matched: Option<&MatchedPath>,
) -> ApiResult<Option<UserRow>> {
    let Some(grant) = state.store.token_by_access(token).await? else {
        return Ok(None);
    };
    if grant.expires_at <= unix_now() {
        return Err(
            ApiError::new(StatusCode::UNAUTHORIZED, "Access token expired.")
                .with_detail("Use your refresh token to obtain a new access token."),
        );
    }
    let path = matched
        .map(|m| m.as_str().strip_prefix("/2.0").unwrap_or(m.as_str()))
        .unwrap_or_default();
    let key = template_key(method.as_str(), path);
    let Some(required) = required_scopes().get(&key) else {
        return Err(ApiError::forbidden(
            "Your credentials lack one or more required privilege scopes.",
        )
        .with_detail(format!(
            "The sandbox knows no scope for {key}, so OAuth tokens may not call it."
        )));
    };
    let granted = expand(&grant.scopes);
    let missing: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|s| !granted.contains(s))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::forbidden(
            "Your credentials lack one or more required privilege scopes.",
        )
        .with_detail(format!(
            "This API is only accessible with the following scopes: {}. Granted: {}.",
            missing.join(", "),
            grant
                .scopes
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(Some(state.user_by_id(grant.user_id).await?))
}

// --- the consent pages ---

#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login: Option<String>,
    token: Option<String>,
    ticket: Option<String>,
    decision: Option<String>,
}

/// A page for a person, with the status and a plain layout.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn refused(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Authorization failed",
        &format!("<p>{}</p>", escape(message)),
    )
}

/// What step 1 asked for, checked: the consumer, where to return, and the scopes.
struct Request1 {
    consumer: ConsumerRow,
    redirect_uri: String,
    explicit_redirect: bool,
    scopes: String,
    code_challenge: Option<String>,
}

async fn validate(state: &SharedState, p: &AuthorizeParams) -> Result<Request1, String> {
    let client_id = p.client_id.as_deref().unwrap_or_default();
    let consumer = state
        .store
        .consumer(client_id, None)
        .await
        .map_err(|e| ApiError::from(e).message)?
        .ok_or_else(|| format!("No OAuth consumer has the client id `{client_id}`."))?;
    if p.response_type.as_deref() != Some("code") {
        return Err("`response_type` must be `code`.".to_owned());
    }
    let (redirect_uri, explicit_redirect) = match p.redirect_uri.as_deref() {
        Some(uri) if uri.starts_with(&consumer.callback_url) => (uri.to_owned(), true),
        Some(uri) => {
            return Err(format!(
                "The redirect URI `{uri}` does not match the consumer's callback URL `{}`.",
                consumer.callback_url
            ));
        }
        None => (consumer.callback_url.clone(), false),
    };
    let allowed: HashSet<&str> = consumer.scopes.split_whitespace().collect();
    let scopes = match p.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => consumer.scopes.clone(),
        Some(asked) => {
            let asked: Vec<&str> = asked.split([' ', ',']).filter(|s| !s.is_empty()).collect();
            if let Some(unknown) = asked.iter().find(|s| !allowed.contains(**s)) {
                return Err(format!(
                    "The consumer may not ask for the scope `{unknown}`; it has: {}.",
                    consumer.scopes
                ));
            }
            asked.join(" ")
        }
    };
    let code_challenge = match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (None, _) => None,
        (Some(c), None | Some("S256")) => Some(format!("S256:{c}")),
        (Some(c), Some("plain")) => Some(format!("plain:{c}")),
        (Some(_), Some(other)) => {
            return Err(format!(
                "`code_challenge_method` must be `S256` or `plain`, not `{other}`."
            ));
        }
    };
    Ok(Request1 {
        consumer,
        redirect_uri,
        explicit_redirect,
        scopes,
        code_challenge,
    })
}

/// The fields of step 1, carried through the sign-in form.
fn hidden_fields(p: &AuthorizeParams) -> String {
    let fields = [
        ("client_id", &p.client_id),
        ("response_type", &p.response_type),
        ("redirect_uri", &p.redirect_uri),
        ("state", &p.state),
        ("scope", &p.scope),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ];
    fields
        .iter()
        .filter_map(|(name, value)| {
            value.as_ref().map(|v| {
                format!(
                    "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    escape(v)
                )
            })
        })
        .collect()
}

fn sign_in_page(consumer: &ConsumerRow, p: &AuthorizeParams, problem: Option<&str>) -> Response {
    let problem = problem.map_or_else(String::new, |m| {
        format!("<p role=\"alert\">{}</p>", escape(m))
    });
    page(
        StatusCode::OK,
        "Sign in to the Bitbucket sandbox",
        &format!(
            "<p>{} wants access to your account. Sign in first.</p>{problem}\
             <form method=\"post\" action=\"/site/oauth2/authorize\">{}\
             <label>Email or username <input name=\"login\" autocomplete=\"username\"></label>\
             <label>API token <input name=\"token\" type=\"password\"></label>\
             <button type=\"submit\">Sign in</button></form>",
            escape(&consumer.name),
            hidden_fields(p)
        ),
    )
}

/// `GET /site/oauth2/authorize`: the sign-in form.
pub async fn authorize(
    State(state): State<SharedState>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    match validate(&state, &params).await {
        Ok(asked) => sign_in_page(&asked.consumer, &params, None),
        Err(message) => refused(&message),
    }
}

/// `POST /site/oauth2/authorize`: sign-in (then the consent page), or the decision.
pub async fn decide(State(state): State<SharedState>, body: Bytes) -> Response {
    let params: AuthorizeParams = form(&body);
    match params.ticket.clone() {
        Some(ticket) => decision(&state, &ticket, params.decision.as_deref()).await,
        None => sign_in(&state, &params).await,
    }
}

async fn sign_in(state: &SharedState, p: &AuthorizeParams) -> Response {
    let asked = match validate(state, p).await {
        Ok(asked) => asked,
        Err(message) => return refused(&message),
    };
    let (login, token) = (
        p.login.as_deref().unwrap_or_default(),
        p.token.as_deref().unwrap_or_default(),
    );
    let user = match state.store.user_by_login(login, token).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return sign_in_page(
                &asked.consumer,
                p,
                Some("That login and API token do not match a user."),
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let ticket = random_secret();
    let pending = Ticket {
        consumer_id: asked.consumer.id,
        user_id: user.id,
        scopes: asked.scopes.clone(),
        redirect_uri: asked.redirect_uri,
        explicit_redirect: asked.explicit_redirect,
        state: p.state.clone(),
        code_challenge: asked.code_challenge,
        expires_at: unix_now() + CODE_TTL.as_secs() as i64,
    };
    if let Ok(mut tickets) = state.oauth_tickets.lock() {
        let now = unix_now();
        tickets.retain(|_, t| t.expires_at > now);
        tickets.insert(ticket.clone(), pending);
    }
    let scopes: String = asked
        .scopes
        .split_whitespace()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    page(
        StatusCode::OK,
        "Grant access",
        &format!(
            "<p>Signed in as {user}.</p><p><strong>{consumer}</strong> asks for these scopes:</p>\
             <ul>{scopes}</ul>\
             <form method=\"post\" action=\"/site/oauth2/authorize\">\
             <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Grant access</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form>",
            user = escape(&user.display_name),
            consumer = escape(&asked.consumer.name),
        ),
    )
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{query}")
}

async fn decision(state: &SharedState, ticket: &str, decision: Option<&str>) -> Response {
    let pending = state
        .oauth_tickets
        .lock()
        .ok()
        .and_then(|mut tickets| tickets.remove(ticket))
        .filter(|t| t.expires_at > unix_now());
    let Some(pending) = pending else {
        return refused("This consent page has expired or was already used; start again.");
    };
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let code;
    match decision {
        Some("approve") => {
            code = random_secret();
            let row = CodeRow {
                consumer_id: pending.consumer_id,
                user_id: pending.user_id,
                scopes: pending.scopes.clone(),
                redirect_uri: pending
                    .explicit_redirect
                    .then(|| pending.redirect_uri.clone()),
                code_challenge: pending.code_challenge.clone(),
                expires_at: unix_now() + CODE_TTL.as_secs() as i64,
            };
            let stored = async {
                let mut write = state.store.write().await?;
                write.insert_code(&code, &row).await?;
                write.commit().await
            }
            .await;
            if let Err(e) = stored {
                return ApiError::from(e).into_response();
            }
            pairs.push(("code", &code));
        }
        Some("deny") => pairs.push(("error", "access_denied")),
        _ => return refused("`decision` must be `approve` or `deny`."),
    }
    if let Some(s) = pending.state.as_deref() {
        pairs.push(("state", s));
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, with_query(&pending.redirect_uri, &pairs))],
    )
        .into_response()
}

// --- the token endpoint ---

#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// An OAuth error answer (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn client_credentials(headers: &HeaderMap, p: &TokenParams) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, value)| {
            base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    basic.or_else(|| Some((p.client_id.clone()?, p.client_secret.clone()?)))
}

/// `POST /site/oauth2/access_token`.
pub async fn access_token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p: TokenParams = form(&body);
    let Some((client_id, secret)) = client_credentials(&headers, &p) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client credentials missing: send them as HTTP Basic or as client_id and client_secret",
        );
    };
    let consumer = match state.store.consumer(&client_id, Some(&secret)).await {
        Ok(Some(consumer)) => consumer,
        Ok(None) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid OAuth client credentials",
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    match grant(&state, &consumer, &p).await {
        Ok(response) => response,
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn grant(
    state: &SharedState,
    consumer: &ConsumerRow,
    p: &TokenParams,
) -> Result<Response, sqlx::Error> {
    let grant_type = p.grant_type.as_deref().unwrap_or_default();
    let mut write = state.store.write().await?;
    let (user_id, scopes, with_refresh) = match grant_type {
        "authorization_code" => {
            let Some(code) = p.code.as_deref() else {
                return Ok(invalid_grant("`code` is required"));
            };
            let Some(row) = write.take_code(code).await? else {
                write.commit().await?;
                return Ok(invalid_grant(
                    "The authorization code is unknown or was already used",
                ));
            };
            // The code is spent whatever happens next.
            write.commit().await?;
            write = state.store.write().await?;
            if row.consumer_id != consumer.id {
                return Ok(invalid_grant(
                    "The authorization code belongs to another consumer",
                ));
            }
            if row.expires_at <= unix_now() {
                return Ok(invalid_grant("The authorization code has expired"));
            }
            if row.redirect_uri.is_some() && row.redirect_uri != p.redirect_uri {
                return Ok(invalid_grant(
                    "`redirect_uri` must be the one the authorization request named",
                ));
            }
            if let Some(challenge) = &row.code_challenge {
                let verifier = p.code_verifier.as_deref().unwrap_or_default();
                if !pkce_matches(challenge, verifier) {
                    return Ok(invalid_grant(
                        "`code_verifier` does not match the code challenge",
                    ));
                }
            }
            (row.user_id, row.scopes, true)
        }
        "refresh_token" => {
            let Some(refresh) = p.refresh_token.as_deref() else {
                return Ok(invalid_grant("`refresh_token` is required"));
            };
            let Some(token) = write.use_refresh(refresh).await? else {
                return Ok(invalid_grant("The refresh token is unknown"));
            };
            if token.refresh_used || token.consumer_id != consumer.id {
                return Ok(invalid_grant(
                    "The refresh token was already used (refresh tokens rotate) or belongs to another consumer",
                ));
            }
            (token.user_id, token.scopes, true)
        }
        "client_credentials" => (consumer.owner_id, consumer.scopes.clone(), false),
        "" => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "`grant_type` is required",
            ));
        }
        other => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Unsupported grant type `{other}`"),
            ));
        }
    };
    let access = random_secret();
    let refresh = with_refresh.then(random_secret);
    let ttl = state.oauth_token_ttl.as_secs();
    write
        .insert_token(
            &access,
            refresh.as_deref(),
            consumer.id,
            user_id,
            &scopes,
            unix_now() + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
        )
        .await?;
    write.commit().await?;
    tracing::debug!(consumer = %consumer.client_id, grant_type, at = %now(), "issued an OAuth token");
    let mut body = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": ttl,
        "scopes": scopes,
        "state": grant_type,
    });
    if let (Some(refresh), Some(obj)) = (refresh, body.as_object_mut()) {
        obj.insert("refresh_token".into(), refresh.into());
    }
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response())
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// RFC 7636: `S256:` challenges are base64url(sha256(verifier)), `plain:` the verifier.
fn pkce_matches(stored: &str, verifier: &str) -> bool {
    match stored.split_once(':') {
        Some(("S256", challenge)) => {
            let digest = Sha256::digest(verifier.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
        }
        Some(("plain", challenge)) => verifier == challenge,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_ignore_parameter_names() {
        assert_eq!(
            template_key(
                "GET",
                "/repositories/{workspace}/{repo_slug}/src/{commit}/{*path}"
            ),
            "GET /repositories/{}/{}/src/{}/{}"
        );
    }

    #[test]
    fn write_scopes_imply_read_and_pull_requests_imply_the_repository() {
        let all = expand("pullrequest:write issue:write");
        for scope in ["pullrequest", "repository", "repository:write", "issue"] {
            assert!(all.contains(scope), "{scope}");
        }
        assert!(!expand("repository").contains("repository:write"));
        assert!(!expand("repository:admin").contains("repository:write"));
    }

    #[test]
    fn pkce_s256_is_base64url_of_sha256() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(
            "S256:E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            verifier
        ));
        assert!(!pkce_matches(
            "S256:E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "x"
        ));
        assert!(pkce_matches("plain:abc", "abc"));
    }
}
