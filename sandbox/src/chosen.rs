//! Snapshots the user chose ([`SandboxBuilder::with_snapshots`] and
//! [`SandboxBuilder::with_droplet_snapshots`]): serialized once when given,
//! checked when the sandbox starts, served byte for byte as given.
//!
//! [`SandboxBuilder::with_snapshots`]: crate::SandboxBuilder::with_snapshots
//! [`SandboxBuilder::with_droplet_snapshots`]: crate::SandboxBuilder::with_droplet_snapshots

use std::collections::HashMap;
use std::io;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// One chosen item as serialized when given, or why it could not be.
pub(crate) type Given = Result<Box<RawValue>, String>;

/// Serializes `item` once, in the order its `Serialize` gives its fields.
pub(crate) fn serialize<T: Serialize>(item: &T) -> Given {
    serde_json::value::to_raw_value(item).map_err(|error| error.to_string())
}

/// A chosen item that passed the checks: its JSON exactly as given, and
/// the object read from it.
#[derive(Clone, Debug)]
pub(crate) struct ChosenItem {
    pub(crate) json: Box<RawValue>,
    pub(crate) object: Map<String, Value>,
}

/// Every chosen item, checked, in the order given.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chosen {
    /// Items of `GET /v2/snapshots`.
    pub(crate) snapshots: Vec<ChosenItem>,
    /// Items of `GET /v2/droplets/{id}/snapshots`, with their droplet.
    pub(crate) droplets: Vec<(u64, ChosenItem)>,
}

