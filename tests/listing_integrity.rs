//! Listing integrity against servers that break the walk's assumptions on
//! purpose (the sandbox's listing faults): a live account changing under
//! prefetch, deletions at the head, holes, lying and shrinking totals,
//! capped page sizes, repeats, duplicates inside pages, look-alike ids.
//! Each case of issue 12's list is a named test here; the property test
//! over a model of a live account is in `src/walk/tests.rs`.
//!
//! The guarantee: a walk that ends `Ok` delivered every snapshot that
//! existed for the whole walk exactly once; otherwise it ends with an
//! `Inconsistent` error (after delivering what it read), never a short
//! list passed off as complete.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use digitalocean_sandbox::{Faults, Position, RateLimits, Sandbox, TotalReport};
use digitalocean_snapshots::{Client, Error, ErrorKind, Snapshot, WalkSummary};
use futures_util::StreamExt;

async fn start(snapshots: usize, faults: Faults) -> (Sandbox, Client) {
    let sandbox = Sandbox::builder()
        .snapshots(snapshots)
        .faults(faults)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let client = common::sandbox_client(&sandbox);
    (sandbox, client)
}

/// What a walk delivered before it ended, and how it ended.
struct Walk {
    ids: Vec<String>,
    end: Result<(), Error>,
    summary: WalkSummary,
}

async fn walk(list: digitalocean_snapshots::ListSnapshots) -> Walk {
    let mut items = list.items();
    let mut ids = Vec::new();
    let end = loop {
        match items.next().await {
            Some(Ok(item)) => ids.push(item.id),
            Some(Err(e)) => break Err(e),
            None => break Ok(()),
        }
    };
    let summary = items.summary();
    Walk { ids, end, summary }
}

/// Every id of `before` that is still listed at the end existed
/// throughout (ids are never reused): each must have been delivered, and
/// nothing twice.
fn assert_exact(walk: &Walk, before: &[String], after: &[String]) {
    let delivered: HashSet<&String> = walk.ids.iter().collect();
    assert_eq!(delivered.len(), walk.ids.len(), "an item delivered twice");
    let still: HashSet<&String> = after.iter().collect();
    let lost: Vec<&String> = before
        .iter()
        .filter(|id| still.contains(id) && !delivered.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} snapshots existed throughout but were not delivered: {:?}; {:?}",
        lost.len(),
        &lost[..lost.len().min(5)],
        walk.summary
    );
}

#[tokio::test]
async fn new_snapshots_inserted_at_the_head_break_the_order_and_end_in_an_error() {
    // The API lists oldest first: a new snapshot listed first is a server
    // that breaks the order the walk's guarantee rests on. The walk says
    // so with an error, after delivering each item once; never a short Ok.
    let (sandbox, client) = start(
        2_000,
        Faults {
            jitter: Duration::from_millis(3),
            ..Faults::inserting(3, Position::Head)
        },
    )
    .await;
    let walk = walk(client.list_snapshots()).await;
    let error = walk.end.as_ref().expect_err("the order is broken");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    let unique: HashSet<&String> = walk.ids.iter().collect();
    assert_eq!(unique.len(), walk.ids.len(), "an item delivered twice");
    assert!(sandbox.stats().requests < 2_000 / 200 * 8, "bounded");
}

