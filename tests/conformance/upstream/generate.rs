//! Random instances of an OpenAPI 3.0 schema (DigitalOcean's, fully
//! inlined): a proptest strategy per schema.
//!
//! Everything the schema allows is fair game, at its edges: integers over
//! all of `i64` (upstream gives them no bound; the crate's contract is
//! signed 64-bit) with the extremes weighted in, any finite `f64`, strings
//! of any Unicode scalar values (control characters, non-ASCII, long,
//! empty), RFC 3339 date-times from year 0000 to 9999 with any offset,
//! fractions and the leap second, optional properties present or absent,
//! `null` where `nullable`, and properties the schema does not name.
//!
//! A keyword the generator does not know fails the test that uses it: a
//! new upstream constraint must be taught here, never ignored.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Keywords that only describe.
const ANNOTATIONS: &[&str] = &["description", "example", "default", "title"];

/// Instances of `schema`.
pub fn instances(schema: &Value) -> BoxedStrategy<Value> {
    let map = schema
        .as_object()
        .unwrap_or_else(|| panic!("a schema is an object: {schema}"));
    for key in map.keys() {
        let known = ANNOTATIONS.contains(&key.as_str())
            || [
                "type",
                "properties",
                "required",
                "items",
                "allOf",
                "anyOf",
                "oneOf",
                "enum",
                "nullable",
                "format",
                "minimum",
                "maximum",
                "additionalProperties",
            ]
            .contains(&key.as_str());
        assert!(
            known,
            "the instance generator does not know the keyword `{key}`: teach it"
        );
    }
    let inner = not_null(map);
    if map.get("nullable") == Some(&Value::Bool(true)) {
        prop_oneof![1 => Just(Value::Null), 4 => inner].boxed()
    } else {
        inner
    }
}

fn not_null(map: &Map<String, Value>) -> BoxedStrategy<Value> {
    if let Some(parts) = map.get("allOf").and_then(Value::as_array) {
        return instances(&merge_all_of(map, parts));
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(branches) = map.get(keyword).and_then(Value::as_array) {
            let strategies: Vec<_> = branches.iter().map(instances).collect();
            return proptest::strategy::Union::new(strategies).boxed();
        }
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        return proptest::sample::select(values.clone()).boxed();
    }
    match map.get("type").and_then(Value::as_str) {
        Some("object") => object(map),
        Some("array") => {
            let items = instances(map.get("items").expect("an array schema has items"));
            prop_oneof![
                8 => proptest::collection::vec(items.clone(), 0..4),
                1 => proptest::collection::vec(items, 4..25),
            ]
            .prop_map(Value::Array)
            .boxed()
        }
        Some("string") => match map.get("format").and_then(Value::as_str) {
            Some("date-time") => date_time().prop_map(Value::String).boxed(),
            Some("uuid") => any::<u128>()
                .prop_map(|n| Value::String(crate::common::uuid(n)))
                .boxed(),
            _ => string().prop_map(Value::String).boxed(),
        },
        Some("integer") => integer(map).prop_map(|n| json!(n)).boxed(),
        Some("number") => number().prop_map(|n| json!(n)).boxed(),
        Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
        None => any_value(),
        Some(other) => panic!("unknown type `{other}`"),
    }
}

