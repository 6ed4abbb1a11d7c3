//! Every example of the fragment, and the seeds, through the public types.

use super::*;

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
