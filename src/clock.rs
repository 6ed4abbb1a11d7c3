//! The one clock: every wait, timeout and reset computation of the crate
//! goes through a [`Timer`], so a test can move time without sleeping.
//! This is the one file allowed to read the system's clocks (`clippy.toml`
//! forbids it elsewhere).
#![allow(clippy::disallowed_methods)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::{self, Either};

/// The clock and the sleep that retries, deadlines and rate-limit waits
/// use. The default is tokio's; a test can supply one that records waits
/// and returns at once, so backoff is exact and nothing sleeps.
///
/// Time has two forms here: [`now`](Self::now) (monotonic, for deadlines
/// and elapsed times) and [`wall_clock`](Self::wall_clock) (UTC, for the
/// server's `ratelimit-reset`, which is a Unix time). The default
/// `wall_clock` follows `now`: it is the system's UTC time shifted by
/// however far `now` is from the real monotonic clock, so a test timer
/// that moves `now` forward moves the wall clock with it.
pub trait Timer: Send + Sync + fmt::Debug + 'static {
    /// The current instant.
    fn now(&self) -> Instant;

    /// Waits for `duration`: the waits the crate chooses to make (backoff,
    /// `retry-after`, the rate-limit reset).
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;

    /// Resolves at `deadline` (on this timer's [`now`](Self::now)): what
    /// bounds a request that is running when a deadline comes. The default
    /// sleeps for what is left with [`sleep`](Self::sleep). A test timer
    /// whose `sleep` returns at once (to skip backoff) should implement
    /// this with a real sleep, or every bounded request times out at once.
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.sleep(deadline.saturating_duration_since(self.now()))
    }

    /// The current time in UTC. See the trait's documentation for the
    /// default.
    fn wall_clock(&self) -> DateTime<Utc> {
        let real = Instant::now();
        let now = self.now();
        let system = Utc::now();
        let shifted = match now.checked_duration_since(real) {
            Some(ahead) => chrono::Duration::from_std(ahead)
                .ok()
                .and_then(|d| system.checked_add_signed(d)),
            None => chrono::Duration::from_std(real.duration_since(now))
                .ok()
                .and_then(|d| system.checked_sub_signed(d)),
        };
        shifted.unwrap_or(system)
    }
}

/// [`Timer`] on tokio's clock and the system's UTC time.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn wall_clock(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Runs `work` until `deadline` on `timer`'s clock: `None` when the
/// deadline came first (and `work` is dropped).
pub(crate) async fn before<F: Future>(
    timer: &dyn Timer,
    deadline: Instant,
    work: F,
) -> Option<F::Output> {
    let work = std::pin::pin!(work);
    match future::select(work, timer.sleep_until(deadline)).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}

/// The instant `after` from `at`, or `None` when it is beyond any instant
/// the clock can hold (`Duration::MAX` and the like): no deadline.
pub(crate) fn deadline_after(at: Instant, after: Duration) -> Option<Instant> {
    at.checked_add(after)
}

/// Whether waiting `wait` from `now` reaches `deadline` (a wait beyond any
/// instant always does).
pub(crate) fn reaches(now: Instant, wait: Duration, deadline: Instant) -> bool {
    now.checked_add(wait).is_none_or(|end| end >= deadline)
}

/// How long from `now` until `until`, or `None` when it has passed.
pub(crate) fn until(now: DateTime<Utc>, until: DateTime<Utc>) -> Option<Duration> {
    (until - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Ahead(Duration);

    impl Timer for Ahead {
        fn now(&self) -> Instant {
            Instant::now() + self.0
        }
        fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
            Box::pin(future::pending())
        }
    }

    #[test]
    fn the_default_wall_clock_follows_now() {
        let hour = Duration::from_secs(3600);
        let shifted = Ahead(hour).wall_clock() - Utc::now();
        let secs = shifted.num_seconds();
        assert!((3599..=3600).contains(&secs), "{secs}");
    }

    #[tokio::test]
    async fn before_gives_up_when_the_timer_fires_first() {
        #[derive(Debug)]
        struct Instantly;
        impl Timer for Instantly {
            fn now(&self) -> Instant {
                Instant::now()
            }
            fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
                Box::pin(future::ready(()))
            }
        }
        let never = future::pending::<()>();
        assert_eq!(
            before(
                &Instantly,
                Instant::now() + Duration::from_secs(3600),
                never
            )
            .await,
            None
        );
        let ready = future::ready(7);
        assert_eq!(
            before(&Ahead(Duration::ZERO), Instant::now(), ready).await,
            Some(7)
        );
    }
}
