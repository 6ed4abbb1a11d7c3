//! Schema conformance: the fragment against the recorded facts, its
//! examples against the public types, the public types against its schemas
//! (schemars), the fake server against its schemas, and the generated code
//! against the fragment.
//!
//! These must still pass every time the spec changes and the client is
//! regenerated. Each test prints the count of cases it checked
//! (`--nocapture`).

mod common;

#[path = "../codegen.rs"]
#[allow(dead_code)]
mod codegen;

use std::collections::{BTreeMap, BTreeSet};

use digitalocean_sandbox::spec;
use digitalocean_sandbox::{Faults, RateLimits, Sandbox};
use digitalocean_snapshots::raw::types;
use digitalocean_snapshots::{
    DEFAULT_PER_PAGE, DropletSnapshot, MAX_PER_PAGE, ResourceType, Snapshot, SnapshotType,
};
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

#[test]
fn the_sandbox_carries_the_same_fragment_byte_for_byte() {
    // The sandbox package holds its own copy so that it builds from the
    // registry; it must never drift from the SDK's.
    let sdk = include_str!("../openapi/snapshots.yaml");
    assert!(
        spec::FRAGMENT_YAML == sdk,
        "sandbox/openapi/snapshots.yaml differs from openapi/snapshots.yaml: copy it over"
    );
}

#[test]
fn the_fragment_is_openapi_3_0_that_progenitor_accepts() {
    let parsed: openapiv3::OpenAPI =
        serde_yaml_ng::from_str(spec::FRAGMENT_YAML).expect("a valid OpenAPI 3.0 document");
    assert!(parsed.openapi.starts_with("3.0."), "{}", parsed.openapi);
    codegen::generate(spec::FRAGMENT_YAML).expect("progenitor generates from it");
}

