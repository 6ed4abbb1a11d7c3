//! Hostile response bodies, through the whole client: schema-valid
//! documents always decode; wrong types, missing fields, nulls, huge
//! numbers, deep nesting, truncation and random bytes give a decode error
//! that names the first bad field, never a panic; big bodies do not make
//! big errors.

mod common;

use common::canned::canned;
use digitalocean_snapshots::ErrorKind;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Schema-valid account items, including awkward but legal values.
fn item() -> impl Strategy<Value = Value> {
    let id = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(common::uuid),
    ];
    let created = (946_684_800i64..4_102_444_800).prop_map(|secs| {
        chrono::DateTime::from_timestamp(secs, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    });
    let size = prop_oneof![
        Just(0.1008f64),
        Just(0.0),
        (0u64..10_000_000).prop_map(|n| n as f64 / 10_000.0),
        proptest::num::f64::POSITIVE | proptest::num::f64::NORMAL,
    ];
    let resource_type = prop_oneof![
        Just("droplet".to_owned()),
        Just("volume".to_owned()),
        "[a-z_]{1,16}"
    ];
    let tags = proptest::option::of(proptest::collection::vec("\\PC{0,12}", 0..4));
    (
        id,
        "\\PC{0,40}",
        created,
        proptest::collection::vec("[a-z]{3}[0-9]", 0..4),
        "\\PC{0,36}",
        resource_type,
        any::<i64>(),
        size,
        tags,
    )
        .prop_map(
            |(
                id,
                name,
                created_at,
                regions,
                resource_id,
                resource_type,
                min_disk_size,
                size_gigabytes,
                tags,
            )| {
                json!({
                    "id": id, "name": name, "created_at": created_at, "regions": regions,
                    "resource_id": resource_id, "resource_type": resource_type,
                    "min_disk_size": min_disk_size, "size_gigabytes": size_gigabytes, "tags": tags,
                })
            },
        )
}

fn page(items: &[Value]) -> Value {
    json!({ "snapshots": items, "links": {}, "meta": { "total": items.len() } })
}

/// A value of the wrong type for each field, and whether the field may be
/// null.
fn wrong_value(field: &str) -> Vec<Value> {
    match field {
        "id" | "name" | "resource_id" => vec![json!(42), json!(["x"]), json!({})],
        "created_at" => vec![
            json!("yesterday"),
            json!(1595954862),
            json!("2020-13-45T99:00:00Z"),
        ],
        "regions" => vec![json!("nyc1"), json!([1, 2]), json!({"a": 1})],
        "resource_type" => vec![json!(7), json!(["droplet"])],
        // Negative sizes are valid: upstream gives the integer no bound.
        "min_disk_size" => vec![json!(1.5), json!("25"), json!(1e300)],
        "size_gigabytes" => vec![json!("2.34"), json!(true), json!([1.0])],
        "tags" => vec![json!("web"), json!([1])],
        _ => unreachable!(),
    }
}

