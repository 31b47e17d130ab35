//! Streamable HTTP at `/mcp`, with the safety checks a local server needs: Origin (403),
//! Host allowlist (403, against DNS rebinding), an optional API key (401), and a body limit
//! (413). Binding a non-loopback address without an API key is refused.
//!
//! The checks are reusable by any axum server: [`Guard`] is the middleware (Origin, optional
//! Host, key) over a [`KeyCheck`], which decides what a presented key is worth (one fixed key
//! here, a key store in the tool router), [`crate::endpoint::mcp_endpoint`] is rmcp's service
//! for any handler (Host allowlist, body limit, session limits), and [`Serving`] serves it
//! within [`Limits`] (header and body timeouts, a connection cap).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
pub use http_serve::{Limits, Serving};
use secrecy::{ExposeSecret as _, SecretString};
use tokio_util::sync::CancellationToken;

use crate::BitbucketMcp;
use crate::endpoint::{EndpointStop, McpSettings, SessionLimits, mcp_endpoint};

/// The default largest request body: MCP requests are small JSON documents.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// How to serve over HTTP.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub listen: SocketAddr,
    /// Required as `x-api-key: KEY` or `Authorization: Bearer KEY` when set.
    pub api_key: Option<SecretString>,
    /// Host names (besides loopback) that may appear in `Host`, e.g. behind a proxy.
    pub allowed_hosts: Vec<String>,
    /// Origins (besides loopback ones) browsers may call from, e.g. `https://app.example.com`;
    /// `:*` as the port allows any port.
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
    /// Header and body timeouts, and the most connections at once.
    pub limits: Limits,
    /// Idle expiry of MCP sessions and the most one key may hold.
    pub sessions: SessionLimits,
}

impl HttpOptions {
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            api_key: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            limits: Limits::default(),
            sessions: SessionLimits::default(),
        }
    }

    pub fn with_api_key(mut self, key: SecretString) -> Self {
        self.api_key = Some(key);
        self
    }

    pub fn with_allowed_hosts(mut self, hosts: Vec<String>) -> Self {
        self.allowed_hosts = hosts;
        self
    }

    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> Self {
        self.allowed_origins = origins;
        self
    }

    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_sessions(mut self, sessions: SessionLimits) -> Self {
        self.sessions = sessions;
        self
    }
}

/// Why the HTTP server did not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "refusing to serve on `{addr}` without an API key: anyone on the network could drive Bitbucket as you"
    )]
    PublicWithoutKey { addr: SocketAddr },
    #[error("the API key must not be empty")]
    EmptyKey,
    #[error(
        "invalid allowed origin `{origin}`: expected `scheme://host[:port]`, e.g. `https://app.example.com` or `http://localhost:*`"
    )]
    BadOrigin { origin: String },
    #[error("cannot listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A running HTTP server.
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    url: String,
    serving: Serving,
    /// Ends every session, after the calls in flight (or when this is dropped).
    sessions: tokio_util::sync::DropGuard,
}

impl HttpServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:8000/mcp`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting requests, lets the calls in flight finish (within the drain timeout)
    /// and ends every session.
    pub async fn shutdown(mut self) {
        self.serving.shutdown().await;
        drop(self.sessions);
    }

    /// Resolves when the server stops by itself (an I/O failure); pending while it serves.
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        self.serving.stopped().await
    }
}

/// Decides what a presented API key is worth.
pub trait KeyCheck: Clone + Send + Sync + 'static {
    /// Who a good key identifies; the guard puts it in the request's extensions.
    type Identity: Clone + Send + Sync + 'static;

    /// `None` refuses the request (401). `presented` is the key sent as `x-api-key` or
    /// `Authorization: Bearer`, if any.
    fn check(&self, presented: Option<&str>)
    -> impl Future<Output = Option<Self::Identity>> + Send;
}

/// One fixed key, or none (every request passes).
#[derive(Clone, Default)]
pub struct SingleKey(Option<Arc<SecretString>>);

impl SingleKey {
    pub fn new(key: Option<SecretString>) -> Self {
        Self(key.map(Arc::new))
    }
}

impl KeyCheck for SingleKey {
    type Identity = ();

    async fn check(&self, presented: Option<&str>) -> Option<()> {
        match &self.0 {
            None => Some(()),
            Some(key) => presented
                .is_some_and(|k| constant_time_eq(k.as_bytes(), key.expose_secret().as_bytes()))
                .then_some(()),
        }
    }
}

/// How a refusal is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectStyle {
    /// A JSON-RPC error echoing the request's id (MCP endpoints).
    JsonRpc,
    /// `{"error": {"message", "status"}}` (REST endpoints).
    Json,
}

/// The safety middleware's settings: allowed Origins, optional Host allowlist, the key check.
#[derive(Clone)]
pub struct Guard<K> {
    keys: K,
    origins: Arc<Vec<OriginRule>>,
    hosts: Option<Arc<Vec<String>>>,
    style: RejectStyle,
}

impl<K: KeyCheck> Guard<K> {
    /// Loopback Origins plus `allowed_origins` (`scheme://host[:port]`, `:*` for any port).
    pub fn new(keys: K, allowed_origins: &[String]) -> Result<Self, HttpError> {
        let mut origins: Vec<OriginRule> = LOOPBACK_HOSTS
            .iter()
            .flat_map(|host| {
                ["http", "https"].map(|scheme| OriginRule {
                    scheme: scheme.to_owned(),
                    host: (*host).to_owned(),
                    port: None,
                })
            })
            .collect();
        for origin in allowed_origins {
            let rule = OriginRule::parse(origin).ok_or_else(|| HttpError::BadOrigin {
                origin: origin.clone(),
            })?;
            origins.push(rule);
        }
        Ok(Self {
            keys,
            origins: Arc::new(origins),
            hosts: None,
            style: RejectStyle::JsonRpc,
        })
    }

    /// Also refuses (403) a `Host` whose name is not in `hosts` (see [`allowed_hosts`]).
    pub fn with_hosts(mut self, hosts: Vec<String>) -> Self {
        self.hosts = Some(Arc::new(hosts));
        self
    }

    pub fn with_style(mut self, style: RejectStyle) -> Self {
        self.style = style;
        self
    }

    /// Wraps every route of `router` in the checks.
    pub fn apply<S: Clone + Send + Sync + 'static>(self, router: Router<S>) -> Router<S> {
        router.layer(middleware::from_fn_with_state(self, check::<K>))
    }
}

