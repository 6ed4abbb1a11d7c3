//! The fragment against the facts recorded in `api-facts.md`.

use super::*;

#[test]
fn the_sandbox_carries_the_same_fragment_byte_for_byte() {
    // The sandbox package holds its own copy so that it builds from the
    // registry; it must never drift from the SDK's.
    let sdk = include_str!("../../openapi/snapshots.yaml");
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

/// Whether every value `known` names is in the schema's enum, and the
/// values upstream has that `known` does not name. The open enums decode
/// those as `Unknown`; they are reported, not failed.
fn enum_additions(schema: &Value, known: &[&str]) -> (bool, Vec<String>) {
    let values = strings(&schema["enum"]);
    let ok = known.iter().all(|k| values.contains(k));
    let added = values
        .iter()
        .filter(|v| !known.contains(v))
        .map(|v| (*v).to_owned())
        .collect();
    (ok, added)
}

// Long on purpose: one check per recorded fact, in the order of
// `api-facts.md`, so the two can be read side by side.
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
    // Upstream may add parameters: an optional one is reported (the crate
    // does not send it yet), a required one would break every call.
    let mut news = Vec::new();
    for (path, ours) in [
        (DROPLET_PATH, ["droplet_id", "page", "per_page"]),
        (SNAPSHOTS_PATH, ["page", "per_page", "resource_type"]),
    ] {
        let params = parameters(path);
        check(
            ours.iter().all(|p| params.contains_key(*p)),
            &format!("{path} has {ours:?}"),
        );
        for (name, param) in &params {
            if !ours.contains(&name.as_str()) {
                check(
                    param["required"] != true,
                    &format!(
                        "{path}: a new parameter `{name}` is required; the crate cannot send it"
                    ),
                );
                news.push(format!("{path}: new optional parameter `{name}`"));
            }
        }
    }
    let droplet = parameters(DROPLET_PATH);
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
    let resource_type = resolve(&account["resource_type"]["schema"]);
    check(
        account["resource_type"]["required"] != true,
        "resource_type is optional",
    );
    // The open enums know every value they name to be upstream's; a value
    // upstream adds decodes as `Unknown` and is reported here.
    let (ok, added) = enum_additions(resource_type, ResourceType::KNOWN);
    check(
        ok,
        "resource_type: every value the crate names is upstream's",
    );
    news.extend(
        added
            .iter()
            .map(|v| format!("resource_type: new value `{v}` (decodes as Unknown)")),
    );
    check(
        ResourceType::KNOWN == ["droplet", "volume"],
        "ResourceType knows droplet and volume",
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
    let (ok, added) = enum_additions(resolve(&props["type"]), SnapshotType::KNOWN);
    check(
        ok,
        "snapshot_type: every value the crate names is upstream's",
    );
    news.extend(
        added
            .iter()
            .map(|v| format!("snapshot_type: new value `{v}` (decodes as Unknown)")),
    );
    check(
        SnapshotType::KNOWN == ["snapshot", "backup"],
        "SnapshotType knows snapshot and backup",
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
    // Upstream: `pages` is anyOf forward links, backward links, or any
    // value; each link is optional.
    let pages = &schema("page_links")["properties"]["pages"]["anyOf"];
    let links: BTreeSet<String> = pages
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|branch| {
            check(required(branch).is_empty(), "every page link is optional");
            branch["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
        })
        .collect();
    check(
        links == ["first", "prev", "next", "last"].map(String::from).into(),
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
    for new in &news {
        println!("note: {new}");
    }
    println!(
        "fragment vs facts: {checks} checks, {} additions upstream",
        news.len()
    );
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
