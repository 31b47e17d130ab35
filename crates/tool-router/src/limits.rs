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
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    by_name: HashMap<String, Bucket>,
    /// When buckets left alone long enough to be full again were last dropped.
    pruned: Option<Instant>,
}

/// A bucket refills completely within a minute, so one untouched for that long is full, and
/// a full bucket is the same as none.
const REFILLED: Duration = Duration::from_secs(60);

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
        self.check_at(project_id, user_id, Instant::now())
    }

    fn check_at(&self, project_id: &str, user_id: &str, now: Instant) -> Result<(), Limited> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        if wanted.is_empty() {
            return Ok(());
        }
        // Users and keys that stopped calling leave nothing behind: once a minute, the
        // buckets untouched for a minute (full again) are dropped.
        if buckets
            .pruned
            .is_none_or(|at| now.saturating_duration_since(at) >= REFILLED)
        {
            buckets
                .by_name
                .retain(|_, b| now.saturating_duration_since(b.at) < REFILLED);
            buckets.pruned = Some(now);
        }
        for (name, rate, scope) in &wanted {
            let bucket = refill(&mut buckets.by_name, name, *rate, now);
            if bucket.tokens < 1.0 {
                let per_token = 60.0 / f64::from(rate.per_minute);
                return Err(Limited {
                    scope,
                    retry_after: Duration::from_secs_f64((1.0 - bucket.tokens) * per_token),
                });
            }
        }
        for (name, rate, _) in &wanted {
            refill(&mut buckets.by_name, name, *rate, now).tokens -= 1.0;
        }
        Ok(())
    }

    /// How many buckets are kept.
    #[cfg(test)]
    fn census(&self) -> usize {
        self.buckets.lock().expect("lock").by_name.len()
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
    fn buckets_of_callers_gone_for_a_minute_are_dropped() {
        let limiter = Limiter::new(RateLimits {
            per_user: Some(Rate { per_minute: 3 }),
            per_key: Some(Rate { per_minute: 1000 }),
        });
        let start = Instant::now();
        for user in 0..500 {
            assert!(limiter.check_at("p", &format!("u{user}"), start).is_ok());
        }
        assert_eq!(limiter.census(), 501, "a bucket per user and the key's");
        // Half a minute on, nothing is full again yet; u0 uses up its bucket.
        let half = start + Duration::from_secs(30);
        while limiter.check_at("p", "u0", half).is_ok() {}
        assert_eq!(limiter.census(), 501);
        // A minute after the others' last calls only u0, who called since, and the key remain,
        // and u0 has only what refilled in 31 s (one call), not a full bucket.
        let later = start + REFILLED + Duration::from_secs(1);
        assert!(limiter.check_at("p", "u0", later).is_ok());
        assert_eq!(limiter.census(), 2);
        assert!(
            limiter.check_at("p", "u0", later).is_err(),
            "u0's bucket was kept, not refilled"
        );
        // A user that comes back starts full.
        for _ in 0..3 {
            assert!(limiter.check_at("p", "u7", later).is_ok());
        }
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
