//! Reproducible faults, determinism from the seed, and the statistics.

mod common;

use std::time::{Duration, Instant};

use common::{get, http};
use digitalocean_sandbox::{DEFAULT_TOKEN, Faults, Order, RateLimits, Sandbox};

const TOKEN: Option<&str> = Some(DEFAULT_TOKEN);

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
    let a = Sandbox::builder()
        .seed(9)
        .snapshots(300)
        .droplet(7, 3, 2)
        .start()
        .await
        .unwrap();
    let b = Sandbox::builder()
        .seed(9)
        .snapshots(300)
        .droplet(7, 3, 2)
        .start()
        .await
        .unwrap();
    let c = Sandbox::builder()
        .seed(10)
        .snapshots(300)
        .droplet(7, 3, 2)
        .start()
        .await
        .unwrap();
    for path in [
        "/v2/snapshots?per_page=200&page=2",
        "/v2/droplets/7/snapshots",
    ] {
        let (ba, bb, bc) = (
            get(a.base_url(), path, TOKEN).await.json(),
            get(b.base_url(), path, TOKEN).await.json(),
            get(c.base_url(), path, TOKEN).await.json(),
        );
        // Links carry each server's own address: compare the items.
        assert_eq!(ba["snapshots"], bb["snapshots"], "{path}");
        assert_ne!(ba["snapshots"], bc["snapshots"], "{path}");
    }
}

#[tokio::test]
async fn the_data_looks_like_an_account() {
    let sandbox = Sandbox::builder()
        .snapshots(2_000)
        .seed(3)
        .order(Order::CreatedAt)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .unwrap();
    let mut items = Vec::new();
    for page in 1..=10 {
        let body = get(
            sandbox.base_url(),
            &format!("/v2/snapshots?per_page=200&page={page}"),
            TOKEN,
        )
        .await
        .json();
        items.extend(body["snapshots"].as_array().unwrap().clone());
    }
    assert_eq!(items.len(), 2_000);
    let count = |f: &dyn Fn(&serde_json::Value) -> bool| items.iter().filter(|i| f(i)).count();
    let droplets = count(&|i| i["resource_type"] == "droplet");
    let volumes = count(&|i| i["resource_type"] == "volume");
    assert_eq!(droplets + volumes, 2_000);
    assert!(droplets > 1_000 && volumes > 600, "{droplets} / {volumes}");
    assert!(count(&|i| i["tags"].is_null()) > 100, "some tags are null");
    assert!(count(&|i| i["tags"].as_array().is_some_and(|t| t.is_empty())) > 100);
    assert!(count(&|i| i["regions"].as_array().is_some_and(|r| r.is_empty())) > 0);
    assert!(
        count(&|i| i["size_gigabytes"]
            .as_f64()
            .is_some_and(|s| s.fract() != 0.0))
            > 1_000
    );
    assert!(
        count(&|i| i["id"].as_str().is_some_and(|s| s.len() == 36)) == volumes,
        "volume ids are UUIDs"
    );
    assert!(count(&|i| i["id"].as_str().is_some_and(|s| s.parse::<u64>().is_ok())) == droplets);
    let years: std::collections::BTreeSet<&str> = items
        .iter()
        .filter_map(|i| i["created_at"].as_str())
        .map(|s| &s[..4])
        .collect();
    assert!(years.len() >= 6, "created_at spreads over years: {years:?}");
    let created: Vec<&str> = items
        .iter()
        .filter_map(|i| i["created_at"].as_str())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] <= w[1]),
        "oldest first under Order::CreatedAt"
    );
}

