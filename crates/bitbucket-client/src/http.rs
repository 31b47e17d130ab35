//! The [`Client`], request execution with retries, and mapping of failures to [`Error`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{Auth, AuthKind, ClientConfig, RetryPolicy};
use crate::error::{ApiError, Error, hint_for, parse_error_body};

/// Async client for Bitbucket Cloud REST 2.0.
///
/// Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), bitbucket_client::Error> {
/// use bitbucket_client::{Auth, Client, ClientConfig};
/// let client = Client::new(
///     ClientConfig::new("https://api.bitbucket.org/2.0")
///         .with_auth(Auth::api_token("me@example.com", "api-token")),
/// )?;
/// let me = client.current_user().await?;
/// # let _ = me; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Parsed base URL, without a trailing slash.
    base: Url,
    /// `base` as text without a trailing slash; request paths are appended to it.
    base_text: String,
    auth: Auth,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_text)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// What the caller will accept in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    Json,
    Any,
}

/// A request ready to be sent (and re-sent on retry).
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub method: Method,
    pub url: Url,
    /// Serialized body; kept as bytes so retries resend it without reserializing.
    pub body: Option<Bytes>,
    /// The body's media type (JSON unless a form is sent).
    pub body_type: &'static str,
    pub accept: Accept,
    /// A `Range` header (`bytes=-4096`), for the logs that honour one.
    pub range: Option<String>,
}

impl ApiRequest {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        ApiRequest {
            method,
            url,
            body: None,
            body_type: "application/json",
            accept: Accept::Json,
            range: None,
        }
    }

    pub(crate) fn range(mut self, range: impl Into<String>) -> Self {
        self.range = Some(range.into());
        self
    }

    /// An `application/x-www-form-urlencoded` body of `fields`, in order (a name may repeat).
    pub(crate) fn form_body(mut self, fields: &[(String, String)]) -> Self {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            form.append_pair(name, value);
        }
        self.body = Some(Bytes::from(form.finish()));
        self.body_type = "application/x-www-form-urlencoded";
        self
    }

    pub(crate) fn json_body<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body).map_err(|err| Error::InvalidInput {
            message: format!("could not serialize the request body: {err}"),
        })?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    pub(crate) fn accept(mut self, accept: Accept) -> Self {
        self.accept = accept;
        self
    }
}

/// A successful answer, fully read.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RawResponse {
    pub(crate) fn content_type(&self) -> Option<String> {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }
}

/// Everything but RFC 3986 unreserved characters is encoded, so that spaces become `%20`
/// (understood by every decoder) rather than form-style `+`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Query parameters in order; a key may repeat (`state=OPEN&state=MERGED`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pairs: Vec<(&'static str, String)>,
}

impl Query {
    pub(crate) fn new() -> Self {
        Query::default()
    }

    pub(crate) fn push(mut self, key: &'static str, value: impl ToString) -> Self {
        self.pairs.push((key, value.to_string()));
        self
    }

    pub(crate) fn opt<V: ToString>(self, key: &'static str, value: Option<V>) -> Self {
        match value {
            Some(value) => self.push(key, value),
            None => self,
        }
    }

