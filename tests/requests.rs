//! The exact shape of the requests, and the checks that keep bad input from
//! being sent at all.

mod common;

use common::{RATE_HEADERS, SEED_ALL_SNAPSHOTS, SEED_DROPLET_SNAPSHOTS, TOKEN, client};
use digitalocean_snapshots::{ErrorKind, ResourceType, SnapshotType};
use httpmock::MockServer;

#[tokio::test]
async fn droplet_snapshots_request_has_path_query_auth_and_accept() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v2/droplets/3164444/snapshots")
                .query_param("page", "2")
                .query_param("per_page", "5")
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("accept", "application/json")
                .header_exists("user-agent")
                // Progenitor's own header, which the API does not document.
                .header_missing("api-version");
            then.status(200)
                .header("content-type", "application/json")
                .header(RATE_HEADERS[0].0, RATE_HEADERS[0].1)
                .header(RATE_HEADERS[1].0, RATE_HEADERS[1].1)
                .header(RATE_HEADERS[2].0, RATE_HEADERS[2].1)
                .body(SEED_DROPLET_SNAPSHOTS);
        })
        .await;

    let page = client(&server)
        .list_droplet_snapshots(3164444)
        .page(2)
        .per_page(5)
        .send()
        .await
        .expect("page");

    mock.assert_calls_async(1).await;
    assert_eq!(page.page, 2);
    assert_eq!(page.per_page, 5);
    assert_eq!(page.total, 1);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, 6372321);
    assert_eq!(page.items[0].snapshot_type, SnapshotType::Snapshot);
    let rate = page.rate_limit.expect("rate-limit headers");
    assert_eq!((rate.limit, rate.remaining), (5000, 4816));
    assert_eq!(rate.reset.timestamp(), 1444931833);
    // The seed's links point at /v2/images: kept as sent, for the caller to see.
    assert_eq!(
        page.links.next.as_deref(),
        Some("https://api.digitalocean.com/v2/images?page=2")
    );
}

#[tokio::test]
async fn snapshots_request_sends_only_the_parameters_given() {
    let server = MockServer::start_async().await;
    let bare = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v2/snapshots")
                .query_param_missing("page")
                .query_param_missing("per_page")
                .query_param_missing("resource_type")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).body(SEED_ALL_SNAPSHOTS);
        })
        .await;
    let filtered = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v2/snapshots")
                .query_param("resource_type", "volume")
                .query_param("per_page", "200")
                .query_param_missing("page");
            then.status(200).json_body(volumes_only());
        })
        .await;
    let client = client(&server);

    let page = client.list_snapshots().send().await.expect("bare page");
    assert_eq!((page.page, page.per_page, page.total), (1, 20, 2));
    assert_eq!(page.rate_limit, None, "no headers, no rate limit");
    client
        .list_snapshots()
        .resource_type(ResourceType::Volume)
        .per_page(200)
        .send()
        .await
        .expect("filtered page");

    bare.assert_calls_async(1).await;
    filtered.assert_calls_async(1).await;
}

#[tokio::test]
async fn base_url_with_a_path_prefix_is_kept() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/proxy/do/v2/snapshots");
            then.status(200).body(SEED_ALL_SNAPSHOTS);
        })
        .await;
    let client = digitalocean_snapshots::Client::builder()
        .token(TOKEN)
        .base_url(format!("{}/proxy/do/", server.base_url()))
        .build()
        .unwrap();
    client.list_snapshots().send().await.expect("page");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_parameters_are_rejected_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(SEED_ALL_SNAPSHOTS);
        })
        .await;
    let client = client(&server);

    let cases = [
        (
            client.list_droplet_snapshots(0).send().await.unwrap_err(),
            "droplet_id",
        ),
        (
            client
                .list_droplet_snapshots(1)
                .page(0)
                .send()
                .await
                .unwrap_err(),
            "page",
        ),
        (
            client
                .list_droplet_snapshots(1)
                .per_page(0)
                .send()
                .await
                .unwrap_err(),
            "per_page",
        ),
        (
            client
                .list_droplet_snapshots(1)
                .per_page(201)
                .send()
                .await
                .unwrap_err(),
            "per_page",
        ),
        (
            client.list_snapshots().page(0).send().await.unwrap_err(),
            "page",
        ),
        (
            client
                .list_snapshots()
                .per_page(0)
                .send()
                .await
                .unwrap_err(),
            "per_page",
        ),
        (
            client
                .list_snapshots()
                .per_page(1000)
                .send()
                .await
                .unwrap_err(),
            "per_page",
        ),
        (
            client
                .list_snapshots()
                .resource_type(ResourceType::from("kubernetes"))
                .send()
                .await
                .unwrap_err(),
            "resource_type",
        ),
    ];
    for (error, field) in &cases {
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert_eq!(error.invalid_field(), Some(*field), "{error}");
        let text = error.to_string();
        assert!(text.contains(field), "the message names the field: {text}");
        assert_eq!(error.status(), None);
    }
    assert!(cases[3].0.to_string().contains("1..=200"), "{}", cases[3].0);
    assert!(
        cases[7].0.to_string().contains("droplet, volume"),
        "{}",
        cases[7].0
    );
    assert_eq!(any.calls_async().await, 0, "nothing reached the server");

    // The limits themselves are accepted.
    // (The answer holds two items where one was asked: the request was
    // sent, and the answer refused as a contradiction.)
    let one = client.list_snapshots().page(1).per_page(1).send().await;
    assert!(one.is_ok_or_sent(), "{one:?}");
    client.list_snapshots().per_page(200).send().await.unwrap();
    client.list_droplet_snapshots(1).send().await.unwrap_err(); // wrong body shape, but sent
    assert_eq!(any.calls_async().await, 3);
}

/// The seed page with only its volume snapshots, as a server that honours
/// `resource_type=volume` answers.
fn volumes_only() -> serde_json::Value {
    let mut page: serde_json::Value = serde_json::from_str(SEED_ALL_SNAPSHOTS).unwrap();
    let volumes: Vec<serde_json::Value> = page["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["resource_type"] == "volume")
        .cloned()
        .collect();
    page["meta"]["total"] = volumes.len().into();
    page["snapshots"] = volumes.into();
    page
}

/// A request that was sent: an answer, or an error about the answer
/// (never one about the input).
trait SentExt {
    fn is_ok_or_sent(&self) -> bool;
}

impl<T> SentExt for digitalocean_snapshots::Result<T> {
    fn is_ok_or_sent(&self) -> bool {
        self.as_ref().err().is_none_or(|e| !e.is_invalid_input())
    }
}
