//! Decoding of response bodies: the seeds, what the server may add, and
//! what a broken body reports.

mod common;

use common::{SEED_ALL_SNAPSHOTS, SEED_DROPLET_SNAPSHOTS, client};
use digitalocean_snapshots::{
    DropletSnapshot, ErrorKind, Page, ResourceType, Snapshot, SnapshotType,
};
use httpmock::MockServer;
use serde_json::json;

async fn snapshots_page(body: String) -> digitalocean_snapshots::Result<Page<Snapshot>> {
    let server = MockServer::start_async().await;
    server
        .mock_async(move |when, then| {
            when.path("/v2/snapshots");
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    client(&server).list_snapshots().send().await
}

async fn droplet_page(body: String) -> digitalocean_snapshots::Result<Page<DropletSnapshot>> {
    let server = MockServer::start_async().await;
    server
        .mock_async(move |when, then| {
            when.path("/v2/droplets/7/snapshots");
            then.status(200).body(body);
        })
        .await;
    client(&server).list_droplet_snapshots(7).send().await
}

fn snapshot_item() -> serde_json::Value {
    json!({
        "id": "6372321",
        "name": "web-01",
        "created_at": "2020-07-28T16:47:44Z",
        "regions": ["nyc3"],
        "resource_id": "200776916",
        "resource_type": "droplet",
        "min_disk_size": 25,
        "size_gigabytes": 2.34,
        "tags": ["web"]
    })
}

fn snapshots_body(items: Vec<serde_json::Value>) -> String {
    let total = items.len();
    json!({ "snapshots": items, "links": {}, "meta": { "total": total } }).to_string()
}

#[tokio::test]
async fn seed_account_payload_decodes_with_every_field() {
    let page = snapshots_page(SEED_ALL_SNAPSHOTS.to_owned()).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.links, Default::default());
    let [droplet, volume] = &page.items[..] else {
        panic!("two items expected, got {:?}", page.items)
    };
    assert_eq!(droplet.id, "6372321");
    assert_eq!(droplet.resource_id, "200776916");
    assert_eq!(droplet.resource_type, ResourceType::Droplet);
    assert_eq!(droplet.regions, ["nyc3", "sfo3"]);
    assert_eq!(droplet.min_disk_size, 25);
    assert_eq!(droplet.size_gigabytes, 2.34);
    assert_eq!(
        droplet.tags.as_deref(),
        Some(&["web".to_owned(), "env:prod".to_owned()][..])
    );
    assert_eq!(droplet.created_at.to_rfc3339(), "2020-07-28T16:47:44+00:00");
    assert_eq!(volume.id, "fbe805e8-866b-11e6-96bf-000f53315a41");
    assert_eq!(volume.resource_type, ResourceType::Volume);
    assert_eq!(volume.size_gigabytes, 0.1008);
}

#[tokio::test]
async fn seed_droplet_payload_decodes_with_an_integer_id() {
    let page = droplet_page(SEED_DROPLET_SNAPSHOTS.to_owned())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let item = &page.items[0];
    assert_eq!(item.id, 6372321);
    assert_eq!(item.name, "web-01-1595954862243");
    assert_eq!(item.snapshot_type, SnapshotType::Snapshot);
    assert_eq!(item.size_gigabytes, 2.34);
}

#[test]
fn size_gigabytes_round_trips_exactly_through_f64() {
    let seed: serde_json::Value = serde_json::from_str(SEED_ALL_SNAPSHOTS).unwrap();
    for item in seed["snapshots"].as_array().unwrap() {
        let snapshot: Snapshot = serde_json::from_value(item.clone()).unwrap();
        assert_eq!(serde_json::to_value(&snapshot).unwrap(), *item);
    }
    let snapshot: Snapshot =
        serde_json::from_str(&snapshot_item().to_string().replace("2.34", "0.1008")).unwrap();
    assert_eq!(snapshot.size_gigabytes.to_string(), "0.1008");
    assert_eq!(
        serde_json::to_string(&snapshot.size_gigabytes).unwrap(),
        "0.1008"
    );
}

#[tokio::test]
async fn unknown_fields_are_ignored_everywhere() {
    let mut item = snapshot_item();
    item["encrypted"] = json!(true);
    item["image"] = json!({ "nested": [1, 2, 3] });
    let body = json!({
        "snapshots": [item],
        "links": { "pages": { "next": "https://x/v2/snapshots?page=2", "extra": 1 }, "actions": [] },
        "meta": { "total": 3, "page_size": 1 },
        "debug": "yes"
    });
    let page = snapshots_page(body.to_string()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.total, 3);
    assert_eq!(
        page.links.next.as_deref(),
        Some("https://x/v2/snapshots?page=2")
    );
}

#[tokio::test]
async fn unknown_enum_values_are_kept_and_serialized_back_unchanged() {
    let mut item = snapshot_item();
    item["resource_type"] = json!("kubernetes_cluster");
    let page = snapshots_page(snapshots_body(vec![item.clone(), snapshot_item()]))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2, "one new value does not fail the page");
    assert_eq!(
        page.items[0].resource_type,
        ResourceType::Unknown("kubernetes_cluster".into())
    );
    assert!(!page.items[0].resource_type.is_known());
    assert_eq!(serde_json::to_value(&page.items[0]).unwrap(), item);

    let body = SEED_DROPLET_SNAPSHOTS.replace(r#""type": "snapshot""#, r#""type": "replica""#);
    let page = droplet_page(body).await.unwrap();
    assert_eq!(
        page.items[0].snapshot_type,
        SnapshotType::Unknown("replica".into())
    );
    assert_eq!(page.items[0].snapshot_type.to_string(), "replica");
    assert_eq!(
        serde_json::to_value(&page.items[0]).unwrap()["type"],
        "replica"
    );
}

#[tokio::test]
async fn null_or_missing_tags_are_none_and_null_serializes_back() {
    let mut null_tags = snapshot_item();
    null_tags["tags"] = serde_json::Value::Null;
    let mut no_tags = snapshot_item();
    no_tags.as_object_mut().unwrap().remove("tags");
    let page = snapshots_page(snapshots_body(vec![null_tags.clone(), no_tags]))
        .await
        .unwrap();
    assert_eq!(page.items[0].tags, None);
    assert_eq!(page.items[1].tags, None);
    assert_eq!(serde_json::to_value(&page.items[0]).unwrap(), null_tags);
}

#[tokio::test]
async fn missing_snapshots_key_is_an_empty_page_and_empty_links_are_fine() {
    let page = snapshots_page(r#"{"meta":{"total":0}}"#.to_owned())
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total, 0);
    assert!(page.is_last());
    let page = droplet_page(r#"{"links":{"pages":{}},"meta":{"total":0}}"#.to_owned())
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn a_wrong_type_is_a_decode_error_naming_the_field_path() {
    let mut second = snapshot_item();
    second["size_gigabytes"] = json!("2.34");
    let error = snapshots_page(snapshots_body(vec![snapshot_item(), second]))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    assert_eq!(error.status(), Some(200));
    let decode = error.decode_error().unwrap();
    assert_eq!(decode.path(), "snapshots[1].size_gigabytes");
    assert!(
        error.to_string().contains("snapshots[1].size_gigabytes"),
        "{error}"
    );
    assert!(
        decode.body_excerpt().contains(r#""snapshots""#),
        "{}",
        decode.body_excerpt()
    );

    // The account listing's string id where the droplet listing wants an integer.
    let body = SEED_DROPLET_SNAPSHOTS.replace("6372321", "\"6372321\"");
    let error = droplet_page(body).await.unwrap_err();
    assert_eq!(error.decode_error().unwrap().path(), "snapshots[0].id");
}

#[tokio::test]
async fn a_missing_required_field_is_a_decode_error_naming_it() {
    // Every field but the nullable `tags`.
    for &field in &common::SNAPSHOT_FIELDS[..8] {
        let mut item = snapshot_item();
        item.as_object_mut().unwrap().remove(field);
        let error = snapshots_page(snapshots_body(vec![item]))
            .await
            .unwrap_err();
        let decode = error
            .decode_error()
            .unwrap_or_else(|| panic!("{field}: {error}"));
        assert_eq!(decode.path(), "snapshots[0]", "{field}");
        assert!(
            decode.message().contains(field),
            "{field}: {}",
            decode.message()
        );
    }
    let error = snapshots_page(r#"{"snapshots":[]}"#.to_owned())
        .await
        .unwrap_err();
    assert!(
        error.decode_error().unwrap().message().contains("meta"),
        "{error}"
    );
}

#[tokio::test]
async fn broken_json_and_bad_dates_are_decode_errors() {
    for body in [
        "",
        "not json",
        r#"{"snapshots": [ {"id": "1""#,
        r#"{"meta":{"total":1}} trailing"#,
        r#"{"meta":{"total":1.5}}"#,
    ] {
        let error = snapshots_page(body.to_owned()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode, "{body:?}: {error}");
    }
    // Upstream allows a negative total: not a decode error, a listing that
    // does not add up.
    let error = snapshots_page(r#"{"meta":{"total":-1}}"#.to_owned())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    let mut item = snapshot_item();
    item["created_at"] = json!("yesterday");
    let error = snapshots_page(snapshots_body(vec![item]))
        .await
        .unwrap_err();
    assert_eq!(
        error.decode_error().unwrap().path(),
        "snapshots[0].created_at"
    );
}

/// Names and regions a terminal or spreadsheet would act on arrive
/// exactly as the server sent them: the SDK never alters data (the report
/// escapes them when it prints; see its tests).
#[tokio::test]
async fn hostile_names_decode_exactly() {
    let sandbox = digitalocean_sandbox::Sandbox::builder()
        .snapshots(20)
        .hostile_names(true)
        .start()
        .await
        .expect("sandbox");
    let client = common::sandbox_client(&sandbox);
    let items = client.list_snapshots().collect_all().await.expect("all");
    let names: Vec<&str> = items.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"invoice\u{202e}fdp.exe"), "{names:?}");
    assert!(names.contains(&"db\rforged: 0 snapshots, 0.00 GB billable"));
    assert!(names.iter().any(|n| n.starts_with('=')));
    assert!(items[0].regions.iter().any(|r| r.contains('\u{1b}')));
}
