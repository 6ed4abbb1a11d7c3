//! Helpers for the sandbox's tests: an HTTP getter and the fragment's
//! schemas as JSON Schema validators.
#![allow(dead_code)]

use std::sync::OnceLock;

use serde_json::{Value, json};

/// One answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

/// GET `base + path` with `Authorization: Bearer <token>` when given.
pub async fn get(base: &str, path: &str, token: Option<&str>) -> Answer {
    let mut request = http().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// The fragment's `components.schemas`, with OpenAPI's `nullable` turned
/// into JSON Schema's `"null"` type, so a standard validator can hold the
/// sandbox to the spec.
fn components() -> &'static Value {
    static COMPONENTS: OnceLock<Value> = OnceLock::new();
    COMPONENTS.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/snapshots.yaml");
        let text = std::fs::read_to_string(path).expect("the fragment");
        let spec: Value = serde_yaml_ng::from_str(&text).expect("the fragment parses");
        let mut schemas = spec["components"]["schemas"].clone();
        to_json_schema(&mut schemas);
        json!({ "schemas": schemas })
    })
}

fn to_json_schema(value: &mut Value) {
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

/// Validates `instance` against `components.schemas.<name>`; the error
/// lists every violation with its path.
pub fn validate(name: &str, instance: &Value) -> Result<(), String> {
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "components": components(),
        "allOf": [{ "$ref": format!("#/components/schemas/{name}") }],
    });
    let validator = jsonschema::validator_for(&schema).map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The response schema of each endpoint.
pub const ACCOUNT_LIST: &str = "snapshot_list";
pub const DROPLET_LIST: &str = "droplet_snapshot_list";
pub const ERROR: &str = "error";
