//! Bundling: the operations the overlay names, with everything they
//! reach, as one OpenAPI document with local `$ref`s only.
//!
//! Parameters, headers and responses become components under their
//! upstream names (the `$ref`'s last pointer step, or its file's stem).
//! Schemas are written in place unless the overlay's `x-schemas` names
//! them. Three mechanical steps change the form, never what is valid:
//! - an `allOf` of object schemas becomes one object schema (the union of
//!   their properties and required lists; a property two parts define
//!   differently is an error), since progenitor's handling of `allOf` is
//!   weaker than its handling of plain objects;
//! - a media type's single `example` becomes `examples.upstream`, so the
//!   overlay can add named examples beside it;
//! - `x-codeSamples` (curl, Go, Ruby and Python snippets) are left out.

use std::collections::{BTreeSet, HashMap};

use serde_yaml_ng::{Mapping, Value};

use crate::Error;
use crate::overlay::Overlay;
use crate::upstream::{Location, ROOT_FILE, Upstream, reference};

/// The annotation keywords: two schemas that differ only in these are the
/// same schema.
const ANNOTATIONS: &[&str] = &["description", "example", "title"];

/// Builds the fragment from `upstream` as `overlay` says, before its
/// actions are applied.
pub fn bundle(upstream: &Upstream, overlay: &Overlay) -> Result<Value, Error> {
    let mut bundler = Bundler::new(upstream, overlay);
    let root = upstream.file(ROOT_FILE)?;
    let root_location = Location::parse(ROOT_FILE);

    let mut paths = Mapping::new();
    let mut tags = BTreeSet::new();
    for op in &overlay.operations {
        let place = root_location
            .child("paths")
            .child(&op.path)
            .child(&op.method);
        let operation = bundler
            .operation(&place)
            .map_err(|e| Error::new(format!("{} {}: {e}", op.method.to_uppercase(), op.path)))?;
        for tag in operation
            .get("tags")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            tags.insert(tag.as_str().unwrap_or_default().to_owned());
        }
        let item = paths
            .entry(Value::from(op.path.as_str()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Value::Mapping(item) = item {
            item.insert(Value::from(op.method.as_str()), operation);
        }
    }

    let mut doc = Mapping::new();
    for key in ["openapi", "info", "servers", "security"] {
        if root.get(key).is_some() {
            doc.insert(key.into(), upstream.inlined(&root_location.child(key))?);
        }
    }
    doc.insert("tags".into(), bundler.tags(&root, &tags)?);
    doc.insert("paths".into(), Value::Mapping(paths));
    let mut components = Mapping::new();
    components.insert(
        "securitySchemes".into(),
        bundler.security_schemes(&root, &doc)?,
    );
    for (section, entries) in [
        ("parameters", bundler.parameters),
        ("headers", bundler.headers),
        ("schemas", bundler.schemas),
        ("responses", bundler.responses),
    ] {
        if !entries.is_empty() {
            components.insert(section.into(), Value::Mapping(entries));
        }
    }
    doc.insert("components".into(), Value::Mapping(components));
    Ok(Value::Mapping(doc))
}

struct Bundler<'a> {
    upstream: &'a Upstream,
    names: HashMap<Location, String>,
    parameters: Mapping,
    headers: Mapping,
    schemas: Mapping,
    responses: Mapping,
    /// Where each component came from (section, name) -> place.
    origins: HashMap<(&'static str, String), Location>,
    /// Named schemas being built (a cycle is an error).
    building: BTreeSet<String>,
}

impl<'a> Bundler<'a> {
    fn new(upstream: &'a Upstream, overlay: &Overlay) -> Self {
        let names = overlay
            .schemas
            .iter()
            .flat_map(|(name, places)| places.iter().map(move |p| (p.clone(), name.clone())))
            .collect();
        Self {
            upstream,
            names,
            parameters: Mapping::new(),
            headers: Mapping::new(),
            schemas: Mapping::new(),
            responses: Mapping::new(),
            origins: HashMap::new(),
            building: BTreeSet::new(),
        }
    }

    fn operation(&mut self, place: &Location) -> Result<Value, Error> {
        let (place, value) = self.upstream.resolve(place)?;
        let map = value
            .as_mapping()
            .ok_or_else(|| Error::new(format!("{place}: not an operation")))?;
        let mut out = Mapping::new();
        for (key, _) in map {
            let name = key.as_str().unwrap_or_default();
            let here = place.child(name);
            let value = match name {
                "x-codeSamples" => continue,
                "parameters" => self.each(&here, |b, p| b.component("parameters", p))?,
                "responses" => self.each_entry(&here, |b, p| b.component("responses", p))?,
                _ => self.upstream.inlined(&here)?,
            };
            out.insert(key.clone(), value);
        }
        Ok(Value::Mapping(out))
    }

    /// A `$ref` to the component `place` points at (built the first time),
    /// or the object itself when it is written in place.
    fn component(&mut self, section: &'static str, place: &Location) -> Result<Value, Error> {
        let value = self.upstream.get(place)?;
        let Some(target) = reference(&value) else {
            return self.build(section, place);
        };
        let target = place.follow(target)?;
        let name = target.name();
        let key = (section, name.clone());
        match self.origins.get(&key) {
            Some(origin) if *origin == target => {}
            Some(origin) => {
                return Err(Error::new(format!(
                    "two upstream {section} are both named `{name}`: {origin} and {target}"
                )));
            }
            None => {
                self.origins.insert(key, target.clone());
                let built = self.build(section, &target)?;
                self.section(section).insert(name.as_str().into(), built);
            }
        }
        Ok(local_ref(section, &name))
    }

    fn section(&mut self, section: &str) -> &mut Mapping {
        match section {
            "parameters" => &mut self.parameters,
            "headers" => &mut self.headers,
            "responses" => &mut self.responses,
            _ => &mut self.schemas,
        }
    }

    fn build(&mut self, section: &'static str, place: &Location) -> Result<Value, Error> {
        let (place, value) = self.upstream.resolve(place)?;
        let map = value
            .as_mapping()
            .ok_or_else(|| Error::new(format!("{place}: not an object")))?;
        let mut out = Mapping::new();
        let mut examples = Mapping::new();
        for (key, _) in map {
            let name = key.as_str().unwrap_or_default();
            let here = place.child(name);
            let value = match (section, name) {
                (_, "schema") => self.schema(&here)?,
                ("responses", "headers") => {
                    self.each_entry(&here, |b, p| b.component("headers", p))?
                }
                ("responses", "content") => self.each_entry(&here, |b, p| b.build("media", p))?,
                ("media", "example") => {
                    let mut upstream = Mapping::new();
                    upstream.insert("value".into(), self.upstream.inlined(&here)?);
                    examples.insert("upstream".into(), Value::Mapping(upstream));
                    continue;
                }
                ("media", "examples") => {
                    for (entry, value) in self
                        .upstream
                        .inlined(&here)?
                        .as_mapping()
                        .into_iter()
                        .flatten()
                    {
                        examples.insert(entry.clone(), value.clone());
                    }
                    continue;
                }
                _ => self.upstream.inlined(&here)?,
            };
            out.insert(key.clone(), value);
        }
        if !examples.is_empty() {
            out.insert("examples".into(), Value::Mapping(examples));
        }
        Ok(Value::Mapping(out))
    }

    /// The schema at `place`: a `$ref` to a named component when the
    /// overlay names it (or any place its `$ref`s pass through), otherwise
    /// written in place.
    fn schema(&mut self, place: &Location) -> Result<Value, Error> {
        let mut here = place.clone();
        loop {
            if let Some(name) = self.names.get(&here).cloned() {
                return self.named_schema(&name, &here);
            }
            let value = self.upstream.get(&here)?;
            match reference(&value) {
                Some(target) => here = here.follow(target)?,
                None => return self.inline_schema(&here, &value),
            }
        }
    }

    fn named_schema(&mut self, name: &str, place: &Location) -> Result<Value, Error> {
        if !self.building.insert(name.to_owned()) {
            return Err(Error::new(format!(
                "the schema `{name}` contains itself ({place})"
            )));
        }
        let value = self.upstream.get(place)?;
        let built = self.inline_schema(place, &value);
        self.building.remove(name);
        let built = built?;
        let key = ("schemas", name.to_owned());
        match self.origins.get(&key) {
            None => {
                self.origins.insert(key, place.clone());
                self.schemas.insert(name.into(), built);
            }
            Some(origin) if origin == place => {}
            Some(origin) => {
                let existing = self.schemas.get(name).cloned().unwrap_or_default();
                if strip_annotations(&existing) != strip_annotations(&built) {
                    return Err(Error::new(format!(
                        "x-schemas names two different schemas `{name}`: {origin} and {place}"
                    )));
                }
            }
        }
        Ok(local_ref("schemas", name))
    }

    fn inline_schema(&mut self, place: &Location, value: &Value) -> Result<Value, Error> {
        let map = value
            .as_mapping()
            .ok_or_else(|| Error::new(format!("{place}: a schema that is not an object")))?;
        let mut out = Mapping::new();
        for (key, child) in map {
            let name = key.as_str().unwrap_or_default();
            let here = place.child(name);
            let value = match name {
                "properties" => self.each_entry(&here, Self::schema)?,
                "allOf" | "anyOf" | "oneOf" => self.each(&here, Self::schema)?,
                "items" | "not" => self.schema(&here)?,
                "additionalProperties" if child.is_mapping() => self.schema(&here)?,
                _ => self.upstream.inlined(&here)?,
            };
            out.insert(key.clone(), value);
        }
        if out.contains_key("allOf") {
            return self.merge_all_of(place, out);
        }
        Ok(Value::Mapping(out))
    }

    /// One object schema from an `allOf` of object schemas (and the keys
    /// beside the `allOf`).
    fn merge_all_of(&self, place: &Location, mut schema: Mapping) -> Result<Value, Error> {
        let parts = schema
            .remove("allOf")
            .and_then(|p| p.as_sequence().cloned())
            .unwrap_or_default();
        let mut all = vec![schema];
        for part in parts {
            let part = match reference(&part) {
                Some(target) => {
                    let name = target.trim_start_matches("#/components/schemas/");
                    self.schemas.get(name).cloned().unwrap_or_default()
                }
                None => part,
            };
            let Value::Mapping(part) = part else {
                return Err(Error::new(format!(
                    "{place}: an allOf part is not an object"
                )));
            };
            all.push(part);
        }
        merge_objects(place, all)
    }

    fn each(
        &mut self,
        place: &Location,
        mut f: impl FnMut(&mut Self, &Location) -> Result<Value, Error>,
    ) -> Result<Value, Error> {
        let (place, value) = self.upstream.resolve(place)?;
        let count = value.as_sequence().map_or(0, Vec::len);
        (0..count)
            .map(|i| f(self, &place.child(&i.to_string())))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence)
    }

    fn each_entry(
        &mut self,
        place: &Location,
        mut f: impl FnMut(&mut Self, &Location) -> Result<Value, Error>,
    ) -> Result<Value, Error> {
        let (place, value) = self.upstream.resolve(place)?;
        let mut out = Mapping::new();
        for (key, _) in value.as_mapping().into_iter().flatten() {
            let name = key
                .as_str()
                .ok_or_else(|| Error::new(format!("{place}: a key that is not a string")))?;
            out.insert(key.clone(), f(self, &place.child(name))?);
        }
        Ok(Value::Mapping(out))
    }

    /// The root's entries for the tags the operations use.
    fn tags(&self, root: &Value, used: &BTreeSet<String>) -> Result<Value, Error> {
        let mut out = Vec::new();
        let all = root.get("tags").and_then(Value::as_sequence);
        for (i, tag) in all.into_iter().flatten().enumerate() {
            let name = tag.get("name").and_then(Value::as_str).unwrap_or_default();
            if used.contains(name) {
                let place = Location::parse(ROOT_FILE)
                    .child("tags")
                    .child(&i.to_string());
                out.push(self.upstream.inlined(&place)?);
            }
        }
        Ok(Value::Sequence(out))
    }

    /// The root's security schemes the document uses.
    fn security_schemes(&self, root: &Value, doc: &Mapping) -> Result<Value, Error> {
        let mut used = BTreeSet::new();
        let mut requirements: Vec<&Value> = doc.get("security").into_iter().collect();
        if let Some(Value::Mapping(paths)) = doc.get("paths") {
            for (_, item) in paths {
                for (_, op) in item.as_mapping().into_iter().flatten() {
                    requirements.extend(op.get("security"));
                }
            }
        }
        for list in requirements {
            for requirement in list.as_sequence().into_iter().flatten() {
                for (name, _) in requirement.as_mapping().into_iter().flatten() {
                    used.insert(name.as_str().unwrap_or_default().to_owned());
                }
            }
        }
        let mut out = Mapping::new();
        let schemes = root
            .get("components")
            .and_then(|c| c.get("securitySchemes"));
        for name in used {
            if schemes.and_then(|s| s.get(name.as_str())).is_none() {
                return Err(Error::new(format!(
                    "the security scheme `{name}` is not in {ROOT_FILE}"
                )));
            }
            let place = Location::parse(ROOT_FILE)
                .child("components")
                .child("securitySchemes")
                .child(&name);
            out.insert(name.as_str().into(), self.upstream.inlined(&place)?);
        }
        Ok(Value::Mapping(out))
    }
}

