//! Retries that survive a bad day without a storm: the policy, backoff, the
//! retry budget, and the loop that runs one call's attempts (waiting on the
//! client's [`Timer`]); with them, the rate limit, the pace, and the
//! `tracing` of each call.
//!
//! [`RetryPolicy`] is set on the builder
//! ([`ClientBuilder::retry_policy`](crate::ClientBuilder::retry_policy)) and
//! overridable per request ([`List::retry_policy`](crate::List::retry_policy)).
//!
//! # What is retried
//!
//! Both operations are GETs, so every attempt is safe to repeat. What is
//! retried: 429, 500, 502, 503, 504, connection failures, timeouts and
//! bodies cut short. Never: other 4xx, a body that does not decode, input
//! rejected before sending. [`Error::is_retryable`] answers the same
//! question of an error the client returned, for a caller that retries on
//! its own side.
//!
//! # How long it waits
//!
//! - Exponential backoff with full jitter (0.5 s base, 8 s cap), 4 attempts.
//!   The server's word comes first: `Retry-After` (seconds or an HTTP-date)
//!   on any retried answer that carries it (a 429, or a 503 from a load
//!   balancer in front of an upstream that is restarting), else on a 429
//!   `ratelimit-reset` when that answer says nothing remains; a value that
//!   cannot be read is no word (backoff). A wait longer than
//!   [`max_wait`](RetryPolicy::max_wait) (60 s) is not slept: the call fails
//!   at once, saying how long the server asked for (and, on a 429, when the
//!   budget refills).
//! - [`deadline(d)`](RetryPolicy::deadline) per call (on the policy) or per
//!   whole request or walk ([`List::deadline`](crate::List::deadline)): no
//!   retry starts that cannot finish before it.
//! - A retry budget shared by every clone of a client (500 tokens; a retry
//!   costs 5, or 10 after a timeout; successes give tokens back), so a
//!   failing API gets a few retries, not thousands.
//!
//! # The rate limit
//!
//! - The freshest `ratelimit-*` values are shared by all clones
//!   ([`client.rate_limit()`](crate::Client::rate_limit)): reports are
//!   ordered by when their responses arrived, so a late answer never
//!   overwrites a newer one. Only the freshest *successful* answer saying
//!   none remain makes requests wait for the hourly reset (within
//!   `max_wait`); a 429 costs its `retry-after`, not the rest of the hour.
//! - Requests are paced to DigitalOcean's 250 a minute per token across a
//!   client's clones ([`ClientBuilder::pace`](crate::ClientBuilder::pace),
//!   default 250 per 60 s; a 2% margin absorbs clock differences): a large
//!   walk waits for the window instead of drawing 429s. `pace(0, ..)` turns
//!   it off. A request refused with a 429 gives its slot back: it was not
//!   served, and the refusal's `Retry-After` says when to come back, so the
//!   retries of a burst a gateway refused do not wait out a minute.
//! - Requests in flight are limited only once a server refuses some: a
//!   gateway that limits requests in flight (not per minute) answers the
//!   excess 429 at once, while the requests it admitted are still being
//!   answered. So when a 429 comes back, the client's other requests still
//!   in flight are at most what it lets through: the client and its clones
//!   keep to that number (at least one) from then on, every attempt,
//!   retries included, waits for a free place, and a walk's window stays
//!   under it. A learned limit only ever closes further, and lifts 5
//!   minutes after the latest refusal. DigitalOcean's own per-minute 429
//!   teaches it too: fewer requests at once cannot hurt against a limit on
//!   requests per minute.
//!
//! # Tracing
//!
//! - Every retry is a `tracing` event with the attempt, reason and wait; the
//!   final error says how many attempts were made and keeps the last status
//!   and DigitalOcean error id.
//! - Every call is a `tracing` span (`call`, at info, named with `otel.name`
//!   after the operation, `otel.kind = "client"`) with OpenTelemetry's HTTP
//!   client fields: `http.request.method`, `url.path`, `url.template` and,
//!   when it fails, `error.type` (the status, or the kind). Each attempt is
//!   a span inside it (`attempt`: `http.request.resend_count` on resends,
//!   `http.response.status_code`, `error.type`), and calls of a walk sit in
//!   its `page` span. No span carries the token or a query. With
//!   `tracing-opentelemetry` they become OpenTelemetry spans as they are;
//!   the report's `-v` prints each as it closes.

use std::future::Future;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing::Instrument;