/// What a retention job does between any two page reads: `k` snapshots
/// made (listed last) and `k` deleted at `at`, so `meta.total` never moves.
async fn rotation_loses_nothing(at: Position, concurrency: usize, droplet: bool) -> WalkSummary {
    let sandbox = Sandbox::builder()
        .snapshots(1_000)
        .droplet(7, 600, 400)
        .faults(Faults::rotating(3, at))
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let client = common::sandbox_client(&sandbox);
    let (ids, end, summary, before, after) = if droplet {
        let droplet_ids = |s: &Sandbox| -> Vec<String> {
            let ids = s.droplet_snapshot_ids(7).unwrap_or_default();
            ids.iter().map(u64::to_string).collect()
        };
        let before = droplet_ids(&sandbox);
        let mut items = client
            .list_droplet_snapshots(7)
            .per_page(100)
            .concurrency(concurrency)
            .items();
        let mut ids = Vec::new();
        let end = loop {
            match items.next().await {
                Some(Ok(item)) => ids.push(item.id.to_string()),
                Some(Err(e)) => break Err(e),
                None => break Ok(()),
            }
        };
        let summary = items.summary();
        let after = droplet_ids(&sandbox);
        (ids, end, summary, before, after)
    } else {
        let before = sandbox.snapshot_ids(None);
        let w = walk(
            client
                .list_snapshots()
                .per_page(100)
                .concurrency(concurrency),
        )
        .await;
        (w.ids, w.end, w.summary, before, sandbox.snapshot_ids(None))
    };
    let walk = Walk { ids, end, summary };
    if let Err(e) = &walk.end {
        panic!("rotation at {at:?}, concurrency {concurrency}: {e}");
    }
    assert_exact(&walk, &before, &after);
    assert_eq!(
        summary.total_at_start, summary.total_at_end,
        "no total moved"
    );
    assert!(summary.changed && summary.passes == 2, "{summary:?}");
    let clean = (before.len() as u64).div_ceil(100);
    // The 3 snapshots each rotation makes share a second: a batch. Those
    // made within the clocks' tolerance (2 s) of the walk's start may be
    // older than the walk for all it can tell, and a batch a boundary
    // splits is read whole once (`src/walk/ties.rs`): here, every one.
    let batches = sandbox
        .requests()
        .iter()
        .filter(|r| r.query_param("per_page").as_deref() != Some("100"))
        .count() as u64;
    assert!(
        summary.requests - batches <= 2 * clean + 1 && batches <= clean,
        "{batches} batch reads; {summary:?}"
    );
    summary
}

#[tokio::test]
async fn rotation_of_the_account_listing_one_page_at_a_time_loses_nothing() {
    rotation_loses_nothing(Position::Head, 1, false).await;
    rotation_loses_nothing(Position::Random, 1, false).await;
}

#[tokio::test]
async fn rotation_of_the_account_listing_prefetched_loses_nothing() {
    rotation_loses_nothing(Position::Head, 8, false).await;
    rotation_loses_nothing(Position::Random, 64, false).await;
}

#[tokio::test]
async fn rotation_of_a_droplets_backups_one_page_at_a_time_loses_nothing() {
    rotation_loses_nothing(Position::Head, 1, true).await;
    rotation_loses_nothing(Position::Middle, 1, true).await;
}

#[tokio::test]
async fn rotation_of_a_droplets_backups_prefetched_loses_nothing() {
    rotation_loses_nothing(Position::Head, 8, true).await;
    rotation_loses_nothing(Position::Random, 8, true).await;
}

#[tokio::test]
async fn a_retention_job_deleting_the_oldest_during_a_walk_loses_nothing() {
    // The usual change on the real API: snapshots are listed oldest first
    // and a clean-up deletes from the head, pulling every later page back.
    for concurrency in [1, 8] {
        let (sandbox, client) = start(1_000, Faults::deleting(5, Position::Head)).await;
        let before = sandbox.snapshot_ids(None);
        let walk = walk(
            client
                .list_snapshots()
                .per_page(100)
                .concurrency(concurrency),
        )
        .await;
        walk.end
            .as_ref()
            .expect("deletions alone settle on a re-read");
        assert_exact(&walk, &before, &sandbox.snapshot_ids(None));
        assert!(walk.summary.recovered > 0, "{:?}", walk.summary);
    }
}

#[tokio::test]
async fn an_empty_page_in_the_middle_is_read_again() {
    let (sandbox, client) = start(
        1_000,
        Faults {
            holes: vec![2],
            ..Faults::default()
        },
    )
    .await;
    let walk = walk(client.list_snapshots()).await;
    walk.end
        .as_ref()
        .expect("the hole is filled on the re-read");
    assert_eq!(walk.ids.len(), 1_000);
    assert_exact(
        &walk,
        &sandbox.snapshot_ids(None),
        &sandbox.snapshot_ids(None),
    );
    assert_eq!((walk.summary.passes, walk.summary.recovered), (2, 200));
}

#[tokio::test]
async fn a_total_of_zero_with_full_pages_is_read_through_then_reported() {
    let (sandbox, client) = start(
        1_000,
        Faults {
            total: TotalReport::Fixed(0),
            ..Faults::default()
        },
    )
    .await;
    let walk = walk(client.list_snapshots()).await;
    assert_eq!(walk.ids, sandbox.snapshot_ids(None), "every page is read");
    let error = walk.end.expect_err("a total that contradicts the pages");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("a total of 0"), "{error}");
    let collected = client.list_snapshots().collect_all().await;
    assert!(collected.is_err(), "never a list passed off as complete");
}

