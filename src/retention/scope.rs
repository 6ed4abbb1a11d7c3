//! Which snapshots a plan may touch.

use super::Retainable;
use crate::ResourceType;

/// Which snapshots a plan may touch; every other one is kept and counted as
/// out of scope ([`Reason::OutOfScope`](super::Reason::OutOfScope)).
///
/// Each kind of criterion, repeated, admits a snapshot that meets any of
/// its values; the kinds combine with AND. A kind never set admits every
/// snapshot: [`Scope::all`] admits them all.
///
/// ```
/// use digitalocean_snapshots::retention::Scope;
/// use digitalocean_snapshots::{ResourceType, Snapshot};
///
/// let scope = Scope::all().name("nightly-*").name("hourly-??").region("nyc3");
/// let at = chrono::DateTime::UNIX_EPOCH;
/// let nightly = Snapshot::new("1", at).with_name("nightly-2026-11-30").with_regions(["nyc3"]);
/// let manual = Snapshot::new("2", at).with_name("before-upgrade").with_regions(["nyc3"]);
/// let elsewhere = Snapshot::new("3", at).with_name("hourly-07").with_regions(["ams3"]);
/// assert!(scope.admits(&nightly));
/// assert!(!scope.admits(&manual));
/// assert!(!scope.admits(&elsewhere));
/// assert!(Scope::all().resource_type(ResourceType::Droplet).admits(&nightly));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    names: Vec<String>,
    regions: Vec<String>,
    resource_types: Vec<ResourceType>,
    resource_ids: Vec<String>,
}

fn push<T: PartialEq>(values: &mut Vec<T>, value: T) {
    if !values.contains(&value) {
        values.push(value);
    }
}

impl Scope {
    /// Every snapshot.
    pub fn all() -> Self {
        Self::default()
    }

    /// Snapshots whose whole name matches the glob: `*` matches any run of
    /// characters (none included), `?` exactly one character, anything
    /// else itself, case-sensitive (no escapes, no character classes).
    #[must_use]
    pub fn name(mut self, glob: impl Into<String>) -> Self {
        push(&mut self.names, glob.into());
        self
    }

    /// Snapshots available in the region with this slug (`nyc3`): one
    /// available there and elsewhere too is admitted, and deleting it
    /// removes it from every region.
    #[must_use]
    pub fn region(mut self, slug: impl Into<String>) -> Self {
        push(&mut self.regions, slug.into());
        self
    }

    /// Snapshots taken from this kind of resource. Every item of a
    /// droplet's listing counts as taken from a droplet.
    #[must_use]
    pub fn resource_type(mut self, t: ResourceType) -> Self {
        push(&mut self.resource_types, t);
        self
    }

    /// Snapshots taken from the resource with this id (the account
    /// listing's `resource_id`). The items of a droplet's listing do not
    /// carry it: a scope with a resource id admits none of them.
    #[must_use]
    pub fn resource_id(mut self, id: impl Into<String>) -> Self {
        push(&mut self.resource_ids, id.into());
        self
    }

    /// Whether this scope admits every snapshot but backups (nothing was
    /// set).
    pub fn is_all(&self) -> bool {
        self.names.is_empty()
            && self.regions.is_empty()
            && self.resource_types.is_empty()
            && self.resource_ids.is_empty()
    }

    /// Whether a plan may touch `item`: one of a kind a plan may delete
    /// ([`Retainable::kind_known`]; a snapshot of a resource type this
    /// crate does not know only when this scope names that type), and
    /// one every setting admits.
    pub fn admits<T: Retainable>(&self, item: &T) -> bool {
        let named_type = item
            .resource_type()
            .is_some_and(|t| !t.is_known() && self.resource_types.contains(t));
        (item.kind_known() || named_type)
            && (self.names.is_empty() || self.names.iter().any(|g| glob_match(g, item.name())))
            && (self.regions.is_empty() || item.regions().iter().any(|r| self.regions.contains(r)))
            && (self.resource_types.is_empty()
                || item
                    .resource_type()
                    .is_some_and(|t| self.resource_types.contains(t)))
            && (self.resource_ids.is_empty()
                || item
                    .resource_id()
                    .is_some_and(|id| self.resource_ids.iter().any(|x| x == id)))
    }
}

/// Whether `name` matches `pattern` whole (`*`, `?`), character by
/// character. Iterative, backtracking only to the latest `*`: at most
/// `pattern.len() * name.len()` steps, never a recursion.
pub(super) fn glob_match(pattern: &str, name: &str) -> bool {
    let (mut p, mut n) = (pattern, name);
    // The pattern after the latest `*`, and where in the name that `*`'s
    // match ends so far.
    let mut star: Option<(&str, &str)> = None;
    loop {
        let mut pattern_chars = p.chars();
        match pattern_chars.next() {
            Some('*') => {
                p = pattern_chars.as_str();
                star = Some((p, n));
                continue;
            }
            Some(c) => {
                let mut name_chars = n.chars();
                if let Some(d) = name_chars.next()
                    && (c == '?' || c == d)
                {
                    p = pattern_chars.as_str();
                    n = name_chars.as_str();
                    continue;
                }
            }
            None if n.is_empty() => return true,
            None => {}
        }
        // A mismatch: let the latest `*` swallow one character more.
        let Some((after_star, swallowed)) = star else {
            return false;
        };
        let mut rest = swallowed.chars();
        if rest.next().is_none() {
            return false;
        }
        star = Some((after_star, rest.as_str()));
        p = after_star;
        n = rest.as_str();
    }
}