use crate::clock::{self, Timer};
use crate::error::{Error, ErrorKind};
use crate::rate::{Gate, Pacer, RateState};

/// How a client retries a failed request.
///
/// ```
/// use std::time::Duration;
/// use digitalocean_snapshots::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .max_attempts(6)
///     .backoff(Duration::from_secs(1), Duration::from_secs(20))
///     .deadline(Duration::from_secs(120));
/// assert_eq!(patient.attempts(), 6);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    cap: Duration,
    max_wait: Duration,
    deadline: Option<Duration>,
    jitter: bool,
    proactive: bool,
}

impl Default for RetryPolicy {
    /// 4 attempts; exponential backoff from 0.5 s with full jitter, capped
    /// at 8 s; the server's `retry-after` honoured up to 60 s; waits for
    /// the hourly reset (up to 60 s) instead of spending requests the rate
    /// limit will refuse; no overall deadline.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            max_wait: Duration::from_secs(60),
            deadline: None,
            jitter: true,
            proactive: true,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries, no waiting for the rate limit.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            proactive: false,
            ..Self::default()
        }
    }

    /// The most attempts per request, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Exponential backoff: the n-th retry waits up to `base * 2^(n-1)`,
    /// never more than `cap`.
    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.base = base;
        self.cap = cap.max(base);
        self
    }

    /// The longest wait the client accepts before one retry, or before a
    /// request while the hourly budget is spent. A longer wait asked for
    /// by the server (`retry-after`, `ratelimit-reset`) is not slept: the
    /// call fails at once with a rate-limited error that says when the
    /// budget refills.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// An overall deadline for one call, waits and retries included: no
    /// retry starts that cannot finish before it, and an attempt still
    /// running at the deadline is abandoned.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Full jitter (on by default): each backoff is a random duration up to
    /// its ceiling, so many clients do not retry in step. Off, the wait is
    /// the ceiling itself: reproducible, for tests.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Whether to wait for `ratelimit-reset` (within `max_wait`) before a
    /// request when the last response said no requests remain, instead of
    /// sending one the server will refuse. On by default.
    pub fn wait_for_rate_limit(mut self, wait: bool) -> Self {
        self.proactive = wait;
        self
    }

    /// The backoff's base.
    pub(crate) fn base(&self) -> Duration {
        self.base
    }

    /// The backoff's cap.
    pub(crate) fn cap(&self) -> Duration {
        self.cap
    }

    /// The most attempts per request.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff ceiling before retry number `retry` (1-based).
    fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base.saturating_mul(factor).min(self.cap)
    }

    fn backoff_wait(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        if self.jitter {
            // In f64 seconds: `Duration::mul_f64` panics when the product
            // rounds up past `Duration::MAX`.
            Duration::try_from_secs_f64(ceiling.as_secs_f64() * fastrand::f64()).unwrap_or(ceiling)
        } else {
            ceiling
        }
    }
}

/// Why a failed attempt may be retried, and what a retry costs from the
/// budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retryable {
    /// 429: the server's word decides the wait.
    RateLimited,
    /// 500, 502, 503, 504.
    ServerError,
    /// A timeout, a refused connection, a body cut short.
    Transient,
}

impl Retryable {
    /// The class of a failure the loop retries: what
    /// [`Error::is_retryable`] says, but the client's own
    /// [`ErrorKind::RateLimited`] (raised instead of a wait too long).
    pub(crate) fn of(error: &Error) -> Option<Self> {
        if !error.is_retryable() {
            return None;
        }
        match error.kind() {
            ErrorKind::Api if error.status() == Some(429) => Some(Self::RateLimited),
            ErrorKind::Api => Some(Self::ServerError),
            ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Transport => Some(Self::Transient),
            _ => None,
        }
    }

    fn cost(self) -> u32 {
        match self {
            Self::Transient => TIMEOUT_RETRY_COST,
            _ => RETRY_COST,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::RateLimited => "rate limited",
            Self::ServerError => "server error",
            Self::Transient => "transport failure",
        }
    }
}

/// The budget's default capacity (as in the AWS SDKs' standard mode).
pub(crate) const DEFAULT_RETRY_BUDGET: u32 = 500;
/// What a retry after a 429 or a 5xx costs (as in the AWS SDKs).
pub(crate) const RETRY_COST: u32 = 5;
/// What a retry after a timeout or a transport failure costs.
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;
/// What a success at the first attempt gives back.
const SUCCESS_REFUND: u32 = 1;