#[tokio::test]
async fn random_faults_are_reproducible_from_the_seed() {
    let faults = Faults {
        error_500: 0.1,
        error_502: 0.1,
        error_503: 0.1,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sandbox = Sandbox::builder()
            .seed(5)
            .faults(faults.clone())
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .unwrap();
        let mut statuses = Vec::new();
        for _ in 0..200 {
            statuses.push(get(sandbox.base_url(), "/v2/snapshots", TOKEN).await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    for status in [500, 502, 503] {
        let n = runs[0].iter().filter(|s| **s == status).count();
        assert!((5..=40).contains(&n), "{n} x {status} of 200 at 10%");
    }
}

#[tokio::test]
async fn every_kth_request_is_rate_limited() {
    let sandbox = Sandbox::builder()
        .faults(Faults {
            every_kth_429: Some(3),
            retry_after_secs: 2,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..9 {
        let answer = get(sandbox.base_url(), "/v2/snapshots", TOKEN).await;
        if answer.status == 429 {
            assert_eq!(answer.header("retry-after"), Some("2"));
        }
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429, 200, 200, 429]);
}

#[tokio::test]
async fn drift_inserts_at_the_head_and_deletes_between_pages() {
    let sandbox = Sandbox::builder()
        .snapshots(100)
        .faults(Faults {
            drift_insert: 2,
            drift_delete: 1,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let before = sandbox.snapshot_ids(None);
    let first = get(sandbox.base_url(), "/v2/snapshots?per_page=10", TOKEN)
        .await
        .json();
    assert_eq!(first["meta"]["total"], 100);
    let after = sandbox.snapshot_ids(None);
    assert_eq!(after.len(), 101);
    assert!(
        !before.contains(&after[0]) && !before.contains(&after[1]),
        "new items at the head"
    );
    let second = get(
        sandbox.base_url(),
        "/v2/snapshots?page=2&per_page=10",
        TOKEN,
    )
    .await
    .json();
    assert_eq!(second["meta"]["total"], 101);
}

#[tokio::test]
async fn a_foreign_next_link_points_elsewhere_and_other_links_do_not() {
    let sandbox = Sandbox::builder()
        .snapshots(50)
        .faults(Faults {
            foreign_next_link: Some("http://127.0.0.1:9".into()),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let body = get(
        sandbox.base_url(),
        "/v2/snapshots?page=2&per_page=10",
        TOKEN,
    )
    .await
    .json();
    let pages = &body["links"]["pages"];
    assert_eq!(
        pages["next"],
        "http://127.0.0.1:9/v2/snapshots?page=3&per_page=10"
    );
    assert!(
        pages["last"]
            .as_str()
            .unwrap()
            .starts_with(sandbox.base_url())
    );
    assert!(
        pages["prev"]
            .as_str()
            .unwrap()
            .starts_with(sandbox.base_url())
    );
}

#[tokio::test]
async fn latency_is_applied_and_in_flight_requests_are_counted() {
    let sandbox = Sandbox::builder()
        .latency(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let requests = (0..6).map(|_| get(sandbox.base_url(), "/v2/snapshots", TOKEN));
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status == 200));
    assert!(started.elapsed() >= Duration::from_millis(300));
    let stats = sandbox.stats();
    assert_eq!(stats.requests, 6);
    assert_eq!(stats.status(200), 6);
    assert_eq!(stats.max_in_flight, 6, "all six overlapped");

    sandbox.reset_stats();
    get(sandbox.base_url(), "/v2/snapshots?page=2&per_page=5", TOKEN).await;
    let log = sandbox.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].path, "/v2/snapshots");
    assert_eq!(log[0].query_param("per_page").as_deref(), Some("5"));
    assert!(log[0].authorized);
    assert_eq!(sandbox.stats().max_in_flight, 1);
}

#[tokio::test]
async fn dropping_the_sandbox_stops_it() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let base = sandbox.base_url().to_owned();
    assert_eq!(get(&base, "/v2/snapshots", TOKEN).await.status, 200);
    sandbox.shutdown().await;
    let refused = http().get(format!("{base}/v2/snapshots")).send().await;
    assert!(refused.is_err(), "nothing listens any more");
}
