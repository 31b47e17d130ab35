//! Client configuration: base URL, credentials, timeouts and the retry policy.

use std::fmt;
use std::time::Duration;

use rand::Rng;
use secrecy::SecretString;

use crate::error::Error;

/// Base URL of Bitbucket Cloud's REST 2.0 API.
pub const DEFAULT_BASE_URL: &str = "https://api.bitbucket.org/2.0";
/// Environment variable overriding the base URL (e.g. a local sandbox).
pub const ENV_BASE_URL: &str = "BITBUCKET_BASE_URL";
/// Environment variable holding the Atlassian account email used with an API token.
pub const ENV_EMAIL: &str = "BITBUCKET_EMAIL";
/// Environment variable holding an Atlassian API token (sent as HTTP Basic with the email).
pub const ENV_API_TOKEN: &str = "BITBUCKET_API_TOKEN";
/// Environment variable holding an access token (repository, project, workspace or OAuth token).
pub const ENV_ACCESS_TOKEN: &str = "BITBUCKET_ACCESS_TOKEN";

/// User agent sent with every request.
pub const USER_AGENT: &str = concat!("bbagent/", env!("CARGO_PKG_VERSION"));

/// Credentials sent with each request.
///
/// App passwords are deliberately absent: Bitbucket Cloud removed them in July 2026.
/// `Debug` never prints a token.
#[derive(Clone, Default)]
pub enum Auth {
    /// No `Authorization` header; only public resources are reachable.
    #[default]
    Anonymous,
    /// Atlassian API token, sent as HTTP Basic `email:token`.
    ApiToken {
        /// Atlassian account email (not the Bitbucket username).
        email: String,
        /// The API token.
        token: SecretString,
    },
    /// Access token (repository, project or workspace access token, or OAuth), sent as
    /// `Authorization: Bearer`.
    Bearer(SecretString),
}

impl Auth {
    /// Basic auth with an Atlassian account email and API token.
    pub fn api_token(email: impl Into<String>, token: impl Into<String>) -> Self {
        Auth::ApiToken {
            email: email.into(),
            token: SecretString::from(token.into()),
        }
    }

    /// Bearer auth with an access token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Auth::Bearer(SecretString::from(token.into()))
    }

    /// Which kind of credentials these are, without the secret.
    pub fn kind(&self) -> AuthKind {
        match self {
            Auth::Anonymous => AuthKind::Anonymous,
            Auth::ApiToken { .. } => AuthKind::ApiToken,
            Auth::Bearer(_) => AuthKind::Bearer,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Anonymous => f.write_str("Anonymous"),
            Auth::ApiToken { email, .. } => f
                .debug_struct("ApiToken")
                .field("email", email)
                .field("token", &"[redacted]")
                .finish(),
            Auth::Bearer(_) => f.debug_tuple("Bearer").field(&"[redacted]").finish(),
        }
    }
}

/// The kind of [`Auth`] in use; carries no secret, so it can go into hints and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// No credentials.
    Anonymous,
    /// Email plus API token (HTTP Basic).
    ApiToken,
    /// Access token (HTTP Bearer).
    Bearer,
}

/// How failed requests are retried.
///
/// Retried: 429 for every method; 500, 502, 503, 504 and connection errors or timeouts for
/// idempotent methods (GET, HEAD, PUT, DELETE); a POST only on 429 or when the connection
/// could not be established, because only then is it sure the server did not act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// Backoff ceiling of the first retry; doubles with each further retry.
    pub base_delay: Duration,
    /// Upper bound on any single wait, including one asked for by `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// A few retries with millisecond waits, for tests against a local server.
    pub fn fast() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
        }
    }

    /// Sets the number of retries.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the base delay.
    pub fn with_base_delay(mut self, base_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self
    }

    /// Sets the maximum delay.
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Ceiling of the jittered backoff before retry number `retry` (0-based):
    /// `min(max_delay, base_delay * 2^retry)`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Full-jitter backoff: uniform in `[0, backoff_cap(retry)]`, so that many clients
    /// hitting the same outage do not retry in lockstep.
    pub fn backoff<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Duration {
        let cap = u64::try_from(self.backoff_cap(retry).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=cap))
    }

    /// The wait before retry number `retry`: the server's `Retry-After` when it sent one,
    /// otherwise jittered backoff; never more than `max_delay`.
    pub fn delay<R: Rng + ?Sized>(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Duration {
        match retry_after {
            Some(wait) => wait.min(self.max_delay),
            None => self.backoff(retry, rng),
        }
    }
}

