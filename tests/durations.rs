//! Every `Duration` the API takes, at the edges of its type: 0, 1 ns,
//! `u64::MAX` seconds and `Duration::MAX` (a natural way to say "no
//! limit"), for every setter of the builder, the retry policy, a request
//! and the blocking client. Each gives a result or a typed error, never a
//! panic; nothing here sleeps for real (the timer records waits).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use digitalocean_sandbox::{Faults, RateLimits, Sandbox};
use digitalocean_snapshots::{Client, ErrorKind, RetryPolicy, Timer};
use proptest::prelude::*;

/// Records waits and returns at once; `now()` runs ahead by what was
/// skipped, saturating a century ahead.
#[derive(Clone, Debug, Default)]
struct SkippingTimer {
    skipped: Arc<Mutex<Duration>>,
}

impl Timer for SkippingTimer {
    fn now(&self) -> Instant {
        let skipped = *self.skipped.lock().unwrap();
        let century = Duration::from_secs(100 * 365 * 24 * 3600);
        let real = Instant::now();
        real.checked_add(skipped.min(century)).unwrap_or(real)
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut skipped = self.skipped.lock().unwrap();
        *skipped = skipped.saturating_add(duration);
        Box::pin(std::future::ready(()))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        // A running request is bounded in real time, at most a second here.
        let wait = deadline.saturating_duration_since(self.now());
        Box::pin(tokio::time::sleep(wait.min(Duration::from_secs(1))))
    }
}

fn edge() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_nanos(1)),
        Just(Duration::from_millis(1)),
        Just(Duration::from_secs(5)),
        Just(Duration::from_secs(u64::MAX)),
        Just(Duration::MAX),
    ]
}

/// One sandbox for every case: 600 snapshots, every third request a 503
/// (so backoff and waits are exercised).
fn sandbox() -> &'static (tokio::runtime::Runtime, Sandbox) {
    static SANDBOX: OnceLock<(tokio::runtime::Runtime, Sandbox)> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let sandbox = runtime
            .block_on(
                Sandbox::builder()
                    .snapshots(600)
                    .faults(Faults {
                        every_kth_503: Some(3),
                        ..Faults::default()
                    })
                    .rate_limits(RateLimits::unlimited())
                    .start(),
            )
            .expect("sandbox");
        (runtime, sandbox)
    })
}

/// What a run may end with: a result, or one of these typed errors.
fn acceptable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Config | ErrorKind::Timeout | ErrorKind::Api | ErrorKind::Transport
    )
}

#[derive(Debug, Clone)]
struct Settings {
    timeout: Duration,
    connect_timeout: Duration,
    read_idle: Duration,
    pace_window: Duration,
    backoff: (Duration, Duration),
    max_wait: Duration,
    policy_deadline: Duration,
    list_deadline: Duration,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        edge(),
        edge(),
        edge(),
        edge(),
        (edge(), edge()),
        edge(),
        edge(),
        edge(),
    )
        .prop_map(
            |(
                timeout,
                connect_timeout,
                read_idle,
                pace_window,
                backoff,
                max_wait,
                policy_deadline,
                list_deadline,
            )| Settings {
                timeout,
                connect_timeout,
                read_idle,
                pace_window,
                backoff,
                max_wait,
                policy_deadline,
                list_deadline,
            },
        )
}

fn builder(s: &Settings) -> digitalocean_snapshots::ClientBuilder {
    let (_, sandbox) = sandbox();
    Client::builder()
        .token(sandbox.token().unwrap_or_default())
        .base_url(sandbox.base_url())
        .timeout(s.timeout)
        .connect_timeout(s.connect_timeout)
        .read_idle_timeout(s.read_idle)
        .pace(250, s.pace_window)
        .timer(SkippingTimer::default())
        .retry_policy(
            RetryPolicy::default()
                .backoff(s.backoff.0, s.backoff.1)
                .max_wait(s.max_wait)
                .deadline(s.policy_deadline),
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// The async client: build, one page, a walk.
    #[test]
    fn every_duration_at_its_edges_gives_a_result_or_a_typed_error(s in settings()) {
        let (runtime, _) = sandbox();
        let client = match builder(&s).build() {
            Ok(client) => client,
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Config, "{}", e);
                // Only the pacing window is refused, and only when it is 0
                // or longer than a day.
                prop_assert!(s.pace_window.is_zero() || s.pace_window > Duration::from_secs(86_400), "{}", e);
                return Ok(());
            }
        };
        let outcome = runtime.block_on(async {
            let page = client.list_snapshots().deadline(s.list_deadline).send().await;
            let all = client
                .list_snapshots()
                .deadline(s.list_deadline)
                .concurrency(4)
                .collect_all()
                .await;
            (page.map(|p| p.items.len()), all.map(|a| a.len()))
        });
        for result in [outcome.0, outcome.1] {
            if let Err(e) = result {
                prop_assert!(acceptable(e.kind()), "{:?}: {}", e.kind(), e);
            }
        }
    }
}

#[test]
fn the_blocking_client_takes_every_edge_too() {
    let _ = sandbox();
    for d in [
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_secs(u64::MAX),
        Duration::MAX,
    ] {
        let s = Settings {
            timeout: d,
            connect_timeout: d,
            read_idle: d,
            pace_window: Duration::from_secs(60),
            backoff: (d, d),
            max_wait: d,
            policy_deadline: d,
            list_deadline: d,
        };
        let client = builder(&s).build_blocking().expect("a client");
        if let Err(e) = client.list_snapshots().deadline(d).collect_all() {
            assert!(acceptable(e.kind()), "{d:?}: {:?}: {e}", e.kind());
        }
    }
}
