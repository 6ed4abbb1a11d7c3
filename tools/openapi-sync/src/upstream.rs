//! DigitalOcean's OpenAPI description as files: reading them, following a
//! `$ref` from one place to another, and the set of files two operations
//! reach.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use serde_yaml_ng::Value;

use crate::Error;

/// The file of the description that lists every path and holds the
/// security schemes, relative to the root of a checkout.
pub const ROOT_FILE: &str = "specification/DigitalOcean-public.v2.yaml";

/// A place in the description: a file (relative to the checkout's root,
/// `/`-separated, normalized) and a JSON pointer into it (`""` for the
/// whole file).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The file, e.g. `specification/shared/meta.yml`.
    pub file: String,
    /// The JSON pointer, e.g. `/properties/meta`, or `""`.
    pub pointer: String,
}

impl Location {
    /// A location from `file#pointer` (pointer optional, file relative to
    /// the checkout's root).
    pub fn parse(text: &str) -> Self {
        let (file, pointer) = text.split_once('#').unwrap_or((text, ""));
        Self {
            file: file.to_owned(),
            pointer: pointer.to_owned(),
        }
    }

    /// This location, one key or index further in.
    pub fn child(&self, key: &str) -> Self {
        let escaped = key.replace('~', "~0").replace('/', "~1");
        Self {
            file: self.file.clone(),
            pointer: format!("{}/{escaped}", self.pointer),
        }
    }

    /// Where `reference` (a `$ref` found at this location) points.
    pub fn follow(&self, reference: &str) -> Result<Self, Error> {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let file = if file.is_empty() {
            self.file.clone()
        } else {
            let base = Path::new(&self.file).parent().unwrap_or(Path::new(""));
            normalize(&base.join(file)).ok_or_else(|| {
                Error::new(format!(
                    "{self}: `$ref: {reference}` leaves the checkout's root"
                ))
            })?
        };
        Ok(Self {
            file,
            pointer: pointer.to_owned(),
        })
    }

    /// The last key of the pointer, or the file's stem for a whole file:
    /// the name upstream gives the thing.
    pub fn name(&self) -> String {
        match self.pointer.rsplit_once('/') {
            Some((_, last)) if !last.is_empty() => last.replace("~1", "/").replace("~0", "~"),
            _ => Path::new(&self.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}#{}", self.file, self.pointer)
        }
    }
}

/// `a/b/../c` -> `a/c`, `/`-separated; `None` when it climbs above the
/// root.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// A checkout of `digitalocean/openapi` (or the vendored part of one),
/// read file by file on demand.
pub struct Upstream {
    root: PathBuf,
    files: RefCell<HashMap<String, Rc<Value>>>,
}

