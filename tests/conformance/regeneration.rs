//! The generated code against the fragment: deterministic, up to date,
//! and tolerant of a new optional field.

use super::*;
use crate::schemas::{compare, public_schema};

#[test]
fn generation_is_deterministic_and_the_generated_code_is_up_to_date() {
    let first = codegen::generate(spec::FRAGMENT_YAML).unwrap();
    let second = codegen::generate(spec::FRAGMENT_YAML).unwrap();
    assert_eq!(first, second, "the same fragment gives the same code");
    let built = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));
    assert_eq!(
        built, first,
        "$OUT_DIR/generated.rs is the code of the current fragment"
    );
}

#[test]
fn a_new_optional_field_in_the_fragment_still_generates_and_decodes() {
    let mut spec_value: Value = serde_yaml_ng::from_str(spec::FRAGMENT_YAML).unwrap();
    for item in ["snapshot", "droplet_snapshot"] {
        spec_value["components"]["schemas"][item]["properties"]["encrypted"] =
            json!({"type": "boolean", "description": "Added by a later API version."});
    }
    spec_value["components"]["schemas"]["meta"]["properties"]["page_size"] =
        json!({"type": "integer"});
    let yaml = serde_yaml_ng::to_string(&spec_value).unwrap();
    let code = codegen::generate(&yaml).expect("the changed fragment generates");
    assert!(
        code.contains("page_size"),
        "the envelope picks the new field up"
    );

    // The current types decode what such a server sends.
    let mut body: Value = serde_json::from_str(common::SEED_ALL_SNAPSHOTS).unwrap();
    for item in body["snapshots"].as_array_mut().unwrap() {
        item["encrypted"] = json!(true);
    }
    body["meta"]["page_size"] = json!(20);
    let page: types::SnapshotList = serde_json::from_value(body).unwrap();
    assert_eq!(page.snapshots.len(), 2);
    let reports = compare(
        &spec_value["components"]["schemas"]["snapshot"],
        &public_schema::<Snapshot>(),
        "snapshot",
    )
    .unwrap();
    assert_eq!(
        reports,
        ["snapshot.encrypted: optional in the spec, not in the public type"]
    );
}
