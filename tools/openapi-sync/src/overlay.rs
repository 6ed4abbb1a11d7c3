//! The overlay: which upstream operations the fragment covers, the names
//! its schemas get, and the project's deliberate differences from
//! upstream, each with its reason.
//!
//! The file follows the shape of the OpenAPI Overlay Specification 1.0
//! (`overlay`, `info`, `actions` with `target`, `description`, `update` or
//! `remove`), with a subset of it: a target is a plain path (`$`, then
//! `.name` or `['name']` steps) that must select exactly one existing
//! node; `update` merges mappings key by key and replaces anything else
//! (sequences included); `remove: true` deletes the node. Two extensions
//! say what to take from upstream: `x-operations` and `x-schemas`.

use serde_yaml_ng::Value;

use crate::Error;
use crate::upstream::Location;

/// One upstream operation the fragment covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The path, e.g. `/v2/snapshots`.
    pub path: String,
    /// The method, lowercase, e.g. `get`.
    pub method: String,
}

/// One deliberate difference.
#[derive(Clone, Debug)]
pub struct Action {
    /// The node it changes.
    pub target: String,
    /// Why (required: an unexplained difference is a defect).
    pub description: String,
    /// What it merges into the node, unless it removes it.
    pub update: Option<Value>,
    /// Whether it removes the node.
    pub remove: bool,
}

/// The overlay file, parsed.
#[derive(Clone, Debug)]
pub struct Overlay {
    /// The operations to take from upstream, in the fragment's order.
    pub operations: Vec<Operation>,
    /// Upstream schemas kept as named components, with every upstream
    /// place that gets the name (others are written in place).
    pub schemas: Vec<(String, Vec<Location>)>,
    /// The differences, applied in order.
    pub actions: Vec<Action>,
}

impl Overlay {
    /// Parses the overlay's YAML text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let doc: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::new(format!("overlay: not YAML: {e}")))?;
        if doc.get("overlay").and_then(Value::as_str) != Some("1.0.0") {
            return Err(Error::new("overlay: `overlay: 1.0.0` is missing"));
        }
        let operations = doc
            .get("x-operations")
            .and_then(Value::as_sequence)
            .ok_or_else(|| Error::new("overlay: `x-operations` (a list) is missing"))?
            .iter()
            .map(|op| {
                let field = |name: &str| {
                    op.get(name).and_then(Value::as_str).ok_or_else(|| {
                        Error::new(format!("overlay: an x-operations entry has no `{name}`"))
                    })
                };
                Ok(Operation {
                    path: field("path")?.to_owned(),
                    method: field("method")?.to_ascii_lowercase(),
                })
            })
            .collect::<Result<_, Error>>()?;
        let mut schemas = Vec::new();
        for (name, places) in doc
            .get("x-schemas")
            .and_then(Value::as_mapping)
            .ok_or_else(|| Error::new("overlay: `x-schemas` (a mapping) is missing"))?
        {
            let name = name
                .as_str()
                .ok_or_else(|| Error::new("overlay: an x-schemas name is not a string"))?;
            let places = match places {
                Value::String(one) => vec![Location::parse(one)],
                Value::Sequence(many) => many
                    .iter()
                    .map(|p| p.as_str().map(Location::parse))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        Error::new(format!("overlay: x-schemas.{name}: places are strings"))
                    })?,
                _ => return Err(Error::new(format!("overlay: x-schemas.{name}: no place"))),
            };
            schemas.push((name.to_owned(), places));
        }
        let actions = doc
            .get("actions")
            .and_then(Value::as_sequence)
            .ok_or_else(|| Error::new("overlay: `actions` (a list) is missing"))?
            .iter()
            .enumerate()
            .map(|(i, action)| parse_action(i, action))
            .collect::<Result<_, Error>>()?;
        Ok(Self {
            operations,
            schemas,
            actions,
        })
    }

    /// Applies every action to `doc`, in order.
    pub fn apply(&self, doc: &mut Value) -> Result<(), Error> {
        for action in &self.actions {
            apply(action, doc)
                .map_err(|e| Error::new(format!("overlay action on `{}`: {e}", action.target)))?;
        }
        Ok(())
    }
}

