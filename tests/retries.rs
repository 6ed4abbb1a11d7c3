//! Retries, backoff, rate limits, deadlines and the retry budget. Waits go
//! through a recording timer, so they are exact and nothing sleeps for
//! seconds.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{RATE_HEADERS, TOKEN};
use digitalocean_sandbox::{Faults, RateLimits, Sandbox};
use digitalocean_snapshots::{Client, ErrorKind, RetryPolicy, Timer};
use httpmock::MockServer;

/// Records every wait and returns at once; `now()` moves forward by the
/// waits, so deadlines see them.
#[derive(Clone, Debug, Default)]
struct RecordingTimer {
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl RecordingTimer {
    fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
}

impl Timer for RecordingTimer {
    fn now(&self) -> Instant {
        Instant::now() + self.waits().iter().sum::<Duration>()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.waits.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }

    /// A running request is bounded in real time (`now()` runs ahead of
    /// the real clock by the waits skipped).
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(
            deadline.saturating_duration_since(self.now()),
        ))
    }
}

fn exact() -> RetryPolicy {
    RetryPolicy::default().jitter(false)
}

fn client(base_url: &str, policy: RetryPolicy) -> (Client, RecordingTimer) {
    let timer = RecordingTimer::default();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(base_url)
        .retry_policy(policy)
        .timer(timer.clone())
        .build()
        .unwrap();
    (client, timer)
}

/// A client for a sandbox (its token), with `policy` and a recording timer.
fn sandbox_client(sandbox: &Sandbox, policy: RetryPolicy) -> (Client, RecordingTimer) {
    let timer = RecordingTimer::default();
    let client = Client::builder()
        .token(sandbox.token().expect("a sandbox with a token"))
        .base_url(sandbox.base_url())
        .retry_policy(policy)
        .timer(timer.clone())
        .build()
        .unwrap();
    (client, timer)
}

const EMPTY_PAGE: &str = r#"{"snapshots":[],"links":{},"meta":{"total":0}}"#;

/// A server that fails `failures` times (0: always) with `status` (and
/// `headers`), then answers an empty page.
async fn flaky(failures: usize, status: u16, headers: &[(&str, &str)]) -> MockServer {
    let server = MockServer::start_async().await;
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    server
        .mock_async(move |when, then| {
            when.path("/v2/snapshots");
            let mut then = then.status(status).body(format!(
                r#"{{"id":"e{status}","message":"failure {status}"}}"#
            ));
            if failures > 0 {
                then = then.up_to_n_times(failures);
            }
            for (name, value) in headers {
                then = then.header(name, value);
            }
        })
        .await;
    if failures > 0 {
        server
            .mock_async(|when, then| {
                when.path("/v2/snapshots");
                then.status(200).body(EMPTY_PAGE);
            })
            .await;
    }
    server
}

#[tokio::test]
async fn a_500_then_a_200_succeeds_after_exactly_two_requests() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(500)
                .body(r#"{"id":"server_error","message":"Unexpected server-side error"}"#)
                .up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(200).body(EMPTY_PAGE);
        })
        .await;
    let (client, timer) = client(&server.base_url(), exact());
    let budget = client.retry_budget_remaining();
    client
        .list_snapshots()
        .send()
        .await
        .expect("the retry succeeds");
    assert_eq!(
        (failing.calls_async().await, ok.calls_async().await),
        (1, 1)
    );
    assert_eq!(
        timer.waits(),
        [Duration::from_millis(500)],
        "one backoff at the base"
    );
    assert_eq!(
        client.retry_budget_remaining(),
        budget,
        "a successful retry gives its cost back"
    );
}

#[tokio::test]
async fn persistent_503s_give_up_after_exactly_the_maximum_attempts() {
    let server = flaky(0, 503, &[]).await;
    let (client, timer) = client(&server.base_url(), exact());
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.attempts(), Some(4));
    assert_eq!(
        error.code(),
        Some("e503"),
        "the last DigitalOcean error id is kept"
    );
    assert!(
        error.to_string().contains("gave up after 4 attempts"),
        "{error}"
    );
    assert_eq!(
        timer.waits(),
        [500, 1000, 2000].map(Duration::from_millis),
        "exponential backoff"
    );
}

