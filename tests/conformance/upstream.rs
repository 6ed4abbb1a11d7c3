//! The crate against DigitalOcean's own description (the vendored
//! `openapi/upstream/`), not against the fragment: random instances of
//! both 200 responses, generated from upstream's schemas, decode through
//! the whole client into the public types, keep their values, and
//! serialize back to JSON that upstream's schemas accept. Every upstream
//! example decodes too.

mod generate;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use common::canned::canned;
use digitalocean_snapshots::ErrorKind;
use openapi_sync::{Location, Upstream};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;

const DROPLET_RESPONSE: &str =
    "specification/resources/droplets/responses/all_droplet_snapshots.yml";
const ACCOUNT_RESPONSE: &str = "specification/resources/snapshots/responses/snapshots.yml";
const DROPLET_ITEM: &str = "specification/resources/droplets/models/droplet_snapshot.yml";
const ACCOUNT_ITEM: &str = "specification/resources/snapshots/models/snapshots.yml";

/// Cases per listing; the upstream-instance tests print what they checked.
const CASES: u32 = 1500;

fn upstream() -> Upstream {
    let root = common::project_root().join("openapi/upstream");
    Upstream::open(root).expect("the vendored upstream description")
}

/// Upstream's value at `file#pointer`, every `$ref` inlined, as JSON.
fn inlined(upstream: &Upstream, place: &str) -> Value {
    let value = upstream
        .inlined(&Location::parse(place))
        .unwrap_or_else(|e| panic!("{place}: {e}"));
    serde_json::to_value(value).expect("YAML that is JSON")
}

struct Schemas {
    droplet_page: Value,
    account_page: Value,
    droplet_item: Value,
    account_item: Value,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let upstream = upstream();
        let page = |file: &str| {
            inlined(
                &upstream,
                &format!("{file}#/content/application~1json/schema"),
            )
        };
        Schemas {
            droplet_page: page(DROPLET_RESPONSE),
            account_page: page(ACCOUNT_RESPONSE),
            droplet_item: inlined(&upstream, DROPLET_ITEM),
            account_item: inlined(&upstream, ACCOUNT_ITEM),
        }
    })
}

/// A validator of an OpenAPI 3.0 schema, as JSON Schema (draft 7; the
/// sandbox's conversion: `nullable` becomes a `"null"` type, `example`
/// goes), by the `jsonschema` crate, not by anything of this project's.
fn validator(schema: &Value) -> jsonschema::Validator {
    let mut schema = schema.clone();
    spec::to_json_schema(&mut schema);
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("upstream's schema compiles as JSON Schema")
}

fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// What the instance's item says, against what the client decoded.
fn same_item_values(wire: &Value, decoded: &Value) -> std::result::Result<(), String> {
    for field in [
        "id",
        "name",
        "regions",
        "min_disk_size",
        "resource_id",
        "resource_type",
        "type",
    ] {
        if let Some(expected) = wire.get(field)
            && decoded.get(field) != Some(expected)
        {
            return Err(format!(
                "{field}: sent {expected}, decoded {:?}",
                decoded.get(field)
            ));
        }
    }
    let size = |v: &Value| v["size_gigabytes"].as_f64();
    if size(wire) != size(decoded) {
        return Err(format!(
            "size_gigabytes: sent {}, decoded {}",
            wire["size_gigabytes"], decoded["size_gigabytes"]
        ));
    }
    if wire.get("tags").is_some() && wire["tags"] != decoded["tags"] {
        return Err(format!(
            "tags: sent {}, decoded {}",
            wire["tags"], decoded["tags"]
        ));
    }
    // The same instant, by a stricter parser than the one that decoded it.
    let sent = wire["created_at"].as_str().unwrap_or_default();
    let reference = DateTime::parse_from_rfc3339(sent).map(|t| t.with_timezone(&Utc));
    let got: std::result::Result<DateTime<Utc>, _> =
        serde_json::from_value(decoded["created_at"].clone());
    match (reference, got) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (a, b) => Err(format!("created_at: sent {sent} ({a:?}), decoded {b:?}")),
    }
}

