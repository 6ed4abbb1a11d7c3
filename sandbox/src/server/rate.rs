//! Per-token rate-limit budgets, as DigitalOcean keeps them: an hourly
//! and a per-minute window, and the `ratelimit-*` headers they give.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::RateLimits;

/// One token's rate-limit windows.
#[derive(Debug)]
struct Budget {
    hour_start: Instant,
    hour_used: u64,
    minute_start: Instant,
    minute_used: u64,
}

/// The rate-limit headers of one answer.
pub(super) struct RateHeaders {
    limit: u64,
    remaining: u64,
    reset: u64,
}

impl RateHeaders {
    pub(super) fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(self.reset));
    }
}

/// Every token's budgets under one set of limits: what the handlers
/// charge and peek. Knows nothing else of the server's state.
#[derive(Debug)]
pub(crate) struct Budgets {
    limits: RateLimits,
    by_token: Mutex<BTreeMap<String, Budget>>,
}

impl Budgets {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            by_token: Mutex::new(BTreeMap::new()),
        }
    }

    /// Forgets every token's spending.
    pub(crate) fn clear(&self) {
        crate::sync::lock(&self.by_token).clear();
    }

    fn roll(&self, budget: &mut Budget, now: Instant) {
        let limits = &self.limits;
        if now.duration_since(budget.hour_start) >= limits.hour {
            budget.hour_start = now;
            budget.hour_used = 0;
        }
        if now.duration_since(budget.minute_start) >= limits.minute {
            budget.minute_start = now;
            budget.minute_used = 0;
        }
    }

    fn headers_for(&self, budget: &Budget, now: Instant) -> RateHeaders {
        let limits = &self.limits;
        let until_reset = (budget.hour_start + limits.hour).saturating_duration_since(now);
        let reset = SystemTime::now()
            .checked_add(until_reset)
            .unwrap_or_else(SystemTime::now)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or(0);
        RateHeaders {
            limit: limits.per_hour,
            remaining: limits.per_hour.saturating_sub(budget.hour_used),
            reset,
        }
    }

    /// Spends one request of `key`'s budget; on refusal, says how many
    /// seconds to wait.
    pub(super) fn charge(&self, key: &str) -> Result<RateHeaders, (RateHeaders, u64)> {
        let now = Instant::now();
        let limits = &self.limits;
        let mut budgets = crate::sync::lock(&self.by_token);
        let budget = budgets
            .entry(key.to_owned())
            .or_insert_with(|| new_budget(now));
        self.roll(budget, now);
        let wait = |until: Instant| {
            until
                .saturating_duration_since(now)
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64
        };
        if budget.hour_used >= limits.per_hour {
            let retry = wait(budget.hour_start + limits.hour);
            return Err((self.headers_for(budget, now), retry));
        }
        if budget.minute_used >= limits.per_minute {
            let retry = wait(budget.minute_start + limits.minute);
            return Err((self.headers_for(budget, now), retry));
        }
        budget.hour_used += 1;
        budget.minute_used += 1;
        Ok(self.headers_for(budget, now))
    }

    /// The headers of `key`'s budget, without spending it.
    pub(super) fn peek(&self, key: &str) -> RateHeaders {
        let now = Instant::now();
        let mut budgets = crate::sync::lock(&self.by_token);
        let budget = budgets
            .entry(key.to_owned())
            .or_insert_with(|| new_budget(now));
        self.roll(budget, now);
        self.headers_for(budget, now)
    }
}

fn new_budget(now: Instant) -> Budget {
    Budget {
        hour_start: now,
        hour_used: 0,
        minute_start: now,
        minute_used: 0,
    }
}

/// What the faults make a 429's headers say: none remain and the window
/// resets in a minute (`spent_on_429`); `retry-after` as an HTTP-date
/// (`retry_after_as_date`).
pub(super) fn conflicting_429(faults: &crate::Faults, headers: &mut HeaderMap) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if faults.spent_on_429 {
        headers.insert("ratelimit-remaining", HeaderValue::from(0u64));
        headers.insert("ratelimit-reset", HeaderValue::from(now + 60));
    }
    if faults.retry_after_as_date {
        let wait = faults.retry_after_secs.max(1);
        let at = i64::try_from(now + wait).unwrap_or(i64::MAX);
        let date = chrono::DateTime::from_timestamp(at, 0)
            .unwrap_or_default()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        if let Ok(value) = HeaderValue::from_str(&date) {
            headers.insert(axum::http::header::RETRY_AFTER, value);
        }
    }
}
