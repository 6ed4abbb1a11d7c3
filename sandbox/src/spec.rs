//! The OpenAPI fragment as JSON Schema, to validate answers against it
//! (feature `spec`).
//!
//! The fragment is OpenAPI 3.0: its schemas are JSON Schema but for
//! `nullable`, which becomes a `"null"` type here, and `example`, which is
//! dropped. `$ref`s into `#/components/schemas` are kept and resolved by
//! the validator.

use std::sync::OnceLock;

use serde_json::{Value, json};

/// The fragment, `openapi/snapshots.yaml`: this package carries a copy
/// (`sandbox/openapi/snapshots.yaml`), which the workspace's conformance
/// tests hold byte-equal to the SDK's.
pub const FRAGMENT_YAML: &str = include_str!("../openapi/snapshots.yaml");

/// The schema names of the answers: one page of each listing, and the
/// error body.
pub const DROPLET_SNAPSHOT_LIST: &str = "droplet_snapshot_list";
/// One page of the account listing.
pub const SNAPSHOT_LIST: &str = "snapshot_list";
/// The body of every error answer.
pub const ERROR: &str = "error";

/// The fragment parsed to JSON.
///
/// # Panics
///
/// When the fragment compiled into this crate is not YAML (a broken build).
pub fn fragment() -> &'static Value {
    static FRAGMENT: OnceLock<Value> = OnceLock::new();
    FRAGMENT.get_or_init(|| {
        serde_yaml_ng::from_str(FRAGMENT_YAML).expect("openapi/snapshots.yaml is YAML")
    })
}

/// `components.schemas` converted to JSON Schema.
pub fn schemas() -> &'static Value {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut schemas = fragment()["components"]["schemas"].clone();
        to_json_schema(&mut schemas);
        schemas
    })
}

/// A JSON Schema document (draft 7) for the fragment's schema `name`,
/// carrying every component so `$ref`s resolve.
pub fn json_schema(name: &str) -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "components": { "schemas": schemas() },
        "allOf": [{ "$ref": format!("#/components/schemas/{name}") }],
    })
}

/// Turns OpenAPI 3.0 schemas (anywhere under `value`) into JSON Schema:
/// `nullable: true` adds `"null"` to the type, `example` goes.
pub fn to_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true))
                && let Some(Value::String(t)) = map.get("type").cloned()
            {
                map.insert("type".into(), json!([t, "null"]));
            }
            map.remove("example");
            for child in map.values_mut() {
                to_json_schema(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}

/// Validates `instance` against the fragment's schema `name`; the error
/// lists every violation with its JSON pointer.
///
/// # Errors
///
/// Every violation, as `message at /pointer`.
pub fn validate(name: &str, instance: &Value) -> Result<(), Vec<String>> {
    let validator = jsonschema::validator_for(&json_schema(name))
        .map_err(|e| vec![format!("the schema `{name}` does not compile: {e}")])?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
