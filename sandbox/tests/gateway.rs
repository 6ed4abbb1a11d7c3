//! A gateway in front of the sandbox that limits the requests in flight:
//! one over the limit is answered 429 at once, with `Retry-After: 1`.

mod common;

use std::time::{Duration, Instant};

use common::{Answer, get};
use digitalocean_sandbox::{DEFAULT_TOKEN, Faults, RateLimits, Sandbox};
use futures_util::future::join_all;

const TOKEN: Option<&str> = Some(DEFAULT_TOKEN);

async fn gateway(limit: usize, latency: Duration) -> Sandbox {
    Sandbox::builder()
        .snapshots(40)
        .faults(Faults {
            in_flight_limit: Some(limit),
            latency,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap()
}

/// `count` requests at once, each with how long its answer took.
async fn burst(sandbox: &Sandbox, count: usize) -> Vec<(Answer, Duration)> {
    join_all((0..count).map(|_| async {
        let started = Instant::now();
        let answer = get(sandbox.base_url(), "/v2/snapshots?per_page=5", TOKEN).await;
        (answer, started.elapsed())
    }))
    .await
}

/// The gateway's 429: DigitalOcean's error body, `Retry-After: 1`.
fn assert_turned_away(answer: &Answer) {
    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), Some("1"));
    let body = answer.json();
    assert_eq!(body["id"], "too_many_requests");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["request_id"].is_string());
}

#[tokio::test]
async fn requests_over_the_in_flight_limit_are_answered_429_at_once() {
    let sandbox = gateway(12, Duration::from_millis(50)).await;
    let answers = burst(&sandbox, 30).await;
    let served = answers.iter().filter(|(a, _)| a.status == 200).count();
    let turned_away = answers.iter().filter(|(a, _)| a.status == 429).count();
    assert_eq!(served + turned_away, 30, "only 200s and 429s");
    // A 429 means 12 were being served, and each of those is answered
    // 200: however the requests arrive, at least 12 are served.
    assert!(served >= 12, "{served} served");
    for (answer, _) in answers.iter().filter(|(a, _)| a.status == 429) {
        assert_turned_away(answer);
    }
    let stats = sandbox.stats();
    assert!(stats.max_in_flight <= 12, "{stats:?}");
    assert_eq!(stats.requests, 30);
    assert_eq!(stats.status(200), served as u64);
    assert_eq!(stats.status(429), turned_away as u64);
    let logged = sandbox.requests();
    assert_eq!(
        logged.iter().filter(|r| r.status == 429).count(),
        turned_away
    );

    // The budgets were charged for the served requests only.
    let next = get(sandbox.base_url(), "/v2/snapshots", TOKEN).await;
    assert_eq!(next.status, 200);
    let remaining: u64 = next.header("ratelimit-remaining").unwrap().parse().unwrap();
    assert_eq!(remaining, 5_000 - served as u64 - 1);
}

#[tokio::test]
async fn with_slow_answers_exactly_the_limit_is_served() {
    let latency = Duration::from_secs(1);
    let sandbox = gateway(12, latency).await;
    let answers = burst(&sandbox, 30).await;
    let served: Vec<_> = answers.iter().filter(|(a, _)| a.status == 200).collect();
    let turned_away: Vec<_> = answers.iter().filter(|(a, _)| a.status == 429).collect();
    assert_eq!((served.len(), turned_away.len()), (12, 18));
    for (answer, took) in &turned_away {
        assert_turned_away(answer);
        assert!(*took < latency, "answered at once, not after {took:?}");
    }
    for (_, took) in &served {
        assert!(*took >= latency, "served after the latency");
    }
    let stats = sandbox.stats();
    assert_eq!(stats.max_in_flight, 12);
    assert_eq!((stats.status(200), stats.status(429)), (12, 18));
    // The slots are free again.
    assert_eq!(burst(&sandbox, 1).await[0].0.status, 200);
}

#[tokio::test]
async fn the_gateway_answers_before_the_token_and_the_rate_limit() {
    // A limit of 0 turns every request away, whatever it carries.
    let sandbox = Sandbox::builder()
        .rate_limits(RateLimits {
            per_minute: 1,
            ..RateLimits::default()
        })
        .faults(Faults {
            in_flight_limit: Some(0),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    for token in [TOKEN, Some("wrong"), None] {
        for path in ["/v2/snapshots", "/v2/droplets/1/snapshots", "/nowhere"] {
            let answer = get(sandbox.base_url(), path, token).await;
            assert_turned_away(&answer);
            assert_eq!(answer.header("ratelimit-remaining"), None, "no budget seen");
        }
    }
    assert_eq!(sandbox.stats().status(429), 9);
    assert_eq!(sandbox.stats().max_in_flight, 0);
}
