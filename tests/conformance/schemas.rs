//! The public types' JSON Schema (schemars) against the fragment's schemas.

use super::*;

/// The JSON Schema of a public type as it serializes (schemars).
pub(crate) fn public_schema<T: schemars::JsonSchema>() -> Value {
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
pub(crate) fn compare(
    spec_schema: &Value,
    public: &Value,
    name: &str,
) -> Result<Vec<String>, Vec<String>> {
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
        let (mut theirs, ours) = (spec_shape(property), public_shape(public, ours));
        let mut ours_cmp = ours;
        match (&theirs.enumeration, &ours_cmp.enumeration) {
            (None, _) => ours_cmp.enumeration = None,
            // An open enum: values the spec adds decode as `Unknown`.
            (Some(spec), Some(known)) if known.is_subset(spec) => {
                for value in spec.difference(known) {
                    reports.push(format!(
                        "{name}.{field}: new value `{value}` in the spec (decodes as Unknown)"
                    ));
                }
                theirs.enumeration = ours_cmp.enumeration.clone();
            }
            _ => {}
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
    // (Other reports may come from what upstream added since.)
    assert!(
        reports
            .iter()
            .any(|r| r == "snapshot.encrypted: optional in the spec, not in the public type"),
        "{reports:?}"
    );

    let mut now_required = added;
    now_required["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("encrypted"));
    let failures = compare(&now_required, &public, "snapshot").unwrap_err();
    assert!(failures[0].contains("encrypted: required"), "{failures:?}");
}