#[tokio::test]
async fn a_server_that_caps_the_page_size_is_followed_at_its_size() {
    let (sandbox, client) = start(
        1_000,
        Faults {
            page_cap: Some(100),
            ..Faults::default()
        },
    )
    .await;
    let items = client.list_snapshots().collect_all().await.expect("all");
    assert_eq!(items.len(), 1_000);
    assert_eq!(sandbox.stats().requests, 10, "no request beyond the pages");

    let first = client.list_snapshots().limit(150).collect_all().await;
    assert_eq!(first.expect("150").len(), 150);
}

#[tokio::test]
async fn a_total_that_halves_after_page_two_is_not_a_short_list() {
    let (sandbox, client) = start(
        1_000,
        Faults {
            total: TotalReport::HalvedAfterPage(2),
            ..Faults::default()
        },
    )
    .await;
    let walk = walk(client.list_snapshots().concurrency(1)).await;
    assert_eq!(walk.ids, sandbox.snapshot_ids(None), "read past the total");
    let error = walk.end.expect_err("the total contradicts the pages");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
}

/// Upstream gives `meta.total` no bound: a negative one decodes, and the
/// walk refuses it as a listing that does not add up.
#[tokio::test]
async fn a_negative_total_mid_walk_is_an_inconsistency_not_a_short_list() {
    let (_sandbox, client) = start(
        100,
        Faults {
            total: TotalReport::NegativeAfterPage(2),
            ..Faults::default()
        },
    )
    .await;
    let walk = walk(client.list_snapshots().per_page(10)).await;
    let error = walk.end.expect_err("a negative count");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("meta.total"), "{error}");
    assert!(error.walk_summary().is_some(), "{error:?}");
    assert!(
        walk.ids.len() <= 20,
        "{} items past the bad page",
        walk.ids.len()
    );

    let (_sandbox, client) = start(
        5,
        Faults {
            total: TotalReport::Fixed(-1),
            ..Faults::default()
        },
    )
    .await;
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
}

/// The largest total upstream allows, over a short listing: every item is
/// delivered, the walk stops within its bounds, and says it did not add up.
#[tokio::test]
async fn a_total_of_i64_max_over_a_short_listing_is_bounded_and_reported() {
    let (sandbox, client) = start(
        30,
        Faults {
            total: TotalReport::Fixed(i64::MAX),
            ..Faults::default()
        },
    )
    .await;
    let walk = walk(client.list_snapshots().per_page(10)).await;
    let error = walk.end.expect_err("the total cannot be reached");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    let mut ids = walk.ids.clone();
    ids.sort();
    let mut all = sandbox.snapshot_ids(None);
    all.sort();
    assert_eq!(ids, all, "every item delivered before the error");
    let requests = sandbox.stats().requests;
    assert!(requests <= 40, "{requests} requests");
}

#[tokio::test]
async fn duplicates_inside_pages_do_not_shorten_a_limit() {
    let (_sandbox, client) = start(
        1_000,
        Faults {
            duplicates_in_page: 3,
            ..Faults::default()
        },
    )
    .await;
    let items = client.list_snapshots().limit(10).collect_all().await;
    let items = items.expect("ten distinct items");
    let ids: HashSet<&str> = items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!((items.len(), ids.len()), (10, 10));

    let error = client.list_snapshots().collect_all().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
}

#[tokio::test]
async fn a_server_that_repeats_page_one_forever_is_stopped() {
    let (sandbox, client) = start(
        1_000,
        Faults {
            repeat_first_page: true,
            total: TotalReport::Fixed(1_000_000_000_000_000),
            ..Faults::default()
        },
    )
    .await;
    let error = client.list_snapshots().collect_all().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("repeats itself"), "{error}");
    let requests = sandbox.stats().requests;
    assert!(requests <= 1 + 8 + 8, "{requests} requests");
}

#[tokio::test]
async fn look_alike_ids_are_different_snapshots() {
    let sandbox = Sandbox::builder()
        .snapshots(1_000)
        .look_alike_ids(true)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let ids = sandbox.snapshot_ids(None);
    assert!(ids.iter().any(|id| id.starts_with("+")), "{:?}", &ids[..8]);
    let client = common::sandbox_client(&sandbox);
    let items: Vec<Snapshot> = client.list_snapshots().collect_all().await.expect("all");
    let delivered: Vec<String> = items.into_iter().map(|s| s.id).collect();
    assert_eq!(delivered, ids);
}