/// An `allOf` of object schemas as one object schema (the union of the
/// properties and required names; the keys beside `allOf` kept).
fn merge_all_of(map: &Map<String, Value>, parts: &[Value]) -> Value {
    let mut merged = map.clone();
    merged.remove("allOf");
    let mut properties = merged
        .remove("properties")
        .and_then(|p| p.as_object().cloned())
        .unwrap_or_default();
    let mut required: Vec<Value> = merged
        .remove("required")
        .and_then(|r| r.as_array().cloned())
        .unwrap_or_default();
    for part in parts {
        let part = match part.get("allOf") {
            Some(Value::Array(inner)) => merge_all_of(part.as_object().unwrap(), inner),
            _ => part.clone(),
        };
        for (name, schema) in part["properties"].as_object().into_iter().flatten() {
            properties.insert(name.clone(), schema.clone());
        }
        for name in part["required"].as_array().into_iter().flatten() {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
    }
    merged.insert("type".into(), json!("object"));
    merged.insert("properties".into(), Value::Object(properties));
    merged.insert("required".into(), Value::Array(required));
    Value::Object(merged)
}

fn object(map: &Map<String, Value>) -> BoxedStrategy<Value> {
    let required: Vec<String> = map
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let properties: Vec<(String, Value)> = map
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let names: Vec<String> = properties.iter().map(|(k, _)| k.clone()).collect();
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = properties
        .into_iter()
        .map(|(name, schema)| {
            let present = instances(&schema).prop_map({
                let name = name.clone();
                move |v| Some((name.clone(), v))
            });
            if required.contains(&name) {
                present.boxed()
            } else {
                prop_oneof![1 => Just(None), 3 => present].boxed()
            }
        })
        .collect();
    let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
    let extras = if closed {
        Just(Vec::new()).boxed()
    } else {
        prop_oneof![
            3 => Just(Vec::new()),
            1 => proptest::collection::vec(("[a-z_]{1,12}|\\PC{1,6}", any_value()), 1..4),
        ]
        .boxed()
    };
    (fields, extras)
        .prop_map(move |(fields, extras)| {
            let mut out = Map::new();
            for (name, value) in extras {
                if !names.contains(&name) {
                    out.insert(name, value);
                }
            }
            for (name, value) in fields.into_iter().flatten() {
                out.insert(name, value);
            }
            Value::Object(out)
        })
        .boxed()
}

fn integer(map: &Map<String, Value>) -> BoxedStrategy<i64> {
    let (low, high) = match map.get("format").and_then(Value::as_str) {
        Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    let low = map.get("minimum").and_then(Value::as_i64).unwrap_or(low);
    let high = map.get("maximum").and_then(Value::as_i64).unwrap_or(high);
    let edges: Vec<i64> = [
        low,
        high,
        0,
        -1,
        1,
        i64::from(u32::MAX),
        low.saturating_add(1),
    ]
    .into_iter()
    .filter(|n| (low..=high).contains(n))
    .collect();
    prop_oneof![
        2 => proptest::sample::select(edges),
        2 => low..=high,
        4 => (0i64..1000).prop_map(move |n| n.clamp(low, high)),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<f64> {
    prop_oneof![
        2 => proptest::sample::select(vec![
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            0.1008,
            2.34,
            1e15 + 0.3,
        ]),
        2 => (0u32..100_000).prop_map(|n| f64::from(n) / 10_000.0),
        3 => proptest::num::f64::NORMAL
            | proptest::num::f64::SUBNORMAL
            | proptest::num::f64::ZERO
            | proptest::num::f64::POSITIVE
            | proptest::num::f64::NEGATIVE,
    ]
    .boxed()
}

fn string() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z0-9-]{1,16}",
        3 => "\\PC{0,24}",
        2 => any::<String>(),
        1 => Just(String::new()),
        1 => "\\PC{300,600}",
        1 => proptest::sample::select(vec![
            "\u{1b}[31mred\u{1b}[0m".to_owned(),
            "=HYPERLINK(\"x\")".to_owned(),
            "\u{202e}evil".to_owned(),
            "nul\u{0}byte".to_owned(),
            "línea\u{2028}dos".to_owned(),
            "🐳".repeat(50),
        ]),
    ]
    .boxed()
}

/// RFC 3339 date-times over the whole four-digit range.
fn date_time() -> BoxedStrategy<String> {
    let year = prop_oneof![
        3 => 0u32..=9999,
        1 => proptest::sample::select(vec![0u32, 1, 1969, 1970, 2038, 9999]),
    ];
    let date = (year, 1u32..=12, 1u32..=28);
    let time = prop_oneof![
        8 => (0u32..24, 0u32..60, 0u32..60),
        1 => Just((23u32, 59u32, 60u32)),
    ];
    let fraction = prop_oneof![
        4 => Just(String::new()),
        2 => "[0-9]{1,9}".prop_map(|f| format!(".{f}")),
        1 => "[0-9]{10,15}".prop_map(|f| format!(".{f}")),
    ];
    let offset = prop_oneof![
        4 => Just("Z".to_owned()),
        1 => Just("z".to_owned()),
        3 => (any::<bool>(), 0u32..24, 0u32..60).prop_map(|(east, h, m)| {
            format!("{}{h:02}:{m:02}", if east { '+' } else { '-' })
        }),
    ];
    let separator = prop_oneof![6 => Just('T'), 1 => Just('t')];
    let any = (date, time, fraction, offset, separator).prop_map(
        |((y, mo, d), (h, mi, s), fraction, offset, t)| {
            // A leap second is written at 23:59:60 UTC only.
            let offset = if s == 60 { "Z".to_owned() } else { offset };
            format!("{y:04}-{mo:02}-{d:02}{t}{h:02}:{mi:02}:{s:02}{fraction}{offset}")
        },
    );
    // Instants whose UTC year leaves the four digits.
    let edges = proptest::sample::select(vec![
        "0000-01-01T00:00:00+23:59".to_owned(),
        "0000-01-01T05:00:00.5+12:00".to_owned(),
        "9999-12-31T23:59:59.999999999-23:59".to_owned(),
        "9999-12-31T20:00:00-08:00".to_owned(),
    ]);
    prop_oneof![20 => any, 1 => edges].boxed()
}

/// Any JSON value (what `{}` allows), nested a little.
fn any_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        number().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}