#[tokio::test]
async fn client_errors_and_bad_bodies_are_never_retried() {
    for status in [400u16, 401, 403, 404, 422] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(move |when, then| {
                when.any_request();
                then.status(status).body(r#"{"id":"x","message":"no"}"#);
            })
            .await;
        let (client, timer) = client(&server.base_url(), exact());
        let error = client.list_snapshots().send().await.unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.attempts(), Some(1), "{status}");
        assert_eq!(mock.calls_async().await, 1, "{status} is sent once");
        assert!(timer.waits().is_empty());
    }
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(r#"{"snapshots": "not a list", "meta": {"total": 1}}"#);
        })
        .await;
    let (client, _) = client(&server.base_url(), exact());
    let error = client.list_snapshots().send().await.unwrap_err();
    assert!(error.is_decode());
    assert_eq!(
        mock.calls_async().await,
        1,
        "a 200 that does not decode is not retried"
    );
}

#[tokio::test]
async fn a_429_waits_what_retry_after_says() {
    let server = flaky(1, 429, &[("retry-after", "1")]).await;
    let (client, timer) = client(&server.base_url(), exact());
    client
        .list_snapshots()
        .send()
        .await
        .expect("success after the wait");
    assert_eq!(
        timer.waits(),
        [Duration::from_secs(1)],
        "the server's word, not the backoff"
    );
}

#[tokio::test]
async fn a_429_without_retry_after_waits_for_the_hourly_reset() {
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(30))
        .timestamp()
        .to_string();
    let headers = [
        ("ratelimit-limit", "5000"),
        ("ratelimit-remaining", "0"),
        ("ratelimit-reset", reset.as_str()),
    ];
    let server = flaky(1, 429, &headers).await;
    let (client, timer) = client(&server.base_url(), exact().wait_for_rate_limit(false));
    client
        .list_snapshots()
        .send()
        .await
        .expect("success after the reset");
    let waits = timer.waits();
    assert_eq!(waits.len(), 1);
    assert!(
        (Duration::from_secs(28)..=Duration::from_secs(31)).contains(&waits[0]),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_wait_beyond_the_maximum_is_an_immediate_rate_limited_error() {
    let server = flaky(0, 429, &[("retry-after", "120")]).await;
    let (client, timer) = client(&server.base_url(), exact());
    let error = client.list_snapshots().send().await.unwrap_err();
    assert!(error.is_rate_limited());
    assert_eq!(error.attempts(), Some(1));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    let text = error.to_string();
    assert!(
        text.contains("120s") && text.contains("maximum wait"),
        "{text}"
    );
    assert!(timer.waits().is_empty(), "nothing was slept");
}

#[tokio::test]
async fn a_deadline_cuts_the_retries_short() {
    let server = flaky(0, 503, &[]).await;
    let policy = exact().deadline(Duration::from_millis(1_200));
    let (client, timer) = client(&server.base_url(), policy);
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(
        error.attempts(),
        Some(2),
        "0.5 s fits before the deadline, 1 s more does not"
    );
    assert_eq!(timer.waits(), [Duration::from_millis(500)]);
    assert!(error.to_string().contains("deadline"), "{error}");

    // The per-request override wins over the client's policy.
    let error = client
        .list_snapshots()
        .retry_policy(RetryPolicy::none())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.attempts(), Some(1));
}

#[tokio::test]
async fn a_deadline_abandons_a_stalled_attempt() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .delay(Duration::from_secs(10))
                .body(EMPTY_PAGE);
        })
        .await;
    let (client, _) = client(&server.base_url(), exact());
    let started = Instant::now();
    let error = client
        .list_snapshots()
        .deadline(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_deadline() && error.is_timeout(), "{error}");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_as_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (client, timer) = client(&format!("http://127.0.0.1:{port}"), exact());
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
    assert_eq!(error.attempts(), Some(4));
    assert_eq!(timer.waits().len(), 3);
}

