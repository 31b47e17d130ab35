//! Rate limits on tool calls, per user and per API key's project: a token bucket each, in
//! the process (several instances each enforce their own share).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `calls` per minute, with bursts up to the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `120` or `120/min`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = s.trim().trim_end_matches("/min").trim();
        match number.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Rate { per_minute: n }),
            _ => Err(format!(
                "`{s}` is no rate: give calls per minute, e.g. `120` or `120/min`"
            )),
        }
    }
}

/// The rate limits of a router; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub per_user: Option<Rate>,
    pub per_key: Option<Rate>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets by name (`user:…`, `key:…`).
#[derive(Debug, Default)]
pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Which limit a call hit, and when to try again.
#[derive(Debug, Clone, PartialEq)]
pub struct Limited {
    pub scope: &'static str,
    pub retry_after: Duration,
}

impl Limited {
    /// Whole seconds to wait, at least 1 (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }

    pub fn message(&self) -> String {
        format!(
            "rate limited: too many tool calls for this {}; try again in {} s",
            self.scope,
            self.retry_after_secs()
        )
    }
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: Mutex::default(),
        }
    }

    /// Takes one call from the project's and the user's buckets, or says which is empty
    /// (taking nothing then).
    pub fn check(&self, project_id: &str, user_id: &str) -> Result<(), Limited> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let key = self
            .limits
            .per_key
            .map(|r| (format!("key:{project_id}"), r, "API key"));
        let user = self.limits.per_user.map(|r| {
            (
                format!("user:{}:{project_id}/{user_id}", project_id.len()),
                r,
                "user",
            )
        });
        let wanted: Vec<_> = key.into_iter().chain(user).collect();
        for (name, rate, scope) in &wanted {
            let bucket = refill(&mut buckets, name, *rate, now);
            if bucket.tokens < 1.0 {
                let per_token = 60.0 / f64::from(rate.per_minute);
                return Err(Limited {
                    scope,
                    retry_after: Duration::from_secs_f64((1.0 - bucket.tokens) * per_token),
                });
            }
        }
        for (name, rate, _) in &wanted {
            refill(&mut buckets, name, *rate, now).tokens -= 1.0;
        }
        // Full buckets hold no information; drop them now and then so memory stays bounded.
        if buckets.len() > 10_000 {
            let limits = self.limits;
            buckets.retain(|name, b| {
                let rate = if name.starts_with("key:") {
                    limits.per_key
                } else {
                    limits.per_user
                };
                rate.is_some_and(|r| b.tokens + 1e-9 < f64::from(r.per_minute))
            });
        }
        Ok(())
    }
}

fn refill<'a>(
    buckets: &'a mut HashMap<String, Bucket>,
    name: &str,
    rate: Rate,
    now: Instant,
) -> &'a mut Bucket {
    let capacity = f64::from(rate.per_minute);
    let bucket = buckets.entry(name.to_owned()).or_insert(Bucket {
        tokens: capacity,
        at: now,
    });
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * capacity / 60.0).min(capacity);
    bucket.at = now;
    bucket
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_their_rate_and_others_are_not_affected() {
        let limiter = Limiter::new(RateLimits {
            per_user: Some(Rate { per_minute: 3 }),
            per_key: Some(Rate { per_minute: 5 }),
        });
        for _ in 0..3 {
            assert!(limiter.check("p", "alice").is_ok());
        }
        let limited = limiter
            .check("p", "alice")
            .expect_err("the fourth call waits");
        assert_eq!(limited.scope, "user");
        assert!(
            limited.retry_after <= Duration::from_secs(20),
            "{limited:?}"
        );
        assert!(limited.message().contains("try again in"));
        assert!(limiter.check("p", "bob").is_ok());
        assert!(limiter.check("p", "bob").is_ok());
        let key = limiter
            .check("p", "carol")
            .expect_err("the project's sixth call");
        assert_eq!(key.scope, "API key");
        assert!(limiter.check("q", "alice").is_ok(), "another project");
    }

    #[test]
    fn rates_parse() {
        assert_eq!("120".parse(), Ok(Rate { per_minute: 120 }));
        assert_eq!("60/min".parse(), Ok(Rate { per_minute: 60 }));
        assert!("0".parse::<Rate>().is_err());
        assert!("fast".parse::<Rate>().is_err());
    }

    #[test]
    fn no_limits_limit_nothing() {
        let limiter = Limiter::new(RateLimits::default());
        for _ in 0..10_000 {
            assert!(limiter.check("p", "u").is_ok());
        }
    }
}
