//! Snapshots of the user's choosing, served beside the generated ones and
//! placed by the order; what the sandbox holds, handed back whole and
//! equal to a full paged read.

mod common;

use std::collections::HashMap;
use std::io::ErrorKind;

use common::{read_all, read_pages};
use digitalocean_sandbox::{DEFAULT_TOKEN, Order, RateLimits, Sandbox};
use serde::Serialize;
use serde_json::{Value, json};

const TOKEN: Option<&str> = Some(DEFAULT_TOKEN);

const ORDERS: [Order; 4] = [
    Order::Realistic,
    Order::CreatedAt,
    Order::IdString,
    Order::Random,
];

/// An account snapshot as a client's own type would serialize it: its
/// fields in its own order, one the API does not have.
#[derive(Serialize)]
struct MySnapshot {
    tags: Option<Vec<String>>,
    id: String,
    created_at: String,
    name: String,
    resource_type: String,
    resource_id: String,
    regions: Vec<String>,
    min_disk_size: u64,
    size_gigabytes: f64,
    note: &'static str,
}

fn mine(id: &str, created_at: &str) -> MySnapshot {
    MySnapshot {
        tags: None,
        id: id.to_owned(),
        created_at: created_at.to_owned(),
        name: format!("mine-{id}"),
        resource_type: "droplet".to_owned(),
        resource_id: "200776916".to_owned(),
        regions: vec!["nyc3".to_owned()],
        min_disk_size: 25,
        size_gigabytes: 0.1008,
        note: "not in the API",
    }
}

fn account(id: &str, created_at: &str, resource_type: &str) -> Value {
    json!({
        "id": id,
        "name": format!("chosen-{id}"),
        "created_at": created_at,
        "regions": ["ams3"],
        "resource_id": "89bcc42f-85cf-11e6-a004-000f53315871",
        "resource_type": resource_type,
        "min_disk_size": 2,
        "size_gigabytes": 41.57,
        "tags": ["k8s"],
    })
}

fn droplet_item(id: u64, created_at: &str, kind: &str) -> Value {
    json!({
        "id": id,
        "name": format!("web-01-{id}"),
        "created_at": created_at,
        "regions": ["nyc3", "sfo3"],
        "min_disk_size": 25,
        "size_gigabytes": 2.34,
        "type": kind,
    })
}