/// The figures of the closing note: a 10,000-item walk under continuous
/// insertion and under continuous deletion (printed with `--nocapture`).
#[tokio::test]
async fn ten_thousand_items_under_continuous_change_lose_nothing() {
    for (what, faults) in [
        ("rotation at the head", Faults::rotating(3, Position::Head)),
        ("rotation anywhere", Faults::rotating(3, Position::Random)),
        ("deletion at the head", Faults::deleting(3, Position::Head)),
    ] {
        let (sandbox, client) = start(10_000, faults).await;
        let before = sandbox.snapshot_ids(None);
        let started = Instant::now();
        let walk = walk(client.list_snapshots()).await;
        let elapsed = started.elapsed();
        walk.end.as_ref().expect("a one-sided change settles");
        assert_exact(&walk, &before, &sandbox.snapshot_ids(None));
        println!(
            "10,000 items, {what}: {} requests, {} passes, {} delivered, {} recovered, 0 lost, {:.0} ms",
            sandbox.stats().requests,
            walk.summary.passes,
            walk.ids.len(),
            walk.summary.recovered,
            elapsed.as_secs_f64() * 1e3
        );
    }
}

#[tokio::test]
async fn without_dedup_an_unchanging_listing_is_whole_and_a_changing_one_is_an_error() {
    let (sandbox, client) = start(1_000, Faults::default()).await;
    let items = client.list_snapshots().dedup(false).collect_all().await;
    let ids: Vec<String> = items.expect("all").into_iter().map(|s| s.id).collect();
    assert_eq!(ids, sandbox.snapshot_ids(None));

    let (_sandbox, client) = start(1_000, Faults::deleting(5, Position::Head)).await;
    let error = client.list_snapshots().dedup(false).collect_all().await;
    let error = error.expect_err("no ids to re-read by");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("dedup(false)"), "{error}");
}

/// Snapshots made in batches of 5 (one `created_at` each), every batch
/// listed in a different order on each query, as the API may. Pages of 98
/// split most batches: the pages alone show some snapshots twice and miss
/// others. The walk reads each split batch whole and delivers every
/// snapshot exactly once, at any window, with the rotation of a retention
/// job or without.
#[tokio::test]
async fn batches_listed_in_any_order_are_delivered_exactly_once() {
    for (concurrency, rotate) in [(1, 0), (64, 0), (8, 2)] {
        let faults = Faults {
            unstable_batches: true,
            ..Faults::rotating(rotate, Position::Random)
        };
        let sandbox = Sandbox::builder()
            .snapshots(2_000)
            .batches(5)
            .faults(faults)
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .expect("sandbox");
        let before = sandbox.snapshot_ids(None);
        let client = common::sandbox_client(&sandbox);
        let list = client
            .list_snapshots()
            .per_page(98)
            .concurrency(concurrency);
        let walk = walk(list).await;
        if let Err(e) = &walk.end {
            panic!("concurrency {concurrency}, rotation {rotate}: {e}");
        }
        assert_exact(&walk, &before, &sandbox.snapshot_ids(None));
        let batch_reads = sandbox
            .requests()
            .iter()
            .filter(|r| r.query_param("per_page").as_deref() != Some("98"))
            .count();
        assert!(batch_reads > 0, "split batches were read whole");
        if rotate == 0 {
            assert!(
                walk.summary.recovered > 0,
                "the pages alone missed some: {:?}",
                walk.summary
            );
        }
    }
}

/// The same for one droplet's snapshots and backups (600 and 400, in
/// batches of 4, pages of 30).
#[tokio::test]
async fn a_droplets_batches_listed_in_any_order_are_delivered_exactly_once() {
    let sandbox = Sandbox::builder()
        .droplet(7, 600, 400)
        .batches(4)
        .faults(Faults {
            unstable_batches: true,
            ..Faults::default()
        })
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let client = common::sandbox_client(&sandbox);
    let expected = sandbox.droplet_snapshot_ids(7).expect("droplet 7");
    let listed = client
        .list_droplet_snapshots(7)
        .per_page(30)
        .collect_all()
        .await
        .expect("every snapshot");
    let ids: Vec<i64> = listed.iter().map(|s| s.id).collect();
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a snapshot delivered twice");
    let expected: HashSet<i64> = expected
        .into_iter()
        .map(|id| i64::try_from(id).expect("an id in range"))
        .collect();
    assert_eq!(unique, expected);
}
