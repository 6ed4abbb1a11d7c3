//! The rate-limit state shared by every clone of a client: the latest
//! `ratelimit-*` values any response reported.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock;
use crate::model::RateLimit;

/// The latest rate-limit headers any clone of a client has seen.
#[derive(Debug, Default)]
pub(crate) struct RateState {
    latest: Mutex<Option<RateLimit>>,
}

impl RateState {
    pub(crate) fn get(&self) -> Option<RateLimit> {
        match self.latest.lock() {
            Ok(latest) => *latest,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    pub(crate) fn record(&self, rate: RateLimit) {
        match self.latest.lock() {
            Ok(mut latest) => *latest = Some(rate),
            Err(poisoned) => *poisoned.into_inner() = Some(rate),
        }
    }

    /// How long to wait, as of `now`, before a request the hourly budget
    /// would refuse; `None` when requests remain (or nothing is known).
    pub(crate) fn wait(&self, now: DateTime<Utc>) -> Option<(Duration, RateLimit)> {
        let rate = self.get()?;
        if rate.remaining > 0 {
            return None;
        }
        let wait = clock::until(now, rate.reset)?;
        Some((wait, rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_only_when_nothing_remains_and_the_reset_is_ahead() {
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        let state = RateState::default();
        assert_eq!(state.wait(now), None, "nothing known");
        let reset = now + chrono::Duration::seconds(30);
        state.record(RateLimit::new(5000, 1, reset));
        assert_eq!(state.wait(now), None, "one left");
        state.record(RateLimit::new(5000, 0, reset));
        assert_eq!(state.wait(now).map(|w| w.0), Some(Duration::from_secs(30)));
        let later = now + chrono::Duration::seconds(31);
        assert_eq!(state.wait(later), None, "the reset has passed");
    }
}
