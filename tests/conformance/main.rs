//! Schema conformance: the fragment against the recorded facts, its
//! examples against the public types, the public types against its schemas
//! (schemars), the fake server against its schemas, and the generated code
//! against the fragment.
//!
//! These must still pass every time the spec changes and the client is
//! regenerated. Each test prints the count of cases it checked
//! (`--nocapture`).

#[path = "../common/mod.rs"]
mod common;

#[path = "../../codegen.rs"]
#[allow(dead_code)]
mod codegen;

use std::collections::{BTreeMap, BTreeSet};

use digitalocean_sandbox::spec;
use digitalocean_sandbox::{Faults, RateLimits, Sandbox};
use digitalocean_snapshots::raw::types;
use digitalocean_snapshots::{DropletSnapshot, ResourceType, Snapshot, SnapshotType};

/// The largest page the crate accepts (`List::per_page`), and the API's
/// default: the fragment must say the same.
const MAX_PER_PAGE: u64 = 200;
const DEFAULT_PER_PAGE: u64 = 20;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn fragment() -> &'static Value {
    spec::fragment()
}

/// Follows a local `$ref` (`#/components/...`) until a non-reference.
fn resolve(value: &Value) -> &Value {
    let mut value = value;
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        value = fragment()
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"));
    }
    value
}

fn schema(name: &str) -> &'static Value {
    &fragment()["components"]["schemas"][name]
}

fn operation(path: &str) -> &'static Value {
    &fragment()["paths"][path]["get"]
}

fn parameters(path: &str) -> BTreeMap<String, Value> {
    operation(path)["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(resolve)
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p.clone()))
        .collect()
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

const DROPLET_PATH: &str = "/v2/droplets/{droplet_id}/snapshots";
const SNAPSHOTS_PATH: &str = "/v2/snapshots";

mod examples;
mod facts;
mod regeneration;
mod sandbox;
mod schemas;
mod upstream;