#[tokio::test]
async fn a_stalled_server_is_retried_then_reported_as_a_timeout() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .delay(Duration::from_secs(10))
                .body(EMPTY_PAGE);
        })
        .await;
    let timer = RecordingTimer::default();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.base_url())
        .timeout(Duration::from_millis(150))
        .retry_policy(exact().max_attempts(3))
        .timer(timer.clone())
        .build()
        .unwrap();
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(!error.is_deadline(), "the request timeout, not a deadline");
    assert_eq!(error.attempts(), Some(3));
    assert_eq!(timer.waits().len(), 2);
    assert_eq!(mock.calls_async().await, 3);
}

#[tokio::test]
async fn the_retry_budget_stops_retries_when_spent_and_recovers_after_successes() {
    let failing = flaky(0, 503, &[]).await;
    let timer = RecordingTimer::default();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(failing.base_url())
        .retry_policy(exact().max_attempts(10))
        .retry_budget(12)
        .timer(timer.clone())
        .build()
        .unwrap();
    let clone = client.clone();
    let error = clone.list_snapshots().send().await.unwrap_err();
    assert_eq!(
        error.attempts(),
        Some(3),
        "12 tokens pay for two retries of 5"
    );
    assert!(error.to_string().contains("retry budget"), "{error}");
    assert_eq!(
        client.retry_budget_remaining(),
        2,
        "clones share one budget"
    );
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(
        error.attempts(),
        Some(1),
        "no retry while the budget is spent"
    );

    // Successes at the first attempt give a token back each.
    let healthy = MockServer::start_async().await;
    healthy
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(EMPTY_PAGE);
        })
        .await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(healthy.base_url())
        .retry_budget(12)
        .timer(timer.clone())
        .build()
        .unwrap();
    for _ in 0..20 {
        client.list_snapshots().send().await.unwrap();
    }
    assert_eq!(
        client.retry_budget_remaining(),
        12,
        "never above the capacity"
    );
}

#[tokio::test]
async fn clones_share_the_rate_limit_state() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            let mut then = then.status(200).body(EMPTY_PAGE);
            for (name, value) in RATE_HEADERS {
                then = then.header(name, value);
            }
        })
        .await;
    let (client, _) = client(&server.base_url(), exact());
    let clone = client.clone();
    assert_eq!(client.rate_limit(), None);
    clone.list_snapshots().send().await.unwrap();
    let seen = client.rate_limit().expect("seen through the other clone");
    assert_eq!((seen.limit, seen.remaining), (5000, 4816));
}

#[tokio::test]
async fn a_spent_hourly_budget_is_not_spent_further() {
    let sandbox = Sandbox::builder()
        .rate_limits(RateLimits {
            per_hour: 2,
            ..RateLimits::default()
        })
        .start()
        .await
        .unwrap();
    let timer = RecordingTimer::default();
    let client = Client::builder()
        .token(sandbox.token().unwrap())
        .base_url(sandbox.base_url())
        .retry_policy(exact())
        .timer(timer.clone())
        .build()
        .unwrap();
    for _ in 0..2 {
        client.list_snapshots().send().await.unwrap();
    }
    assert_eq!(client.rate_limit().map(|r| r.remaining), Some(0));
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error}");
    assert!(error.is_rate_limited());
    assert_eq!(error.attempts(), Some(0), "not sent");
    assert!(error.retry_after().unwrap() > Duration::from_secs(3_000));
    assert!(error.to_string().contains("refills at"), "{error}");
    assert_eq!(
        sandbox.stats().requests,
        2,
        "the server saw no third request"
    );
    assert!(timer.waits().is_empty());

    // A reset within the maximum wait is waited for, then the call goes on.
    let sandbox = Sandbox::builder()
        .rate_limits(RateLimits {
            per_hour: 1,
            hour: Duration::from_secs(2),
            ..RateLimits::default()
        })
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .token(sandbox.token().unwrap())
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    client.list_snapshots().send().await.unwrap();
    let started = Instant::now();
    client
        .list_snapshots()
        .send()
        .await
        .expect("after waiting for the reset");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.stats().status(429), 0, "no request was refused");
}