/// Everything needed to build a [`Client`](crate::Client).
///
/// ```
/// use bitbucket_client::{Auth, ClientConfig, RetryPolicy};
/// let config = ClientConfig::new("http://127.0.0.1:7990/2.0")
///     .with_auth(Auth::api_token("me@example.com", "token"))
///     .with_retry(RetryPolicy::fast());
/// ```
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API root, e.g. `https://api.bitbucket.org/2.0`; request paths are appended to it.
    pub base_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Limit on a whole request, from sending to reading the last byte of the answer.
    pub timeout: Duration,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new(DEFAULT_BASE_URL)
    }
}

impl ClientConfig {
    /// Anonymous configuration for `base_url` with default timeouts and retries.
    /// The URL is validated when the client is built.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            auth: Auth::Anonymous,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: USER_AGENT.to_owned(),
        }
    }

    /// Reads the process environment; see [`ClientConfig::from_lookup`].
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds a configuration from variables supplied by `lookup` (the process environment in
    /// [`ClientConfig::from_env`]; a map in tests, so they do not race on the real one).
    ///
    /// - `BITBUCKET_BASE_URL`, default [`DEFAULT_BASE_URL`].
    /// - `BITBUCKET_ACCESS_TOKEN` wins when set: a token made for a purpose is assumed to be
    ///   the one meant to be used.
    /// - otherwise `BITBUCKET_EMAIL` and `BITBUCKET_API_TOKEN` together; one without the other
    ///   is a config error naming the missing one.
    /// - otherwise anonymous.
    ///
    /// Empty or blank values count as unset; values are trimmed, since a token pasted with a
    /// trailing newline would otherwise fail with a confusing 401.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, Error>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let base_url = get(ENV_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        crate::http::parse_base_url(&base_url)?;
        let auth = if let Some(token) = get(ENV_ACCESS_TOKEN) {
            Auth::bearer(token)
        } else {
            match (get(ENV_EMAIL), get(ENV_API_TOKEN)) {
                (Some(email), Some(token)) => Auth::api_token(email, token),
                (Some(_), None) => {
                    return Err(Error::Config {
                        message: format!(
                            "`{ENV_EMAIL}` is set but `{ENV_API_TOKEN}` is missing; set both, \
                             or set `{ENV_ACCESS_TOKEN}` instead"
                        ),
                    });
                }
                (None, Some(_)) => {
                    return Err(Error::Config {
                        message: format!(
                            "`{ENV_API_TOKEN}` is set but `{ENV_EMAIL}` is missing; an api \
                             token needs the atlassian account email it belongs to"
                        ),
                    });
                }
                (None, None) => Auth::Anonymous,
            }
        };
        Ok(ClientConfig::new(base_url).with_auth(auth))
    }

    /// Sets the base URL.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the credentials.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the whole-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the `User-Agent` header.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn env_defaults_to_anonymous_cloud() {
        let config = ClientConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.auth.kind(), AuthKind::Anonymous);
        assert_eq!(config.connect_timeout, Duration::from_secs(10));
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert_eq!(config.retry, RetryPolicy::default());
        assert!(config.user_agent.starts_with("bbagent/"));
    }

    #[test]
    fn env_base_url_and_api_token() {
        let config = ClientConfig::from_lookup(lookup(&[
            (ENV_BASE_URL, "http://127.0.0.1:7990/2.0"),
            (ENV_EMAIL, "me@example.com"),
            (ENV_API_TOKEN, " tok-123\n"),
        ]))
        .unwrap();
        assert_eq!(config.base_url, "http://127.0.0.1:7990/2.0");
        match &config.auth {
            Auth::ApiToken { email, token } => {
                assert_eq!(email, "me@example.com");
                assert_eq!(token.expose_secret(), "tok-123");
            }
            other => panic!("unexpected auth {other:?}"),
        }
    }

    #[test]
    fn env_access_token_wins() {
        let config = ClientConfig::from_lookup(lookup(&[
            (ENV_ACCESS_TOKEN, "bearer-1"),
            (ENV_EMAIL, "me@example.com"),
            (ENV_API_TOKEN, "tok"),
        ]))
        .unwrap();
        match &config.auth {
            Auth::Bearer(token) => assert_eq!(token.expose_secret(), "bearer-1"),
            other => panic!("unexpected auth {other:?}"),
        }
    }

    #[test]
    fn env_half_api_token_names_the_missing_variable() {
        let err = ClientConfig::from_lookup(lookup(&[(ENV_EMAIL, "me@example.com")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`BITBUCKET_API_TOKEN` is missing"),
            "message: {err}"
        );

        let err = ClientConfig::from_lookup(lookup(&[(ENV_API_TOKEN, "secret-tok")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`BITBUCKET_EMAIL` is missing"),
            "message: {err}"
        );
        assert!(!err.contains("secret-tok"));
    }

    #[test]
    fn env_blank_values_count_as_unset() {
        let config = ClientConfig::from_lookup(lookup(&[
            (ENV_ACCESS_TOKEN, "  "),
            (ENV_EMAIL, ""),
            (ENV_BASE_URL, ""),
        ]))
        .unwrap();
        assert_eq!(config.auth.kind(), AuthKind::Anonymous);
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
    }

    #[test]
    fn env_rejects_bad_base_url_without_echoing_credentials() {
        let err = ClientConfig::from_lookup(lookup(&[(
            ENV_BASE_URL,
            "https://user:hunter2@api.bitbucket.org/2.0",
        )]))
        .unwrap_err()
        .to_string();
        assert!(!err.contains("hunter2"), "message: {err}");
        assert!(err.starts_with("invalid configuration"), "message: {err}");

        let err = ClientConfig::from_lookup(lookup(&[(ENV_BASE_URL, "ftp://example.com")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("http"), "message: {err}");
    }

    #[test]
    fn debug_redacts_secrets() {
        let secret = "super-secret-token-value";
        for auth in [
            Auth::api_token("me@example.com", secret),
            Auth::bearer(secret),
        ] {
            let config = ClientConfig::new("http://127.0.0.1:1/2.0").with_auth(auth.clone());
            for text in [
                format!("{auth:?}"),
                format!("{config:?}"),
                format!("{config:#?}"),
            ] {
                assert!(!text.contains(secret), "leaked in {text}");
                assert!(text.contains("redacted"), "{text}");
            }
        }
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff_cap(0), Duration::from_millis(200));
        assert_eq!(policy.backoff_cap(1), Duration::from_millis(400));
        assert_eq!(policy.backoff_cap(3), Duration::from_millis(1600));
        assert_eq!(policy.backoff_cap(6), Duration::from_secs(10));
        assert_eq!(policy.backoff_cap(40), Duration::from_secs(10));
        assert_eq!(policy.backoff_cap(u32::MAX), Duration::from_secs(10));

        let mut rng = StdRng::seed_from_u64(7);
        for retry in 0..12 {
            let cap = policy.backoff_cap(retry);
            let mut saw_low = false;
            for _ in 0..200 {
                let delay = policy.backoff(retry, &mut rng);
                assert!(delay <= cap, "{delay:?} > {cap:?}");
                saw_low |= delay < cap / 2;
            }
            assert!(saw_low, "full jitter should reach the lower half");
        }
    }

    #[test]
    fn delay_honours_retry_after_up_to_max() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3)), &mut rng),
            Duration::from_secs(3)
        );
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3600)), &mut rng),
            Duration::from_secs(10)
        );
        assert!(policy.delay(2, None, &mut rng) <= Duration::from_millis(800));
    }

    #[test]
    fn huge_delays_do_not_overflow() {
        let policy = RetryPolicy {
            max_retries: 1,
            base_delay: Duration::MAX,
            max_delay: Duration::MAX,
        };
        let mut rng = StdRng::seed_from_u64(3);
        let _ = policy.backoff(31, &mut rng);
        assert_eq!(RetryPolicy::none().max_retries, 0);
        assert!(RetryPolicy::fast().max_delay <= Duration::from_millis(50));
    }
}