#[test]
fn the_fragment_agrees_with_the_facts() {
    let mut checks = 0;
    let mut check = |ok: bool, what: &str| {
        assert!(ok, "fragment vs facts: {what}");
        checks += 1;
    };

    // Operations.
    check(
        operation(DROPLET_PATH)["operationId"] == "droplets_list_snapshots",
        "droplet operationId",
    );
    check(
        operation(SNAPSHOTS_PATH)["operationId"] == "snapshots_list",
        "account operationId",
    );
    check(
        strings(&operation(DROPLET_PATH)["x-required-scopes"]) == ["droplet:read"],
        "droplet scope",
    );
    check(
        strings(&operation(SNAPSHOTS_PATH)["x-required-scopes"]) == ["snapshot:read"],
        "account scope",
    );
    let bearer = &fragment()["components"]["securitySchemes"]["bearer_auth"];
    check(
        bearer["type"] == "http" && bearer["scheme"] == "bearer",
        "bearer security scheme",
    );
    check(
        fragment()["servers"][0]["url"] == "https://api.digitalocean.com",
        "base URL",
    );

    // Parameters.
    for path in [DROPLET_PATH, SNAPSHOTS_PATH] {
        let params = parameters(path);
        let page = &params["page"];
        check(
            page["in"] == "query" && page["required"] != true,
            "page is an optional query parameter",
        );
        check(
            page["schema"] == json!({"type": "integer", "minimum": 1, "default": 1}),
            "page: integer >= 1, default 1",
        );
        let per_page = &params["per_page"];
        check(
            per_page["schema"]
                == json!({"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE}),
            "per_page: 1..=200, default 20, and the crate's constants agree",
        );
    }
    let droplet = parameters(DROPLET_PATH);
    check(
        droplet.len() == 3,
        "droplet listing has droplet_id, page, per_page",
    );
    let id = &droplet["droplet_id"];
    check(
        id["in"] == "path" && id["required"] == true,
        "droplet_id is a required path parameter",
    );
    check(
        id["schema"] == json!({"type": "integer", "minimum": 1}),
        "droplet_id: integer >= 1",
    );
    let account = parameters(SNAPSHOTS_PATH);
    check(
        account.len() == 3,
        "account listing has page, per_page, resource_type",
    );
    let resource_type = resolve(&account["resource_type"]["schema"]);
    check(
        account["resource_type"]["required"] != true,
        "resource_type is optional",
    );
    check(
        strings(&resource_type["enum"]) == ["droplet", "volume"],
        "resource_type enum",
    );
    check(
        ResourceType::KNOWN == ["droplet", "volume"],
        "ResourceType knows the same values",
    );

    // Items.
    let droplet_item = schema("droplet_snapshot");
    check(
        required(droplet_item)
            == [
                "id",
                "name",
                "created_at",
                "regions",
                "min_disk_size",
                "size_gigabytes",
                "type",
            ]
            .map(String::from)
            .into(),
        "droplet snapshot: every field required",
    );
    let props = &droplet_item["properties"];
    check(
        props["id"]["type"] == "integer",
        "droplet snapshot id is an integer",
    );
    check(
        strings(&resolve(&props["type"])["enum"]) == ["snapshot", "backup"],
        "type enum",
    );
    check(
        SnapshotType::KNOWN == ["snapshot", "backup"],
        "SnapshotType knows the same values",
    );
    let account_item = schema("snapshot");
    check(
        required(account_item) == common::SNAPSHOT_FIELDS.map(String::from).into(),
        "account snapshot: every field required",
    );
    let props2 = &account_item["properties"];
    check(
        props2["id"]["type"] == "string",
        "account snapshot id is a string",
    );
    check(
        props2["resource_id"]["type"] == "string",
        "resource_id is a string",
    );
    check(
        props2["tags"]["nullable"] == true && props2["tags"]["type"] == "array",
        "tags: nullable array",
    );
    for props in [props, props2] {
        check(props["name"]["type"] == "string", "name: string");
        check(
            props["created_at"] == json!({"type": "string", "format": "date-time"})
                || (props["created_at"]["type"] == "string"
                    && props["created_at"]["format"] == "date-time"),
            "created_at: date-time",
        );
        check(
            props["regions"]["type"] == "array" && props["regions"]["items"]["type"] == "string",
            "regions: array of strings",
        );
        check(
            props["min_disk_size"]["type"] == "integer",
            "min_disk_size: integer",
        );
        check(
            props["size_gigabytes"]["type"] == "number"
                && props["size_gigabytes"]["format"] == "double",
            "size_gigabytes: a double",
        );
    }

    // Envelope.
    for (list, item) in [
        ("droplet_snapshot_list", "droplet_snapshot"),
        ("snapshot_list", "snapshot"),
    ] {
        let envelope = schema(list);
        check(
            required(envelope) == ["meta".to_owned()].into(),
            "only meta is required in the envelope",
        );
        check(
            envelope["properties"]["snapshots"]["items"]["$ref"]
                == format!("#/components/schemas/{item}"),
            "snapshots holds the items",
        );
    }
    check(
        required(schema("meta")) == ["total".to_owned()].into(),
        "meta.total is required",
    );
    check(
        schema("meta")["properties"]["total"]["type"] == "integer",
        "meta.total: integer",
    );
    check(
        required(schema("page_links")).is_empty(),
        "links.pages is optional",
    );
    check(
        required(schema("link_pages")).is_empty(),
        "every page link is optional",
    );
    check(
        schema("link_pages")["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
            == ["first", "prev", "next", "last"].map(String::from).into(),
        "first, prev, next, last",
    );

    // Errors.
    check(
        required(schema("error")) == ["id".to_owned(), "message".to_owned()].into(),
        "error: id and message required",
    );
    check(
        schema("error")["properties"]["request_id"]["type"] == "string",
        "error: optional request_id",
    );
    let statuses = |path: &str| -> BTreeSet<String> {
        operation(path)["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    check(
        statuses(DROPLET_PATH)
            == ["200", "401", "404", "429", "500", "default"]
                .map(String::from)
                .into(),
        "droplet listing: 200, 401, 404, 429, 500, default",
    );
    check(
        statuses(SNAPSHOTS_PATH)
            == ["200", "401", "429", "500", "default"]
                .map(String::from)
                .into(),
        "account listing: no 404",
    );
    for path in [DROPLET_PATH, SNAPSHOTS_PATH] {
        for (status, response) in operation(path)["responses"].as_object().unwrap() {
            let response = resolve(response);
            let headers = response["headers"].as_object().unwrap();
            for header in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
                check(
                    headers.contains_key(header),
                    &format!("{path} {status} has {header}"),
                );
            }
            check(
                headers.contains_key("retry-after") == (status == "429"),
                &format!("{path} {status}: retry-after on 429 only"),
            );
            let schema_ref = &response["content"]["application/json"]["schema"]["$ref"];
            let expected = if status == "200" { "list" } else { "error" };
            check(
                schema_ref.as_str().unwrap().ends_with(expected),
                &format!("{path} {status} body schema"),
            );
        }
    }
    println!("fragment vs facts: {checks} checks");
}

#[tokio::test]
async fn the_401_message_names_the_scope_the_fragment_requires() {
    let server = common::answering(401, common::UNAUTHORIZED).await;
    let client = common::client(&server);
    let droplet = client.list_droplet_snapshots(1).send().await.unwrap_err();
    let account = client.list_snapshots().send().await.unwrap_err();
    for (error, path) in [(droplet, DROPLET_PATH), (account, SNAPSHOTS_PATH)] {
        let scope = strings(&operation(path)["x-required-scopes"])[0];
        assert_eq!(error.api().unwrap().required_scope(), Some(scope));
        assert_eq!(error.operation(), Some(format!("GET {path}").as_str()));
    }
}

/// Every named example of a response in the fragment: (where, status, value).
fn examples() -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for path in [DROPLET_PATH, SNAPSHOTS_PATH] {
        for (status, response) in operation(path)["responses"].as_object().unwrap() {
            let media = &resolve(response)["content"]["application/json"];
            if let Some(example) = media.get("example") {
                found.push((
                    format!("{path} {status} example"),
                    status.clone(),
                    example.clone(),
                ));
            }
            for (name, example) in media["examples"].as_object().into_iter().flatten() {
                found.push((
                    format!("{path} {status} {name}"),
                    status.clone(),
                    resolve(example)["value"].clone(),
                ));
            }
        }
    }
    found
}

/// Decodes `value` as `T`, encodes it back, and checks both ends against
/// the fragment's schema `schema_name`.
fn round_trip<T: DeserializeOwned + Serialize>(what: &str, schema_name: &str, value: &Value) {
    if let Err(errors) = spec::validate(schema_name, value) {
        panic!("{what}: the example itself breaks `{schema_name}`: {errors:?}");
    }
    let decoded: T =
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let encoded = serde_json::to_value(&decoded).unwrap();
    if let Err(errors) = spec::validate(schema_name, &encoded) {
        panic!("{what}: the re-encoded value breaks `{schema_name}`: {errors:?}");
    }
    assert_eq!(&encoded, value, "{what}: round-trips to equal JSON");
}

#[test]
fn every_example_and_seed_round_trips_through_the_public_types() {
    let mut cases = 0;
    let mut items = 0;
    for (what, status, value) in examples() {
        if status == "200" {
            if what.starts_with(DROPLET_PATH) {
                round_trip::<types::DropletSnapshotList>(&what, "droplet_snapshot_list", &value);
                for item in value["snapshots"].as_array().into_iter().flatten() {
                    round_trip::<DropletSnapshot>(&what, "droplet_snapshot", item);
                    items += 1;
                }
            } else {
                round_trip::<types::SnapshotList>(&what, "snapshot_list", &value);
                for item in value["snapshots"].as_array().into_iter().flatten() {
                    round_trip::<Snapshot>(&what, "snapshot", item);
                    items += 1;
                }
            }
        } else {
            round_trip::<types::Error>(&what, "error", &value);
        }
        cases += 1;
    }
    let seeds = [
        (
            "seed_droplet_snapshots.json",
            common::SEED_DROPLET_SNAPSHOTS,
        ),
        ("seed_all_snapshots.json", common::SEED_ALL_SNAPSHOTS),
    ];
    for (name, text) in seeds {
        let value: Value = serde_json::from_str(text).unwrap();
        if name.contains("droplet") {
            round_trip::<types::DropletSnapshotList>(name, "droplet_snapshot_list", &value);
        } else {
            round_trip::<types::SnapshotList>(name, "snapshot_list", &value);
        }
        // Each seed is also one of the fragment's named examples, verbatim.
        assert!(
            examples().iter().any(|(_, _, example)| *example == value),
            "{name} is in the fragment"
        );
        cases += 1;
    }
    assert!(cases >= 13, "{cases}");
    println!("examples round-trip: {cases} documents, {items} items");
}

/// The JSON Schema of a public type as it serializes (schemars).
fn public_schema<T: schemars::JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    serde_json::to_value(generator.into_root_schema_for::<T>()).unwrap()
}

/// What a schema says of one property: its types (with "null" when
/// nullable), format, item type and known enum values.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    types: BTreeSet<String>,
    items: Option<String>,
    enumeration: Option<BTreeSet<String>>,
}

