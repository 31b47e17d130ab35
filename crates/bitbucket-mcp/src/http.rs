//! Streamable HTTP at `/mcp`, with the safety checks a local server needs: Origin (403),
//! Host allowlist (403, against DNS rebinding), an optional API key (401), and a body limit
//! (413). Binding a non-loopback address without an API key is refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::BitbucketMcp;

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
}

impl HttpOptions {
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            api_key: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
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
    ct: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl HttpServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:8000/mcp`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting requests and ends every session.
    pub async fn shutdown(mut self) {
        self.ct.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Resolves when the server stops by itself (an I/O failure); pending while it serves.
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        match self.task.as_mut() {
            Some(task) => {
                let result = task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
                self.task = None;
                result
            }
            None => std::future::pending().await,
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.ct.cancel();
    }
}

#[derive(Clone)]
struct Guard {
    api_key: Option<Arc<SecretString>>,
    origins: Arc<Vec<OriginRule>>,
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
    for origin in &options.allowed_origins {
        let rule = OriginRule::parse(origin).ok_or_else(|| HttpError::BadOrigin {
            origin: origin.clone(),
        })?;
        origins.push(rule);
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

    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect();
    if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
        hosts.push(addr.ip().to_string());
    }
    hosts.extend(options.allowed_hosts.iter().cloned());

    let ct = CancellationToken::new();
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_sse_keep_alive(Some(Duration::from_secs(15)))
        .with_cancellation_token(ct.child_token());
    let sessions = Arc::new(LocalSessionManager::default());
    let service = StreamableHttpService::new(move || Ok(handler.clone()), sessions, config);
    let guard = Guard {
        api_key: options.api_key.map(Arc::new),
        origins: Arc::new(origins),
    };
    let app = Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn_with_state(guard, check));

    let shutdown = ct.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    });
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    Ok(HttpServer {
        addr,
        url: format!("http://{host}/mcp"),
        ct,
        task: Some(task),
    })
}

/// Origin first (so a hostile page gets 403 whatever it sends), then the API key.
async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
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
                StatusCode::FORBIDDEN,
                "forbidden: this Origin is not allowed",
            )
            .await;
        }
    }
    if let Some(key) = &guard.api_key
        && !presented_key(request.headers())
            .is_some_and(|k| constant_time_eq(k.as_bytes(), key.expose_secret().as_bytes()))
    {
        return reject(
            request,
            StatusCode::UNAUTHORIZED,
            "unauthorized: send the API key as `x-api-key: KEY` or `Authorization: Bearer KEY`",
        )
        .await;
    }
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

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares without an early exit, so the time taken does not reveal how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
async fn reject(request: Request, status: StatusCode, message: &str) -> Response {
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
    fn keys_compare_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
