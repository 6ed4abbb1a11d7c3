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
    fn try_take(&self, now: Instant) -> Result<Instant, Duration> {
        if self.limit == 0 {
            return Ok(now);
        }
        let mut sent = crate::lock::lock(&self.sent);
        self.forget_before(&mut sent, now);
        if sent.len() < self.limit {
            // Kept in order: a slot given back may have left a gap.
            let at = sent.back().map_or(now, |last| now.max(*last));
            sent.push_back(at);
            return Ok(at);
        }
        let oldest = sent.front().copied().unwrap_or(now);
        Err(match oldest.checked_add(self.per) {
            Some(free) => free.saturating_duration_since(now),
            // A window beyond any instant never frees a slot.
            None => Duration::MAX,
        })
    }

    /// Gives back the slot of a request taken at `at` that a gateway in
    /// front of the API refused (a 429 without DigitalOcean's rate-limit
    /// headers): it never reached the API, so DigitalOcean's per-minute
    /// window did not count it (the `Retry-After` of the refusal says when
    /// to come back). Without it, the retries of a burst refused by a
    /// gateway would push a walk past its pace and wait out a minute.
    pub(crate) fn give_back(&self, at: Instant) {
        if self.limit == 0 {
            return;
        }
        let mut sent = crate::lock::lock(&self.sent);
        if let Some(index) = sent.iter().rposition(|taken| *taken == at) {
            sent.remove(index);
        }
    }

    /// Waits (on `timer`) until a request may go; the slot's stamp (for
    /// [`give_back`](Self::give_back)). `None` when it would wait past
    /// `deadline`.
    pub(crate) async fn acquire(
        &self,
        timer: &dyn Timer,
        deadline: Option<Instant>,
    ) -> Option<Instant> {
        loop {
            let now = timer.now();
            match self.try_take(now) {
                Ok(at) => return Some(at),
                Err(wait) => {
                    if deadline.is_some_and(|d| clock::reaches(now, wait, d)) {
                        return None;
                    }
                    // Never a busy loop, whatever the timer says.
                    let wait = wait.max(Duration::from_millis(1));
                    timer.sleep(wait).await;
                }
            }
        }
    }
}

/// How long a limit learned from refusals holds after the latest one:
/// then the gate lifts, and a limit still there is learned again.
pub(crate) const GATE_MEMORY: Duration = Duration::from_secs(300);

/// How many requests the client and its clones may have in flight, as
/// learned from refusals: a gateway that limits requests in flight (not
/// per minute) refuses the excess with a 429 at once, without
/// DigitalOcean's `ratelimit-*` headers, while the requests it admitted
/// are still being answered. So when a 429 comes back, the
/// client's other requests still in flight are at most what the gateway
/// let through: the gate closes to that number (at least one), and every
/// attempt, retries included, waits at it for a free place. The requests
/// refused together then come back a few at a time instead of meeting the
/// same limit again. Without a refusal there is no limit; a learned one
/// only ever closes further, and lifts [`GATE_MEMORY`] after the latest
/// refusal (a walk stays under it to its end).
///
/// DigitalOcean's own 429s (with the headers) teach it nothing: the pace
/// and the rate state answer those, and closing the gate on them would
/// serialise every walk of the client for minutes.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    freed: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct GateState {
    in_flight: usize,
    limit: Option<usize>,
    refused_at: Option<Instant>,
}

impl GateState {
    fn forget_before(&mut self, now: Instant) {
        if self
            .refused_at
            .is_some_and(|at| now.saturating_duration_since(at) >= GATE_MEMORY)
        {
            self.limit = None;
            self.refused_at = None;
        }
    }
}

impl Gate {
    /// The requests that may be in flight at once now (`usize::MAX` when
    /// nothing was refused lately).
    pub(crate) fn limit(&self, now: Instant) -> usize {
        let mut state = crate::lock::lock(&self.state);
        state.forget_before(now);
        state.limit.unwrap_or(usize::MAX)
    }

    /// Waits (on `timer`) for a place. `None` when none freed before
    /// `deadline`.
    pub(crate) async fn enter(
        &self,
        timer: &dyn Timer,
        deadline: Option<Instant>,
    ) -> Option<GatePass<'_>> {
        loop {
            let mut freed = std::pin::pin!(self.freed.notified());
            // Registered before the check: a place freed after it wakes us.
            freed.as_mut().enable();
            {
                let mut state = crate::lock::lock(&self.state);
                state.forget_before(timer.now());
                if state.limit.is_none_or(|limit| state.in_flight < limit) {
                    state.in_flight += 1;
                    return Some(GatePass { gate: self });
                }
            }
            match deadline {
                None => freed.await,
                Some(deadline) => clock::before(timer, deadline, freed).await?,
            }
        }
    }
}

