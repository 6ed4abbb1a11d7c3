//! Pagination arithmetic: totals, page contents and links at the edges.

mod common;

use std::collections::HashSet;

use common::get;
use digitalocean_sandbox::{DEFAULT_TOKEN, RateLimits, Sandbox};
use serde_json::Value;

const TOKEN: Option<&str> = Some(DEFAULT_TOKEN);

/// Walks a listing page by page, checking each page's links, and returns
/// the ids in order.
async fn walk(base: &str, path: &str, per_page: u64, total: u64) -> Vec<String> {
    let pages = total.div_ceil(per_page).max(1);
    let mut ids = Vec::new();
    for page in 1..=pages {
        let answer = get(
            base,
            &format!("{path}?page={page}&per_page={per_page}"),
            TOKEN,
        )
        .await;
        assert_eq!(answer.status, 200);
        let body = answer.json();
        assert_eq!(body["meta"]["total"], total, "page {page}");
        let items = body["snapshots"].as_array().unwrap();
        let expected = if page < pages {
            per_page
        } else {
            total - per_page * (pages - 1)
        };
        assert_eq!(items.len() as u64, expected, "page {page} of {pages}");
        let links = &body["links"];
        let link = |name: &str| links["pages"][name].as_str().map(str::to_owned);
        if pages == 1 {
            assert_eq!(*links, serde_json::json!({}), "a single page has no links");
        }
        if page < pages {
            assert_eq!(
                link("next"),
                Some(format!(
                    "{base}{path}?page={}&per_page={per_page}",
                    page + 1
                ))
            );
            assert_eq!(
                link("last"),
                Some(format!("{base}{path}?page={pages}&per_page={per_page}"))
            );
        } else {
            assert_eq!(
                (link("next"), link("last")),
                (None, None),
                "the last page has no next/last"
            );
        }
        if page > 1 {
            assert_eq!(
                link("first"),
                Some(format!("{base}{path}?page=1&per_page={per_page}"))
            );
            assert_eq!(
                link("prev"),
                Some(format!(
                    "{base}{path}?page={}&per_page={per_page}",
                    page - 1
                ))
            );
        } else {
            assert_eq!((link("first"), link("prev")), (None, None));
        }
        ids.extend(items.iter().map(|i| match &i["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    ids
}

#[tokio::test]
async fn snapshots_listing_at_the_edges_of_a_page() {
    for count in [0usize, 1, 199, 200, 201, 10_000] {
        let sandbox = Sandbox::builder()
            .snapshots(count)
            .seed(count as u64)
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .unwrap();
        for per_page in [200, 7] {
            if count == 10_000 && per_page == 7 {
                continue; // 1,429 requests add nothing the other sizes do not show
            }
            let ids = walk(sandbox.base_url(), "/v2/snapshots", per_page, count as u64).await;
            assert_eq!(ids.len(), count, "{count} items at per_page {per_page}");
            assert_eq!(
                ids.iter().collect::<HashSet<_>>().len(),
                count,
                "ids are unique"
            );
            assert_eq!(ids, sandbox.snapshot_ids(None), "in listing order");
        }
    }
}

#[tokio::test]
async fn droplet_listing_at_the_edges_of_a_page() {
    let sandbox = Sandbox::builder()
        .snapshots(0)
        .droplet(1, 0, 0)
        .droplet(2, 1, 0)
        .droplet(3, 150, 49)
        .droplet(4, 200, 0)
        .droplet(5, 180, 21)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .unwrap();
    for (droplet, total) in [(1u64, 0u64), (2, 1), (3, 199), (4, 200), (5, 201)] {
        let path = format!("/v2/droplets/{droplet}/snapshots");
        let ids = walk(sandbox.base_url(), &path, 200, total).await;
        let expected: Vec<String> = sandbox
            .droplet_snapshot_ids(droplet)
            .unwrap()
            .iter()
            .map(u64::to_string)
            .collect();
        assert_eq!(ids, expected, "droplet {droplet}");
    }
    // Snapshots of fixed droplets are in the account listing; backups are not.
    assert_eq!(sandbox.snapshot_ids(None).len(), 1 + 150 + 200 + 180);
}

#[tokio::test]
async fn a_page_past_the_end_is_empty_with_the_right_total() {
    let sandbox = Sandbox::builder().snapshots(30).start().await.unwrap();
    let body = get(
        sandbox.base_url(),
        "/v2/snapshots?page=5&per_page=10",
        TOKEN,
    )
    .await
    .json();
    assert_eq!(body["snapshots"], serde_json::json!([]));
    assert_eq!(body["meta"]["total"], 30);
    assert!(body["links"]["pages"].get("next").is_none());
    let body = get(
        sandbox.base_url(),
        &format!("/v2/snapshots?page={}", u64::MAX),
        TOKEN,
    )
    .await
    .json();
    assert_eq!(body["snapshots"], serde_json::json!([]));
}

#[tokio::test]
async fn resource_type_filters_and_its_links_keep_the_filter() {
    let sandbox = Sandbox::builder().snapshots(300).start().await.unwrap();
    let mut seen = 0;
    for kind in ["droplet", "volume"] {
        let expected = sandbox.snapshot_ids(Some(kind));
        assert!(!expected.is_empty());
        seen += expected.len();
        let body = get(
            sandbox.base_url(),
            &format!("/v2/snapshots?resource_type={kind}&per_page=20"),
            TOKEN,
        )
        .await
        .json();
        assert_eq!(body["meta"]["total"], expected.len());
        for item in body["snapshots"].as_array().unwrap() {
            assert_eq!(item["resource_type"], kind);
        }
        let next = body["links"]["pages"]["next"].as_str().unwrap();
        assert!(next.ends_with(&format!("&resource_type={kind}")), "{next}");
    }
    assert_eq!(seen, 300);
}

#[tokio::test]
async fn unknown_droplets_are_not_found() {
    let sandbox = Sandbox::builder().droplet(42, 1, 1).start().await.unwrap();
    for path in [
        "/v2/droplets/43/snapshots",
        "/v2/droplets/abc/snapshots",
        "/v2/volumes",
        "/v2/droplets/42",
    ] {
        let answer = get(sandbox.base_url(), path, TOKEN).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.json()["id"], "not_found");
    }
}