const FIELDS: [&str; 9] = common::SNAPSHOT_FIELDS;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn schema_valid_pages_always_decode_to_the_same_values(items in proptest::collection::vec(item(), 0..30)) {
        let body = page(&items);
        let decoded = canned().snapshots(200, body.to_string()).unwrap();
        prop_assert_eq!(decoded.len(), items.len());
        for (got, sent) in decoded.iter().zip(&items) {
            prop_assert_eq!(&serde_json::to_value(got).unwrap(), sent);
        }
    }

    #[test]
    fn a_wrong_type_names_the_path_of_the_field(
        items in proptest::collection::vec(item(), 1..20),
        pick in any::<prop::sample::Index>(),
        field in prop::sample::select(FIELDS.to_vec()),
        choice in any::<prop::sample::Index>(),
    ) {
        let mut items = items;
        let at = pick.index(items.len());
        let values = wrong_value(field);
        items[at][field] = choice.get(&values).clone();
        let error = canned().snapshots(200, page(&items).to_string()).unwrap_err();
        prop_assert_eq!(error.kind(), ErrorKind::Decode);
        // The field itself, or an element inside it (`tags[0]`).
        let expected = format!("snapshots[{at}].{field}");
        let path = error.decode_error().unwrap().path().to_owned();
        prop_assert!(
            path == expected || path.starts_with(&format!("{expected}[")),
            "{} is not {}: {}", path, expected, error
        );
    }

    #[test]
    fn a_missing_or_null_required_field_is_named(
        items in proptest::collection::vec(item(), 1..20),
        pick in any::<prop::sample::Index>(),
        field in prop::sample::select(FIELDS[..8].to_vec()),
        remove in any::<bool>(),
    ) {
        let mut items = items;
        let at = pick.index(items.len());
        if remove {
            items[at].as_object_mut().unwrap().remove(field);
        } else {
            items[at][field] = Value::Null;
        }
        let error = canned().snapshots(200, page(&items).to_string()).unwrap_err();
        let decode = error.decode_error().unwrap();
        if remove {
            prop_assert_eq!(decode.path(), format!("snapshots[{at}]"));
            prop_assert!(decode.message().contains(field), "{}", decode.message());
        } else {
            prop_assert_eq!(decode.path(), format!("snapshots[{at}].{field}"));
        }
    }

    #[test]
    fn truncated_documents_are_decode_errors(items in proptest::collection::vec(item(), 1..10), cut in any::<prop::sample::Index>()) {
        let body = page(&items).to_string();
        let cut = cut.index(body.len());
        let error = canned().snapshots(200, &body.as_bytes()[..cut]).unwrap_err();
        prop_assert_eq!(error.kind(), ErrorKind::Decode);
    }

    /// A token echoed anywhere in a body (an excerpt's edge included) shows
    /// no 8 consecutive characters in the error, whatever the status.
    #[test]
    fn an_echoed_token_never_shows_eight_characters(
        before in "[ -~]{0,400}",
        after in "[ -~]{0,100}",
        status in prop::sample::select(vec![200u16, 401, 404, 500, 502]),
        json in any::<bool>(),
    ) {
        let body = if json {
            format!(r#"{{"id":"x","message":"{}{}{}"}}"#, before.replace(['"', '\\'], ""), common::TOKEN, after.replace(['"', '\\'], ""))
        } else {
            format!("<html>{before}Bearer {}{after}</html>", common::TOKEN)
        };
        let error = canned().snapshots(status, body).unwrap_err();
        for shown in [error.to_string(), format!("{error:?}"), format!("{error:#?}")] {
            for window in common::TOKEN.as_bytes().windows(8) {
                let window = std::str::from_utf8(window).unwrap();
                prop_assert!(!shown.contains(window), "{} shows `{}`: {}", status, window, shown);
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let result = canned().snapshots(200, bytes);
        if let Err(error) = result {
            prop_assert_eq!(error.kind(), ErrorKind::Decode);
            prop_assert!(error.to_string().len() < 1_000);
        }
    }
}

#[test]
fn huge_numbers_and_impossible_values_are_named() {
    let base = || {
        page(&[json!({
            "id": "1", "name": "n", "created_at": "2020-07-28T16:47:44Z", "regions": [],
            "resource_id": "2", "resource_type": "droplet", "min_disk_size": 1,
            "size_gigabytes": 1.0, "tags": null
        })])
    };
    let cases = [
        (
            "snapshots[0].size_gigabytes",
            base().to_string().replace("1.0,", "1e400,"),
        ),
        (
            "snapshots[0].min_disk_size",
            base().to_string().replace(
                "\"min_disk_size\":1",
                "\"min_disk_size\":184467440737095516150",
            ),
        ),
        (
            "meta.total",
            base().to_string().replace("\"total\":1", "\"total\":1.5"),
        ),
        (
            "snapshots",
            base()
                .to_string()
                .replace("\"snapshots\":[", "\"snapshots\":null,\"x\":["),
        ),
    ];
    for (path, body) in cases {
        let error = canned().snapshots(200, body.clone()).unwrap_err();
        assert_eq!(
            error.decode_error().map(|d| d.path()),
            Some(path),
            "{body}: {error}"
        );
    }
    // A negative total is a valid integer upstream: it decodes, and the
    // page is refused as a listing that does not add up.
    let body = base().to_string().replace("\"total\":1", "\"total\":-1");
    let error = canned().snapshots(200, body).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("meta.total"), "{error}");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let body = format!(
        "{{\"snapshots\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = canned().snapshots(200, body).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    let body = format!(
        "{{\"meta\":{}1{}}}",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );
    assert!(canned().snapshots(200, body).unwrap_err().is_decode());
}

#[test]
fn ten_megabyte_bodies_make_short_errors() {
    // A 10 MB success body that does not decode.
    let garbage = "x".repeat(10 * 1024 * 1024);
    let error = canned().snapshots(200, garbage.clone()).unwrap_err();
    assert!(error.is_decode());
    assert!(
        error.to_string().len() < 1_000,
        "{} bytes",
        error.to_string().len()
    );
    assert!(error.decode_error().unwrap().body_excerpt().chars().count() <= 201);

    // A 10 MB error body: read up to a limit, shown as a short excerpt.
    let error = canned()
        .snapshots(502, format!("<html>{garbage}</html>"))
        .unwrap_err();
    assert_eq!(error.status(), Some(502));
    assert!(error.to_string().len() < 1_000);

    // A valid 10 MB page: one huge name decodes.
    let big = page(&[json!({
        "id": "1", "name": garbage, "created_at": "2020-07-28T16:47:44Z", "regions": [],
        "resource_id": "2", "resource_type": "volume", "min_disk_size": 1,
        "size_gigabytes": 1.0, "tags": []
    })]);
    let items = canned().snapshots(200, big.to_string()).unwrap();
    assert_eq!(items[0].name.len(), 10 * 1024 * 1024);
}