/// One page decoded by the client: the items keep their values and
/// serialize to what upstream accepts; a negative total is an
/// inconsistency, never a decode error. Returns whether the total was
/// negative.
fn check_page<T: Serialize>(
    instance: &Value,
    result: digitalocean_snapshots::Result<digitalocean_snapshots::Page<T>>,
    items: &jsonschema::Validator,
) -> std::result::Result<bool, TestCaseError> {
    let total = instance["meta"]["total"].as_i64().expect("an i64 total");
    let page = match result {
        Ok(page) => page,
        Err(e) if total < 0 && e.kind() == ErrorKind::Inconsistent => return Ok(true),
        Err(e) => return Err(TestCaseError::fail(format!("{e}\n{instance}"))),
    };
    prop_assert_eq!(i64::try_from(page.total).ok(), Some(total));
    let sent = instance["snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    prop_assert_eq!(page.items.len(), sent.len());
    for (wire, item) in sent.iter().zip(&page.items) {
        let back = serde_json::to_value(item).expect("serializes");
        same_item_values(wire, &back).map_err(TestCaseError::fail)?;
        let problems = violations(items, &back);
        prop_assert!(
            problems.is_empty(),
            "{:?}\nsent {}\nback {}",
            problems,
            wire,
            back
        );
    }
    Ok(false)
}

/// `CASES` random instances of a listing's 200 response, from upstream's
/// schema: each is valid by upstream's own validator; the client decodes
/// it (`fetch`) with its values kept (`check_page`); the generated
/// envelope type `E` serializes it back valid.
fn instances_decode_and_round_trip<T: Serialize, E: Serialize + DeserializeOwned>(
    what: &str,
    page_schema: &Value,
    item_schema: &Value,
    fetch: impl Fn(Vec<u8>) -> digitalocean_snapshots::Result<digitalocean_snapshots::Page<T>>,
) {
    let page_validator = validator(page_schema);
    let item_validator = validator(item_schema);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let negative = std::cell::Cell::new(0);
    let result = runner.run(&generate::instances(page_schema), |instance| {
        let problems = violations(&page_validator, &instance);
        prop_assert!(
            problems.is_empty(),
            "generated an invalid instance: {:?}",
            problems
        );
        let result = fetch(serde_json::to_vec(&instance).expect("JSON"));
        if check_page(&instance, result, &item_validator)? {
            negative.set(negative.get() + 1);
        }
        let raw: E = serde_json::from_value(instance.clone())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = serde_json::to_value(&raw).expect("serializes");
        let problems = violations(&page_validator, &back);
        prop_assert!(problems.is_empty(), "{:?}\n{}", problems, back);
        Ok(())
    });
    result.unwrap_or_else(|e| panic!("{what}: {e}"));
    println!(
        "upstream {what}: {CASES} random instances decoded and round-tripped \
         ({} with a negative total, refused as inconsistent)",
        negative.get()
    );
}

#[test]
fn random_instances_of_upstreams_droplet_listing_decode_and_round_trip() {
    let schemas = schemas();
    instances_decode_and_round_trip::<_, types::DropletSnapshotList>(
        "droplet listing",
        &schemas.droplet_page,
        &schemas.droplet_item,
        |body| canned().droplet_snapshots_page(200, body),
    );
}

#[test]
fn random_instances_of_upstreams_account_listing_decode_and_round_trip() {
    let schemas = schemas();
    instances_decode_and_round_trip::<_, types::SnapshotList>(
        "account listing",
        &schemas.account_page,
        &schemas.account_item,
        |body| canned().snapshots_page(200, body),
    );
}

#[test]
fn every_upstream_example_decodes() {
    let upstream = upstream();
    let mut decoded = 0;
    let droplet = inlined(
        &upstream,
        &format!("{DROPLET_RESPONSE}#/content/application~1json/example"),
    );
    let page = canned()
        .droplet_snapshots_page(200, droplet.to_string())
        .expect("upstream's droplet example decodes");
    assert_eq!(
        page.items.len(),
        droplet["snapshots"].as_array().unwrap().len()
    );
    assert_eq!(
        page.items[0].id,
        droplet["snapshots"][0]["id"].as_i64().unwrap()
    );
    decoded += 1;
    let examples = inlined(
        &upstream,
        &format!("{ACCOUNT_RESPONSE}#/content/application~1json/examples"),
    );
    for (name, example) in examples.as_object().unwrap() {
        let value = &example["value"];
        let page = canned()
            .snapshots_page(200, value.to_string())
            .unwrap_or_else(|e| panic!("upstream's example {name:?}: {e}"));
        let ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
        let sent: Vec<&str> = value["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, sent, "{name}");
        decoded += 1;
    }
    for (status, file) in [
        (401, "unauthorized"),
        (404, "not_found"),
        (429, "too_many_requests"),
        (500, "server_error"),
        (503, "unexpected_error"),
    ] {
        let place =
            format!("specification/shared/responses/{file}.yml#/content/application~1json/example");
        let example = inlined(&upstream, &place);
        let error = canned()
            .snapshots_page(status, example.to_string())
            .expect_err("an error status");
        let api = error.api().unwrap_or_else(|| panic!("{file}: {error}"));
        assert_eq!(api.code(), example["id"].as_str(), "{file}");
        assert_eq!(api.message(), example["message"].as_str(), "{file}");
        decoded += 1;
    }
    println!("upstream examples: {decoded} decoded");
}

#[test]
fn instants_at_the_edges_of_four_digit_years_round_trip() {
    let schemas = schemas();
    let item_validator = validator(&schemas.droplet_item);
    let mut checked = 0;
    for created_at in [
        "0000-01-01T00:00:00+01:00",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:30:00-01:00",
        "2016-12-31T23:59:60Z",
        "2020-07-28t16:47:44.123456789123z",
    ] {
        let item = json!({
            "id": 1, "name": "n", "created_at": created_at, "regions": [],
            "min_disk_size": 0, "size_gigabytes": 0.0, "type": "snapshot"
        });
        let body = json!({"snapshots": [item], "meta": {"total": 1}});
        let page = canned()
            .droplet_snapshots_page(200, body.to_string())
            .unwrap_or_else(|e| panic!("{created_at}: {e}"));
        let back = serde_json::to_value(&page.items[0]).unwrap();
        same_item_values(&item, &back).unwrap_or_else(|e| panic!("{created_at}: {e}"));
        let problems = violations(&item_validator, &back);
        assert!(problems.is_empty(), "{created_at}: {problems:?} {back}");
        checked += 1;
    }
    println!("date-time edges: {checked} round-tripped");
}
