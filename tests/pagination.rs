//! Walking whole listings against the fake server: every item once, in
//! order, with bounded concurrency, no link-following, clean cancellation
//! and honest errors.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use digitalocean_sandbox::{Faults, Position, RateLimits, Sandbox};
use digitalocean_snapshots::{Client, ErrorKind, Progress, ResourceType};
use futures_util::{StreamExt, TryStreamExt};
use httpmock::MockServer;
use serde_json::json;

async fn sandbox(builder: digitalocean_sandbox::SandboxBuilder) -> (Sandbox, Client) {
    let sandbox = builder.start().await.expect("sandbox");
    let client = common::sandbox_client(&sandbox);
    (sandbox, client)
}

fn ids(items: &[digitalocean_snapshots::Snapshot]) -> Vec<String> {
    items.iter().map(|s| s.id.clone()).collect()
}

#[test]
fn streams_are_send_and_static() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let client = Client::new("x").unwrap();
    assert_send_static(&client.list_snapshots().pages());
    assert_send_static(&client.list_snapshots().items());
    assert_send_static(&client.list_droplet_snapshots(1).items());
    assert_send_static(&client.list_snapshots().collect_all());
}

#[tokio::test]
async fn every_item_once_in_order_at_the_edges_of_a_page() {
    for count in [0usize, 1, 199, 200, 201, 10_000] {
        let (sandbox, client) = sandbox(
            Sandbox::builder()
                .snapshots(count)
                .seed(count as u64 + 1)
                .rate_limits(RateLimits::unlimited()),
        )
        .await;
        let items = client.list_snapshots().collect_all().await.unwrap();
        assert_eq!(ids(&items), sandbox.snapshot_ids(None), "{count} items");
        let sizes = common::sizes(&sandbox);
        let cost = common::unchanged_cost(count as u64, 200, &sizes);
        let stats = sandbox.stats();
        assert_eq!(
            stats.requests, cost,
            "{count} items take {cost} requests: {sizes:?}"
        );
        let first_pass = count.div_ceil(200).max(1);
        assert!(sizes[..first_pass].iter().all(|s| *s == 200), "{sizes:?}");
    }
}

#[tokio::test]
async fn per_page_one_walks_every_page() {
    let (sandbox, client) = sandbox(
        Sandbox::builder()
            .snapshots(120)
            .rate_limits(RateLimits::unlimited()),
    )
    .await;
    let items = client
        .list_snapshots()
        .per_page(1)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&items), sandbox.snapshot_ids(None));
    let cost = common::unchanged_cost(120, 1, &common::sizes(&sandbox));
    assert_eq!(sandbox.stats().requests, cost);
}

#[tokio::test]
async fn droplet_listing_walks_every_snapshot_and_backup() {
    let (sandbox, client) =
        sandbox(Sandbox::builder().snapshots(10).droplet(3164444, 150, 51)).await;
    let items = client
        .list_droplet_snapshots(3164444)
        .collect_all()
        .await
        .unwrap();
    let got: Vec<u64> = items.iter().map(|s| s.id.try_into().unwrap()).collect();
    assert_eq!(Some(got), sandbox.droplet_snapshot_ids(3164444));
    assert_eq!(items.len(), 201);
    let cost = common::unchanged_cost(201, 200, &common::sizes(&sandbox));
    assert_eq!(sandbox.stats().requests, cost);
}

#[tokio::test]
async fn prefetch_on_and_off_give_identical_sequences() {
    let (_sandbox, client) = sandbox(
        Sandbox::builder()
            .snapshots(2_345)
            .rate_limits(RateLimits::unlimited()),
    )
    .await;
    let sequential = client
        .list_snapshots()
        .per_page(100)
        .concurrency(1)
        .collect_all()
        .await
        .unwrap();
    let prefetched = client
        .list_snapshots()
        .per_page(100)
        .concurrency(8)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(sequential.len(), 2_345);
    assert_eq!(sequential, prefetched);
    let volumes = client
        .list_snapshots()
        .resource_type(ResourceType::Volume)
        .per_page(50)
        .collect_all()
        .await
        .unwrap();
    assert!(
        volumes
            .iter()
            .all(|s| s.resource_type == ResourceType::Volume)
    );
    assert_eq!(volumes.len(), _sandbox.snapshot_ids(Some("volume")).len());
    assert!(
        _sandbox
            .requests()
            .iter()
            .filter(|r| r.query_param("per_page").as_deref() == Some("50"))
            .all(|r| r.query_param("resource_type").as_deref() == Some("volume")),
        "the filter is kept on every page"
    );
}