    pub(crate) fn apply(self, url: &mut Url) {
        if self.pairs.is_empty() {
            return;
        }
        let text = self
            .pairs
            .iter()
            .map(|(key, value)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(key, QUERY_VALUE),
                    utf8_percent_encode(value, QUERY_VALUE)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        url.set_query(Some(&text));
    }
}

/// Validates a base URL: http(s), a host, no credentials, query or fragment.
pub(crate) fn parse_base_url(raw: &str) -> Result<Url, Error> {
    let trimmed = raw.trim().trim_end_matches('/');
    let invalid = |why: &str| Error::Config {
        message: format!("base url `{}` {why}", redact_raw_url(trimmed)),
    };
    let url = Url::parse(trimmed).map_err(|err| invalid(&format!("is not a url: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must start with `http://` or `https://`"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not contain credentials; use `Auth` or the token environment variables",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    Ok(url)
}

/// Drops anything between `://` and `@` so a mistyped URL with credentials is not echoed.
fn redact_raw_url(raw: &str) -> String {
    match (raw.find("://"), raw.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://[redacted]@{}", &raw[..scheme_end], &raw[at + 1..])
        }
        _ => raw.to_owned(),
    }
}

/// The URL as it may appear in errors and logs: no credentials, query or fragment.
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    // Both only fail for URLs that cannot carry credentials, which then have none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Parses `Retry-After`: delta-seconds or an IMF-fixdate HTTP-date (a date in the past means
/// "now").
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT` (the only form servers may send now).
fn parse_http_date(value: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_weekday, rest) = value.split_once(", ")?;
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: i64 = day.parse().ok()?;
    let month = i64::try_from(MONTHS.iter().position(|name| name == month)?).ok()? + 1;
    let year: i64 = year.parse().ok()?;
    let clock: Vec<&str> = time.split(':').collect();
    let [hour, minute, second] = clock.as_slice() else {
        return None;
    };
    let hour: i64 = hour.parse().ok()?;
    let minute: i64 = minute.parse().ok()?;
    let second: i64 = second.parse().ok()?;
    let valid = (1970..=9999).contains(&year)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    if !valid {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    let seconds = u64::try_from(seconds).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Methods whose repetition has the same effect as doing them once.
fn is_idempotent(method: &Method) -> bool {
    is_idempotent_method(method.as_str())
}

/// [`is_idempotent`] by the method's name, as errors keep it.
pub(crate) fn is_idempotent_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS")
}

/// Whether an answer with `status` is worth retrying. 429 means the request was turned away
/// unprocessed, so even a POST may repeat it; a 5xx may come after the work was done.
pub(crate) fn should_retry_status(status: u16, method: &Method) -> bool {
    match status {
        429 => true,
        500 | 502 | 503 | 504 => is_idempotent(method),
        _ => false,
    }
}

/// A transport failure of one attempt.
struct Failure {
    error: reqwest::Error,
    /// True when the answer's headers had arrived and reading the body failed.
    while_reading_body: bool,
}

impl Failure {
    /// A failed connect means the server never saw the request, so any method may repeat.
    fn is_retryable(&self, method: &Method) -> bool {
        // A malformed request or a redirect loop fails the same way every time.
        if self.error.is_builder() || self.error.is_redirect() {
            return false;
        }
        if self.error.is_connect() && !self.while_reading_body {
            return true;
        }
        is_idempotent(method)
    }

    fn into_error(self, method: &Method, url: &Url) -> Error {
        let method = method.to_string();
        let url = display_url(url);
        if self.error.is_timeout() {
            return Error::Timeout { method, url };
        }
        let connect = self.error.is_connect() && !self.while_reading_body;
        let what = if connect {
            "could not connect"
        } else if self.while_reading_body {
            "could not read the answer"
        } else {
            "could not send the request"
        };
        Error::Transport {
            method,
            url,
            message: format!("{what}: {}", root_cause(&self.error)),
            connect,
        }
    }
}

/// The innermost cause, which names the actual problem (e.g. `Connection refused`); the outer
/// layers only say which library gave up.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut deepest = None;
    while let Some(current) = cause {
        deepest = Some(current);
        cause = current.source();
    }
    match deepest {
        Some(inner) => inner.to_string(),
        None => error.to_string(),
    }
}

impl Client {
    /// Builds a client; fails on an invalid base URL or an unusable TLS setup.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let base = parse_base_url(&config.base_url)?;
        let base_text = base.as_str().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|err| Error::Config {
                message: format!("could not build the http client: {}", root_cause(&err)),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                base_text,
                auth: config.auth,
                retry: config.retry,
            }),
        })
    }

    /// The same client acting with other credentials: same base URL, retry policy and
    /// connection pool (so a server acting for many users keeps one pool).
    pub fn with_auth(&self, auth: Auth) -> Client {
        Client {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                base: self.inner.base.clone(),
                base_text: self.inner.base_text.clone(),
                auth,
                retry: self.inner.retry,
            }),
        }
    }

    /// Builds a client from the environment; see [`ClientConfig::from_lookup`].
    pub fn from_env() -> Result<Self, Error> {
        Client::new(ClientConfig::from_env()?)
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_text
    }

    /// Which kind of credentials the client sends.
    pub fn auth_kind(&self) -> AuthKind {
        self.inner.auth.kind()
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// `base + path`; `path` starts with `/` and has its inserted values already encoded.
    pub(crate) fn endpoint(&self, path: &str) -> Result<Url, Error> {
        let text = format!("{}{}", self.inner.base_text, path);
        Url::parse(&text).map_err(|err| Error::InvalidInput {
            message: format!("could not build a url for `{path}`: {err}"),
        })
    }

    pub(crate) fn endpoint_with(&self, path: &str, query: Query) -> Result<Url, Error> {
        let mut url = self.endpoint(path)?;
        query.apply(&mut url);
        Ok(url)
    }

    /// Turns a link from a response (or a caller) into a URL to request: absolute links are
    /// used exactly as given; paths are taken relative to the base URL. Links to another
    /// origin are refused, since the credentials would go along.
    pub(crate) fn resolve_link(&self, link: &str) -> Result<Url, Error> {
        let url = match Url::parse(link) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let base_path = self.inner.base.path().trim_end_matches('/');
                if !link.starts_with('/') {
                    self.endpoint(&format!("/{link}"))?
                } else if !base_path.is_empty() && link.starts_with(&format!("{base_path}/")) {
                    let mut url = self.inner.base.clone();
                    url.set_path("");
                    Url::parse(&format!("{}{link}", url.as_str().trim_end_matches('/'))).map_err(
                        |err| Error::InvalidInput {
                            message: format!("invalid link: {err}"),
                        },
                    )?
                } else {
                    self.endpoint(link)?
                }
            }
            Err(err) => {
                return Err(Error::InvalidInput {
                    message: format!("invalid link: {err}"),
                });
            }
        };
        if !same_origin(&url, &self.inner.base) {
            return Err(Error::InvalidInput {
                message: format!(
                    "refusing to follow a link to `{}`, which is not on `{}`",
                    url.host_str().unwrap_or(""),
                    self.inner.base.host_str().unwrap_or("")
                ),
            });
        }
        Ok(url)
    }

    /// The request path below the base URL, for messages.
    pub(crate) fn path_of(&self, url: &Url) -> String {
        let base_path = self.inner.base.path().trim_end_matches('/');
        let path = url.path();
        match path.strip_prefix(base_path) {
            Some(rest) if rest.starts_with('/') => rest.to_owned(),
            _ => path.to_owned(),
        }
    }

    /// Sends `request`, retrying per the policy, and returns a fully read 2xx answer.
    pub(crate) async fn execute(&self, request: &ApiRequest) -> Result<RawResponse, Error> {
        let policy = self.inner.retry;
        let path = self.path_of(&request.url);
        let mut retries: u32 = 0;
        loop {
            let (error, retryable, retry_after, reason) = match self.attempt(request).await {
                Ok(response) if response.status.is_success() => {
                    tracing::trace!(
                        method = %request.method,
                        path = %path,
                        status = response.status.as_u16(),
                        "bitbucket request done"
                    );
                    return Ok(response);
                }
                Ok(response) => {
                    let status = response.status.as_u16();
                    let retry_after = response
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| parse_retry_after(value, SystemTime::now()));
                    let retryable = should_retry_status(status, &request.method);
                    let error = self.api_error(request, &path, &response, retry_after);
                    (error, retryable, retry_after, format!("status {status}"))
                }
                Err(failure) => {
                    let retryable = failure.is_retryable(&request.method);
                    let error = failure.into_error(&request.method, &request.url);
                    let reason = error.to_string();
                    (error, retryable, None, reason)
                }
            };
            if !retryable {
                return Err(error);
            }
            if retries >= policy.max_retries {
                return Err(if retries == 0 {
                    error
                } else {
                    Error::RetriesExhausted {
                        attempts: retries.saturating_add(1),
                        last: Box::new(error),
                    }
                });
            }
            let delay = policy.delay(retries, retry_after, &mut rand::rng());
            retries += 1;
            tracing::debug!(
                method = %request.method,
                path = %path,
                retry = retries,
                max_retries = policy.max_retries,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                reason = %reason,
                "retrying bitbucket request"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, request: &ApiRequest) -> Result<RawResponse, Failure> {
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), request.url.clone());
        builder = match &self.inner.auth {
            Auth::Anonymous => builder,
            Auth::ApiToken { email, token } => {
                builder.basic_auth(email, Some(token.expose_secret()))
            }
            Auth::Bearer(token) => builder.bearer_auth(token.expose_secret()),
        };
        builder = builder.header(
            ACCEPT,
            match request.accept {
                Accept::Json => "application/json",
                Accept::Any => "*/*",
            },
        );
        if let Some(range) = &request.range {
            builder = builder.header(reqwest::header::RANGE, range);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, request.body_type)
                .body(body.clone());
        }
        let response = builder.send().await.map_err(|error| Failure {
            error,
            while_reading_body: false,
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|error| Failure {
            error,
            while_reading_body: true,
        })?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    fn api_error(
        &self,
        request: &ApiRequest,
        path: &str,
        response: &RawResponse,
        retry_after: Option<Duration>,
    ) -> Error {
        let status = response.status.as_u16();
        let parsed = parse_error_body(&response.body);
        let message = parsed.message.unwrap_or_else(|| {
            response
                .status
                .canonical_reason()
                .map(str::to_lowercase)
                .unwrap_or_else(|| format!("status {status}"))
        });
        let method = request.method.to_string();
        let hint = hint_for(status, &method, path, self.inner.auth.kind());
        Error::Api(Box::new(ApiError {
            status,
            method,
            path: path.to_owned(),
            url: display_url(&request.url),
            message,
            detail: parsed.detail,
            fields: parsed.fields,
            hint,
            retry_after,
        }))
    }

    /// Decodes a JSON answer.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        request: &ApiRequest,
        response: &RawResponse,
    ) -> Result<T, Error> {
        serde_json::from_slice(&response.body).map_err(|err| {
            let content_type = response.content_type().unwrap_or_default();
            let message = if response.body.is_empty() {
                "the answer was empty".to_owned()
            } else if !content_type.contains("json") {
                format!("expected json but got `{content_type}`: {err}")
            } else {
                err.to_string()
            };
            Error::Decode {
                method: request.method.to_string(),
                path: self.path_of(&request.url),
                message,
            }
        })
    }

    /// Sends `request` and decodes its JSON answer.
    pub(crate) async fn fetch<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<T, Error> {
        let response = self.execute(&request).await?;
        self.decode(&request, &response)
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, Error> {
        self.fetch(ApiRequest::new(Method::GET, url)).await
    }

    pub(crate) async fn send_json<T, B>(
        &self,
        method: Method,
        url: Url,
        body: &B,
    ) -> Result<T, Error>
    where
        T: DeserializeOwned,
        B: Serialize + ?Sized,
    {
        self.fetch(ApiRequest::new(method, url).json_body(body)?)
            .await
    }

    /// Sends a DELETE; whatever the answer body holds is ignored.
    pub(crate) async fn delete(&self, url: Url) -> Result<(), Error> {
        self.execute(&ApiRequest::new(Method::DELETE, url))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Auth;

    fn client(base: &str) -> Client {
        Client::new(ClientConfig::new(base)).unwrap()
    }

    #[test]
    fn retry_after_delta_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
    }

    #[test]
    fn retry_after_http_date() {
        let date = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            date.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_secs(784_111_777)
        );
        let leap = parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT").unwrap();
        assert_eq!(
            leap.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_secs(1_709_164_800)
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_700);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(77))
        );
        let later = SystemTime::UNIX_EPOCH + Duration::from_secs(900_000_000);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", later),
            Some(Duration::ZERO)
        );
        for bad in [
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 99999999999999999999 08:49:37 GMT",
            ",",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn retryable_statuses_depend_on_method() {
        for method in [Method::GET, Method::PUT, Method::DELETE, Method::HEAD] {
            for status in [429, 500, 502, 503, 504] {
                assert!(should_retry_status(status, &method), "{method} {status}");
            }
            for status in [400, 401, 403, 404, 409, 410, 501, 555] {
                assert!(!should_retry_status(status, &method), "{method} {status}");
            }
        }
        assert!(should_retry_status(429, &Method::POST));
        for status in [500, 502, 503, 504] {
            assert!(!should_retry_status(status, &Method::POST), "POST {status}");
        }
    }

    #[test]
    fn base_url_validation() {
        assert!(parse_base_url("https://api.bitbucket.org/2.0").is_ok());
        assert!(parse_base_url("http://127.0.0.1:7990/2.0/").is_ok());
        assert!(parse_base_url("http://127.0.0.1:7990").is_ok());
        for bad in [
            "",
            "api.bitbucket.org/2.0",
            "file:///tmp/x",
            "https://api.bitbucket.org/2.0?x=1",
            "https://a:b@api.bitbucket.org/2.0",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
        let err = parse_base_url("https://me:s3cret-pass@host/2.0")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret-pass"), "{err}");
    }

    #[test]
    fn endpoints_are_base_plus_path() {
        let client = client("http://127.0.0.1:7990/2.0/");
        assert_eq!(client.base_url(), "http://127.0.0.1:7990/2.0");
        let url = client
            .endpoint("/repositories/a/b/refs/branches/feature%2Fx")
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:7990/2.0/repositories/a/b/refs/branches/feature%2Fx"
        );
        assert_eq!(
            client.path_of(&url),
            "/repositories/a/b/refs/branches/feature%2Fx"
        );
        let root = self::client("http://localhost:9");
        assert_eq!(
            root.endpoint("/user").unwrap().as_str(),
            "http://localhost:9/user"
        );
        assert_eq!(root.path_of(&root.endpoint("/user").unwrap()), "/user");
    }

    #[test]
    fn query_repeats_keys_and_encodes_values() {
        let client = client("https://api.bitbucket.org/2.0");
        let url = client
            .endpoint_with(
                "/x",
                Query::new()
                    .push("state", "OPEN")
                    .push("state", "MERGED")
                    .opt("q", Some(r#"name ~ "a&b""#))
                    .opt::<u32>("page", None),
            )
            .unwrap();
        assert_eq!(
            url.query(),
            Some("state=OPEN&state=MERGED&q=name%20~%20%22a%26b%22")
        );
        let bare = client.endpoint_with("/x", Query::new()).unwrap();
        assert_eq!(bare.as_str(), "https://api.bitbucket.org/2.0/x");
    }

    #[test]
    fn links_are_followed_as_given_on_the_same_origin() {
        let client = client("http://127.0.0.1:7990/2.0");
        let next = "http://127.0.0.1:7990/2.0/repositories/a?page=2&pagelen=10&q=x%20y";
        assert_eq!(client.resolve_link(next).unwrap().as_str(), next);
        assert_eq!(
            client
                .resolve_link("/repositories/a?page=2")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:7990/2.0/repositories/a?page=2"
        );
        assert_eq!(
            client.resolve_link("/2.0/repositories/a").unwrap().as_str(),
            "http://127.0.0.1:7990/2.0/repositories/a"
        );
        assert!(client.resolve_link("https://evil.example/2.0/x").is_err());
        assert!(client.resolve_link("http://127.0.0.1:7991/2.0/x").is_err());
        assert!(client.resolve_link("http://[::1").is_err());
    }

    #[test]
    fn display_url_drops_credentials_and_query() {
        let url = Url::parse("https://u:p@host/2.0/x?q=1#f").unwrap();
        assert_eq!(display_url(&url), "https://host/2.0/x");
    }

    #[test]
    fn client_debug_redacts_secrets() {
        let secret = "tok-abcdefghijklmnop";
        for auth in [
            Auth::api_token("me@example.com", secret),
            Auth::bearer(secret),
        ] {
            let client =
                Client::new(ClientConfig::new("http://127.0.0.1:1/2.0").with_auth(auth)).unwrap();
            let text = format!("{client:?} {client:#?}");
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("127.0.0.1"));
        }
    }

    #[tokio::test]
    async fn refused_connection_is_a_transport_error_without_secrets() {
        // Port 1 on loopback is closed, so connecting fails at once.
        let secret = "tok-never-printed-1234";
        let client = Client::new(
            ClientConfig::new("http://127.0.0.1:1/2.0")
                .with_auth(Auth::api_token("me@example.com", secret))
                .with_retry(RetryPolicy::fast()),
        )
        .unwrap();
        let err = client.current_user().await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains(secret), "{text}");
        match &err {
            Error::RetriesExhausted { attempts, last } => {
                assert_eq!(*attempts, 4);
                assert!(
                    matches!(**last, Error::Transport { connect: true, .. }),
                    "{last:?}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let none = Client::new(
            ClientConfig::new("http://127.0.0.1:1/2.0").with_retry(RetryPolicy::none()),
        )
        .unwrap();
        let err = none.current_user().await.unwrap_err();
        assert!(
            matches!(err, Error::Transport { connect: true, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("`GET http://127.0.0.1:1/2.0/user` failed")
        );
    }
}