fn id(item: &Value) -> String {
    match &item["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn created(item: &Value) -> &str {
    item["created_at"].as_str().unwrap_or_default()
}

fn sorted<T: PartialOrd>(values: &[T]) -> bool {
    values.windows(2).all(|w| w[0] <= w[1])
}

#[tokio::test]
async fn chosen_snapshots_are_served_byte_for_byte_beside_the_generated_ones() {
    let typed = mine("6372321", "2020-07-28T16:47:44Z");
    let loose = account(
        "fbe805e8-866b-11e6-96bf-000f53315a41",
        "2019-09-28T23:14:30Z",
        "volume",
    );
    let sandbox = Sandbox::builder()
        .snapshots(50)
        .with_snapshots([&typed])
        .with_snapshots(vec![loose.clone()])
        .start()
        .await
        .unwrap();
    let pages = read_pages(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
    assert_eq!(pages.len(), 1);
    let body = &pages[0].body;
    // Exactly as serialized: the type's own field order, its extra field,
    // its null tags, its size's decimals.
    for text in [
        serde_json::to_string(&typed).unwrap(),
        serde_json::to_string(&loose).unwrap(),
    ] {
        assert!(body.contains(&text), "{text} not served as is in {body}");
    }
    let items = pages[0].json()["snapshots"].as_array().unwrap().clone();
    assert_eq!(items.len(), 52);
    assert_eq!(pages[0].json()["meta"]["total"], 52);
    assert_eq!(sandbox.snapshot_ids(None).len(), 52);
    // The filter sees their resource_type.
    assert!(sandbox.snapshot_ids(Some("droplet")).contains(&typed.id));
    assert!(!sandbox.snapshot_ids(Some("volume")).contains(&typed.id));
    assert!(sandbox.snapshot_ids(Some("volume")).contains(&id(&loose)));
}

#[tokio::test]
async fn snapshots_zero_serves_only_the_chosen_ones_in_the_order() {
    let chosen = [
        account("b-vol", "2021-01-01T00:00:00Z", "volume"),
        account("300", "2022-01-01T00:00:00Z", "droplet"),
        account("a-vol", "2023-01-01T00:00:00Z", "volume"),
        account("100", "2020-01-01T00:00:00Z", "droplet"),
    ];
    let expected = |order: Order| -> Vec<&str> {
        match order {
            // Droplet snapshots oldest first, then volume snapshots by id.
            Order::Realistic => vec!["100", "300", "a-vol", "b-vol"],
            Order::CreatedAt => vec!["100", "b-vol", "300", "a-vol"],
            Order::IdString => vec!["100", "300", "a-vol", "b-vol"],
            _ => vec![],
        }
    };
    for order in ORDERS {
        let sandbox = Sandbox::builder()
            .snapshots(0)
            .order(order)
            .with_snapshots(chosen.iter())
            .start()
            .await
            .unwrap();
        let items = read_all(sandbox.base_url(), "/v2/snapshots?per_page=3", TOKEN).await;
        let mut ids: Vec<String> = items.iter().map(id).collect();
        if order == Order::Random {
            ids.sort();
            assert_eq!(ids, ["100", "300", "a-vol", "b-vol"]);
        } else {
            assert_eq!(ids, expected(order), "{order:?}");
        }
        // Each served as given.
        for item in &items {
            assert!(chosen.contains(item), "{item}");
        }
    }
}

#[tokio::test]
async fn chosen_snapshots_are_placed_among_the_generated_ones_by_the_order() {
    let oldest = account("1", "2001-01-01T00:00:00Z", "droplet");
    let newest = account("99999999999", "2031-01-01T00:00:00Z", "droplet");
    let volume = account(
        "00000000-0000-1000-8000-000000000000",
        "2025-01-01T00:00:00Z",
        "volume",
    );
    for order in ORDERS {
        let sandbox = Sandbox::builder()
            .snapshots(300)
            .seed(4)
            .order(order)
            .rate_limits(RateLimits::unlimited())
            .with_snapshots([&newest, &oldest, &volume])
            .start()
            .await
            .unwrap();
        let items = read_all(sandbox.base_url(), "/v2/snapshots?per_page=45", TOKEN).await;
        assert_eq!(items.len(), 303, "{order:?}");
        let at = |wanted: &Value| items.iter().position(|i| i == wanted).expect("listed");
        let dates: Vec<&str> = items.iter().map(created).collect();
        let ids: Vec<String> = items.iter().map(id).collect();
        match order {
            Order::CreatedAt => {
                assert!(sorted(&dates), "oldest first, chosen ones included");
                assert_eq!(at(&oldest), 0);
                assert_eq!(at(&newest), 302);
            }
            Order::IdString => {
                assert!(sorted(&ids), "by id, chosen ones included");
                assert_eq!(at(&volume), 0);
                let below = ids.iter().filter(|i| i.as_str() < "1").count();
                assert_eq!(at(&oldest), below);
            }
            Order::Realistic => {
                let split = items
                    .iter()
                    .position(|i| i["resource_type"] == "volume")
                    .unwrap();
                assert!(sorted(&dates[..split]));
                assert!(sorted(&ids[split..]));
                assert_eq!(at(&oldest), 0);
                assert_eq!(at(&newest), split - 1, "last of the droplet snapshots");
                assert_eq!(at(&volume), split, "first volume snapshot by id");
            }
            _ => {
                assert!(!sorted(&dates));
            }
        }
        // Every query serves them in the same place.
        let again = read_all(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
        assert_eq!(again, items, "{order:?}");
    }
}

#[tokio::test]
async fn generated_snapshots_keep_their_places_when_snapshots_are_chosen() {
    for order in ORDERS {
        let plain = Sandbox::builder()
            .snapshots(200)
            .order(order)
            .droplet(7, 5, 2)
            .start()
            .await
            .unwrap();
        let with_chosen = Sandbox::builder()
            .snapshots(200)
            .order(order)
            .droplet(7, 5, 2)
            .with_snapshots([account("1", "2022-02-02T00:00:00Z", "droplet")])
            .with_droplet_snapshots(7, [droplet_item(2, "2022-02-02T00:00:00Z", "snapshot")])
            .start()
            .await
            .unwrap();
        let chosen = ["1".to_owned(), "2".to_owned()];
        let generated: Vec<Value> = with_chosen
            .snapshots(None)
            .into_iter()
            .filter(|item| !chosen.contains(&id(item)))
            .collect();
        assert_eq!(generated, plain.snapshots(None), "{order:?}");
        let droplet: Vec<Value> = with_chosen
            .droplet_snapshots(7)
            .unwrap()
            .into_iter()
            .filter(|item| item["id"] != 2)
            .collect();
        assert_eq!(Some(droplet), plain.droplet_snapshots(7), "{order:?}");
    }
}

#[tokio::test]
async fn a_chosen_snapshot_without_a_readable_date_or_id_is_served_and_placed_first() {
    let no_id =
        json!({"name": "no id", "created_at": "2024-01-01T00:00:00Z", "resource_type": "droplet"});
    let bad_date = json!({"id": "5", "created_at": "yesterday", "resource_type": "droplet"});
    let no_type = json!({"id": "6", "created_at": "2024-01-01T00:00:00Z"});
    for order in [Order::CreatedAt, Order::IdString, Order::Realistic] {
        let sandbox = Sandbox::builder()
            .snapshots(40)
            .order(order)
            .with_snapshots([&no_type, &no_id, &bad_date])
            .start()
            .await
            .unwrap();
        let items = read_all(sandbox.base_url(), "/v2/snapshots?per_page=7", TOKEN).await;
        assert_eq!(items.len(), 43);
        assert!(items.contains(&no_id) && items.contains(&bad_date) && items.contains(&no_type));
        match order {
            // Dated as the Unix epoch: before every dated snapshot.
            Order::CreatedAt | Order::Realistic => assert_eq!(items[0], bad_date, "{order:?}"),
            // An empty id: before every other id.
            _ => assert_eq!(items[0], no_id),
        }
        // Without a resource_type, only in the unfiltered listing.
        let droplets = read_all(
            sandbox.base_url(),
            "/v2/snapshots?per_page=200&resource_type=droplet",
            TOKEN,
        )
        .await;
        assert!(droplets.contains(&no_id) && droplets.contains(&bad_date));
        assert!(!droplets.contains(&no_type));
        assert_eq!(sandbox.snapshots(Some("droplet")), droplets);
    }
}

#[tokio::test]
async fn chosen_droplet_snapshots_are_listed_under_the_droplet_and_in_the_account() {
    let snapshot = droplet_item(6372321, "2020-07-28T16:47:44Z", "snapshot");
    let backup = droplet_item(7938206, "2021-02-01T04:12:09Z", "backup");
    let tagged = json!({
        "type": "snapshot", "id": 6372400, "name": "tagged", "created_at": "2019-05-05T05:05:05Z",
        "regions": [], "min_disk_size": 50, "size_gigabytes": 12.07, "tags": ["web"], "x": 1,
    });
    let sandbox = Sandbox::builder()
        .snapshots(0)
        .droplet(7, 2, 1)
        .with_droplet_snapshots(3164444, [&backup, &snapshot])
        .with_droplet_snapshots(7, [&tagged])
        .start()
        .await
        .unwrap();
    assert!(sandbox.droplet_ids().contains(&3164444), "made");

    let pages = read_pages(
        sandbox.base_url(),
        "/v2/droplets/3164444/snapshots?per_page=1",
        TOKEN,
    )
    .await;
    assert_eq!(pages.len(), 2);
    // Oldest first, each byte for byte as given.
    for (page, item) in pages.iter().zip([&snapshot, &backup]) {
        let text = serde_json::to_string(item).unwrap();
        assert!(page.body.contains(&text), "{}", page.body);
    }
    assert_eq!(
        sandbox.droplet_snapshots(3164444),
        Some(vec![snapshot.clone(), backup.clone()])
    );
    assert_eq!(
        sandbox.droplet_snapshot_ids(3164444),
        Some(vec![6372321, 7938206])
    );
    // Beside the droplet's generated ones.
    assert_eq!(sandbox.droplet_snapshots(7).map(|s| s.len()), Some(4));

    // The account lists the snapshots, not the backup, as the API shows
    // them there.
    let account = read_all(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
    let expected_tagged = json!({
        "id": "6372400", "name": "tagged", "created_at": "2019-05-05T05:05:05Z", "regions": [],
        "resource_id": "7", "resource_type": "droplet", "min_disk_size": 50,
        "size_gigabytes": 12.07, "tags": ["web"],
    });
    let expected_snapshot = json!({
        "id": "6372321", "name": "web-01-6372321", "created_at": "2020-07-28T16:47:44Z",
        "regions": ["nyc3", "sfo3"], "resource_id": "3164444", "resource_type": "droplet",
        "min_disk_size": 25, "size_gigabytes": 2.34, "tags": [],
    });
    assert!(account.contains(&expected_tagged), "{account:?}");
    assert!(account.contains(&expected_snapshot), "{account:?}");
    assert!(!account.iter().any(|item| id(item) == "7938206"));
    // Two generated snapshots of droplet 7, and the two chosen ones.
    assert_eq!(account.len(), 4);
    assert_eq!(sandbox.snapshots(Some("droplet")), account);
}

/// A type serde_json cannot serialize: a map whose keys are not strings.
fn unserializable() -> HashMap<(u8, u8), u8> {
    HashMap::from([((1, 2), 3)])
}

#[tokio::test]
async fn start_fails_clearly_on_items_it_cannot_serve() {
    let fails = |builder: digitalocean_sandbox::SandboxBuilder, names: &'static [&str]| async move {
        let error = builder.start().await.expect_err("must not start");
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        let message = error.to_string();
        for name in names {
            assert!(message.contains(name), "{message:?} does not name {name:?}");
        }
    };
    fails(
        Sandbox::builder()
            .with_snapshots([account("1", "2020-01-01T00:00:00Z", "droplet")])
            .with_snapshots([unserializable()]),
        &["with_snapshots item 1", "serialized"],
    )
    .await;
    fails(
        Sandbox::builder().with_snapshots([json!({"id": "1"}), json!(42)]),
        &["with_snapshots item 1", "not a JSON object", "42"],
    )
    .await;
    fails(
        Sandbox::builder().with_snapshots(["a string"]),
        &["with_snapshots item 0", "not a JSON object"],
    )
    .await;
    fails(
        Sandbox::builder()
            .with_snapshots([json!({"id": "7"}), json!({"id": "8"})])
            .with_snapshots([json!({"id": "7"})]),
        &["with_snapshots item 2", "with_snapshots item 0", "\"7\""],
    )
    .await;
    fails(
        Sandbox::builder().with_droplet_snapshots(9, [json!(null)]),
        &["with_droplet_snapshots(9) item 0", "not a JSON object"],
    )
    .await;
    fails(
        Sandbox::builder().with_droplet_snapshots(9, [unserializable()]),
        &["with_droplet_snapshots(9) item 0", "serialized"],
    )
    .await;
    // One image under two droplets.
    fails(
        Sandbox::builder()
            .with_droplet_snapshots(9, [droplet_item(5, "2020-01-01T00:00:00Z", "backup")])
            .with_droplet_snapshots(10, [droplet_item(5, "2020-01-01T00:00:00Z", "backup")]),
        &[
            "with_droplet_snapshots(10) item 0",
            "with_droplet_snapshots(9) item 0",
        ],
    )
    .await;
    // A droplet's snapshot meets the account's ids as a string.
    fails(
        Sandbox::builder()
            .with_snapshots([account("5", "2020-01-01T00:00:00Z", "droplet")])
            .with_droplet_snapshots(9, [droplet_item(5, "2020-01-01T00:00:00Z", "snapshot")]),
        &["with_droplet_snapshots(9) item 0", "with_snapshots item 0"],
    )
    .await;
    // A backup is not listed there: no clash.
    let sandbox = Sandbox::builder()
        .with_snapshots([account("5", "2020-01-01T00:00:00Z", "droplet")])
        .with_droplet_snapshots(9, [droplet_item(5, "2020-01-01T00:00:00Z", "backup")])
        .start()
        .await
        .unwrap();
    assert_eq!(
        sandbox
            .snapshot_ids(None)
            .iter()
            .filter(|i| *i == "5")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_full_paged_read_equals_what_the_sandbox_holds() {
    for order in ORDERS {
        let sandbox = Sandbox::builder()
            .snapshots(450)
            .seed(11)
            .order(order)
            .droplet(7, 30, 12)
            .rate_limits(RateLimits::unlimited())
            .with_snapshots([account("42", "2023-03-03T03:03:03Z", "droplet")])
            .with_droplet_snapshots(7, [droplet_item(43, "2018-01-01T00:00:00Z", "snapshot")])
            .start()
            .await
            .unwrap();
        for (filter, query) in [
            (None, ""),
            (Some("droplet"), "&resource_type=droplet"),
            (Some("volume"), "&resource_type=volume"),
        ] {
            let read = read_all(
                sandbox.base_url(),
                &format!("/v2/snapshots?per_page=37{query}"),
                TOKEN,
            )
            .await;
            let held = sandbox.snapshots(filter);
            assert_eq!(read, held, "{order:?} {filter:?}");
            let ids: Vec<String> = held.iter().map(id).collect();
            assert_eq!(ids, sandbox.snapshot_ids(filter));
        }
        // 450 generated, droplet 7's 30, one chosen, one chosen under droplet 7.
        assert_eq!(sandbox.snapshots(None).len(), 482);
        let read = read_all(
            sandbox.base_url(),
            "/v2/droplets/7/snapshots?per_page=5",
            TOKEN,
        )
        .await;
        assert_eq!(read.len(), 43);
        assert_eq!(Some(read), sandbox.droplet_snapshots(7), "{order:?}");
        for droplet in sandbox.droplet_ids() {
            let read = read_all(
                sandbox.base_url(),
                &format!("/v2/droplets/{droplet}/snapshots?per_page=200"),
                TOKEN,
            )
            .await;
            assert_eq!(Some(read), sandbox.droplet_snapshots(droplet));
        }
        assert_eq!(sandbox.droplet_snapshots(1), None);
    }
}