#[tokio::test]
async fn prefetch_overlaps_and_never_exceeds_the_window() {
    let (sandbox, client) = sandbox(
        Sandbox::builder()
            .snapshots(5_000)
            .latency(Duration::from_millis(40))
            .rate_limits(RateLimits::unlimited()),
    )
    .await;
    for window in [1usize, 3, 8] {
        sandbox.reset_stats();
        let items = client
            .list_snapshots()
            .concurrency(window)
            .collect_all()
            .await
            .unwrap();
        assert_eq!(items.len(), 5_000);
        let stats = sandbox.stats();
        let cost = common::unchanged_cost(5_000, 200, &common::sizes(&sandbox));
        assert_eq!(stats.requests, cost);
        assert_eq!(stats.max_in_flight, window, "window {window}");
    }
}

#[tokio::test]
async fn drift_yields_no_duplicate_and_the_summary_says_what_happened() {
    // A retention job rotating 3 snapshots after each of the first 8
    // pages served, then quiet.
    let (_sandbox, client) = sandbox(
        Sandbox::builder()
            .snapshots(1_000)
            .faults(Faults {
                changes_stop_after: Some(8),
                ..Faults::rotating(3, Position::Head)
            })
            .rate_limits(RateLimits::unlimited()),
    )
    .await;
    let mut items = client.list_snapshots().per_page(50).concurrency(1).items();
    let mut seen = HashSet::new();
    while let Some(item) = items.try_next().await.unwrap() {
        assert!(seen.insert(item.id.clone()), "duplicate {}", item.id);
    }
    let summary = items.summary();
    assert!(summary.complete);
    assert_eq!(summary.total_at_start, Some(1_000));
    assert_eq!(summary.total_at_end, summary.total_at_start, "{summary:?}");
    assert_eq!(summary.items, seen.len() as u64);
    // As many made as deleted: the total never moves, yet deletions at the
    // head pulled snapshots back across pages already read. The count
    // after the first pass is short of them; the one after the second
    // (quiet) pass is met.
    assert!(summary.consistent && summary.changed, "{summary:?}");
    assert_eq!(summary.passes, 3, "{summary:?}");
    assert!(summary.recovered > 0, "{summary:?}");

    // Between every two reads, for good: no two looks agree. Each
    // snapshot is delivered once, then the error says what happened.
    let (_sandbox, client) = sandbox(
        Sandbox::builder()
            .snapshots(1_000)
            .faults(Faults::rotating(3, Position::Head))
            .rate_limits(RateLimits::unlimited()),
    )
    .await;
    let mut items = client.list_snapshots().per_page(50).concurrency(1).items();
    let mut seen = HashSet::new();
    let error = loop {
        match items.next().await {
            Some(Ok(item)) => assert!(seen.insert(item.id.clone()), "duplicate {}", item.id),
            Some(Err(e)) => break e,
            None => panic!("a listing that never holds still ended Ok"),
        }
    };
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("did not settle"), "{error}");
    let summary = error.walk_summary().copied().unwrap_or_default();
    assert!(summary.changed && !summary.consistent, "{summary:?}");
}

#[tokio::test]
async fn a_foreign_next_link_is_never_followed_and_gets_no_token() {
    let elsewhere = MockServer::start_async().await;
    let trap = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(r#"{"meta":{"total":0}}"#);
        })
        .await;
    let (sandbox, client) = sandbox(Sandbox::builder().snapshots(1_000).faults(Faults {
        foreign_next_link: Some(elsewhere.base_url()),
        ..Faults::default()
    }))
    .await;
    let items = client
        .list_snapshots()
        .per_page(100)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&items), sandbox.snapshot_ids(None));
    assert_eq!(
        trap.calls_async().await,
        0,
        "the other host received nothing"
    );
    // The seed's own droplet example points `next` at /v2/images: another path.
    let server = MockServer::start_async().await;
    let images = server
        .mock_async(|when, then| {
            when.path_includes("images");
            then.status(200).body("{}");
        })
        .await;
    let seed = server
        .mock_async(|when, then| {
            when.path("/v2/droplets/3164444/snapshots");
            then.status(200).body(common::SEED_DROPLET_SNAPSHOTS);
        })
        .await;
    let client = common::client(&server);
    let items = client
        .list_droplet_snapshots(3164444)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(images.calls_async().await, 0);
    assert_eq!(seed.calls_async().await, 1, "meta.total = 1 means one page");
}

