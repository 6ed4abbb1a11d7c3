//! Authentication and the per-token rate-limit budgets.

mod common;

use std::time::Duration;

use common::{get, http};
use digitalocean_sandbox::{DEFAULT_TOKEN, RateLimits, Sandbox};

#[tokio::test]
async fn only_the_configured_bearer_token_is_accepted() {
    let sandbox = Sandbox::builder()
        .token(Some("s3cret"))
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    assert_eq!(get(base, "/v2/snapshots", Some("s3cret")).await.status, 200);
    assert_eq!(get(base, "/v2/snapshots", Some("wrong")).await.status, 401);
    assert_eq!(get(base, "/v2/snapshots", None).await.status, 401);
    let lowercase = http()
        .get(format!("{base}/v2/snapshots"))
        .header("authorization", "bearer s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), 401, "strict about `Bearer`");
    let answer = get(base, "/v2/snapshots", None).await;
    assert_eq!(answer.json()["id"], "unauthorized");
    let stats = sandbox.stats();
    assert_eq!(
        (stats.requests, stats.status(200), stats.status(401)),
        (5, 1, 4)
    );

    let open = Sandbox::builder()
        .token(None::<String>)
        .start()
        .await
        .unwrap();
    assert_eq!(open.token(), None);
    assert_eq!(
        get(open.base_url(), "/v2/snapshots", Some("anything"))
            .await
            .status,
        200
    );
    assert_eq!(
        get(open.base_url(), "/v2/snapshots", None).await.status,
        401
    );
}

#[tokio::test]
async fn counters_count_down_per_token_and_reset_with_the_window() {
    let sandbox = Sandbox::builder()
        .token(None::<String>)
        .rate_limits(RateLimits {
            per_hour: 100,
            per_minute: 3,
            hour: Duration::from_secs(3_600),
            minute: Duration::from_millis(1_500),
        })
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let answer = get(base, "/v2/snapshots", Some("alice")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("ratelimit-limit"), Some("100"));
        remaining.push(answer.header("ratelimit-remaining").unwrap().to_owned());
    }
    assert_eq!(remaining, ["99", "98", "97"]);

    let limited = get(base, "/v2/snapshots", Some("alice")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["id"], "too_many_requests");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(
        limited.header("ratelimit-remaining"),
        Some("97"),
        "a refused request is not counted"
    );
    let reset: u64 = limited.header("ratelimit-reset").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset > now && reset <= now + 3_601,
        "reset {reset} is within the hour after {now}"
    );

    // Another token has its own budget.
    let bob = get(base, "/v2/snapshots", Some("bob")).await;
    assert_eq!(
        (bob.status, bob.header("ratelimit-remaining")),
        (200, Some("99"))
    );

    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let again = get(base, "/v2/snapshots", Some("alice")).await;
    assert_eq!(again.status, 200, "the minute window refilled");
    assert_eq!(again.header("ratelimit-remaining"), Some("96"));
}

#[tokio::test]
async fn the_hourly_budget_runs_out_and_says_when_it_refills() {
    let sandbox = Sandbox::builder()
        .rate_limits(RateLimits {
            per_hour: 2,
            ..RateLimits::default()
        })
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    for _ in 0..2 {
        assert_eq!(
            get(base, "/v2/snapshots", Some(DEFAULT_TOKEN)).await.status,
            200
        );
    }
    let limited = get(base, "/v2/snapshots", Some(DEFAULT_TOKEN)).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((3_590..=3_600).contains(&retry_after), "{retry_after}");
}