/// A place at the [`Gate`], held for one attempt.
#[derive(Debug)]
pub(crate) struct GatePass<'a> {
    gate: &'a Gate,
}

impl GatePass<'_> {
    /// This attempt was refused with a 429 at `now`: the others in flight
    /// are at most what the server lets through.
    pub(crate) fn refused(&self, now: Instant) {
        let mut state = crate::lock::lock(&self.gate.state);
        state.forget_before(now);
        let others = state.in_flight.saturating_sub(1).max(1);
        let limit = state.limit.map_or(others, |limit| limit.min(others));
        if state.limit != Some(limit) {
            tracing::info!(
                in_flight = limit,
                "a gateway refused a request: at most this many in flight at once from now on"
            );
        }
        state.limit = Some(limit);
        state.refused_at = Some(now);
    }
}

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        let mut state = crate::lock::lock(&self.gate.state);
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.gate.freed.notify_waiters();
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
            assert!(pacer.try_take(t0 + Duration::from_millis(i)).is_ok());
        }
        // 5 s, a 2% margin and 20 ms, less the second already gone.
        let wait = pacer.try_take(t0 + Duration::from_secs(1));
        assert_eq!(
            wait,
            Err(Duration::from_millis(4_120)),
            "until the oldest ages out"
        );
        assert!(pacer.try_take(t0 + Duration::from_millis(5_120)).is_ok());
    }

    #[test]
    fn a_refused_request_gives_its_slot_back() {
        let pacer = Pacer::new(2, Duration::from_secs(5));
        let t0 = Instant::now();
        let first = pacer.try_take(t0).expect("room");
        let second = pacer.try_take(t0 + Duration::from_millis(1)).expect("room");
        assert!(
            pacer.try_take(t0 + Duration::from_millis(2)).is_err(),
            "full"
        );
        pacer.give_back(second);
        assert!(
            pacer.try_take(t0 + Duration::from_millis(3)).is_ok(),
            "the refused one's slot"
        );
        assert!(
            pacer.try_take(t0 + Duration::from_millis(4)).is_err(),
            "and no more"
        );
        pacer.give_back(first);
        assert_eq!(pacer.room(t0 + Duration::from_millis(5)), 1);
    }

    #[tokio::test]
    async fn the_gate_learns_the_limit_from_refusals_and_holds_to_it() {
        let gate = Gate::default();
        let timer = crate::TokioTimer;
        let t0 = Instant::now();
        let mut passes = Vec::new();
        for _ in 0..20 {
            passes.push(gate.enter(&timer, None).await.expect("no limit yet"));
        }
        assert_eq!(gate.limit(t0), usize::MAX, "no refusal, no limit");
        // 8 refused at once (answered first), 12 admitted still in flight.
        for _ in 0..8 {
            let refused = passes.pop().expect("a pass");
            refused.refused(t0);
        }
        assert_eq!(gate.limit(t0), 12, "the last refusal saw 12 others");
        assert!(
            clock::before(
                &timer,
                Instant::now() + Duration::from_millis(20),
                gate.enter(&timer, None)
            )
            .await
            .is_none(),
            "full: the next attempt waits"
        );
        let deadline = Instant::now() + Duration::from_millis(20);
        assert!(
            gate.enter(&timer, Some(deadline)).await.is_none(),
            "until the deadline"
        );
        passes.pop();
        let pass = gate.enter(&timer, None).await;
        assert!(pass.is_some(), "a place freed");
        // A later refusal with fewer in flight closes it further, never wider.
        let pass = pass.expect("checked");
        drop(passes.drain(..6));
        pass.refused(t0);
        assert_eq!(gate.limit(t0), 5);
        assert_eq!(
            gate.limit(t0 + GATE_MEMORY),
            usize::MAX,
            "lifted after a quiet while"
        );
    }

    #[tokio::test]
    async fn a_freed_place_wakes_a_waiting_attempt() {
        let gate = std::sync::Arc::new(Gate::default());
        let timer = crate::TokioTimer;
        let first = gate.enter(&timer, None).await.expect("open");
        let second = gate.enter(&timer, None).await.expect("open");
        second.refused(Instant::now());
        drop(second);
        assert_eq!(
            gate.limit(Instant::now()),
            1,
            "a refusal alone: one at a time"
        );
        let waiter = {
            let gate = std::sync::Arc::clone(&gate);
            tokio::spawn(async move { gate.enter(&crate::TokioTimer, None).await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished(), "waits while the place is taken");
        drop(first);
        assert!(waiter.await.unwrap_or(false), "woken when it frees");
    }
}
