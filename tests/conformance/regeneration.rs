//! The generated code against the fragment: deterministic, up to date,
//! and tolerant of a new optional field.

use super::*;
use crate::schemas::{compare, public_schema};

#[test]
fn generation_is_deterministic_and_the_generated_code_is_up_to_date() {
    let first = codegen::generate(spec::FRAGMENT_YAML).unwrap();
    let second = codegen::generate(spec::FRAGMENT_YAML).unwrap();
    assert_eq!(first, second, "the same fragment gives the same code");
    let built = digitalocean_snapshots::raw::GENERATED_SOURCE;
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
    // (Other reports may come from what upstream added since.)
    assert!(
        reports
            .iter()
            .any(|r| r == "snapshot.encrypted: optional in the spec, not in the public type"),
        "{reports:?}"
    );
}

/// A copy of the vendored upstream in a fresh directory, changed by
/// `change`, run through the sync command's bundling and overlay: the
/// fragment it gives, as text.
fn synced_from_changed_upstream(change: impl FnOnce(&std::path::Path)) -> String {
    let source = common::project_root().join("openapi/upstream");
    let copy = std::env::temp_dir().join(format!(
        "upstream-change-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    copy_dir(&source, &copy);
    change(&copy);
    let overlay = openapi_sync::Overlay::parse(include_str!("../../openapi/overlay.yaml")).unwrap();
    let upstream = openapi_sync::Upstream::open(&copy).unwrap();
    let text = openapi_sync::fragment_from(&upstream, &overlay, None);
    std::fs::remove_dir_all(&copy).unwrap();
    text.unwrap_or_else(|e| panic!("the sync command failed: {e}"))
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Edits one upstream YAML file as JSON.
fn edit_yaml(root: &std::path::Path, file: &str, edit: impl FnOnce(&mut Value)) {
    let path = root.join(file);
    let mut value: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(&path, serde_yaml_ng::to_string(&value).unwrap()).unwrap();
}

/// `schema` with each property's local `$ref` replaced by its target in
/// `doc` (the changed fragment, not the crate's).
fn resolved_in(doc: &Value, schema: &Value) -> Value {
    let mut schema = schema.clone();
    for property in schema["properties"].as_object_mut().unwrap().values_mut() {
        if let Some(target) = property["$ref"].as_str() {
            *property = doc.pointer(target.trim_start_matches('#')).unwrap().clone();
        }
    }
    schema
}

const BASE: &str = "specification/resources/snapshots/models/snapshots_base.yml";

#[test]
fn upstream_additions_go_through_the_sync_command_and_generate() {
    let text = synced_from_changed_upstream(|root| {
        // A new optional field on both items (they share the base).
        edit_yaml(root, BASE, |base| {
            base["properties"]["encrypted"] = json!({"type": "boolean"});
        });
        // A new enum value in each enum.
        edit_yaml(
            root,
            "specification/resources/droplets/models/droplet_snapshot.yml",
            |m| {
                m["allOf"][2]["properties"]["type"]["enum"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("image"));
            },
        );
        edit_yaml(
            root,
            "specification/resources/snapshots/models/snapshots.yml",
            |m| {
                m["allOf"][2]["properties"]["resource_type"]["enum"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("nfs"));
            },
        );
        edit_yaml(
            root,
            "specification/resources/snapshots/parameters.yml",
            |p| {
                p["snapshot_resource_type"]["schema"]["enum"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("nfs"));
            },
        );
        // A new optional query parameter.
        edit_yaml(
            root,
            "specification/resources/snapshots/snapshots_list.yml",
            |op| {
                op["parameters"].as_array_mut().unwrap().push(json!({
                "in": "query", "name": "tag_name", "required": false, "schema": {"type": "string"}
            }));
            },
        );
    });
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
    let code = codegen::generate(&text).expect("the changed fragment generates");
    assert!(
        code.contains("fn tag_name"),
        "the new parameter is a builder setter"
    );

    // The conformance comparisons report the additions and fail on none.
    let mut reports = Vec::new();
    for (name, public) in [
        ("droplet_snapshot", public_schema::<DropletSnapshot>()),
        ("snapshot", public_schema::<Snapshot>()),
    ] {
        let spec_schema = resolved_in(&doc, &doc["components"]["schemas"][name]);
        reports.extend(compare(&spec_schema, &public, name).unwrap_or_else(|f| panic!("{f:?}")));
    }
    reports.sort();
    // The drill's own additions are reported (whatever else a real
    // upstream change has added since is reported too, and fails nothing).
    for drilled in [
        "droplet_snapshot.encrypted: optional in the spec, not in the public type",
        "droplet_snapshot.type: new value `image` in the spec (decodes as Unknown)",
        "snapshot.encrypted: optional in the spec, not in the public type",
        "snapshot.resource_type: new value `nfs` in the spec (decodes as Unknown)",
    ] {
        assert!(
            reports.iter().any(|r| r == drilled),
            "not reported: {drilled}; reports: {reports:#?}"
        );
    }

    // What such a server sends decodes with the current types.
    let body = json!({
        "snapshots": [{
            "id": 1, "name": "n", "created_at": "2020-07-28T16:47:44Z", "regions": [],
            "min_disk_size": 1, "size_gigabytes": 1.0, "type": "image", "encrypted": true
        }],
        "meta": {"total": 1}
    });
    let page = common::canned::canned()
        .droplet_snapshots_page(200, body.to_string())
        .unwrap();
    assert_eq!(page.items[0].snapshot_type.as_str(), "image");
    println!(
        "upstream additions: {} reported, none failed",
        reports.len()
    );
}

#[test]
fn a_removed_required_field_upstream_is_named_by_the_check_and_the_conformance_tests() {
    let text = synced_from_changed_upstream(|root| {
        edit_yaml(root, BASE, |base| {
            base["properties"]
                .as_object_mut()
                .unwrap()
                .remove("min_disk_size");
            base["required"]
                .as_array_mut()
                .unwrap()
                .retain(|f| f != "min_disk_size");
        });
    });
    // `--check` prints this diff: it names the field.
    let diff = openapi_sync::diff("openapi/snapshots.yaml", spec::FRAGMENT_YAML, &text);
    let removed: Vec<&str> = diff.lines().filter(|l| l.starts_with('-')).collect();
    assert!(
        removed.iter().any(|l| l.contains("min_disk_size")),
        "the diff shows the field go:\n{diff}"
    );
    // The conformance comparison fails, naming it in both items.
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
    for (name, public) in [
        ("droplet_snapshot", public_schema::<DropletSnapshot>()),
        ("snapshot", public_schema::<Snapshot>()),
    ] {
        let spec_schema = resolved_in(&doc, &doc["components"]["schemas"][name]);
        let failures = compare(&spec_schema, &public, name).unwrap_err();
        let dropped = format!("{name}.min_disk_size: in the public type, not in the spec");
        assert!(failures.contains(&dropped), "{failures:#?}");
    }
}
