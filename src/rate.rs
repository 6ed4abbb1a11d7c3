//! The rate-limit state shared by every clone of a client: the freshest
//! `ratelimit-*` values any response reported.
//!
//! Responses to concurrent requests arrive in any order, so each report is
//! stamped with the instant its response arrived (on the client's clock)
//! and an older one never replaces a newer one. Two reports are kept: the
//! freshest of any answer (shown by `Client::rate_limit`), and the
//! freshest of a successful answer, which alone decides whether requests
//! wait for the hourly reset. A 429 says to wait its `retry-after`, which
//! the retry loop honours; it does not stop every other request until the
//! hour ends.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::clock::{self, Timer};
use crate::model::RateLimit;

/// One report and when its response arrived.
#[derive(Clone, Copy, Debug)]
struct Stamped {
    rate: RateLimit,
    at: Instant,
}

#[derive(Debug, Default)]
struct Latest {
    any: Option<Stamped>,
    success: Option<Stamped>,
}

/// The freshest rate-limit reports any clone of a client has seen.
#[derive(Debug, Default)]
pub(crate) struct RateState {
    latest: Mutex<Latest>,
}

impl RateState {
    fn with<R>(&self, f: impl FnOnce(&mut Latest) -> R) -> R {
        f(&mut crate::lock::lock(&self.latest))
    }

    /// The freshest report of any answer.
    pub(crate) fn get(&self) -> Option<RateLimit> {
        self.with(|latest| latest.any.map(|s| s.rate))
    }

    /// Records the report of a response that arrived `at`; `success` for a
    /// 2xx. A report older than the one kept is dropped.
    pub(crate) fn record(&self, rate: RateLimit, at: Instant, success: bool) {
        let stamped = Stamped { rate, at };
        let fresher = |slot: &Option<Stamped>| slot.is_none_or(|kept| kept.at <= at);
        self.with(|latest| {
            if fresher(&latest.any) {
                latest.any = Some(stamped);
            }
            if success && fresher(&latest.success) {
                latest.success = Some(stamped);
            }
        });
    }

    /// How long to wait, as of `now`, before a request the hourly budget
    /// would refuse: only when the freshest successful answer said none
    /// remain and its reset is ahead.
    pub(crate) fn wait(&self, now: DateTime<Utc>) -> Option<(Duration, RateLimit)> {
        let rate = self.with(|latest| latest.success.map(|s| s.rate))?;
        if rate.remaining > 0 {
            return None;
        }
        let wait = clock::until(now, rate.reset)?;
        Some((wait, rate))
    }
}

/// Paces requests so that no window of `per` holds more than `limit`
/// of them (DigitalOcean: 250 a minute per token), shared by a client's
/// clones: a request that would break it waits for the oldest to age out,
/// instead of being refused with a 429.
#[derive(Debug)]
pub(crate) struct Pacer {
    limit: usize,
    per: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Pacer {
    pub(crate) fn new(limit: u32, per: Duration) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            // The server counts when a request arrives, the client when it
            // leaves: a margin of 2% (and 20 ms) keeps the two windows
            // from overlapping when the first request was slower than a
            // later one.
            per: per
                .saturating_add(per / 50)
                .saturating_add(Duration::from_millis(20)),
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Requests that could start at `now` without waiting (`usize::MAX`
    /// when pacing is off).
    pub(crate) fn room(&self, now: Instant) -> usize {
        if self.limit == 0 {
            return usize::MAX;
        }
        let mut sent = crate::lock::lock(&self.sent);
        self.forget_before(&mut sent, now);
        self.limit.saturating_sub(sent.len())
    }

    /// Drops the send times that have left the window at `now`.
    fn forget_before(&self, sent: &mut VecDeque<Instant>, now: Instant) {
        while sent
            .front()
            .is_some_and(|oldest| now.saturating_duration_since(*oldest) >= self.per)
        {
            sent.pop_front();
        }
    }

    /// Takes a slot now, or says how long until one frees.
    fn try_take(&self, now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut sent = crate::lock::lock(&self.sent);
        self.forget_before(&mut sent, now);
        if sent.len() < self.limit {
            sent.push_back(now);
            return Ok(());
        }
        let oldest = sent.front().copied().unwrap_or(now);
        Err(match oldest.checked_add(self.per) {
            Some(free) => free.saturating_duration_since(now),
            // A window beyond any instant never frees a slot.
            None => Duration::MAX,
        })
    }

    /// Waits (on `timer`) until a request may go. `None` when it would
    /// wait past `deadline`.
    pub(crate) async fn acquire(
        &self,
        timer: &dyn Timer,
        deadline: Option<Instant>,
    ) -> Option<Duration> {
        let mut waited = Duration::ZERO;
        loop {
            let now = timer.now();
            match self.try_take(now) {
                Ok(()) => return Some(waited),
                Err(wait) => {
                    if deadline.is_some_and(|d| clock::reaches(now, wait, d)) {
                        return None;
                    }
                    // Never a busy loop, whatever the timer says.
                    let wait = wait.max(Duration::from_millis(1));
                    timer.sleep(wait).await;
                    waited = waited.saturating_add(wait);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests stand in for a clock
mod tests {
    use super::*;

    fn rate(remaining: u64, reset: DateTime<Utc>) -> RateLimit {
        RateLimit::new(5000, remaining, reset)
    }

    #[test]
    fn waits_only_when_the_freshest_success_says_nothing_remains() {
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        let t0 = Instant::now();
        let state = RateState::default();
        assert_eq!(state.wait(now), None, "nothing known");
        let reset = now + chrono::Duration::seconds(30);
        state.record(rate(1, reset), t0, true);
        assert_eq!(state.wait(now), None, "one left");
        state.record(rate(0, reset), t0 + Duration::from_millis(1), true);
        assert_eq!(state.wait(now).map(|w| w.0), Some(Duration::from_secs(30)));
        let later = now + chrono::Duration::seconds(31);
        assert_eq!(state.wait(later), None, "the reset has passed");
    }

    #[test]
    fn an_older_report_never_replaces_a_newer_one_and_a_429_never_gates() {
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        let reset = now + chrono::Duration::seconds(60);
        let t0 = Instant::now();
        let state = RateState::default();
        state.record(rate(4000, reset), t0 + Duration::from_millis(10), true);
        // A response that arrived earlier, recorded later: dropped.
        state.record(rate(0, reset), t0, true);
        assert_eq!(state.get().map(|r| r.remaining), Some(4000));
        assert_eq!(state.wait(now), None);
        // A newer 429 that says none remain: shown, but does not gate.
        state.record(rate(0, reset), t0 + Duration::from_millis(20), false);
        assert_eq!(state.get().map(|r| r.remaining), Some(0));
        assert_eq!(state.wait(now), None, "retry-after bounds a 429's wait");
    }

    #[test]
    fn the_pacer_holds_a_window_to_its_limit() {
        let pacer = Pacer::new(3, Duration::from_secs(5));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(pacer.try_take(t0 + Duration::from_millis(i)), Ok(()));
        }
        // 5 s, a 2% margin and 20 ms, less the second already gone.
        let wait = pacer.try_take(t0 + Duration::from_secs(1));
        assert_eq!(
            wait,
            Err(Duration::from_millis(4_120)),
            "until the oldest ages out"
        );
        assert_eq!(pacer.try_take(t0 + Duration::from_millis(5_120)), Ok(()));
    }
}