fn local_ref(section: &str, name: &str) -> Value {
    let mut out = Mapping::new();
    out.insert(
        "$ref".into(),
        Value::from(format!("#/components/{section}/{name}")),
    );
    Value::Mapping(out)
}

/// Merges object schemas: one `type: object`, the first of each
/// annotation, every property (a property defined twice must be defined
/// the same way), every required name once.
fn merge_objects(place: &Location, parts: Vec<Mapping>) -> Result<Value, Error> {
    let mut out = Mapping::new();
    let mut properties = Mapping::new();
    let mut required: Vec<Value> = Vec::new();
    let mut object = false;
    for part in parts {
        for (key, value) in part {
            match key.as_str().unwrap_or_default() {
                "type" if value.as_str() == Some("object") => object = true,
                "type" => {
                    return Err(Error::new(format!(
                        "{place}: an allOf of a non-object ({value:?}) is not supported"
                    )));
                }
                "properties" => {
                    for (name, schema) in value.as_mapping().into_iter().flatten() {
                        match properties.get(name) {
                            Some(existing) if *existing != *schema => {
                                return Err(Error::new(format!(
                                    "{place}: allOf parts define the property {} differently",
                                    name.as_str().unwrap_or_default()
                                )));
                            }
                            Some(_) => {}
                            None => {
                                properties.insert(name.clone(), schema.clone());
                            }
                        }
                    }
                }
                "required" => {
                    for name in value.as_sequence().into_iter().flatten() {
                        if !required.contains(name) {
                            required.push(name.clone());
                        }
                    }
                }
                name if ANNOTATIONS.contains(&name) => {
                    if !out.contains_key(name) {
                        out.insert(key, value);
                    }
                }
                name => match out.get(name) {
                    Some(existing) if *existing != value => {
                        return Err(Error::new(format!(
                            "{place}: allOf parts disagree on `{name}`"
                        )));
                    }
                    _ => {
                        out.insert(key, value);
                    }
                },
            }
        }
    }
    let mut merged = Mapping::new();
    if object || !properties.is_empty() {
        merged.insert("type".into(), "object".into());
    }
    for (key, value) in out {
        merged.insert(key, value);
    }
    if !required.is_empty() {
        merged.insert("required".into(), Value::Sequence(required));
    }
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Mapping(properties));
    }
    Ok(Value::Mapping(merged))
}