impl Upstream {
    /// The checkout at `root` (the directory holding `specification/`).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, Error> {
        let root = root.into();
        if !root.join(ROOT_FILE).is_file() {
            return Err(Error::new(format!(
                "{}: no {ROOT_FILE} here; give the root of a checkout of digitalocean/openapi \
                 or the vendored copy (openapi/upstream)",
                root.display()
            )));
        }
        Ok(Self {
            root,
            files: RefCell::default(),
        })
    }

    /// The directory this reads from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A whole file, parsed.
    pub fn file(&self, file: &str) -> Result<Rc<Value>, Error> {
        if let Some(value) = self.files.borrow().get(file) {
            return Ok(Rc::clone(value));
        }
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        let value: Value = serde_yaml_ng::from_str(&text)
            .map_err(|e| Error::new(format!("{}: not YAML: {e}", path.display())))?;
        let value = Rc::new(value);
        self.files
            .borrow_mut()
            .insert(file.to_owned(), Rc::clone(&value));
        Ok(value)
    }

    /// The value at `location` (not following a `$ref` found there).
    pub fn get(&self, location: &Location) -> Result<Value, Error> {
        let file = self.file(&location.file)?;
        let mut value: &Value = &file;
        for raw in location.pointer.split('/').skip(1) {
            let key = raw.replace("~1", "/").replace("~0", "~");
            let next = match value {
                Value::Mapping(map) => map.get(key.as_str()),
                Value::Sequence(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            value = next.ok_or_else(|| Error::new(format!("{location}: no such place")))?;
        }
        Ok(value.clone())
    }

    /// The value at `location`, following `$ref`s until a value that is
    /// not one; returns where it was found too.
    pub fn resolve(&self, location: &Location) -> Result<(Location, Value), Error> {
        let mut location = location.clone();
        for _ in 0..64 {
            let value = self.get(&location)?;
            match reference(&value) {
                Some(target) => location = location.follow(target)?,
                None => return Ok((location, value)),
            }
        }
        Err(Error::new(format!("{location}: a `$ref` cycle")))
    }

    /// The value at `location` with every `$ref` under it replaced by what
    /// it points at (the description has no recursive schemas; a cycle is
    /// an error).
    pub fn inlined(&self, location: &Location) -> Result<Value, Error> {
        let (location, value) = self.resolve(location)?;
        self.inline_value(&location, value, 0)
    }

    /// `value` (found at `location`) with the `$ref`s under it inlined:
    /// the tree is walked once, and only a `$ref` reads another place.
    fn inline_value(
        &self,
        location: &Location,
        value: Value,
        depth: usize,
    ) -> Result<Value, Error> {
        if depth > 64 {
            return Err(Error::new(format!("{location}: `$ref`s nest too deep")));
        }
        if let Some(target) = reference(&value) {
            let (target, value) = self.resolve(&location.follow(target)?)?;
            return self.inline_value(&target, value, depth + 1);
        }
        Ok(match value {
            Value::Mapping(map) => {
                let mut out = serde_yaml_ng::Mapping::new();
                for (key, child) in map {
                    let Some(name) = key.as_str() else {
                        return Err(Error::new(format!(
                            "{location}: a key that is not a string"
                        )));
                    };
                    let child = self.inline_value(&location.child(name), child, depth + 1)?;
                    out.insert(key, child);
                }
                Value::Mapping(out)
            }
            Value::Sequence(items) => Value::Sequence(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, child)| {
                        self.inline_value(&location.child(&i.to_string()), child, depth + 1)
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => other,
        })
    }

    /// Every file `start` reaches through `$ref`s, itself included.
    pub fn closure(&self, start: &[&str]) -> Result<BTreeSet<String>, Error> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = start.iter().map(|s| (*s).to_owned()).collect();
        while let Some(file) = todo.pop() {
            if !seen.insert(file.clone()) {
                continue;
            }
            let value = self.file(&file)?;
            let here = Location {
                file,
                pointer: String::new(),
            };
            let mut references = Vec::new();
            collect_references(&value, &mut references);
            for target in references {
                let target = here.follow(&target)?;
                if !seen.contains(&target.file) {
                    todo.push(target.file);
                }
            }
        }
        Ok(seen)
    }
}

/// The target of `value` when it is a `$ref` object.
pub fn reference(value: &Value) -> Option<&str> {
    value.as_mapping()?.get("$ref")?.as_str()
}

fn collect_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                match (key.as_str(), child.as_str()) {
                    (Some("$ref"), Some(target)) => out.push(target.to_owned()),
                    _ => collect_references(child, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_followed_relative_to_their_file() {
        let here = Location::parse("specification/resources/droplets/droplets_list_snapshots.yml");
        let target = here
            .follow("../../shared/parameters.yml#/per_page")
            .unwrap();
        assert_eq!(target.file, "specification/shared/parameters.yml");
        assert_eq!(target.pointer, "/per_page");
        assert_eq!(target.name(), "per_page");
        let local = target.follow("#/page").unwrap();
        assert_eq!(local.file, "specification/shared/parameters.yml");
        assert!(here.follow("../../../../x.yml").is_err());
    }

    #[test]
    fn names_come_from_the_pointer_or_the_file() {
        assert_eq!(Location::parse("a/b/meta.yml").name(), "meta");
        assert_eq!(
            Location::parse("a/r.yml#/content/application~1json").name(),
            "application/json"
        );
        assert_eq!(
            Location::parse("a/r.yml").child("application/json").pointer,
            "/application~1json"
        );
    }
}