/// The id as the listing's text: a string as it is, an integer in
/// decimal; `None` when it is absent or anything else.
pub(crate) fn id_text(object: &Map<String, Value>) -> Option<String> {
    match object.get("id")? {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// Whether a droplet's item is also listed in the account's listing: a
/// snapshot is, a backup (or any other `type`) is not.
pub(crate) fn is_listed_in_account(object: &Map<String, Value>) -> bool {
    object.get("type").and_then(Value::as_str) == Some("snapshot")
}

/// The account's item for a droplet's snapshot, as the API lists the same
/// image there: the id as a string, `resource_id` the droplet's id as a
/// string, `resource_type` `droplet`; `name`, `created_at`, `regions`,
/// `min_disk_size` and `size_gigabytes` copied when present; `tags`
/// copied when present, else `[]`. Other fields are not copied.
pub(crate) fn account_item(droplet_id: u64, object: &Map<String, Value>) -> Value {
    let mut item = Map::new();
    match object.get("id") {
        Some(Value::Number(id)) => {
            item.insert("id".into(), Value::String(id.to_string()));
        }
        Some(other) => {
            item.insert("id".into(), other.clone());
        }
        None => {}
    }
    for field in ["name", "created_at", "regions"] {
        if let Some(value) = object.get(field) {
            item.insert(field.into(), value.clone());
        }
    }
    item.insert("resource_id".into(), Value::String(droplet_id.to_string()));
    item.insert("resource_type".into(), Value::String("droplet".into()));
    for field in ["min_disk_size", "size_gigabytes"] {
        if let Some(value) = object.get(field) {
            item.insert(field.into(), value.clone());
        }
    }
    let tags = object
        .get("tags")
        .cloned()
        .unwrap_or_else(|| Value::Array(Vec::new()));
    item.insert("tags".into(), tags);
    Value::Object(item)
}

/// The start of `json`, for an error message.
fn preview(json: &str) -> String {
    const MAX: usize = 80;
    match json.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &json[..end]),
        None => json.to_owned(),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Reads one given item: an object, or an error naming it.
fn object(label: &str, given: &Given) -> io::Result<ChosenItem> {
    let json = given
        .as_ref()
        .map_err(|error| invalid(format!("{label} cannot be serialized to JSON: {error}")))?;
    match serde_json::from_str::<Value>(json.get()) {
        Ok(Value::Object(object)) => Ok(ChosenItem {
            json: json.clone(),
            object,
        }),
        Ok(_) => Err(invalid(format!(
            "{label} is not a JSON object: {}",
            preview(json.get())
        ))),
        Err(error) => Err(invalid(format!(
            "{label} cannot be read back as JSON ({error}): {}",
            preview(json.get())
        ))),
    }
}

/// Ids already taken in one listing, and by which item.
#[derive(Default)]
struct Taken(HashMap<String, String>);

impl Taken {
    fn take(&mut self, id: Option<String>, label: &str, note: &str) -> io::Result<()> {
        let Some(id) = id else { return Ok(()) };
        if let Some(first) = self.0.get(&id) {
            return Err(invalid(format!(
                "{label} has the id {id:?}, as {first} does{note}: chosen snapshots must have \
                 different ids"
            )));
        }
        self.0.insert(id, label.to_owned());
        Ok(())
    }
}

/// Checks every chosen item: each one serialized, a JSON object, and no
/// two with one id (ids compared as the listing's text, so `123` and
/// `"123"` are one id): the account's snapshots among themselves and
/// with the droplet snapshots listed beside them, a droplet's snapshots
/// and backups across every droplet (they are images, whose ids are
/// global). Items are named by the method that gave them and their
/// index, from 0, over every call for the same listing.
pub(crate) fn check(snapshots: &[Given], droplets: &[(u64, Vec<Given>)]) -> io::Result<Chosen> {
    let mut chosen = Chosen::default();
    let mut account = Taken::default();
    for (index, given) in snapshots.iter().enumerate() {
        let label = format!("with_snapshots item {index}");
        let item = object(&label, given)?;
        account.take(id_text(&item.object), &label, "")?;
        chosen.snapshots.push(item);
    }
    let mut images = Taken::default();
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for (droplet_id, items) in droplets {
        for given in items {
            let count = counts.entry(*droplet_id).or_default();
            let label = format!("with_droplet_snapshots({droplet_id}) item {count}");
            *count += 1;
            let item = object(&label, given)?;
            let id = id_text(&item.object);
            images.take(id.clone(), &label, "")?;
            if is_listed_in_account(&item.object) {
                account.take(
                    id,
                    &label,
                    " (a droplet's snapshot is listed in the account's listing too)",
                )?;
            }
            chosen.droplets.push((*droplet_id, item));
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn given(value: Value) -> Given {
        serialize(&value)
    }

    #[test]
    fn ids_are_compared_as_text_across_the_account_listing() {
        let error = check(
            &[given(json!({"id": "123"}))],
            &[(7, vec![given(json!({"id": 123, "type": "snapshot"}))])],
        )
        .expect_err("one id twice");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(
            message.contains("with_droplet_snapshots(7) item 0"),
            "{message}"
        );
        assert!(message.contains("with_snapshots item 0"), "{message}");
    }

    #[test]
    fn a_backup_does_not_meet_the_account_ids_but_meets_other_droplets() {
        let backup = || given(json!({"id": 123, "type": "backup"}));
        assert!(check(&[given(json!({"id": "123"}))], &[(7, vec![backup()])]).is_ok());
        let error = check(&[], &[(7, vec![backup()]), (8, vec![backup()])])
            .expect_err("one image id under two droplets");
        assert!(
            error
                .to_string()
                .contains("with_droplet_snapshots(8) item 0")
        );
    }

    #[test]
    fn items_without_an_id_never_clash() {
        let chosen = check(&[given(json!({})), given(json!({"id": null}))], &[]).expect("checked");
        assert_eq!(chosen.snapshots.len(), 2);
    }

    #[test]
    fn a_long_item_is_previewed_on_a_char_boundary() {
        let long = "é".repeat(200);
        let error = check(&[given(json!([long]))], &[]).expect_err("not an object");
        assert!(error.to_string().ends_with('…'));
    }

    #[test]
    fn the_account_item_of_a_droplet_snapshot() {
        let object = json!({
            "id": 6372321, "name": "web-01", "created_at": "2020-07-28T16:47:44Z",
            "regions": ["nyc3"], "min_disk_size": 25, "size_gigabytes": 2.34,
            "type": "snapshot", "x": 1,
        });
        let Value::Object(object) = object else {
            unreachable!()
        };
        assert_eq!(
            account_item(3164444, &object),
            json!({
                "id": "6372321", "name": "web-01", "created_at": "2020-07-28T16:47:44Z",
                "regions": ["nyc3"], "resource_id": "3164444", "resource_type": "droplet",
                "min_disk_size": 25, "size_gigabytes": 2.34, "tags": [],
            })
        );
    }
}