/// `value` without annotation keywords at any depth.
fn strip_annotations(value: &Value) -> Value {
    match value {
        Value::Mapping(map) => Value::Mapping(
            map.iter()
                .filter(|(k, _)| !k.as_str().is_some_and(|k| ANNOTATIONS.contains(&k)))
                .map(|(k, v)| (k.clone(), strip_annotations(v)))
                .collect(),
        ),
        Value::Sequence(items) => Value::Sequence(items.iter().map(strip_annotations).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Mapping {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn an_all_of_of_objects_is_one_object() {
        let merged = merge_objects(
            &Location::parse("x.yml"),
            vec![
                yaml("{description: outer}"),
                yaml("{type: object, description: inner, properties: {a: {type: integer}}, required: [a]}"),
                yaml("{required: [a, b], properties: {b: {type: string}}}"),
            ],
        )
        .unwrap();
        let want: Value = serde_yaml_ng::from_str(
            "{type: object, description: outer, required: [a, b], properties: {a: {type: integer}, b: {type: string}}}",
        )
        .unwrap();
        assert_eq!(merged, want);
    }

    #[test]
    fn a_property_defined_twice_differently_is_an_error() {
        let e = merge_objects(
            &Location::parse("x.yml"),
            vec![
                yaml("{properties: {a: {type: integer}}}"),
                yaml("{properties: {a: {type: string}}}"),
            ],
        )
        .unwrap_err();
        assert!(e.to_string().contains("property a"), "{e}");
    }
}