/// A page of `n` account items with ids `from..from+n`.
fn page_body(from: u64, n: u64, total: u64) -> String {
    let items: Vec<_> = (from..from + n)
        .map(|i| {
            json!({
                "id": i.to_string(), "name": format!("s{i}"), "created_at": "2024-01-01T00:00:00Z",
                "regions": [], "resource_id": "1", "resource_type": "droplet",
                "min_disk_size": 1, "size_gigabytes": 1.5, "tags": null
            })
        })
        .collect();
    json!({ "snapshots": items, "links": {}, "meta": { "total": total } }).to_string()
}

#[tokio::test]
async fn an_error_on_page_three_yields_pages_one_and_two_then_the_error() {
    let server = MockServer::start_async().await;
    for page in [1u64, 2, 4, 5] {
        server
            .mock_async(move |when, then| {
                when.path("/v2/snapshots")
                    .query_param("page", page.to_string());
                then.status(200).body(page_body((page - 1) * 10, 10, 50));
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.path("/v2/snapshots").query_param("page", "3");
            then.status(500)
                .body(r#"{"id":"server_error","message":"Unexpected server-side error"}"#);
        })
        .await;
    // No retries: the 500 is the point (the retry tests cover retrying it).
    let client = common::client(&server);
    for concurrency in [1, 8] {
        let mut items = client
            .list_snapshots()
            .per_page(10)
            .concurrency(concurrency)
            .items();
        let mut got = Vec::new();
        let error = loop {
            match items.next().await {
                Some(Ok(item)) => got.push(item.id),
                Some(Err(e)) => break e,
                None => panic!("the stream ended without the error"),
            }
        };
        let expected: Vec<String> = (0..20).map(|i: u64| i.to_string()).collect();
        assert_eq!(
            got, expected,
            "exactly pages 1-2, concurrency {concurrency}"
        );
        assert!(items.next().await.is_none(), "the error ends the stream");
        assert_eq!(error.status(), Some(500));
        assert_eq!(error.items_delivered(), Some(20));
        assert_eq!(error.resume_page(), Some(3));
        assert!(error.to_string().contains("resume from page 3"), "{error}");
        assert!(!items.summary().complete);

        let all = client
            .list_snapshots()
            .per_page(10)
            .concurrency(concurrency)
            .collect_all()
            .await;
        assert!(all.is_err(), "never a partial Vec passed off as complete");
    }
}

#[tokio::test]
async fn a_walk_resumes_from_a_page() {
    let (sandbox, client) = sandbox(Sandbox::builder().snapshots(1_000)).await;
    let rest = client.list_snapshots().page(3).collect_all().await.unwrap();
    assert_eq!(ids(&rest), sandbox.snapshot_ids(None)[400..]);
}

#[tokio::test]
async fn dropping_a_stream_stops_its_requests() {
    let (sandbox, client) = sandbox(
        Sandbox::builder()
            .snapshots(10_000)
            .latency(Duration::from_millis(150))
            .rate_limits(RateLimits::unlimited()),
    )
    .await;
    let mut pages = client.list_snapshots().concurrency(4).pages();
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(first.items.len(), 200);
    // Start the window, then walk away.
    let _ = tokio::time::timeout(Duration::from_millis(20), pages.next()).await;
    drop(pages);
    // Requests already on the wire may still land; the server holds each
    // for 150 ms, so 50 ms is enough to count them and too short to answer.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after_drop = sandbox.stats().requests;
    assert!(
        after_drop <= 5,
        "{after_drop} requests: the first page and one window"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sandbox.stats().requests,
        after_drop,
        "no request after the drop"
    );
    assert_eq!(
        sandbox.stats().status(200),
        1,
        "the aborted requests were never answered"
    );
}

#[tokio::test]
async fn limit_asks_for_no_more_than_needed() {
    let (sandbox, client) = sandbox(Sandbox::builder().snapshots(1_000)).await;
    let five = client
        .list_snapshots()
        .limit(5)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&five), sandbox.snapshot_ids(None)[..5]);
    let log = sandbox.requests();
    assert_eq!(log.len(), 1, "one request");
    assert_eq!(log[0].query_param("per_page").as_deref(), Some("5"));

    sandbox.reset_stats();
    let last: Arc<Mutex<Option<Progress>>> = Arc::default();
    let sink = Arc::clone(&last);
    let some = client
        .list_snapshots()
        .limit(450)
        .on_progress(move |p| *sink.lock().unwrap() = Some(*p))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(some.len(), 450);
    let last = last.lock().unwrap().expect("progress was reported");
    assert_eq!(
        (last.items, last.pages, last.page_count),
        (450, 3, 3),
        "the limit's pages, not the listing's"
    );
    assert_eq!(sandbox.stats().requests, 3, "pages of 200: 200 + 200 + 50");

    sandbox.reset_stats();
    let taken: Vec<_> = client
        .list_snapshots()
        .items()
        .take(5)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(taken.len(), 5);
    assert_eq!(
        sandbox.stats().requests,
        1,
        "a lazy stream sends nothing more"
    );
}