fn parse_action(index: usize, action: &Value) -> Result<Action, Error> {
    let what = |e: &str| Error::new(format!("overlay: action {}: {e}", index + 1));
    let target = action
        .get("target")
        .and_then(Value::as_str)
        .ok_or_else(|| what("no `target`"))?
        .to_owned();
    let description = action
        .get("description")
        .and_then(Value::as_str)
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| what("no `description`: say why the fragment differs from upstream"))?
        .to_owned();
    let update = action.get("update").cloned();
    let remove = action.get("remove").and_then(Value::as_bool) == Some(true);
    if update.is_some() == remove {
        return Err(what("give either `update` or `remove: true`"));
    }
    Ok(Action {
        target,
        description,
        update,
        remove,
    })
}

/// The steps of a target: `$.a['b/c'].d` -> `[a, b/c, d]`.
pub fn steps(target: &str) -> Result<Vec<String>, Error> {
    let bad = || {
        Error::new(format!(
            "`{target}`: a target is `$` then `.name` or `['name']` steps"
        ))
    };
    let mut rest = target.strip_prefix('$').ok_or_else(bad)?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']").ok_or_else(bad)?;
            steps.push(after[..end].to_owned());
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err(bad());
            }
            steps.push(after[..end].to_owned());
            rest = &after[end..];
        } else {
            return Err(bad());
        }
    }
    Ok(steps)
}

fn apply(action: &Action, doc: &mut Value) -> Result<(), Error> {
    let steps = steps(&action.target)?;
    let missing = |step: &str| Error::new(format!("`{step}` is not there (did upstream change?)"));
    let Some((last, parents)) = steps.split_last() else {
        return merge_into(doc, action);
    };
    let mut node = doc;
    for step in parents {
        node = node
            .as_mapping_mut()
            .and_then(|m| m.get_mut(step.as_str()))
            .ok_or_else(|| missing(step))?;
    }
    let parent = node.as_mapping_mut().ok_or_else(|| missing(last))?;
    if action.remove {
        parent.remove(last.as_str()).ok_or_else(|| missing(last))?;
        return Ok(());
    }
    let node = parent.get_mut(last.as_str()).ok_or_else(|| missing(last))?;
    merge_into(node, action)
}

fn merge_into(node: &mut Value, action: &Action) -> Result<(), Error> {
    match &action.update {
        Some(update) => {
            merge(node, update);
            Ok(())
        }
        None => Err(Error::new("the whole document cannot be removed")),
    }
}

/// Merges `update` into `node`: mappings key by key, anything else
/// replaced.
pub fn merge(node: &mut Value, update: &Value) {
    match (node, update) {
        (Value::Mapping(node), Value::Mapping(update)) => {
            for (key, value) in update {
                match node.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        node.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (node, update) => *node = update.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_plain_paths() {
        assert_eq!(
            steps("$.paths['/v2/snapshots'].get.security").unwrap(),
            ["paths", "/v2/snapshots", "get", "security"]
        );
        assert_eq!(steps("$").unwrap(), Vec::<String>::new());
        assert!(steps("paths").is_err());
        assert!(steps("$..x").is_err());
        assert!(steps("$['x").is_err());
    }

    #[test]
    fn an_action_on_a_place_upstream_no_longer_has_fails_with_its_name() {
        let overlay = Overlay::parse(
            "overlay: 1.0.0\nx-operations: []\nx-schemas: {}\nactions:\n  - target: $.a.gone\n    description: why\n    update: {x: 1}\n",
        )
        .unwrap();
        let mut doc: Value = serde_yaml_ng::from_str("a: {b: 1}").unwrap();
        let e = overlay.apply(&mut doc).unwrap_err().to_string();
        assert!(e.contains("`gone` is not there"), "{e}");
    }

    #[test]
    fn an_action_without_a_reason_is_refused() {
        let e = Overlay::parse(
            "overlay: 1.0.0\nx-operations: []\nx-schemas: {}\nactions:\n  - target: $.a\n    update: {x: 1}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("say why"), "{e}");
    }

    #[test]
    fn updates_merge_mappings_and_replace_the_rest() {
        let mut node: Value = serde_yaml_ng::from_str("{a: {b: 1, c: [1]}, d: x}").unwrap();
        let update: Value = serde_yaml_ng::from_str("{a: {c: [2], e: 3}, d: y}").unwrap();
        merge(&mut node, &update);
        let want: Value = serde_yaml_ng::from_str("{a: {b: 1, c: [2], e: 3}, d: y}").unwrap();
        assert_eq!(node, want);
    }
}