/// A token bucket shared by every clone of a client: retries spend
/// tokens, successes give them back. When a failing API has drained it, a
/// busy program makes a few retries, not thousands.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    capacity: u32,
    tokens: Mutex<u32>,
    /// Attempts that failed in a way worth retrying (429, 5xx, transport),
    /// retried or not: what an adaptive window backs off on.
    troubled: AtomicU64,
}

impl RetryBudget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            capacity,
            tokens: Mutex::new(capacity),
            troubled: AtomicU64::new(0),
        }
    }

    /// Attempts so far that met a 429, a 5xx or a transport failure.
    pub(crate) fn troubled(&self) -> u64 {
        self.troubled.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn note_trouble(&self) {
        self.troubled.fetch_add(1, Ordering::Relaxed);
    }

    fn with<R>(&self, f: impl FnOnce(&mut u32) -> R) -> R {
        f(&mut crate::lock::lock(&self.tokens))
    }

    pub(crate) fn remaining(&self) -> u32 {
        self.with(|t| *t)
    }

    fn try_spend(&self, cost: u32) -> bool {
        self.with(|tokens| {
            if *tokens >= cost {
                *tokens -= cost;
                true
            } else {
                false
            }
        })
    }

    fn refund(&self, amount: u32) {
        let capacity = self.capacity;
        self.with(|tokens| *tokens = tokens.saturating_add(amount).min(capacity));
    }
}

/// A 429 without DigitalOcean's rate-limit headers: a gateway in front,
/// which limits requests in flight and did not pass the request on.
/// DigitalOcean's own 429s carry the headers: the pace and the rate state
/// answer those.
fn gateway_refusal(error: &Error) -> bool {
    error.status() == Some(429) && error.rate_limit().is_none()
}

/// What a retry loop needs besides the request itself.
pub(crate) struct RetryContext<'a> {
    pub(crate) policy: &'a RetryPolicy,
    pub(crate) budget: &'a RetryBudget,
    pub(crate) rate: &'a RateState,
    pub(crate) pacer: &'a Pacer,
    pub(crate) gate: &'a Gate,
    pub(crate) timer: &'a dyn Timer,
    /// The earliest of the call's and the walk's deadlines.
    pub(crate) deadline: Option<Instant>,
    pub(crate) operation: &'static str,
}