#[tokio::test]
async fn progress_is_reported_after_every_page() {
    let (_sandbox, client) = sandbox(Sandbox::builder().snapshots(950)).await;
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let items = client
        .list_snapshots()
        .on_progress(move |p| sink.lock().unwrap().push(*p))
        .collect_all()
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    // The first pass delivers, the second (another page size, 192-199)
    // confirms: it is reported too, against its own count of pages.
    let (first, second): (Vec<Progress>, Vec<Progress>) = seen.iter().partition(|p| p.pass == 1);
    assert_eq!(
        first.iter().map(|p| (p.pages, p.items)).collect::<Vec<_>>(),
        [(1, 200), (2, 400), (3, 600), (4, 800), (5, 950)]
    );
    assert!(first.iter().all(|p| p.page_count == 5));
    assert_eq!(second.len(), 5, "{second:?}");
    assert!(second.iter().all(|p| p.pass == 2 && p.items == 950));
    assert_eq!(
        second.iter().map(|p| p.pages).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert!(
        seen.iter()
            .all(|p| p.total == 950 && p.expected_items == 950)
    );
    assert!(
        seen.iter()
            .all(|p| p.pages <= p.page_count && p.items <= p.expected_items)
    );
    assert_eq!(items.len(), 950);
}

/// A listing that changes while it is read takes more passes and
/// delivers snapshots created meanwhile: progress still never reports
/// more pages than its pass expects, or more items than the walk does.
#[tokio::test]
async fn progress_never_overshoots_when_the_listing_changes() {
    let (_sandbox, client) = sandbox(
        Sandbox::builder()
            .snapshots(1_000)
            .faults(Faults::rotating(3, Position::Random)),
    )
    .await;
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let result = client
        .list_snapshots()
        .per_page(100)
        .strict(false)
        .on_progress(move |p| sink.lock().unwrap().push(*p))
        .collect_with_summary()
        .await;
    let (items, summary) = result.unwrap();
    let seen = seen.lock().unwrap();
    assert!(
        summary.passes >= 2 && seen.iter().any(|p| p.pass >= 2),
        "{summary:?}"
    );
    for p in seen.iter() {
        assert!(p.pages <= p.page_count, "{p:?}");
        assert!(p.items <= p.expected_items, "{p:?}");
    }
    assert!(
        seen.windows(2)
            .all(|w| w[0].items <= w[1].items && w[0].pass <= w[1].pass),
        "items and passes never go back"
    );
    assert_eq!(seen.last().map(|p| p.items), Some(items.len() as u64));
}

#[tokio::test]
async fn a_listing_that_keeps_growing_hits_the_page_ceiling() {
    let (_sandbox, client) = sandbox(Sandbox::builder().snapshots(1_000)).await;
    let error = client
        .list_snapshots()
        .per_page(100)
        .max_pages(3)
        .collect_all()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Inconsistent);
    assert!(error.to_string().contains("ceiling"), "{error}");

    // A server whose total grows with every page can never keep a walk going.
    let server = MockServer::start_async().await;
    for page in 1u64..=40 {
        server
            .mock_async(move |when, then| {
                when.path("/v2/snapshots")
                    .query_param("page", page.to_string());
                then.status(200)
                    .body(page_body(page * 10, 10, page * 10 + 100));
            })
            .await;
    }
    let client = common::client(&server);
    let error = client
        .list_snapshots()
        .per_page(10)
        .max_pages(20)
        .collect_all()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("ceiling"), "{error}");
    assert_eq!(error.walk_summary().map(|s| s.requests), Some(20));
}

