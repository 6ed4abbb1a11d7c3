//! Answers that contradict their request, server text that would flood a
//! terminal, and credentials or resources that vanish mid-walk: each
//! class against a server that does it on purpose (the sandbox's faults),
//! and what the user sees.

mod common;

use digitalocean_sandbox::{Faults, RateLimits, Sandbox};
use digitalocean_snapshots::{ErrorKind, ResourceType, RetryPolicy};
use futures_util::StreamExt;

async fn start(faults: Faults) -> Sandbox {
    Sandbox::builder()
        .snapshots(900)
        .droplet(7, 500, 100)
        .faults(faults)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox")
}

#[tokio::test]
async fn a_server_that_ignores_the_filter_is_never_read_as_the_volume_listing() {
    let sandbox = start(Faults {
        ignore_resource_type: true,
        ..Faults::default()
    })
    .await;
    let client = common::sandbox_client(&sandbox);
    let mut items = client
        .list_snapshots()
        .resource_type(ResourceType::Volume)
        .items();
    let mut delivered = Vec::new();
    let error = loop {
        match items.next().await {
            Some(Ok(item)) => delivered.push(item),
            Some(Err(e)) => break e,
            None => panic!("a listing with droplet snapshots ended Ok as the volume listing"),
        }
    };
    assert!(
        delivered
            .iter()
            .all(|s| s.resource_type == ResourceType::Volume),
        "a foreign item was delivered"
    );
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    let text = error.to_string();
    assert!(
        text.contains("ignored the filter") && text.contains("resource_type=volume"),
        "{text}"
    );
    // One page, as `send` asks for it, is refused the same way (the
    // sandbox lists droplet snapshots first: its first page holds no
    // volume snapshot).
    let page = client
        .list_snapshots()
        .resource_type(ResourceType::Volume)
        .send()
        .await;
    assert_eq!(
        page.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::Inconsistent)
    );
}

#[tokio::test]
async fn a_page_larger_than_asked_contradicts_the_request() {
    let server = httpmock::MockServer::start_async().await;
    let items: Vec<serde_json::Value> = (0..30)
        .map(|i| {
            serde_json::json!({
                "id": i.to_string(), "name": "web", "created_at": "2026-01-01T00:00:00Z",
                "regions": ["nyc1"], "resource_id": "1", "resource_type": "droplet",
                "min_disk_size": 20, "size_gigabytes": 1.5, "tags": null
            })
        })
        .collect();
    server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(200).json_body(serde_json::json!({
                "snapshots": items, "links": {}, "meta": {"total": 30}
            }));
        })
        .await;
    let client = common::client(&server);
    let error = client
        .list_snapshots()
        .per_page(20)
        .send()
        .await
        .expect_err("30 items for per_page=20");
    assert_eq!(error.kind(), ErrorKind::Inconsistent);
    assert!(error.to_string().contains("per_page=20"), "{error}");
}

#[tokio::test]
async fn a_stack_trace_in_a_message_is_shown_as_one_bounded_line() {
    let sandbox = start(Faults {
        every_kth_500: Some(1),
        long_500_message: Some(4_900),
        ..Faults::default()
    })
    .await;
    let client = digitalocean_snapshots::Client::builder()
        .token(sandbox.token().unwrap_or_default())
        .base_url(sandbox.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let error = client.list_snapshots().send().await.expect_err("a 500");
    let text = error.to_string();
    assert!(!text.contains('\n') && !text.contains('\t'), "{text}");
    assert!(
        text.chars().count() < 600,
        "{} characters",
        text.chars().count()
    );
    assert!(text.contains("more characters)"), "{text}");
    // The accessor keeps what the server said, whole.
    assert_eq!(error.message().map(str::len), Some(4_900));
}

#[tokio::test]
async fn a_token_revoked_mid_walk_says_how_far_the_walk_got_and_where_to_resume() {
    let sandbox = start(Faults {
        revoke_token_after: Some(3),
        ..Faults::default()
    })
    .await;
    let client = common::sandbox_client(&sandbox);
    let mut pages = client.list_snapshots().per_page(100).concurrency(1).pages();
    let mut delivered = 0;
    let error = loop {
        match pages.next().await {
            Some(Ok(page)) => delivered += page.items.len() as u64,
            Some(Err(e)) => break e,
            None => panic!("a revoked token ended the walk Ok"),
        }
    };
    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(delivered, 300);
    assert_eq!(error.items_delivered(), Some(300));
    assert_eq!(error.resume_page(), Some(4));
    assert!(
        error
            .to_string()
            .contains("300 items were delivered before this; resume from page 4"),
        "{error}"
    );
}

#[tokio::test]
async fn a_droplet_destroyed_mid_walk_says_how_far_the_walk_got_and_where_to_resume() {
    let sandbox = start(Faults {
        droplets_gone_after: Some(2),
        ..Faults::default()
    })
    .await;
    let client = common::sandbox_client(&sandbox);
    let mut items = client
        .list_droplet_snapshots(7)
        .per_page(100)
        .concurrency(1)
        .items();
    let mut delivered = 0u64;
    let error = loop {
        match items.next().await {
            Some(Ok(_)) => delivered += 1,
            Some(Err(e)) => break e,
            None => panic!("a destroyed droplet ended the walk Ok"),
        }
    };
    assert!(error.is_not_found(), "{error}");
    assert_eq!((delivered, error.resume_page()), (200, Some(3)));
}