fn spec_shape(property: &Value) -> Shape {
    let property = resolve(property);
    let mut types: BTreeSet<String> = property["type"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();
    if property["nullable"] == true {
        types.insert("null".into());
    }
    Shape {
        types,
        items: property["items"]["type"].as_str().map(str::to_owned),
        enumeration: property["enum"].as_array().map(|e| {
            e.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        }),
    }
}

fn public_shape(root: &Value, property: &Value) -> Shape {
    let mut property = property;
    if let Some(reference) = property["$ref"].as_str() {
        property = root.pointer(reference.trim_start_matches('#')).unwrap();
    }
    // Open enums: anyOf [known values, any string].
    if let Some(any_of) = property["anyOf"].as_array() {
        return Shape {
            types: ["string".to_owned()].into(),
            items: None,
            enumeration: any_of[0]["enum"].as_array().map(|e| {
                e.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            }),
        };
    }
    let types = match &property["type"] {
        Value::String(t) => [t.clone()].into(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    };
    Shape {
        types,
        items: property["items"]["type"].as_str().map(str::to_owned),
        enumeration: None,
    }
}

/// Compares a public type with the fragment's schema: fails on a required
/// field or a type that disagrees (naming the field), reports optional
/// fields the spec has and the type lacks.
fn compare(spec_schema: &Value, public: &Value, name: &str) -> Result<Vec<String>, Vec<String>> {
    let mut failures = Vec::new();
    let mut reports = Vec::new();
    let spec_required = required(spec_schema);
    let public_required = required(public);
    let spec_props = spec_schema["properties"].as_object().unwrap();
    let public_props = public["properties"].as_object().unwrap();
    for (field, property) in spec_props {
        let Some(ours) = public_props.get(field) else {
            if spec_required.contains(field) {
                failures.push(format!(
                    "{name}.{field}: required by the spec, missing from the public type"
                ));
            } else {
                reports.push(format!(
                    "{name}.{field}: optional in the spec, not in the public type"
                ));
            }
            continue;
        };
        if spec_required.contains(field) != public_required.contains(field) {
            failures.push(format!(
                "{name}.{field}: required in the spec: {}, in the public type: {}",
                spec_required.contains(field),
                public_required.contains(field)
            ));
        }
        let (theirs, ours) = (spec_shape(property), public_shape(public, ours));
        let mut ours_cmp = ours;
        if theirs.enumeration.is_none() {
            ours_cmp.enumeration = None;
        }
        if theirs != ours_cmp {
            failures.push(format!(
                "{name}.{field}: the spec says {theirs:?}, the public type {ours_cmp:?}"
            ));
        }
    }
    for field in public_props.keys() {
        if !spec_props.contains_key(field) {
            failures.push(format!(
                "{name}.{field}: in the public type, not in the spec"
            ));
        }
    }
    if failures.is_empty() {
        Ok(reports)
    } else {
        Err(failures)
    }
}

#[test]
fn the_public_types_match_the_fragment_schemas() {
    let mut fields = 0;
    for (spec_name, public) in [
        ("droplet_snapshot", public_schema::<DropletSnapshot>()),
        ("snapshot", public_schema::<Snapshot>()),
    ] {
        let reports = compare(schema(spec_name), &public, spec_name).unwrap_or_else(|failures| {
            panic!(
                "the public type disagrees with the spec:\n{}",
                failures.join("\n")
            )
        });
        for report in &reports {
            println!("note: {report}");
        }
        fields += schema(spec_name)["properties"].as_object().unwrap().len();
    }
    println!("types vs schema: {fields} fields compared");
}

#[test]
fn a_disagreement_fails_with_the_field_named_and_a_new_optional_field_is_only_reported() {
    let public = public_schema::<Snapshot>();
    let mut changed = schema("snapshot").clone();
    changed["properties"]["min_disk_size"]["type"] = json!("string");
    changed["properties"]["encrypted"] = json!({"type": "boolean"});
    let failures = compare(&changed, &public, "snapshot").unwrap_err();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with("snapshot.min_disk_size:"),
        "{failures:?}"
    );

    let mut added = schema("snapshot").clone();
    added["properties"]["encrypted"] = json!({"type": "boolean"});
    let reports = compare(&added, &public, "snapshot").expect("an optional field never fails");
    assert_eq!(
        reports,
        ["snapshot.encrypted: optional in the spec, not in the public type"]
    );

    let mut now_required = added;
    now_required["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("encrypted"));
    let failures = compare(&now_required, &public, "snapshot").unwrap_err();
    assert!(failures[0].contains("encrypted: required"), "{failures:?}");
}

#[tokio::test]
async fn every_answer_of_the_fake_server_validates_against_the_fragment() {
    let sandbox = Sandbox::builder()
        .snapshots(450)
        .droplet(3164444, 7, 3)
        .extra_fields(true)
        .rate_limits(RateLimits {
            per_minute: 40,
            ..RateLimits::default()
        })
        .start()
        .await
        .unwrap();
    let faulty = Sandbox::builder()
        .faults(Faults {
            error_500: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let token = sandbox.token().unwrap();
    let http = reqwest::Client::new();
    let cases: Vec<(&Sandbox, &str, Option<&str>, u16, &str)> = vec![
        (
            &sandbox,
            "/v2/snapshots",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/snapshots?per_page=200&page=3",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/snapshots?per_page=200&page=9",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/snapshots?resource_type=volume&per_page=7",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/droplets/3164444/snapshots?per_page=4",
            Some(token),
            200,
            spec::DROPLET_SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/droplets/3164444/snapshots?per_page=4&page=3",
            Some(token),
            200,
            spec::DROPLET_SNAPSHOT_LIST,
        ),
        (&sandbox, "/v2/snapshots", None, 401, spec::ERROR),
        (
            &sandbox,
            "/v2/droplets/1/snapshots",
            Some(token),
            404,
            spec::ERROR,
        ),
        (
            &sandbox,
            "/v2/snapshots?per_page=201",
            Some(token),
            400,
            spec::ERROR,
        ),
        (&faulty, "/v2/snapshots", Some(token), 500, spec::ERROR),
    ];
    for (server, path, bearer, status, schema_name) in &cases {
        let mut request = http.get(format!("{}{path}", server.base_url()));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), *status, "{path}");
        let body: Value = response.json().await.unwrap();
        if let Err(errors) = spec::validate(schema_name, &body) {
            panic!("{path}: {errors:?}");
        }
    }
    // Past the per-minute budget: a 429 with its body.
    let mut limited = None;
    for _ in 0..50 {
        let response = http
            .get(format!("{}/v2/snapshots", sandbox.base_url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response.json::<Value>().await.unwrap());
            break;
        }
    }
    let limited = limited.expect("the per-minute budget runs out");
    spec::validate(spec::ERROR, &limited).unwrap();
    println!("fake server vs schema: {} answers", cases.len() + 1);
}

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