#[tokio::test]
async fn the_walk_does_not_start_requests_the_rate_limit_will_refuse() {
    let (sandbox, client) = sandbox(Sandbox::builder().snapshots(2_000).rate_limits(RateLimits {
        per_hour: 4,
        ..RateLimits::default()
    }))
    .await;
    let error = client
        .list_snapshots()
        .concurrency(8)
        .collect_all()
        .await
        .unwrap_err();
    assert!(error.is_rate_limited(), "{error}");
    let stats = sandbox.stats();
    assert_eq!(stats.status(200), 4);
    assert!(stats.status(429) <= 1, "{stats:?}");
}

#[tokio::test]
async fn walk_settings_are_checked_before_any_request() {
    let (sandbox, client) = sandbox(Sandbox::builder()).await;
    for error in [
        client
            .list_snapshots()
            .concurrency(0)
            .collect_all()
            .await
            .unwrap_err(),
        client
            .list_snapshots()
            .concurrency(65)
            .collect_all()
            .await
            .unwrap_err(),
        client
            .list_snapshots()
            .max_pages(0)
            .collect_all()
            .await
            .unwrap_err(),
        client
            .list_snapshots()
            .per_page(0)
            .collect_all()
            .await
            .unwrap_err(),
        client
            .list_snapshots()
            .page(0)
            .collect_all()
            .await
            .unwrap_err(),
        client
            .list_droplet_snapshots(0)
            .collect_all()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert_eq!(error.resume_page(), None);
    }
    assert_eq!(sandbox.stats().requests, 0);
}

#[tokio::test]
async fn an_empty_first_page_with_a_total_is_read_again_then_reported() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.path("/v2/snapshots").query_param("page", "1");
            then.status(200).body(page_body(0, 0, 500));
        })
        .await;
    let others = server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(200).body(page_body(0, 10, 500));
        })
        .await;
    let client = common::client(&server);
    let mut pages = client.list_snapshots().pages();
    let page = pages.next().await.unwrap().unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total, 500);
    // The page contradicts its total: the walk reads on to the end the
    // total gives, reads the listing again, and the same contradictions
    // twice end it with an error, never a short Ok.
    let mut delivered = 0;
    let error = loop {
        match pages.next().await {
            Some(Ok(page)) => delivered += page.items.len(),
            Some(Err(e)) => break e,
            None => panic!("a listing that contradicts itself ended Ok"),
        }
    };
    assert_eq!(delivered, 10, "the pages after it were read");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(
        error
            .to_string()
            .contains("snapshots where its own total of 500 means"),
        "{error}"
    );
    assert!(pages.next().await.is_none());
    // Once by the walk, once by the second pass: two passes in a row that
    // contradict the server's own totals end it.
    assert_eq!(first.calls_async().await, 2, "read once a pass");
    assert!(others.calls_async().await >= 2);

    let mut lenient = client.list_snapshots().strict(false).pages();
    while let Some(page) = lenient.next().await {
        page.unwrap();
    }
    let summary = lenient.summary();
    assert!(summary.complete && !summary.consistent, "{summary:?}");
}

/// An error on the walk's very first request: nothing was read, so the
/// error gives no resume hint (it used to say "0 items were delivered
/// before this; resume from page 1").
#[tokio::test]
async fn an_error_before_anything_was_read_gives_no_resume_hint() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(500).body(
                r#"{"id":"server_error","message":"Server was unable to give you a response."}"#,
            );
        })
        .await;
    let client = common::client(&server);
    let error = client.list_snapshots().collect_all().await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("no item was delivered before this"), "{text}");
    assert!(!text.contains("resume"), "{text}");
    assert_eq!(error.items_delivered(), Some(0));
}
