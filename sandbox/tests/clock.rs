//! The clock of the generated data: `SandboxBuilder::now` moves every
//! generated `created_at` and nothing else; chosen snapshots keep theirs.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::read_all;
use digitalocean_sandbox::{DEFAULT_TOKEN, Order, RateLimits, Sandbox, SandboxBuilder};
use serde_json::{Value, json};

const TOKEN: Option<&str> = Some(DEFAULT_TOKEN);

/// The end of the span without `now`: 2026-11-01T00:00:00Z.
fn default_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

/// The span's length: 2019-01-01 to 2026-11-01.
const SPAN_SECS: i64 = 1_793_491_200 - 1_546_300_800;

fn created(item: &Value) -> i64 {
    let text = item["created_at"].as_str().expect("created_at");
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .timestamp()
}

fn builder(order: Order) -> SandboxBuilder {
    Sandbox::builder()
        .seed(5)
        .snapshots(300)
        .droplet(7, 6, 3)
        .batches(3)
        .order(order)
        .rate_limits(RateLimits::unlimited())
}

/// Every listing of a sandbox: the account's, then each droplet's.
async fn everything(sandbox: &Sandbox) -> Vec<Vec<Value>> {
    let mut listings =
        vec![read_all(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await];
    for droplet in sandbox.droplet_ids() {
        let path = format!("/v2/droplets/{droplet}/snapshots?per_page=200");
        listings.push(read_all(sandbox.base_url(), &path, TOKEN).await);
    }
    listings
}

#[tokio::test]
async fn now_at_the_end_of_the_fixed_span_changes_nothing() {
    for order in [Order::Realistic, Order::Random] {
        let plain = builder(order).start().await.unwrap();
        let clocked = builder(order).now(default_end()).start().await.unwrap();
        assert_eq!(everything(&plain).await, everything(&clocked).await);
    }
}

#[tokio::test]
async fn now_moves_every_generated_date_by_as_much_and_nothing_else() {
    let now = Utc.with_ymd_and_hms(2024, 3, 15, 12, 34, 56).unwrap() + Duration::milliseconds(789);
    let shift = now.timestamp() - default_end().timestamp();
    let plain = builder(Order::CreatedAt).start().await.unwrap();
    let clocked = builder(Order::CreatedAt).now(now).start().await.unwrap();
    assert_eq!(plain.droplet_ids(), clocked.droplet_ids());
    let (before, after) = (everything(&plain).await, everything(&clocked).await);
    assert_eq!(before.len(), after.len());
    for (before, after) in before.iter().zip(&after) {
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(after) {
            assert_eq!(created(a) - created(b), shift, "{b} / {a}");
            assert!(created(a) < now.timestamp(), "{a}");
            assert!(created(a) >= now.timestamp() - SPAN_SECS, "{a}");
            for field in [
                "regions",
                "resource_id",
                "resource_type",
                "min_disk_size",
                "size_gigabytes",
                "tags",
                "type",
            ] {
                assert_eq!(a[field], b[field], "{field}");
            }
            let (a_id, b_id) = (a["id"].to_string(), b["id"].to_string());
            if a["resource_type"] == "volume" {
                // The same UUID but its time fields.
                assert_eq!(a_id[..9], b_id[..9]);
                assert_eq!(a_id[20..], b_id[20..]);
            } else {
                assert_eq!(a_id, b_id);
            }
        }
    }
}

#[tokio::test]
async fn chosen_snapshots_keep_their_own_dates() {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let day = |days: i64| {
        (now - Duration::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let snapshot = |id: &str, created_at: String| {
        json!({
            "id": id, "name": id, "created_at": created_at, "regions": ["nyc3"],
            "resource_id": "200776916", "resource_type": "droplet", "min_disk_size": 25,
            "size_gigabytes": 1.5, "tags": [],
        })
    };
    let recent = snapshot("recent", day(10));
    let old = snapshot("old", day(40));
    let future = snapshot("future", "2030-01-01T00:00:00Z".to_owned());
    let sandbox = Sandbox::builder()
        .snapshots(100)
        .now(now)
        .with_snapshots([&recent, &old, &future])
        .start()
        .await
        .unwrap();
    let items = read_all(sandbox.base_url(), "/v2/snapshots?per_page=30", TOKEN).await;
    for chosen in [&recent, &old, &future] {
        assert!(items.contains(chosen), "{chosen} served as given");
    }
    // What "delete snapshots older than 30 days" would pick, as of `now`.
    let cutoff = (now - Duration::days(30)).timestamp();
    let older: Vec<&Value> = items.iter().filter(|i| created(i) < cutoff).collect();
    assert!(older.contains(&&old));
    assert!(!older.contains(&&recent));
    // The generated ones are all before `now`.
    let after_now: Vec<&Value> = items
        .iter()
        .filter(|i| created(i) >= now.timestamp())
        .collect();
    assert_eq!(after_now, [&future]);
}

/// `now` at the edges of chrono's range, and at the Unix epoch: the
/// sandbox starts, serves every snapshot, and dates each one within
/// chrono's range (no panic, no unreadable date).
#[tokio::test]
async fn now_at_the_edges_of_its_type_serves_readable_dates() {
    for now in [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::UNIX_EPOCH,
        DateTime::<Utc>::MAX_UTC,
    ] {
        let sandbox = builder(Order::CreatedAt)
            .now(now)
            .start()
            .await
            .expect("sandbox");
        let items = read_all(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
        assert_eq!(items.len(), sandbox.snapshot_ids(None).len(), "{now}");
        // Within the years RFC 3339 writes (`created` parses it), and
        // not after `now` where `now` is one of them.
        let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        let first = Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap();
        for item in &items {
            let at = created(item);
            assert!(
                at >= first.timestamp() && at <= last.timestamp(),
                "{now}: {item}"
            );
            assert!(now < first || at < now.timestamp(), "{now}: {item}");
        }
    }
}