impl RetryContext<'_> {
    /// Runs `attempt` until it succeeds, fails for good, or the policy, the
    /// budget or the deadline says stop.
    pub(crate) async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let started = self.timer.now();
        let own = self
            .policy
            .deadline
            .and_then(|d| clock::deadline_after(started, d));
        let deadline = match (own, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut attempts = 0u32;
        let mut last_cost = 0u32;
        loop {
            self.wait_for_rate_limit(deadline, attempts).await?;
            // A place at the gate first, then the pace: time spent waiting
            // for a place is not time the per-minute window counts.
            let Some(pass) = self.gate.enter(self.timer, deadline).await else {
                return Err(Error::deadline(self.timer.now() - started)
                    .with_operation(self.operation)
                    .with_attempts(attempts)
                    .with_note(
                        "the requests in flight the server allows were all taken until the deadline",
                    ));
            };
            let Some(paced_at) = self.pacer.acquire(self.timer, deadline).await else {
                return Err(Error::deadline(self.timer.now() - started)
                    .with_operation(self.operation)
                    .with_attempts(attempts)
                    .with_note("the per-minute pace would pass the deadline"));
            };
            attempts += 1;
            let outcome = self.attempt(attempt(), attempts, started, deadline).await;
            if outcome.as_ref().err().is_some_and(gateway_refusal) {
                pass.refused(self.timer.now());
                self.pacer.give_back(paced_at);
            }
            drop(pass);
            let error = match outcome {
                Ok(value) => {
                    let refund = if attempts == 1 {
                        SUCCESS_REFUND
                    } else {
                        last_cost
                    };
                    self.budget.refund(refund);
                    return Ok(value);
                }
                Err(error) => error,
            };
            let (wait, cost) = self.retry_or_stop(error, attempts, deadline)?;
            last_cost = cost;
            self.timer.sleep(wait).await;
        }
    }

    /// Before an attempt: when the latest answer said no requests remain
    /// this hour (and the policy waits for it), sleeps until the reset, or
    /// fails at once when the reset is beyond `max_wait` or the deadline.
    async fn wait_for_rate_limit(
        &self,
        deadline: Option<Instant>,
        attempts: u32,
    ) -> Result<(), Error> {
        if !self.policy.proactive {
            return Ok(());
        }
        let Some((wait, rate)) = self.rate.wait(self.timer.wall_clock()) else {
            return Ok(());
        };
        let stop = if wait > self.policy.max_wait {
            Some(format!(
                "longer than the retry policy's maximum wait of {}s",
                self.policy.max_wait.as_secs()
            ))
        } else if self.past(deadline, wait) {
            Some("past the call's deadline".to_owned())
        } else {
            None
        };
        if let Some(note) = stop {
            return Err(Error::rate_limited(rate, wait)
                .with_operation(self.operation)
                .with_attempts(attempts)
                .with_note(note));
        }
        tracing::info!(
            operation = self.operation,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "no requests left this hour: waiting for the reset"
        );
        self.timer.sleep(wait).await;
        Ok(())
    }

    /// One attempt (number `attempts`), bounded by `deadline`, in a span
    /// with OpenTelemetry's fields: `http.request.resend_count` on a
    /// resend, `http.response.status_code`, `error.type` when it failed.
    async fn attempt<T>(
        &self,
        attempt: impl Future<Output = Result<T, Error>>,
        attempts: u32,
        started: Instant,
        deadline: Option<Instant>,
    ) -> Result<T, Error> {
        let span = tracing::info_span!(
            "attempt",
            http.request.resend_count = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        if attempts > 1 {
            span.record("http.request.resend_count", attempts - 1);
        }
        let outcome =
            async {
                match deadline {
                    None => attempt.await,
                    Some(deadline) => match clock::before(self.timer, deadline, attempt).await {
                        Some(outcome) => outcome,
                        None => Err(Error::deadline(self.timer.now() - started)
                            .with_operation(self.operation)),
                    },
                }
            }
            .instrument(span.clone())
            .await;
        match &outcome {
            Ok(_) => {
                span.record("http.response.status_code", 200);
            }
            Err(error) => {
                if let Some(status) = error.status() {
                    span.record("http.response.status_code", status);
                }
                span.record("error.type", error.otel_type().as_ref());
            }
        }
        outcome
    }

    /// After a failed attempt: the wait before the next one and its cost
    /// from the budget, or the error to end the call with (not retryable,
    /// attempts spent, a wait too long or past the deadline, no budget).
    fn retry_or_stop(
        &self,
        error: Error,
        attempts: u32,
        deadline: Option<Instant>,
    ) -> Result<(Duration, u32), Error> {
        let Some(class) = Retryable::of(&error) else {
            return Err(error.with_attempts(attempts));
        };
        self.budget.troubled.fetch_add(1, Ordering::Relaxed);
        if attempts >= self.policy.max_attempts {
            return Err(error.with_attempts(attempts));
        }
        let wait = self.wait_before_retry(class, &error, attempts);
        if wait > self.policy.max_wait {
            return Err(error.with_attempts(attempts).with_note(format!(
                "the server asks to wait {}s, more than the policy's maximum wait of {}s",
                wait.as_secs(),
                self.policy.max_wait.as_secs()
            )));
        }
        if self.past(deadline, wait) {
            return Err(error
                .with_attempts(attempts)
                .with_note("no time left before the deadline for another attempt"));
        }
        if !self.budget.try_spend(class.cost()) {
            return Err(error
                .with_attempts(attempts)
                .with_note("the client's retry budget is spent: too many recent failures"));
        }
        tracing::warn!(
            operation = self.operation,
            attempt = attempts,
            reason = class.reason(),
            status = error.status(),
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "retrying"
        );
        Ok((wait, class.cost()))
    }

    /// The server's word first: `Retry-After` on any retryable answer
    /// that carries it (a 429, or a 503 from a gateway or an upstream
    /// restarting; seconds or an HTTP-date), else on a 429 the hourly
    /// reset when nothing remains; otherwise exponential backoff. A value
    /// that cannot be read is no word: backoff.
    fn wait_before_retry(&self, class: Retryable, error: &Error, attempts: u32) -> Duration {
        if let Some(wait) = error.retry_after() {
            return wait;
        }
        if class == Retryable::RateLimited
            && let Some(rate) = error.rate_limit()
            && rate.remaining == 0
            && let Some(wait) = clock::until(self.timer.wall_clock(), rate.reset)
        {
            return wait;
        }
        self.policy.backoff_wait(attempts)
    }

    fn past(&self, deadline: Option<Instant>, wait: Duration) -> bool {
        deadline.is_some_and(|d| clock::reaches(self.timer.now(), wait, d))
    }
}

#[cfg(test)]
mod tests;
