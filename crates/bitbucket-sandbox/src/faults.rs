//! Fault injection for testing clients: a chosen fraction of requests answers 429 (with
//! `Retry-After`), 500 or 503 before being processed, or is delayed.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng as _;

use crate::error::ApiError;
use crate::state::AppState;

/// Fractions (0.0 to 1.0) of requests that get each fault.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    pub too_many_requests: f64,
    pub internal_error: f64,
    pub unavailable: f64,
    pub slow: f64,
    /// How long a slow request waits before it is processed.
    pub delay: Duration,
    /// The `Retry-After` seconds sent with a 429.
    pub retry_after: u64,
}

impl FaultConfig {
    pub fn is_off(&self) -> bool {
        self.too_many_requests + self.internal_error + self.unavailable + self.slow <= 0.0
    }
}

/// Parse errors for `--faults`.
#[derive(Debug, thiserror::Error)]
#[error("invalid fault spec `{spec}`: {reason}")]
pub struct FaultSpecError {
    spec: String,
    reason: String,
}

impl FromStr for FaultConfig {
    type Err = FaultSpecError;

    /// `429=0.1,503=0.1,500=0.05,slow=0.1,delay=2s,retry-after=1`
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| FaultSpecError {
            spec: spec.to_owned(),
            reason,
        };
        let mut config = FaultConfig {
            delay: Duration::from_secs(2),
            retry_after: 1,
            ..FaultConfig::default()
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| err(format!("`{part}` is not `key=value`")))?;
            let rate = || -> Result<f64, FaultSpecError> {
                match value.parse::<f64>() {
                    Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                    _ => Err(err(format!(
                        "`{key}` takes a fraction from 0 to 1, got `{value}`"
                    ))),
                }
            };
            match key {
                "429" => config.too_many_requests = rate()?,
                "500" => config.internal_error = rate()?,
                "503" => config.unavailable = rate()?,
                "slow" => config.slow = rate()?,
                "delay" => {
                    config.delay = parse_duration(value).ok_or_else(|| {
                        err(format!(
                            "`delay` takes a duration like `500ms` or `2s`, got `{value}`"
                        ))
                    })?
                }
                "retry-after" => {
                    config.retry_after = value.parse().map_err(|_| {
                        err(format!("`retry-after` takes whole seconds, got `{value}`"))
                    })?
                }
                other => {
                    return Err(err(format!(
                        "unknown key `{other}` (expected 429, 500, 503, slow, delay or retry-after)"
                    )));
                }
            }
        }
        if config.too_many_requests + config.internal_error + config.unavailable > 1.0 {
            return Err(err("the error fractions add up to more than 1".into()));
        }
        Ok(config)
    }
}

fn parse_duration(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    s.strip_suffix('s')
        .unwrap_or(s)
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The fault injector; its configuration can be changed while the server runs.
#[derive(Debug, Default)]
pub struct Faults {
    config: std::sync::RwLock<FaultConfig>,
}

enum Fault {
    Status(StatusCode),
    Slow(Duration),
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        Self {
            config: std::sync::RwLock::new(config),
        }
    }

    pub fn set(&self, config: FaultConfig) {
        if let Ok(mut guard) = self.config.write() {
            *guard = config;
        }
    }

    pub fn get(&self) -> FaultConfig {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }

    fn pick(&self) -> Option<(Fault, u64)> {
        let config = self.get();
        if config.is_off() {
            return None;
        }
        let roll: f64 = rand::rng().random();
        let mut edge = config.too_many_requests;
        if roll < edge {
            return Some((
                Fault::Status(StatusCode::TOO_MANY_REQUESTS),
                config.retry_after,
            ));
        }
        edge += config.internal_error;
        if roll < edge {
            return Some((Fault::Status(StatusCode::INTERNAL_SERVER_ERROR), 0));
        }
        edge += config.unavailable;
        if roll < edge {
            return Some((Fault::Status(StatusCode::SERVICE_UNAVAILABLE), 0));
        }
        let slow: f64 = rand::rng().random();
        (slow < config.slow).then_some((Fault::Slow(config.delay), 0))
    }
}

impl fmt::Display for FaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "429={},500={},503={},slow={},delay={}ms,retry-after={}",
            self.too_many_requests,
            self.internal_error,
            self.unavailable,
            self.slow,
            self.delay.as_millis(),
            self.retry_after
        )
    }
}

/// Middleware: counts the request, then maybe answers with a fault instead of the handler.
pub async fn inject(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    match state.faults.pick() {
        Some((Fault::Status(status), retry_after)) => {
            let mut err = ApiError::new(status, "Injected fault")
                .with_detail("The sandbox was started with fault injection (--faults).");
            if status == StatusCode::TOO_MANY_REQUESTS {
                err = ApiError::new(status, "Rate limit for this resource has been exceeded")
                    .with_retry_after(retry_after);
            }
            err.into_response()
        }
        Some((Fault::Slow(delay), _)) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let c: FaultConfig = "429=0.1, 503=0.1,slow=0.5,delay=250ms,retry-after=3"
            .parse()
            .unwrap();
        assert_eq!(c.too_many_requests, 0.1);
        assert_eq!(c.unavailable, 0.1);
        assert_eq!(c.slow, 0.5);
        assert_eq!(c.delay, Duration::from_millis(250));
        assert_eq!(c.retry_after, 3);
        assert!("".parse::<FaultConfig>().unwrap().is_off());
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "429",
            "429=2",
            "404=0.1",
            "delay=soon",
            "429=0.6,503=0.6",
            "retry-after=-1",
        ] {
            let err = bad.parse::<FaultConfig>().unwrap_err().to_string();
            assert!(err.starts_with("invalid fault spec"), "{bad}: {err}");
        }
    }
}
