//! The blocking client against the sandbox: the walk tests of the async
//! client, through the iterators (order, dedup while the listing changes,
//! an error mid-listing, drop), from plain threads without a runtime.

mod common;

use std::time::Duration;

use digitalocean_sandbox::{Faults, Position, RateLimits, Sandbox, TotalReport};
use digitalocean_snapshots::ErrorKind;
use digitalocean_snapshots::blocking::Client;

/// A sandbox running on a runtime of its own (the test thread has none),
/// and a blocking client for it.
struct Fixture {
    sandbox: Sandbox,
    client: Client,
    _runtime: tokio::runtime::Runtime,
}

fn start(builder: digitalocean_sandbox::SandboxBuilder) -> Fixture {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the sandbox");
    let sandbox = runtime
        .block_on(builder.rate_limits(RateLimits::unlimited()).start())
        .expect("sandbox");
    let client = Client::builder()
        .token(sandbox.token().expect("a token"))
        .base_url(sandbox.base_url())
        .build_blocking()
        .expect("a blocking client");
    Fixture {
        sandbox,
        client,
        _runtime: runtime,
    }
}

#[test]
fn items_come_in_the_servers_order_exactly_once() {
    let f = start(Sandbox::builder().snapshots(537));
    let ids: Vec<String> = f
        .client
        .list_snapshots()
        .per_page(20)
        .items()
        .map(|item| item.expect("an item").id)
        .collect();
    assert_eq!(ids, f.sandbox.snapshot_ids(None));

    let droplet = f.sandbox.droplet_ids()[0];
    let backups = f
        .client
        .list_droplet_snapshots(droplet)
        .collect_all()
        .expect("the droplet's listing");
    let got: Vec<u64> = backups.iter().map(|s| s.id.try_into().unwrap()).collect();
    assert_eq!(Some(got), f.sandbox.droplet_snapshot_ids(droplet));
}

#[test]
fn pages_are_an_iterator_in_order_and_send_is_one_page() {
    let f = start(Sandbox::builder().snapshots(95));
    let pages: Vec<_> = f
        .client
        .list_snapshots()
        .per_page(20)
        .pages()
        .collect::<Result<_, _>>()
        .expect("every page");
    assert_eq!(
        pages.iter().map(|p| p.page).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(pages.iter().map(|p| p.items.len()).sum::<usize>(), 95);
    let page = f
        .client
        .list_snapshots()
        .per_page(20)
        .page(5)
        .send()
        .unwrap();
    assert_eq!((page.page, page.items.len(), page.total), (5, 15, 95));
}

#[test]
fn a_listing_that_changes_under_prefetch_loses_nothing_and_repeats_nothing() {
    let f = start(Sandbox::builder().snapshots(400).faults(Faults {
        changes_stop_after: Some(6),
        ..Faults::rotating(3, Position::Head)
    }));
    let before = f.sandbox.snapshot_ids(None);
    let mut items = f.client.list_snapshots().per_page(20).items();
    let ids: Vec<String> = items.by_ref().map(|i| i.expect("an item").id).collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an item came twice");
    let after: std::collections::HashSet<String> =
        f.sandbox.snapshot_ids(None).into_iter().collect();
    for id in before.iter().filter(|id| after.contains(*id)) {
        assert!(unique.contains(id), "{id} existed throughout and was lost");
    }
    assert!(items.summary().changed, "{:?}", items.summary());
}

#[test]
fn an_error_mid_listing_comes_after_the_items_before_it_then_the_iterator_ends() {
    let f = start(Sandbox::builder().snapshots(100).faults(Faults {
        total: TotalReport::NegativeAfterPage(2),
        ..Faults::default()
    }));
    let mut items = f
        .client
        .list_snapshots()
        .per_page(10)
        .concurrency(1)
        .items();
    let mut delivered = 0;
    let error = loop {
        match items.next() {
            Some(Ok(_)) => delivered += 1,
            Some(Err(e)) => break e,
            None => panic!("the walk ended without an error"),
        }
    };
    assert_eq!(delivered, 20, "pages 1 and 2, then the error");
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(items.next().is_none(), "nothing after the error");
    assert!(items.next().is_none(), "fused");
}

#[test]
fn dropping_the_iterator_stops_the_requests_in_flight() {
    let f = start(
        Sandbox::builder()
            .snapshots(2_000)
            .latency(Duration::from_millis(150)),
    );
    let mut items = f
        .client
        .list_snapshots()
        .per_page(10)
        .concurrency(8)
        .items();
    for _ in 0..5 {
        items.next().expect("an item").expect("not an error");
    }
    // Page 1 is in hand; the window of prefetched pages is on the wire
    // (each held 150 ms by the server). Walk away.
    drop(items);
    std::thread::sleep(Duration::from_millis(50));
    let at_drop = f.sandbox.stats().requests;
    assert!(
        at_drop <= 1 + 8,
        "{at_drop} requests: page 1 and one window"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        f.sandbox.stats().requests,
        at_drop,
        "no request after the drop"
    );
    assert_eq!(
        f.sandbox.stats().status(200),
        1,
        "the prefetched requests were cancelled, never answered"
    );
}

#[test]
fn the_token_stays_out_of_debug() {
    let f = start(Sandbox::builder().snapshots(1));
    let shown = format!("{:?}", f.client);
    assert!(!shown.contains(f.sandbox.token().unwrap()), "{shown}");
}

#[tokio::test]
async fn inside_an_async_runtime_it_errors_instead_of_blocking_or_panicking() {
    let client = Client::builder()
        .token(common::TOKEN)
        .base_url("http://127.0.0.1:9")
        .allow_insecure_http(true)
        .build_blocking()
        .expect("building is fine anywhere");
    let error = client.list_snapshots().collect_all().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error}");
    assert!(error.to_string().contains("async runtime"), "{error}");
    let mut items = client.list_snapshots().items();
    assert_eq!(items.next().unwrap().unwrap_err().kind(), ErrorKind::Config);
    assert!(items.next().is_none());
    // Dropping it here neither blocks nor panics.
    drop(client);
}

/// The blocking request types read as the async ones do.
#[test]
fn the_blocking_request_types_have_the_async_names() {
    let client = digitalocean_snapshots::Client::builder()
        .token("x")
        .build_blocking()
        .expect("a client");
    let _: digitalocean_snapshots::blocking::ListSnapshots = client.list_snapshots();
    let _: digitalocean_snapshots::blocking::ListDropletSnapshots =
        client.list_droplet_snapshots(1);
}