#[tokio::test]
async fn a_full_listing_survives_faults_with_exactly_the_seeded_items() {
    // The fault matrix of the issue; `--nocapture` prints requests per
    // listing for each row.
    let rows: [(&str, Faults); 5] = [
        ("none", Faults::default()),
        (
            "10% 5xx",
            Faults {
                error_500: 0.04,
                error_502: 0.03,
                error_503: 0.03,
                ..Faults::default()
            },
        ),
        (
            "429 every 5th",
            Faults {
                every_kth_429: Some(5),
                ..Faults::default()
            },
        ),
        (
            "10% 5xx + 429 every 5th",
            Faults {
                error_500: 0.04,
                error_502: 0.03,
                error_503: 0.03,
                every_kth_429: Some(5),
                ..Faults::default()
            },
        ),
        (
            "5% truncated bodies",
            Faults {
                truncated: 0.05,
                ..Faults::default()
            },
        ),
    ];
    for (name, faults) in rows {
        let sandbox = Sandbox::builder()
            .snapshots(10_000)
            .seed(42)
            .faults(faults)
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .unwrap();
        let timer = RecordingTimer::default();
        let client = Client::builder()
            .token(sandbox.token().unwrap())
            .base_url(sandbox.base_url())
            .retry_policy(RetryPolicy::default().max_attempts(6))
            .timer(timer.clone())
            .build()
            .unwrap();
        let items = client
            .list_snapshots()
            .collect_all()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ids: Vec<String> = items.iter().map(|s| s.id.clone()).collect();
        assert_eq!(
            ids,
            sandbox.snapshot_ids(None),
            "{name}: exactly the seeded items, in order"
        );
        let stats = sandbox.stats();
        eprintln!(
            "fault matrix | {name} | items {} | lost 0 | duplicated 0 | requests {} | by status {:?} | waits {}",
            items.len(),
            stats.requests,
            stats.by_status,
            timer.waits().len()
        );
        let answered: Vec<u64> = sandbox
            .requests()
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| {
                r.query_param("per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(20)
            })
            .collect();
        let cost = common::unchanged_cost(items.len() as u64, 200, &answered);
        assert!(
            stats.requests < cost * 2,
            "{name}: {} requests for two passes and a count of {cost}",
            stats.requests
        );
    }
}

/// Issue 15's stall: every 5th answer a 429 with `retry-after: 1` whose
/// headers say nothing remains until a reset a minute away, while the 200s
/// say thousands remain. The 429 costs its one second, not the minute.
#[tokio::test]
async fn a_one_second_429_that_says_the_hour_is_spent_costs_one_second() {
    let sandbox = Sandbox::builder()
        .snapshots(2_000)
        .faults(Faults {
            every_kth_429: Some(5),
            retry_after_secs: 1,
            spent_on_429: true,
            // Answers to prefetched pages come back in any order.
            jitter: Duration::from_millis(5),
            ..Faults::default()
        })
        .start()
        .await
        .expect("sandbox");
    let (client, timer) = sandbox_client(&sandbox, exact());
    for concurrency in [1, 8] {
        let items = client
            .list_snapshots()
            .concurrency(concurrency)
            .collect_all()
            .await
            .expect("every 429 is retried after its second");
        assert_eq!(items.len(), 2_000);
    }
    let waits = timer.waits();
    assert!(!waits.is_empty(), "the 429s were waited for");
    assert!(
        waits.iter().all(|w| *w <= Duration::from_secs(1)),
        "no wait for the minute-away reset: {waits:?}"
    );
}

