//! The orders the listings are served in, the shape of volume snapshot
//! ids, and the faults of new snapshots: late ones dated at their start,
//! sizes that grow after the fact.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::get;
use digitalocean_sandbox::{DEFAULT_TOKEN, Faults, Order, Position, RateLimits, Sandbox};
use serde_json::Value;

const TOKEN: Option<&str> = Some(DEFAULT_TOKEN);

const ORDERS: [Order; 4] = [
    Order::Realistic,
    Order::CreatedAt,
    Order::IdString,
    Order::Random,
];

/// A whole listing, page by page (200 a page), up to the page without a
/// `next` link: one page served per 200 items, no more.
async fn listing(base: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    for page in 1.. {
        let body = get(base, &format!("{path}?page={page}&per_page=200"), TOKEN)
            .await
            .json();
        items.extend(body["snapshots"].as_array().expect("snapshots").clone());
        if body["links"]["pages"]["next"].is_null() {
            break;
        }
    }
    items
}

fn id(item: &Value) -> String {
    match &item["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id).collect()
}

fn created(item: &Value) -> &str {
    item["created_at"].as_str().expect("created_at")
}

fn is_volume(item: &Value) -> bool {
    item["resource_type"] == "volume"
}

fn sorted<T: PartialOrd>(values: &[T]) -> bool {
    values.windows(2).all(|w| w[0] <= w[1])
}

fn builder(order: Order) -> digitalocean_sandbox::SandboxBuilder {
    Sandbox::builder()
        .seed(11)
        .snapshots(400)
        .droplet(7, 40, 12)
        .order(order)
        .rate_limits(RateLimits::unlimited())
}

#[tokio::test]
async fn every_order_serves_an_unchanged_listing_the_same_way_on_every_query() {
    let mut sequences = Vec::new();
    let mut contents = Vec::new();
    for order in ORDERS {
        let sandbox = builder(order).start().await.unwrap();
        let base = sandbox.base_url();
        for path in ["/v2/snapshots", "/v2/droplets/7/snapshots"] {
            let first = listing(base, path).await;
            let second = listing(base, path).await;
            assert_eq!(first, second, "{order:?} {path}: two queries differ");
        }
        for kind in ["volume", "droplet"] {
            let path = format!("/v2/snapshots?resource_type={kind}&per_page=200");
            let first = get(base, &path, TOKEN).await.json();
            let second = get(base, &path, TOKEN).await.json();
            assert_eq!(first["snapshots"], second["snapshots"], "{order:?} {kind}");
        }
        let account = listing(base, "/v2/snapshots").await;
        let droplet = listing(base, "/v2/droplets/7/snapshots").await;
        assert_eq!(ids(&account), sandbox.snapshot_ids(None), "{order:?}");
        let droplet_ids: Vec<String> = sandbox
            .droplet_snapshot_ids(7)
            .unwrap()
            .iter()
            .map(u64::to_string)
            .collect();
        assert_eq!(ids(&droplet), droplet_ids, "{order:?}");
        sequences.push((ids(&account), ids(&droplet)));
        let mut items: Vec<String> = account.iter().map(Value::to_string).collect();
        items.sort();
        contents.push(items);
    }
    // The same snapshots whatever the order; each order its own sequence.
    assert!(contents.windows(2).all(|w| w[0] == w[1]));
    for (i, a) in sequences.iter().enumerate() {
        for (b, order) in sequences[i + 1..].iter().zip(&ORDERS[i + 1..]) {
            assert_ne!(
                a.0, b.0,
                "{:?} and {order:?}: the same account order",
                ORDERS[i]
            );
        }
    }
    // A droplet's listing is oldest first under both Realistic and CreatedAt.
    assert_eq!(sequences[0].1, sequences[1].1);
    assert_ne!(sequences[0].1, sequences[2].1);
    assert_ne!(sequences[0].1, sequences[3].1);
}

#[tokio::test]
async fn realistic_is_the_default_droplet_snapshots_oldest_first_then_volume_snapshots_by_id() {
    let sandbox = Sandbox::builder()
        .seed(11)
        .snapshots(400)
        .droplet(7, 40, 12)
        .start()
        .await
        .unwrap();
    let account = listing(sandbox.base_url(), "/v2/snapshots").await;
    assert_eq!(account.len(), 440);
    let first_volume = account.iter().position(is_volume).expect("volumes");
    let (droplets, volumes) = account.split_at(first_volume);
    assert!(
        volumes.iter().all(is_volume),
        "droplet snapshots first, then volume snapshots"
    );
    assert!(droplets.len() > 200 && volumes.len() > 100);
    let droplet_created: Vec<&str> = droplets.iter().map(created).collect();
    assert!(sorted(&droplet_created), "droplet snapshots oldest first");
    let volume_ids = ids(volumes);
    assert!(
        volume_ids.windows(2).all(|w| w[0] < w[1]),
        "volume snapshots by id as a string"
    );
    let volume_created: Vec<&str> = volumes.iter().map(created).collect();
    assert!(!sorted(&volume_created), "id order is not created_at order");
    // Where the groups meet, created_at jumps back.
    assert!(created(&volumes[0]) < created(droplets.last().unwrap()));

    let droplet = listing(sandbox.base_url(), "/v2/droplets/7/snapshots").await;
    assert_eq!(droplet.len(), 52);
    let created: Vec<&str> = droplet.iter().map(created).collect();
    assert!(sorted(&created), "a droplet's listing oldest first");

    // The filter keeps each group's order.
    let body = get(
        sandbox.base_url(),
        "/v2/snapshots?resource_type=volume&per_page=200",
        TOKEN,
    )
    .await
    .json();
    let filtered = ids(body["snapshots"].as_array().unwrap());
    assert_eq!(filtered, volume_ids[..filtered.len()]);
}

#[tokio::test]
async fn id_string_orders_every_listing_by_id_as_a_string() {
    let sandbox = builder(Order::IdString).start().await.unwrap();
    let account = listing(sandbox.base_url(), "/v2/snapshots").await;
    let account_ids = ids(&account);
    assert!(account_ids.windows(2).all(|w| w[0] < w[1]));
    let volumes: Vec<&Value> = account.iter().filter(|i| is_volume(i)).collect();
    let volume_created: Vec<&str> = volumes.iter().map(|i| created(i)).collect();
    assert!(volumes.len() > 100);
    assert!(!sorted(&volume_created), "id order is not created_at order");
    let droplets_created: Vec<&str> = account
        .iter()
        .filter(|i| !is_volume(i))
        .map(created)
        .collect();
    assert!(!sorted(&droplets_created));

    let droplet = listing(sandbox.base_url(), "/v2/droplets/7/snapshots").await;
    let droplet_ids = ids(&droplet);
    assert!(droplet_ids.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn created_at_is_oldest_first_everywhere_and_random_is_neither() {
    for (order, oldest_first) in [(Order::CreatedAt, true), (Order::Random, false)] {
        let sandbox = builder(order).start().await.unwrap();
        for path in ["/v2/snapshots", "/v2/droplets/7/snapshots"] {
            let items = listing(sandbox.base_url(), path).await;
            let created: Vec<&str> = items.iter().map(created).collect();
            assert_eq!(sorted(&created), oldest_first, "{order:?} {path}");
            let ids = ids(&items);
            let by_id = ids.windows(2).all(|w| w[0] < w[1]);
            assert!(!by_id, "{order:?} {path}");
        }
    }
}

/// The 100 ns ticks of the version-1 clock at an RFC 3339 second.
fn v1_ticks(created_at: &str) -> u64 {
    let secs = chrono::DateTime::parse_from_rfc3339(created_at)
        .unwrap()
        .timestamp();
    u64::try_from(secs).unwrap() * 10_000_000 + 0x01B2_1DD2_1381_4000
}

#[tokio::test]
async fn volume_snapshot_ids_are_shaped_like_version_1_uuids() {
    // Batches too: a volume snapshot's id follows its batch's created_at.
    for batches in [1, 4] {
        let sandbox = builder(Order::CreatedAt)
            .batches(batches)
            .start()
            .await
            .unwrap();
        let account = listing(sandbox.base_url(), "/v2/snapshots").await;
        let volumes: Vec<&Value> = account.iter().filter(|i| is_volume(i)).collect();
        assert!(volumes.len() > 100);
        let mut first_groups = HashSet::new();
        for volume in &volumes {
            let id = id(volume);
            let groups: Vec<&str> = id.split('-').collect();
            let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            assert_eq!(lengths, [8, 4, 4, 4, 12], "{id}");
            assert!(
                id.chars()
                    .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "lowercase hex: {id}"
            );
            assert!(groups[2].starts_with('1'), "version 1: {id}");
            assert!("89ab".contains(&groups[3][..1]), "RFC 4122 variant: {id}");
            // The time fields are those of created_at (time_low aside).
            let high = u64::from_str_radix(&format!("{}{}", &groups[2][1..], groups[1]), 16);
            let ticks = v1_ticks(created(volume));
            assert_eq!(high.unwrap(), ticks >> 32, "{id} {}", created(volume));
            first_groups.insert(groups[0].to_owned());
        }
        assert_eq!(first_groups.len(), volumes.len(), "time_low is spread");
        // Made from July 2024 to February 2025: `-11ef-`, as in the
        // evidence (February 2025).
        let recent: Vec<&&Value> = volumes
            .iter()
            .filter(|v| ("2024-07".."2025-03").contains(&created(v)))
            .collect();
        assert!(!recent.is_empty());
        assert!(recent.iter().all(|v| id(v)[14..18] == *"11ef"));
        // The first group has nothing to do with created_at.
        let first: Vec<&str> = volumes
            .iter()
            .map(|v| &v["id"].as_str().unwrap()[..8])
            .collect();
        assert!(!sorted(&first), "oldest first, the first groups are not");
    }
}

/// Serves `pages` pages of `path` one at a time (each rotates) and
/// returns, for each new snapshot, its index and the listing's length
/// right after it was made.
async fn new_snapshot_places(sandbox: &Sandbox, pages: usize) -> Vec<(usize, usize)> {
    let mut places = Vec::new();
    let mut before = sandbox.snapshot_ids(None);
    for _ in 0..pages {
        let answer = get(sandbox.base_url(), "/v2/snapshots?per_page=5", TOKEN).await;
        assert_eq!(answer.status, 200);
        let after = sandbox.snapshot_ids(None);
        let old: HashSet<&String> = before.iter().collect();
        for (index, id) in after.iter().enumerate() {
            if !old.contains(id) {
                places.push((index, after.len()));
            }
        }
        before = after;
    }
    places
}

#[tokio::test]
async fn rotation_lands_new_snapshots_where_their_keys_put_them() {
    for order in ORDERS {
        let sandbox = Sandbox::builder()
            .seed(5)
            .snapshots(300)
            .order(order)
            .faults(Faults::rotating(1, Position::Head))
            .start()
            .await
            .unwrap();
        let places = new_snapshot_places(&sandbox, 40).await;
        assert_eq!(places.len(), 40, "{order:?}: one new snapshot a page");
        let last = places.iter().filter(|(i, len)| i + 1 == *len).count();
        let early = places.iter().filter(|(i, len)| i * 2 < *len).count();
        match order {
            Order::CreatedAt => assert_eq!(last, 40, "oldest first: every new one is last"),
            // New droplet snapshots end their group, before the volume
            // snapshots; new volume snapshots land anywhere among those.
            Order::Realistic => assert!(last < 5, "{places:?}"),
            _ => assert!(last < 5 && early > 5, "{order:?}: {places:?}"),
        }
        // The order still holds, and a query serves what the sandbox holds.
        let held = sandbox.snapshot_ids(None);
        if order == Order::IdString {
            assert!(held.windows(2).all(|w| w[0] < w[1]));
        }
        let body = get(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN)
            .await
            .json();
        assert_eq!(ids(body["snapshots"].as_array().unwrap()), held[..200]);
    }
}

#[tokio::test]
async fn late_snapshots_appear_dated_before_snapshots_already_listed() {
    for late in [None, Some(Duration::from_secs(600))] {
        let sandbox = Sandbox::builder()
            .snapshots(0)
            .droplet(7, 30, 10)
            .faults(Faults {
                late_snapshots: late,
                ..Faults::rotating(1, Position::Head)
            })
            .start()
            .await
            .unwrap();
        let mut before = listing(sandbox.base_url(), "/v2/droplets/7/snapshots").await;
        let mut dated_before = 0;
        for _ in 0..30 {
            // Each query is one page, and rotates after it.
            let after = listing(sandbox.base_url(), "/v2/droplets/7/snapshots").await;
            assert_eq!(after.len(), 40, "no total moves");
            let created_after: Vec<&str> = after.iter().map(created).collect();
            assert!(
                sorted(&created_after),
                "a droplet's listing stays oldest first"
            );
            let old: HashSet<String> = ids(&before).into_iter().collect();
            let newest_listed = before.iter().map(created).max().unwrap().to_owned();
            let new: Vec<(usize, &Value)> = after
                .iter()
                .enumerate()
                .filter(|(_, item)| !old.contains(&id(item)))
                .collect();
            assert_eq!(new.len(), 1, "one backup a page");
            let (index, item) = new[0];
            if created(item) < newest_listed.as_str() {
                dated_before += 1;
                assert!(index + 1 < after.len(), "listed before newer snapshots");
            }
            before = after;
        }
        match late {
            None => assert_eq!(dated_before, 0, "stamped now: always the newest"),
            Some(_) => assert!(dated_before >= 10, "{dated_before} of 30"),
        }
    }
}

#[tokio::test]
async fn late_snapshots_wait_for_pages_with_their_deletion() {
    let sandbox = Sandbox::builder()
        .snapshots(0)
        .droplet(7, 20, 0)
        .faults(Faults {
            late_snapshots: Some(Duration::from_secs(300)),
            late_pages: 3,
            ..Faults::rotating(1, Position::Head)
        })
        .start()
        .await
        .unwrap();
    let start = sandbox.droplet_snapshot_ids(7).unwrap();
    let mut seen = Vec::new();
    for page in 1..=6 {
        let body = get(
            sandbox.base_url(),
            "/v2/droplets/7/snapshots?per_page=5",
            TOKEN,
        )
        .await
        .json();
        assert_eq!(body["meta"]["total"], 20, "page {page}");
        let now = sandbox.droplet_snapshot_ids(7).unwrap();
        assert_eq!(now.len(), 20);
        seen.push(now.iter().filter(|id| !start.contains(id)).count());
    }
    // Made after pages 1, 2, 3, ...; each listed three pages later.
    assert_eq!(seen, [0, 0, 0, 1, 2, 3]);
}

#[tokio::test]
async fn growing_sizes_start_at_zero_and_change_later() {
    let sandbox = Sandbox::builder()
        .seed(3)
        .snapshots(150)
        .faults(Faults {
            growing_sizes: 2,
            ..Faults::rotating(1, Position::Head)
        })
        .start()
        .await
        .unwrap();
    let first = listing(sandbox.base_url(), "/v2/snapshots").await;
    let generated: HashSet<String> = ids(&first).into_iter().collect();
    assert!(
        first
            .iter()
            .all(|i| i["size_gigabytes"].as_f64().unwrap() > 0.0),
        "generated snapshots have their sizes"
    );
    // Each query is one page; the sizes each new snapshot was listed with.
    let mut sizes: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for _ in 0..12 {
        for item in listing(sandbox.base_url(), "/v2/snapshots").await {
            if !generated.contains(&id(&item)) && is_volume(&item) {
                let size = item["size_gigabytes"].as_f64().unwrap();
                sizes.entry(id(&item)).or_default().push(size);
            }
        }
    }
    let grown: Vec<&Vec<f64>> = sizes.values().filter(|s| s.len() >= 3).collect();
    assert!(grown.len() >= 2, "{sizes:?}");
    for sizes in grown {
        assert_eq!(sizes[..2], [0.0, 0.0], "zero while two pages are served");
        assert!(sizes[2..].iter().all(|s| *s > 0.0 && *s == sizes[2]));
    }
}

#[tokio::test]
async fn late_snapshots_land_before_newer_ones_even_when_oldest_first() {
    let sandbox = Sandbox::builder()
        .seed(5)
        .snapshots(300)
        .order(Order::CreatedAt)
        .faults(Faults {
            late_snapshots: Some(Duration::from_secs(900)),
            ..Faults::rotating(1, Position::Head)
        })
        .start()
        .await
        .unwrap();
    let places = new_snapshot_places(&sandbox, 30).await;
    assert_eq!(places.len(), 30);
    let not_last = places.iter().filter(|(i, len)| i + 1 < *len).count();
    assert!(not_last >= 5, "{places:?}");
    // Still oldest first: the late ones sit before newer ones.
    for page in [1, 2] {
        let path = format!("/v2/snapshots?page={page}&per_page=200");
        let body = get(sandbox.base_url(), &path, TOKEN).await.json();
        let items = body["snapshots"].as_array().unwrap();
        let created: Vec<&str> = items.iter().map(created).collect();
        assert!(sorted(&created), "page {page}");
    }
}