/// The Host names a server bound to `addr` answers to: loopback names, the bound address
/// when it is neither loopback nor unspecified, and `extra`.
pub fn allowed_hosts(addr: SocketAddr, extra: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect();
    if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
        hosts.push(addr.ip().to_string());
    }
    hosts.extend(extra.iter().cloned());
    hosts
}

/// One allowed origin: scheme, host, and a port or any port.
#[derive(Debug, Clone, PartialEq)]
struct OriginRule {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl OriginRule {
    /// Parses `scheme://host[:port]`, where a port of `*` allows any port.
    fn parse(origin: &str) -> Option<Self> {
        let (scheme, rest) = origin.trim().split_once("://")?;
        if !matches!(scheme, "http" | "https") || rest.contains('/') {
            return None;
        }
        let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']')?;
            (host, after)
        } else {
            match rest.split_once(':') {
                Some((host, _)) => (host, &rest[host.len()..]),
                None => (rest, ""),
            }
        };
        let port = match port {
            "" => Some(default_port(scheme)),
            ":*" => None,
            p => Some(p.strip_prefix(':')?.parse::<u16>().ok()?),
        };
        if host.is_empty() {
            return None;
        }
        Some(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    fn allows(&self, other: &OriginRule) -> bool {
        self.scheme == other.scheme
            && self.host == other.host
            && (self.port.is_none() || self.port == other.port)
    }
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// Starts serving `handler` at `/mcp`.
pub async fn serve(handler: BitbucketMcp, options: HttpOptions) -> Result<HttpServer, HttpError> {
    if options
        .api_key
        .as_ref()
        .is_some_and(|k| k.expose_secret().trim().is_empty())
    {
        return Err(HttpError::EmptyKey);
    }
    if !options.listen.ip().is_loopback() && options.api_key.is_none() {
        return Err(HttpError::PublicWithoutKey {
            addr: options.listen,
        });
    }

    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| HttpError::Bind {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| HttpError::Bind {
        addr: options.listen,
        source,
    })?;
    let ct = CancellationToken::new();
    let stop = EndpointStop {
        stopping: ct.child_token(),
        sessions: CancellationToken::new(),
    };
    let sessions = stop.sessions.clone().drop_guard();
    let app = app(handler, &options, addr, stop)?;

    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    Ok(HttpServer {
        addr,
        url: format!("http://{host}/mcp"),
        serving: Serving::spawn(listener, app, options.limits, ct),
        sessions,
    })
}

/// The app [`serve`] serves on `addr`: the checks, then `handler` at `/mcp`, stopping as
/// `stop` says. In-process callers (the fuzz targets) send it requests directly.
pub fn app(
    handler: BitbucketMcp,
    options: &HttpOptions,
    addr: SocketAddr,
    stop: EndpointStop,
) -> Result<Router, HttpError> {
    let guard = Guard::new(
        SingleKey::new(options.api_key.clone()),
        &options.allowed_origins,
    )?;
    let settings = McpSettings {
        hosts: allowed_hosts(addr, &options.allowed_hosts),
        max_body_bytes: options.max_body_bytes,
        sessions: options.sessions,
    };
    let endpoint = mcp_endpoint("/mcp", move || Ok(handler.clone()), settings, stop);
    Ok(guard.apply(endpoint))
}

/// Origin first (so a hostile page gets 403 whatever it sends), then Host, then the API key.
async fn check<K: KeyCheck>(
    State(guard): State<Guard<K>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let allowed = origin
            .to_str()
            .ok()
            .and_then(OriginRule::parse)
            .is_some_and(|seen| guard.origins.iter().any(|rule| rule.allows(&seen)));
        if !allowed {
            tracing::warn!(origin = ?origin, "refused a request from a foreign origin");
            return reject(
                request,
                guard.style,
                StatusCode::FORBIDDEN,
                "forbidden: this Origin is not allowed",
            )
            .await;
        }
    }
    if let Some(hosts) = &guard.hosts
        && !host_allowed(request.headers(), hosts)
    {
        return reject(
            request,
            guard.style,
            StatusCode::FORBIDDEN,
            "forbidden: this Host is not allowed",
        )
        .await;
    }
    let presented = presented_key(request.headers()).map(str::to_owned);
    let Some(identity) = guard.keys.check(presented.as_deref()).await else {
        return reject(
            request,
            guard.style,
            StatusCode::UNAUTHORIZED,
            "unauthorized: send the API key as `x-api-key: KEY` or `Authorization: Bearer KEY`",
        )
        .await;
    };
    request.extensions_mut().insert(identity);
    let is_delete = request.method() == axum::http::Method::DELETE;
    let mut response = next.run(request).await;
    // rmcp answers a session DELETE with 202; the official Python client (under Pydantic AI)
    // warns "Session termination failed" on anything but 200 or 204. The session is closed
    // by then, so 204 is the truthful answer.
    if is_delete && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// The `Host` header's name (without port) is one of `hosts`; a request without one passes
/// (HTTP/1.0), as rmcp's own check does.
fn host_allowed(headers: &HeaderMap, hosts: &[String]) -> bool {
    let Some(host) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The key sent as `x-api-key` or `Authorization: Bearer`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares without an early exit, so the time taken does not reveal how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// A JSON-RPC error answer that echoes the request's `id` when the body has one, as MCP
/// clients match answers by id.
async fn reject(
    request: Request,
    style: RejectStyle,
    status: StatusCode,
    message: &str,
) -> Response {
    if style == RejectStyle::Json {
        let body = serde_json::json!({
            "error": { "message": message, "status": status.as_u16() },
        });
        return (status, axum::Json(body)).into_response();
    }
    const PEEK_LIMIT: usize = 64 * 1024;
    let id = axum::body::to_bytes(request.into_body(), PEEK_LIMIT)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("id").cloned())
        .filter(|id| id.is_string() || id.is_i64() || id.is_u64());
    let mut body = serde_json::json!({
        "jsonrpc": "2.0",
        "error": { "code": -32600, "message": message },
    });
    if let (Some(id), Some(obj)) = (id, body.as_object_mut()) {
        obj.insert("id".into(), id);
    }
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules_match_scheme_host_and_port() {
        let any = OriginRule::parse("http://localhost:*").unwrap();
        let exact = OriginRule::parse("https://app.example.com").unwrap();
        let seen = |s: &str| OriginRule::parse(s).unwrap();
        assert!(any.allows(&seen("http://localhost:3000")));
        assert!(!any.allows(&seen("https://localhost:3000")));
        assert!(exact.allows(&seen("https://app.example.com")));
        assert!(exact.allows(&seen("https://app.example.com:443")));
        assert!(!exact.allows(&seen("https://app.example.com:8443")));
        assert!(!exact.allows(&seen("https://evil.example.com")));
        assert!(
            OriginRule::parse("http://[::1]:8080")
                .is_some_and(|r| r.host == "::1" && r.port == Some(8080))
        );
        for bad in [
            "null",
            "localhost",
            "ftp://x",
            "http://",
            "http://x/path",
            "http://x:port",
        ] {
            assert!(OriginRule::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hosts_match_by_name_without_port() {
        let hosts = allowed_hosts("127.0.0.1:0".parse().unwrap(), &["mcp.internal".into()]);
        let with = |h: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, h.parse().unwrap());
            host_allowed(&headers, &hosts)
        };
        assert!(with("localhost:8900"));
        assert!(with("127.0.0.1"));
        assert!(with("[::1]:80"));
        assert!(with("MCP.internal:1"));
        assert!(!with("evil.example.com"));
        assert!(!with("evil.example.com:8900"));
    }

    #[test]
    fn keys_compare_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