/// `retry-after` as an HTTP-date (RFC 9110) is honoured like seconds.
#[tokio::test]
async fn a_retry_after_date_is_waited_for() {
    let sandbox = Sandbox::builder()
        .snapshots(10)
        .faults(Faults {
            every_kth_429: Some(1),
            retry_after_secs: 3,
            retry_after_as_date: true,
            ..Faults::default()
        })
        .start()
        .await
        .expect("sandbox");
    let (client, timer) = sandbox_client(&sandbox, exact().max_attempts(2));
    let error = client.list_snapshots().send().await.unwrap_err();
    assert!(error.is_rate_limited(), "{error}");
    // The date is read (the test clock has moved on by the first wait, so
    // the second answer's date is about now).
    assert!(error.retry_after().is_some(), "{error}");
    let waits = timer.waits();
    assert_eq!(
        waits.len(),
        1,
        "one wait before the second attempt: {waits:?}"
    );
    assert!(
        (Duration::from_secs(1)..=Duration::from_secs(4)).contains(&waits[0]),
        "the date three seconds ahead: {waits:?}"
    );
}

/// A sandbox whose every other request is a 503 carrying `retry_after`.
async fn restarting_upstream(retry_after: Option<&str>) -> Sandbox {
    Sandbox::builder()
        .snapshots(600)
        .faults(Faults {
            every_kth_503: Some(2),
            retry_after_503: retry_after.map(str::to_owned),
            ..Faults::default()
        })
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox")
}

/// The account listing, pages of 200 one after the other (so the k-th
/// request is a known page).
async fn walk_one_page_at_a_time(
    client: &Client,
) -> digitalocean_snapshots::Result<Vec<digitalocean_snapshots::Snapshot>> {
    client
        .list_snapshots()
        .per_page(200)
        .concurrency(1)
        .collect_all()
        .await
}

#[tokio::test]
async fn retry_after_on_a_503_is_the_wait_not_the_backoff() {
    // An upstream restarting behind a load balancer says when to come
    // back; the client's own backoff (0.5 s, 1 s, 2 s) would give up first.
    let sandbox = restarting_upstream(Some("5")).await;
    let (client, timer) = sandbox_client(&sandbox, exact());
    let all = walk_one_page_at_a_time(&client)
        .await
        .expect("every 503 retried after its Retry-After");
    assert_eq!(all.len(), 600);
    let waits = timer.waits();
    assert!(!waits.is_empty(), "the 503s were retried");
    assert!(
        waits.iter().all(|w| *w == Duration::from_secs(5)),
        "{waits:?}"
    );
}

#[tokio::test]
async fn retry_after_on_a_503_as_an_http_date_is_the_wait() {
    let at = chrono::Utc::now() + chrono::Duration::seconds(30);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let sandbox = restarting_upstream(Some(&date)).await;
    let (client, timer) = sandbox_client(&sandbox, exact());
    let all = walk_one_page_at_a_time(&client)
        .await
        .expect("retried at the date");
    assert_eq!(all.len(), 600);
    let first = timer.waits().first().copied();
    assert!(
        first.is_some_and(|w| w > Duration::from_secs(20) && w <= Duration::from_secs(31)),
        "{first:?}"
    );
}

#[tokio::test]
async fn an_unreadable_retry_after_on_a_503_falls_back_to_the_backoff() {
    let sandbox = restarting_upstream(Some("soon, probably")).await;
    let (client, timer) = sandbox_client(&sandbox, exact());
    let all = walk_one_page_at_a_time(&client)
        .await
        .expect("retried on the backoff");
    assert_eq!(all.len(), 600);
    assert!(
        timer
            .waits()
            .iter()
            .all(|w| *w == Duration::from_millis(500)),
        "the first backoff step: {:?}",
        timer.waits()
    );
}

#[tokio::test]
async fn a_retry_after_on_a_503_beyond_max_wait_ends_the_call_without_waiting() {
    let sandbox = restarting_upstream(Some("3600")).await;
    let (client, timer) = sandbox_client(&sandbox, exact().max_wait(Duration::from_secs(60)));
    // The second request of the walk is the 503.
    let error = walk_one_page_at_a_time(&client)
        .await
        .expect_err("an hour is beyond the policy's maximum wait");
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert!(timer.waits().is_empty(), "{:?}", timer.waits());
    let text = error.to_string();
    assert!(
        text.contains("3600s") && text.contains("resume from page 2"),
        "{text}"
    );
}
