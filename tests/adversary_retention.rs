//! An independent adversary for retention plans, written from the outside:
//! from the README ("Which snapshots can go", "The guarantee"), the
//! `retention` module docs, the docs of `WalkSummary` and the API facts,
//! never from the source of `retention` or of the walk. It runs real walks
//! against the sandbox while a hostile world changes the listing, plans
//! over what the walk returned, and judges every plan that is made (`Ok`)
//! against the server's state at the end of the walk.
//!
//! # The promises attacked
//!
//! What the docs promise (and so what is asserted):
//!
//! - **P1, no plan from a listing not proven whole.** `Policy::plan` is
//!   `Ok` only for a summary with a `proof`, `consistent`, `first_page`
//!   1, `vanished` 0, as many items as the walk delivered, no id twice;
//!   the report gives no plan (exit 3, nothing on stdout) from a listing
//!   that does not add up.
//! - **P2, the walk's guarantee.** A walk that ends `Ok` delivered every
//!   snapshot that existed for the whole walk exactly once (plus possibly
//!   snapshots created during it). Since ids are never reused, "existed
//!   for the whole walk" is "held by the server before the first request
//!   and after the last".
//! - **P3, one decision each.** Every item has exactly one decision; no
//!   snapshot is both kept and deleted; a kept one has a reason, a deleted
//!   one none; the counts add up.
//! - **P4, the rules** (restic's `forget`, per group, newest first, ties
//!   by id; out of scope and backups kept; the newest in-scope snapshot of
//!   each group kept; young and future snapshots kept; keep_tag refuses
//!   unknown tags in scope). An independent oracle recomputes every
//!   decision and its reasons; the plan must not depend on the order of
//!   the items.
//!
//! What the brief asked for, against the server's state at the end of the
//! walk, for every plan made:
//!
//! - **(a)** no group (resource type + resource id) that still has
//!   snapshots in scope loses all of them: the newest snapshot of each
//!   group that still exists is not in `to_delete`;
//! - **(b)** `keep_last(n)` never leaves a group with fewer than
//!   `min(n, its in-scope snapshots that existed for the whole walk)`;
//! - **(c)** no snapshot both kept and deleted, every snapshot that
//!   existed for the whole walk decided exactly once (P2 + P3);
//! - **(d)** a walk that does not add up never yields a plan (P1).
//!
//! The docs promise (a) and (b) only as far as the walk can see: "a
//! listing whose walk saw snapshots disappear gives no plan", "a deletion
//! after the walk is not seen by any walk". A snapshot the plan keeps that
//! another job deletes after the walk's last look at it (after the last
//! page was served, or after its page was read for the last time and the
//! listing re-balanced by a creation) makes (a) or (b) fail against the
//! end state without breaking any written promise. So (a) and (b) are
//! asserted strictly (1) in worlds that only gain snapshots, and (2) in
//! worlds that lose them when the sandbox's request log shows that the
//! walk read the whole final listing after the last change (then every
//! deletion was before the walk's last look, and must have been seen).
//! Other failures of (a)/(b) are counted and printed as the documented
//! gap; `a_deletion_after_the_last_page_empties_a_group` demonstrates it
//! deterministically (ignored: documented limitation).
//!
//! # The families
//!
//! - `plans_over_listings_that_only_grow_...`: random worlds (seeded data
//!   of 150 to 2,000 snapshots, every order, drift inserting anywhere,
//!   bursts, growing sizes, unstable batches, look-alike ids, a
//!   `resource_type` filter, pages of 20 to 200, 1 to 64 in flight), six
//!   random policies per walk: P1-P4 and (a)/(b) strictly.
//! - `plans_over_listings_that_lose_snapshots_...`: the same with
//!   rotation, drift deleting, late snapshots; (a)/(b) strictly when the
//!   walk read the whole final listing after the last change.
//! - `one_change_at_every_moment_of_the_walk`: exactly one deletion
//!   (with or without a creation) at the head, middle, tail or anywhere,
//!   after each page the walk reads in turn; a plan over a deleted
//!   snapshot whose place the walk read again after the deletion would
//!   break the `vanished` promise.
//! - a droplet's listing; servers that lie (totals, holes, repeated
//!   pages, duplicates, a page cap, an ignored filter); every partial way
//!   of reading (limit, resume, streams stopped early or with errors
//!   dropped, pages, blocking, no dedup, one pass); hand-picked summaries;
//!   chosen snapshots (equal instants, `"7"`/`"07"`/`"+7"`, ids beyond
//!   u128, UUIDs in both cases, far-future and year-1 dates, partial glob
//!   matches, unknown and colon-bearing resource types, groups of one,
//!   null and absent tags); chrono's extremes; the report as a process.
//!
//! Run: `cargo test --all-features -p digitalocean-snapshots-tests --test
//! adversary_retention -- --nocapture` (the families print their tallies;
//! `-- --ignored` runs the two demonstrations of the documented gap).

mod common;

use common::report;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, TimeZone, Timelike, Utc};
use digitalocean_sandbox::{Faults, Order, Position, RateLimits, Sandbox, TotalReport};
use digitalocean_snapshots::retention::{
    Action, GroupBy, Period, Plan, Policy, Reason, Retainable, Scope,
};
use digitalocean_snapshots::{
    Client, DropletSnapshot, ErrorKind, ListingProof, ResourceType, Snapshot, SnapshotType,
    WalkSummary,
};
use serde_json::{Value, json};

// ------------------------------------------------------------------ random

#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x9e37_79b9_7f4a_7c15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

// -------------------------------------------------------------- the views

/// What the oracle needs of one snapshot, from either listing.
#[derive(Clone, Debug)]
struct V {
    id: String,
    created: DateTime<Utc>,
    name: String,
    regions: Vec<String>,
    /// The resource type as the server wrote it ("droplet" on a
    /// droplet's listing).
    rtype: String,
    /// The resource id; `None` on a droplet's listing.
    rid: Option<String>,
    tags: Option<Vec<String>>,
    /// Of a kind a plan may delete (retention docs: not a backup, not an
    /// image of an unknown `type`, not a snapshot of an unknown
    /// `resource_type` unless the scope names it).
    known: bool,
    /// A droplet listing's `type` (its group); empty on the account's.
    kind: Option<String>,
    size: f64,
}

trait View: Clone {
    fn v(&self) -> V;
}

impl View for Snapshot {
    fn v(&self) -> V {
        V {
            id: self.id.clone(),
            created: self.created_at,
            name: self.name.clone(),
            regions: self.regions.clone(),
            rtype: self.resource_type.to_string(),
            rid: Some(self.resource_id.clone()),
            tags: self.tags.clone(),
            known: self.resource_type.is_known(),
            kind: None,
            size: self.size_gigabytes,
        }
    }
}

impl View for DropletSnapshot {
    fn v(&self) -> V {
        V {
            id: self.id.to_string(),
            created: self.created_at,
            name: self.name.clone(),
            regions: self.regions.clone(),
            rtype: "droplet".to_owned(),
            rid: None,
            tags: None,
            known: self.snapshot_type == SnapshotType::Snapshot,
            kind: Some(self.snapshot_type.to_string()),
            size: self.size_gigabytes,
        }
    }
}

/// An account listing's item as the server holds it, through the crate's
/// own decoder (`None` when it does not decode).
fn account_view(value: &Value) -> Option<V> {
    serde_json::from_value::<Snapshot>(value.clone())
        .ok()
        .map(|s| s.v())
}

fn droplet_view(value: &Value) -> Option<V> {
    serde_json::from_value::<DropletSnapshot>(value.clone())
        .ok()
        .map(|s| s.v())
}

// ----------------------------------------------------------- the policies

/// A policy, mirrored for the oracle.
#[derive(Clone, Debug, Default)]
struct Spec {
    last: u32,
    hourly: u32,
    daily: u32,
    weekly: u32,
    monthly: u32,
    yearly: u32,
    within: Duration,
    tags: Vec<String>,
    min_age: Option<Duration>,
    all: bool,
    names: Vec<String>,
    regions: Vec<String>,
    types: Vec<String>,
    ids: Vec<String>,
    offset: i32,
}

impl Spec {
    fn policy(&self) -> Policy {
        let mut p = Policy::new()
            .keep_last(self.last)
            .keep_hourly(self.hourly)
            .keep_daily(self.daily)
            .keep_weekly(self.weekly)
            .keep_monthly(self.monthly)
            .keep_yearly(self.yearly)
            .keep_within(self.within)
            .group_by(if self.all {
                GroupBy::All
            } else {
                GroupBy::Resource
            })
            .utc_offset(FixedOffset::east_opt(self.offset).expect("offset"));
        for t in &self.tags {
            p = p.keep_tag(t.clone());
        }
        if let Some(m) = self.min_age {
            p = p.min_age(m);
        }
        let mut s = Scope::all();
        for n in &self.names {
            s = s.name(n.clone());
        }
        for r in &self.regions {
            s = s.region(r.clone());
        }
        for t in &self.types {
            s = s.resource_type(ResourceType::from(t.as_str()));
        }
        for i in &self.ids {
            s = s.resource_id(i.clone());
        }
        p.scope(s)
    }

    fn min_age(&self) -> Duration {
        self.min_age.unwrap_or(Duration::from_secs(3600))
    }

    fn is_empty(&self) -> bool {
        self.last == 0
            && self.hourly == 0
            && self.daily == 0
            && self.weekly == 0
            && self.monthly == 0
            && self.yearly == 0
            && self.within.is_zero()
            && self.tags.is_empty()
    }

    fn admits(&self, v: &V) -> bool {
        (v.known || (v.rid.is_some() && self.types.contains(&v.rtype)))
            && (self.names.is_empty() || self.names.iter().any(|g| glob(g, &v.name)))
            && (self.regions.is_empty() || self.regions.iter().any(|r| v.regions.contains(r)))
            && (self.types.is_empty() || self.types.contains(&v.rtype))
            && (self.ids.is_empty() || v.rid.as_ref().is_some_and(|i| self.ids.contains(i)))
    }

    /// The oracle's group key (never ambiguous) and the name the docs
    /// give the group.
    fn group(&self, v: &V) -> (String, String) {
        if self.all {
            return ("all".into(), "all".into());
        }
        match (&v.kind, &v.rid) {
            (Some(kind), _) => (format!("k\0{kind}"), kind.clone()),
            (None, Some(rid)) => (
                format!("r\0{}\0{rid}", v.rtype),
                format!("{}:{rid}", v.rtype),
            ),
            (None, None) => unreachable!(),
        }
    }
}

/// What snapshots the random policies can aim at.
#[derive(Default)]
struct Pool {
    names: Vec<String>,
    regions: Vec<String>,
    ids: Vec<String>,
    tags: Vec<String>,
}

impl Pool {
    fn of(items: &[V]) -> Self {
        let mut pool = Pool::default();
        for v in items.iter().take(400) {
            pool.names.push(v.name.clone());
            pool.regions.extend(v.regions.iter().cloned());
            pool.ids.extend(v.rid.iter().cloned());
            pool.tags.extend(v.tags.iter().flatten().cloned());
        }
        pool.names.push("nightly-x".into());
        pool.regions.push("nyc3".into());
        pool.ids.push("0".into());
        pool.tags.push("env:prod".into());
        pool
    }
}

fn random_spec(rng: &mut Rng, pool: &Pool) -> Spec {
    let counts = [0, 0, 0, 1, 1, 2, 3, 5, 7, 40, u32::MAX];
    let mut s = Spec {
        last: rng.pick(&counts),
        hourly: if rng.chance(0.3) {
            rng.pick(&counts)
        } else {
            0
        },
        daily: if rng.chance(0.4) {
            rng.pick(&counts)
        } else {
            0
        },
        weekly: if rng.chance(0.3) {
            rng.pick(&counts)
        } else {
            0
        },
        monthly: if rng.chance(0.3) {
            rng.pick(&counts)
        } else {
            0
        },
        yearly: if rng.chance(0.2) {
            rng.pick(&counts)
        } else {
            0
        },
        within: if rng.chance(0.3) {
            rng.pick(&[
                Duration::from_secs(3600),
                Duration::from_secs(36 * 3600),
                Duration::from_secs(7 * 86400),
                Duration::from_secs(400 * 86400),
                Duration::MAX,
            ])
        } else {
            Duration::ZERO
        },
        min_age: rng.pick(&[
            None,
            None,
            Some(Duration::ZERO),
            Some(Duration::from_secs(86400)),
            Some(Duration::from_secs(90 * 86400)),
            Some(Duration::MAX),
        ]),
        all: rng.chance(0.2),
        offset: if rng.chance(0.6) {
            0
        } else {
            rng.pick(&[-86_399, -50_400, -18_000, 3_600, 19_800, 50_400, 86_399])
        },
        ..Spec::default()
    };
    if rng.chance(0.1) {
        s.tags
            .push(rng.pick(&["".to_owned(), "env:prod".to_owned()]));
        if !pool.tags.is_empty() && rng.chance(0.5) {
            s.tags.push(rng.pick(&pool.tags));
        }
    }
    if rng.chance(0.5) {
        for _ in 0..1 + rng.below(2) {
            match rng.below(4) {
                0 => {
                    let name = rng.pick(&pool.names);
                    let cut: String = name.chars().take(rng.below(8) + 1).collect();
                    let glob = rng.pick(&[
                        format!("{cut}*"),
                        "*".to_owned(),
                        name.clone(),
                        format!("*{}", name.chars().skip(3).collect::<String>()),
                        format!("{cut}?"),
                        "*-*".to_owned(),
                        "?*?".to_owned(),
                    ]);
                    s.names.push(glob);
                }
                1 => s.regions.push(rng.pick(&pool.regions)),
                2 => s
                    .types
                    .push(rng.pick(&["droplet".to_owned(), "volume".to_owned()])),
                _ => s.ids.push(rng.pick(&pool.ids)),
            }
        }
    }
    s
}

// ------------------------------------------------------------- the oracle

/// Whole-name glob: `*` any run of characters, `?` exactly one, anything
/// else itself.
fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // dp[j]: p[..i] matches n[..j]
    let mut dp = vec![false; n.len() + 1];
    dp[0] = true;
    for &pc in &p {
        let mut next = vec![false; n.len() + 1];
        if pc == '*' {
            let mut any = false;
            for j in 0..=n.len() {
                any |= dp[j];
                next[j] = any;
            }
        } else {
            for j in 1..=n.len() {
                next[j] = dp[j - 1] && (pc == '?' || pc == n[j - 1]);
            }
        }
        dp = next;
    }
    dp[n.len()]
}

fn decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The docs' order of ids at the same instant; `None` where the docs do
/// not decide (numerically equal decimal ids, an empty id, digits outside
/// ASCII).
fn id_cmp(a: &str, b: &str) -> Option<Ordering> {
    let odd = |s: &str| s.is_empty() || s.chars().any(|c| c.is_numeric() && !c.is_ascii_digit());
    if a == b {
        return Some(Ordering::Equal);
    }
    if odd(a) || odd(b) {
        return None;
    }
    match (decimal(a), decimal(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            match x.len().cmp(&y.len()).then_with(|| x.cmp(y)) {
                Ordering::Equal => None,
                o => Some(o),
            }
        }
        (true, false) => Some(Ordering::Less),
        (false, true) => Some(Ordering::Greater),
        (false, false) => Some(a.cmp(b)),
    }
}

/// Newest first, the docs' way.
fn newest_first(a: &V, b: &V) -> Ordering {
    b.created
        .cmp(&a.created)
        .then_with(|| id_cmp(&b.id, &a.id).unwrap_or(Ordering::Equal))
}

fn bucket(t: DateTime<Utc>, offset: i32, period: Period) -> (i32, u32, u32, u32) {
    let local = t
        .naive_utc()
        .checked_add_signed(TimeDelta::seconds(offset.into()))
        .unwrap_or(t.naive_utc());
    match period {
        Period::Hour => (local.year(), local.ordinal(), local.hour(), 0),
        Period::Day => (local.year(), local.ordinal(), 0, 0),
        Period::Week => (local.iso_week().year(), local.iso_week().week(), 0, 1),
        Period::Month => (local.year(), local.month(), 0, 2),
        Period::Year => (local.year(), 0, 0, 3),
        _ => unreachable!(),
    }
}

/// `created_at > now - d`, where a `d` beyond chrono reaches everything.
fn within(created: DateTime<Utc>, now: DateTime<Utc>, d: Duration) -> bool {
    match TimeDelta::from_std(d)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
    {
        Some(edge) => created > edge,
        None => true,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    UnknownTags,
}

struct Expected {
    /// id -> (action, reasons sorted by their Debug text; `None` where
    /// only the action is judged).
    decisions: HashMap<String, (Action, Option<Vec<String>>)>,
    /// Ids in the order the decisions must come in (groups whose ties the
    /// docs do not decide are left out).
    order: Vec<(String, Vec<String>)>,
    /// Groups whose order the docs do not decide (by oracle key).
    ambiguous: HashSet<String>,
    /// id -> the name the docs give its group.
    group_name: HashMap<String, String>,
}

fn reasons_text(reasons: &[Reason]) -> Vec<String> {
    let mut v: Vec<String> = reasons.iter().map(|r| format!("{r:?}")).collect();
    v.sort();
    v
}

fn oracle(spec: &Spec, items: &[V], now: DateTime<Utc>) -> Result<Expected, Refusal> {
    // The docs: no plan with keep-tag when no snapshot in scope has its
    // tags listed; with some listed, `None` is no tags.
    let mut admitted = items.iter().filter(|v| spec.admits(v)).peekable();
    if !spec.tags.is_empty() && admitted.peek().is_some() && admitted.all(|v| v.tags.is_none()) {
        return Err(Refusal::UnknownTags);
    }
    let mut groups: BTreeMap<String, Vec<&V>> = BTreeMap::new();
    let mut exp = Expected {
        decisions: HashMap::new(),
        order: Vec::new(),
        ambiguous: HashSet::new(),
        group_name: HashMap::new(),
    };
    for v in items {
        let (key, name) = spec.group(v);
        exp.group_name.insert(v.id.clone(), name);
        groups.entry(key).or_default().push(v);
    }
    let empty = spec.is_empty();
    for (key, mut members) in groups {
        members.sort_by(|a, b| newest_first(a, b));
        for w in members.windows(2) {
            if w[0].created == w[1].created && id_cmp(&w[0].id, &w[1].id).is_none() {
                exp.ambiguous.insert(key.clone());
            }
        }
        // Runs of equal instants longer than two: compare every pair.
        let mut i = 0;
        while i < members.len() {
            let mut j = i;
            while j < members.len() && members[j].created == members[i].created {
                j += 1;
            }
            for a in i..j {
                for b in a + 1..j {
                    if id_cmp(&members[a].id, &members[b].id).is_none() {
                        exp.ambiguous.insert(key.clone());
                    }
                }
            }
            i = j;
        }
        let in_scope: Vec<&V> = members.iter().copied().filter(|v| spec.admits(v)).collect();
        let mut why: HashMap<&str, Vec<Reason>> = HashMap::new();
        let mut literal_empty_tag = false;
        if !empty {
            for (idx, v) in in_scope.iter().enumerate() {
                let r = why.entry(v.id.as_str()).or_default();
                if spec.last == u32::MAX || (idx as u64) < u64::from(spec.last) {
                    r.push(Reason::Last);
                }
                if !spec.within.is_zero() && within(v.created, now, spec.within) {
                    r.push(Reason::Within);
                }
                if !spec.tags.is_empty() {
                    let tags = v.tags.as_deref().unwrap_or(&[]);
                    if spec.tags.iter().any(String::is_empty) && tags.iter().any(String::is_empty) {
                        // A snapshot carrying the tag "": the docs say the
                        // empty tag keeps snapshots "without tags".
                        literal_empty_tag = true;
                    }
                    // The docs: the same tag given twice keeps once.
                    let mut given: Vec<&String> = Vec::new();
                    for t in &spec.tags {
                        if given.contains(&t) {
                            continue;
                        }
                        given.push(t);
                        if (t.is_empty() && tags.is_empty()) || (!t.is_empty() && tags.contains(t))
                        {
                            r.push(Reason::Tag(t.clone()));
                        }
                    }
                }
            }
            let rules = [
                (spec.hourly, Period::Hour, Reason::Hourly),
                (spec.daily, Period::Day, Reason::Daily),
                (spec.weekly, Period::Week, Reason::Weekly),
                (spec.monthly, Period::Month, Reason::Monthly),
                (spec.yearly, Period::Year, Reason::Yearly),
            ];
            for (n, period, reason) in rules {
                if n == 0 {
                    continue;
                }
                let mut left = if n == u32::MAX {
                    u64::MAX
                } else {
                    u64::from(n)
                };
                let mut last = None;
                for (idx, v) in in_scope.iter().enumerate() {
                    if left == 0 {
                        break;
                    }
                    let b = bucket(v.created, spec.offset, period);
                    let r = why.entry(v.id.as_str()).or_default();
                    if last != Some(b) {
                        r.push(reason.clone());
                    } else if idx == in_scope.len() - 1 {
                        r.push(Reason::Oldest(period));
                    } else {
                        continue;
                    }
                    last = Some(b);
                    if n != u32::MAX {
                        left -= 1;
                    }
                }
            }
        }
        if literal_empty_tag {
            exp.ambiguous.insert(key.clone());
        }
        let mut order = Vec::new();
        for v in &members {
            order.push(v.id.clone());
            let decision = if !spec.admits(v) {
                (Action::Keep, Some(vec!["OutOfScope".to_owned()]))
            } else if empty {
                (Action::Keep, None)
            } else {
                let rules = why.remove(v.id.as_str()).unwrap_or_default();
                if !rules.is_empty() {
                    (Action::Keep, Some(reasons_text(&rules)))
                } else {
                    let mut safety = Vec::new();
                    if in_scope.first().is_some_and(|n| n.id == v.id) {
                        safety.push(Reason::NewestOfGroup);
                    }
                    if v.created > now || within(v.created, now, spec.min_age()) {
                        safety.push(Reason::YoungerThanMinAge);
                    }
                    if safety.is_empty() {
                        (Action::Delete, Some(Vec::new()))
                    } else {
                        (Action::Keep, Some(reasons_text(&safety)))
                    }
                }
            };
            exp.decisions.insert(v.id.clone(), decision);
        }
        if !exp.ambiguous.contains(&key) {
            exp.order.push((key, order));
        }
    }
    Ok(exp)
}

// ---------------------------------------------------------- the judgement

thread_local! {
    /// Group names that differ from the docs' `<resource_type>:<resource_id>`
    /// (a note, not a violation: the grouping itself is checked).
    static NAME_NOTES: std::cell::RefCell<std::collections::BTreeSet<String>> =
        const { std::cell::RefCell::new(std::collections::BTreeSet::new()) };
}

/// What one family saw.
#[derive(Default, Debug)]
struct Tally {
    walks: u64,
    walks_ok: u64,
    walk_errors: BTreeMap<String, u64>,
    plans: u64,
    plans_refused: BTreeMap<String, u64>,
    /// Plans judged against the end state with every deletion before the
    /// walk's last full look (strict).
    strict_end_checks: u64,
    /// Plans whose listing held snapshots gone at the end though the walk
    /// reported none vanished, without a full look after the last change.
    unseen_deletions: u64,
    /// (a)/(b) failures explained by such unseen deletions.
    gap_a: u64,
    gap_b: u64,
    gap_examples: Vec<String>,
    violations: Vec<String>,
}

impl Tally {
    fn error(&mut self, e: &digitalocean_snapshots::Error) {
        *self
            .walk_errors
            .entry(format!("{:?}", e.kind()))
            .or_default() += 1;
    }
    fn print(&self, family: &str) {
        println!(
            "[{family}] walks {} (ok {}), errors {:?}; plans {} ok, refused {:?}; strict end-state checks {}; \
             plans over unseen deletions {} -> (a) gaps {}, (b) gaps {}; violations {}",
            self.walks,
            self.walks_ok,
            self.walk_errors,
            self.plans,
            self.plans_refused,
            self.strict_end_checks,
            self.unseen_deletions,
            self.gap_a,
            self.gap_b,
            self.violations.len()
        );
        for g in self.gap_examples.iter().take(3) {
            println!("[{family}]   gap: {g}");
        }
        for v in self.violations.iter().take(10) {
            println!("[{family}]   VIOLATION: {v}");
        }
    }
}

/// Checks a plan against the oracle over the listing (P3, P4). Returns
/// the violations.
fn judge_plan<T: View>(
    spec: &Spec,
    items: &[T],
    plan: &Plan<T>,
    now: DateTime<Utc>,
    ctx: &str,
) -> Vec<String> {
    let mut bad = Vec::new();
    let views: Vec<V> = items.iter().map(View::v).collect();
    let exp = match oracle(spec, &views, now) {
        Ok(e) => e,
        Err(r) => return vec![format!("{ctx}: plan made where the docs refuse ({r:?})")],
    };
    // P3
    if plan.decisions.len() != items.len() {
        bad.push(format!(
            "{ctx}: {} decisions for {} items",
            plan.decisions.len(),
            items.len()
        ));
    }
    let mut seen = HashSet::new();
    let (mut kept, mut deleted) = (0usize, 0usize);
    let mut names_of: HashMap<String, HashSet<String>> = HashMap::new();
    let mut keys_of: HashMap<String, HashSet<String>> = HashMap::new();
    for d in &plan.decisions {
        let v = d.item.v();
        if !seen.insert(v.id.clone()) {
            bad.push(format!("{ctx}: {} decided twice", v.id));
        }
        match d.action {
            Action::Keep => {
                kept += 1;
                if d.reasons.is_empty() {
                    bad.push(format!("{ctx}: {} kept without a reason", v.id));
                }
            }
            Action::Delete => {
                deleted += 1;
                if !d.reasons.is_empty() {
                    bad.push(format!(
                        "{ctx}: {} deleted with reasons {:?}",
                        v.id, d.reasons
                    ));
                }
            }
            _ => bad.push(format!("{ctx}: unknown action")),
        }
        match exp.decisions.get(&v.id) {
            None => bad.push(format!("{ctx}: {} decided but not listed", v.id)),
            Some((action, reasons)) => {
                let (key, _) = spec.group(&v);
                if *action != d.action {
                    if exp.ambiguous.contains(&key) {
                        // the docs do not decide this group's order
                    } else {
                        bad.push(format!(
                            "{ctx}: {} ({} {}:{:?} {:?}) is {:?} {:?}, the docs say {:?} {:?}",
                            v.id,
                            v.created,
                            v.rtype,
                            v.rid,
                            v.name,
                            d.action,
                            d.reasons,
                            action,
                            reasons
                        ));
                    }
                } else if let Some(reasons) = reasons
                    && !exp.ambiguous.contains(&key)
                    && reasons_text(&d.reasons) != *reasons
                {
                    bad.push(format!(
                        "{ctx}: {} ({}) kept for {:?}, the docs say {:?}",
                        v.id, v.created, d.reasons, reasons
                    ));
                }
            }
        }
        let (key, _) = spec.group(&v);
        names_of
            .entry(key.clone())
            .or_default()
            .insert(d.group.to_string());
        keys_of.entry(d.group.to_string()).or_default().insert(key);
        if let Some(name) = exp.group_name.get(&v.id)
            && *name != *d.group
        {
            NAME_NOTES.with(|n| {
                n.borrow_mut()
                    .insert(format!("group {:?} named {:?}", name, d.group));
            });
        }
    }
    // One group per (resource type, resource id), never two merged.
    for (key, names) in &names_of {
        if names.len() != 1 {
            bad.push(format!(
                "{ctx}: resource {key:?} split over groups {names:?}"
            ));
        }
    }
    for (name, keys) in &keys_of {
        if keys.len() != 1 {
            bad.push(format!("{ctx}: group {name:?} merges resources {keys:?}"));
        }
    }
    if plan.kept != kept || plan.deleted != deleted || plan.kept + plan.deleted != items.len() {
        bad.push(format!(
            "{ctx}: counts kept {} deleted {} for {kept}/{deleted}",
            plan.kept, plan.deleted
        ));
    }
    let out: usize = plan
        .decisions
        .iter()
        .filter(|d| d.reasons.contains(&Reason::OutOfScope))
        .count();
    if plan.out_of_scope != out {
        bad.push(format!(
            "{ctx}: out_of_scope {} for {out}",
            plan.out_of_scope
        ));
    }
    let del: HashSet<String> = plan.to_delete().map(|s| s.v().id).collect();
    let del_dec: HashSet<String> = plan
        .decisions
        .iter()
        .filter(|d| d.action == Action::Delete)
        .map(|d| d.item.v().id)
        .collect();
    if del != del_dec {
        bad.push(format!("{ctx}: to_delete is not the Delete decisions"));
    }
    let keep: HashSet<String> = plan.to_keep().map(|s| s.v().id).collect();
    if let Some(both) = keep.intersection(&del).next() {
        bad.push(format!("{ctx}: {both} both kept and deleted"));
    }
    // Gigabytes: finite, the sum of the groups'.
    let groups_sum: f64 = plan.groups.iter().map(|g| g.gigabytes_freed).sum();
    let expect: f64 = plan
        .to_delete()
        .map(|s| s.v().size)
        .filter(|s| s.is_finite() && *s > 0.0)
        .sum();
    if !plan.gigabytes_freed.is_finite()
        || plan.gigabytes_freed < 0.0
        || (expect.is_finite() && (plan.gigabytes_freed - expect).abs() > 1e-6 * expect.max(1.0))
        || (plan.gigabytes_freed - groups_sum).abs() > 1e-9 * groups_sum.max(1.0)
    {
        bad.push(format!(
            "{ctx}: gigabytes_freed {} (groups {groups_sum}, expected {expect})",
            plan.gigabytes_freed
        ));
    }
    let gk: usize = plan.groups.iter().map(|g| g.kept).sum();
    let gd: usize = plan.groups.iter().map(|g| g.deleted).sum();
    if gk != plan.kept || gd != plan.deleted {
        bad.push(format!("{ctx}: groups add up to {gk}/{gd}"));
    }
    // The order: groups ascending and contiguous, newest first within.
    let mut names: Vec<&str> = Vec::new();
    for d in &plan.decisions {
        if names.last() != Some(&&*d.group) {
            names.push(&d.group);
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    if sorted != names && !spec.all {
        // Two different resources whose names coincide would also land here.
        bad.push(format!(
            "{ctx}: groups not ascending/contiguous: {:?}",
            &names[..names.len().min(8)]
        ));
    }
    let plan_groups: Vec<&str> = plan.groups.iter().map(|g| g.group.as_str()).collect();
    if plan_groups != names {
        bad.push(format!(
            "{ctx}: Plan::groups {:?} are not the groups of the decisions",
            &plan_groups[..plan_groups.len().min(6)]
        ));
    }
    for g in &plan.groups {
        let of: Vec<_> = plan
            .decisions
            .iter()
            .filter(|d| *d.group == *g.group)
            .collect();
        let k = of.iter().filter(|d| d.action == Action::Keep).count();
        let o = of
            .iter()
            .filter(|d| d.reasons.contains(&Reason::OutOfScope))
            .count();
        if g.kept != k
            || g.deleted != of.len() - k
            || g.out_of_scope != o
            || !g.gigabytes_freed.is_finite()
        {
            bad.push(format!(
                "{ctx}: group {:?} counts {}/{}/{} for {k}/{}/{o}",
                g.group,
                g.kept,
                g.deleted,
                g.out_of_scope,
                of.len() - k
            ));
        }
    }
    let position: HashMap<String, usize> = plan
        .decisions
        .iter()
        .enumerate()
        .map(|(i, d)| (d.item.v().id, i))
        .collect();
    for (key, ids) in &exp.order {
        let at: Vec<usize> = ids
            .iter()
            .filter_map(|i| position.get(i).copied())
            .collect();
        if at.windows(2).any(|w| w[0] > w[1]) {
            bad.push(format!(
                "{ctx}: group {key:?} not newest first: {:?}",
                &ids[..ids.len().min(6)]
            ));
        }
    }
    bad
}

/// The plan of a shuffled copy gives the same decisions in the same order.
fn judge_order_independence<T: View + Retainable>(
    spec: &Spec,
    items: &[T],
    summary: &WalkSummary,
    plan: &Plan<T>,
    now: DateTime<Utc>,
    rng: &mut Rng,
    ctx: &str,
) -> Vec<String> {
    let mut shuffled = items.to_vec();
    rng.shuffle(&mut shuffled);
    match spec.policy().plan(shuffled, summary, now) {
        Err(e) => vec![format!("{ctx}: refused once shuffled: {e}")],
        Ok(other) => {
            let a: Vec<(String, Action, Vec<Reason>)> = plan
                .decisions
                .iter()
                .map(|d| (d.item.v().id, d.action, d.reasons.clone()))
                .collect();
            let b: Vec<(String, Action, Vec<Reason>)> = other
                .decisions
                .iter()
                .map(|d| (d.item.v().id, d.action, d.reasons.clone()))
                .collect();
            if a != b {
                let diff = a
                    .iter()
                    .zip(&b)
                    .find(|(x, y)| x != y)
                    .map(|(x, y)| format!("{x:?} vs {y:?}"));
                vec![format!(
                    "{ctx}: the plan depends on the order of the items: {diff:?}"
                )]
            } else {
                Vec::new()
            }
        }
    }
}

/// The brief's (a) and (b) against the end state; returns (a failures,
/// b failures) as text.
fn judge_end_state(
    spec: &Spec,
    deleted: &HashSet<String>,
    end: &[V],
    throughout: &HashSet<String>,
) -> (Vec<String>, Vec<String>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut groups: BTreeMap<String, Vec<&V>> = BTreeMap::new();
    for v in end.iter().filter(|v| spec.admits(v)) {
        groups.entry(spec.group(v).0).or_default().push(v);
    }
    for (key, mut members) in groups {
        members.sort_by(|x, y| newest_first(x, y));
        let newest = members[0];
        if deleted.contains(&newest.id) {
            let survivors = members.iter().filter(|v| !deleted.contains(&v.id)).count();
            a.push(format!(
                "group {key:?}: its newest existing snapshot {} ({}) is deleted; {survivors} of {} survive",
                newest.id,
                newest.created,
                members.len()
            ));
        }
        if spec.last > 0 {
            let survivors = members.iter().filter(|v| !deleted.contains(&v.id)).count() as u64;
            let lived = members
                .iter()
                .filter(|v| throughout.contains(&v.id))
                .count() as u64;
            let need = u64::from(spec.last).min(lived);
            if survivors < need {
                b.push(format!(
                    "group {key:?}: keep_last({}) leaves {survivors}, {lived} lived through the walk",
                    spec.last
                ));
            }
        }
    }
    (a, b)
}

// ------------------------------------------------------------- the worlds

fn client(sandbox: &Sandbox) -> Client {
    Client::builder()
        .token(sandbox.token().unwrap_or_default())
        .base_url(sandbox.base_url())
        .pace(0, Duration::ZERO)
        .build()
        .expect("client")
}

/// One random world.
#[derive(Clone, Debug)]
struct World {
    seed: u64,
    snapshots: usize,
    order: Order,
    faults: Faults,
    per_page: u64,
    concurrency: usize,
    look_alike: bool,
    batches: usize,
    filter: Option<&'static str>,
}

fn position(rng: &mut Rng) -> Position {
    rng.pick(&[
        Position::Head,
        Position::Tail,
        Position::Middle,
        Position::Random,
    ])
}

fn random_world(rng: &mut Rng, seed: u64, deleting: bool) -> World {
    let snapshots = rng.pick(&[150, 300, 600, 1_000, 2_000]);
    let mut per_page = rng.pick(&[20, 37, 50, 100, 137, 200, 200]);
    if snapshots / per_page as usize > 40 {
        per_page = 200;
    }
    let mut faults = if deleting {
        match rng.below(4) {
            0 => Faults::rotating(1 + rng.below(3), position(rng)),
            1 => Faults::deleting(1 + rng.below(3), position(rng)),
            2 => Faults {
                drift_insert: rng.below(3),
                drift_insert_at: position(rng),
                ..Faults::deleting(1 + rng.below(2), position(rng))
            },
            _ => Faults {
                late_snapshots: Some(Duration::from_secs(1 + rng.next() % 3600)),
                late_pages: rng.pick(&[0, 0, 1, 3]),
                ..Faults::rotating(1 + rng.below(2), position(rng))
            },
        }
    } else {
        Faults::inserting(1 + rng.below(4), position(rng))
    };
    faults.changes_every = rng.pick(&[0, 1, 2, 5]);
    faults.changes_stop_after = rng.pick(&[None, Some(1), Some(2), Some(4), Some(8)]);
    if rng.chance(0.2) {
        faults.growing_sizes = 2;
    }
    let unstable = rng.chance(0.1);
    faults.unstable_batches = unstable;
    World {
        seed,
        snapshots,
        order: rng.pick(&[
            Order::Realistic,
            Order::CreatedAt,
            Order::IdString,
            Order::Random,
        ]),
        faults,
        per_page,
        concurrency: rng.pick(&[1, 2, 4, 64]),
        look_alike: rng.chance(0.2),
        batches: if unstable || rng.chance(0.1) {
            rng.pick(&[2, 3, 10])
        } else {
            1
        },
        filter: if rng.chance(0.15) {
            Some("volume")
        } else {
            None
        },
    }
}

/// Whether, after the last change the faults allow, the walk's requests
/// read every position of the final listing.
fn full_look_after_last_change(
    sandbox: &Sandbox,
    faults: &Faults,
    end_len: usize,
    path: &str,
) -> bool {
    let log = sandbox.requests();
    let served = log.iter().filter(|r| r.status == 200).count() as u64;
    let Some(stop) = faults.changes_stop_after else {
        return false;
    };
    let every = faults.changes_every.max(1);
    let last_change = (served.min(stop) / every) * every
        + if faults.late_snapshots.is_some() {
            faults.late_pages + 1
        } else {
            0
        };
    let slop = sandbox.stats().max_in_flight as u64 + 1;
    let mut covered = vec![false; end_len];
    for r in log
        .iter()
        .filter(|r| r.status == 200 && r.path == path && r.seq > last_change + slop)
    {
        let page: u64 = r
            .query_param("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let per: u64 = r
            .query_param("per_page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(20);
        let from = (page - 1).saturating_mul(per);
        for i in from..from.saturating_add(per) {
            match covered.get_mut(i as usize) {
                Some(c) => *c = true,
                None => break,
            }
        }
    }
    covered.iter().all(|c| *c)
}

/// One walk over the account listing and several plans over it, judged.
async fn run_world(world: &World, rng: &mut Rng, tally: &mut Tally, strict_end: bool) {
    let now0 = Utc::now();
    let sandbox = Sandbox::builder()
        .seed(world.seed)
        .snapshots(world.snapshots)
        .now(now0 - TimeDelta::hours(rng.below(72) as i64))
        .order(world.order)
        .look_alike_ids(world.look_alike)
        .batches(world.batches)
        .faults(world.faults.clone())
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let start: HashSet<String> = sandbox.snapshot_ids(world.filter).into_iter().collect();
    let mut list = client(&sandbox)
        .list_snapshots()
        .per_page(world.per_page)
        .concurrency(world.concurrency);
    if let Some(f) = world.filter {
        list = list.resource_type(ResourceType::from(f));
    }
    tally.walks += 1;
    let (items, summary) = match list.collect_with_summary().await {
        Ok(x) => x,
        Err(e) => {
            tally.error(&e);
            return;
        }
    };
    tally.walks_ok += 1;
    let ctx0 = format!("seed {} {:?}", world.seed, world);
    let end_values = sandbox.snapshots(world.filter);
    let end: Vec<V> = end_values.iter().filter_map(account_view).collect();
    let end_ids: HashSet<String> = end.iter().map(|v| v.id.clone()).collect();
    let throughout: HashSet<String> = start.intersection(&end_ids).cloned().collect();
    let listed: HashSet<String> = items.iter().map(|s| s.id.clone()).collect();
    // P2
    if listed.len() != items.len() {
        tally
            .violations
            .push(format!("{ctx0}: the walk delivered an id twice"));
    }
    if let Some(missing) = throughout.iter().find(|id| !listed.contains(*id)) {
        tally.violations.push(format!(
            "{ctx0}: walk Ok without {missing}, which existed for the whole walk ({summary:?})"
        ));
    }
    let gone: Vec<&String> = listed.iter().filter(|id| !end_ids.contains(*id)).collect();
    let full_look =
        full_look_after_last_change(&sandbox, &world.faults, end.len(), "/v2/snapshots");
    let pool = Pool::of(&items.iter().map(View::v).collect::<Vec<_>>());
    for p in 0..6 {
        let spec = random_spec(rng, &pool);
        let now =
            Utc::now() + rng.pick(&[TimeDelta::zero(), TimeDelta::hours(-2), TimeDelta::days(1)]);
        let ctx = format!("{ctx0} policy {p} {spec:?} now {now}");
        let plan = match spec.policy().plan(items.clone(), &summary, now) {
            Ok(plan) => plan,
            Err(e) => {
                *tally
                    .plans_refused
                    .entry(format!("{:?} {:?}", e.kind(), e.invalid_field()))
                    .or_default() += 1;
                // Refusals must be the documented ones.
                let documented = (e.kind() == ErrorKind::Inconsistent
                    && (summary.proof.is_none() || !summary.consistent || summary.vanished > 0))
                    || (e.kind() == ErrorKind::InvalidInput
                        && e.invalid_field() == Some("keep_tag")
                        && !spec.tags.is_empty());
                if !documented {
                    tally
                        .violations
                        .push(format!("{ctx}: refused without a documented reason: {e}"));
                }
                continue;
            }
        };
        tally.plans += 1;
        // P1
        if summary.proof.is_none()
            || !summary.consistent
            || summary.vanished > 0
            || summary.first_page != 1
        {
            tally
                .violations
                .push(format!("{ctx}: a plan from {summary:?}"));
        }
        tally
            .violations
            .extend(judge_plan(&spec, &items, &plan, now, &ctx));
        if p == 0 {
            tally.violations.extend(judge_order_independence(
                &spec, &items, &summary, &plan, now, rng, &ctx,
            ));
        }
        // (a), (b) against the end state.
        let deleted: HashSet<String> = plan.to_delete().map(|s| s.id.clone()).collect();
        let (a, b) = judge_end_state(&spec, &deleted, &end, &throughout);
        let strict = strict_end || full_look || gone.is_empty();
        if strict {
            tally.strict_end_checks += 1;
            if !gone.is_empty() {
                tally.violations.push(format!(
                    "{ctx}: the walk read the whole final listing after the last change, yet planned over \
                     {} snapshots already deleted ({:?}...) with vanished {}",
                    gone.len(),
                    gone.iter().take(3).collect::<Vec<_>>(),
                    summary.vanished
                ));
            }
            for x in a.iter().chain(&b) {
                tally.violations.push(format!("{ctx}: {x}"));
            }
        } else {
            tally.unseen_deletions += 1;
            if !a.is_empty() {
                tally.gap_a += 1;
            }
            if !b.is_empty() {
                tally.gap_b += 1;
            }
            if (!a.is_empty() || !b.is_empty()) && tally.gap_examples.len() < 5 {
                tally.gap_examples.push(format!(
                    "seed {} ({:?}, {:?}, per_page {}): {} listed snapshots gone, vanished {}: {:?} {:?}",
                    world.seed,
                    world.order,
                    world.faults.rotate_delete_at,
                    world.per_page,
                    gone.len(),
                    summary.vanished,
                    a.first(),
                    b.first()
                ));
            }
        }
    }
}

// ------------------------------------------------------------ the families

/// Worlds that only gain snapshots (drift inserting anywhere, bursts,
/// growing sizes, unstable batches, look-alike ids): every plan made must
/// keep (a) and (b) against the end state, strictly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_over_listings_that_only_grow_keep_every_promise() {
    let mut tally = Tally::default();
    for seed in 0..50u64 {
        let mut rng = Rng::new(seed);
        let world = random_world(&mut rng, seed, false);
        run_world(&world, &mut rng, &mut tally, true).await;
    }
    tally.print("grow");
    assert!(tally.plans > 80, "too few plans to judge: {tally:?}");
    assert!(tally.violations.is_empty(), "{:#?}", tally.violations);
}

/// Worlds that lose snapshots while they are read (rotation, drift
/// deleting at the head, tail, middle or anywhere, late snapshots with
/// their deletions, bursts that stop): P1-P4 always; (a)/(b) strictly when
/// the walk read the whole final listing after the last change, counted
/// as the documented gap otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_over_listings_that_lose_snapshots_keep_what_the_docs_promise() {
    let mut tally = Tally::default();
    for seed in 1_000..1_100u64 {
        let mut rng = Rng::new(seed);
        let world = random_world(&mut rng, seed, true);
        run_world(&world, &mut rng, &mut tally, false).await;
    }
    tally.print("lose");
    assert!(tally.plans > 50, "too few plans to judge: {tally:?}");
    assert!(tally.violations.is_empty(), "{:#?}", tally.violations);
}

/// A droplet's listing (snapshots and backups, grouped by type, backups
/// never in scope) under rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_over_a_droplets_listing_never_touch_backups() {
    let mut tally = Tally::default();
    for seed in 2_000..2_040u64 {
        let mut rng = Rng::new(seed);
        let droplet = 3_164_444u64;
        let per_page = rng.pick(&[5, 20, 50, 200]);
        let mut faults = if rng.chance(0.5) {
            Faults::rotating(1 + rng.below(2), position(&mut rng))
        } else {
            Faults::default()
        };
        faults.changes_every = rng.pick(&[1, 3]);
        faults.changes_stop_after = rng.pick(&[None, Some(1), Some(3)]);
        if rng.chance(0.3) {
            faults.late_snapshots = Some(Duration::from_secs(600));
        }
        let order = rng.pick(&[
            Order::Realistic,
            Order::CreatedAt,
            Order::IdString,
            Order::Random,
        ]);
        let sandbox = Sandbox::builder()
            .seed(seed)
            .snapshots(50)
            .droplet(droplet, 20 + rng.below(150), 5 + rng.below(40))
            .order(order)
            .faults(faults.clone())
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .expect("sandbox");
        let start: HashSet<String> = sandbox
            .droplet_snapshots(droplet)
            .unwrap_or_default()
            .iter()
            .filter_map(droplet_view)
            .map(|v| v.id)
            .collect();
        tally.walks += 1;
        let walk = client(&sandbox)
            .list_droplet_snapshots(droplet)
            .per_page(per_page)
            .concurrency(rng.pick(&[1, 4, 64]))
            .collect_with_summary()
            .await;
        let (items, summary) = match walk {
            Ok(x) => x,
            Err(e) => {
                tally.error(&e);
                continue;
            }
        };
        tally.walks_ok += 1;
        let end: Vec<V> = sandbox
            .droplet_snapshots(droplet)
            .unwrap_or_default()
            .iter()
            .filter_map(droplet_view)
            .collect();
        let end_ids: HashSet<String> = end.iter().map(|v| v.id.clone()).collect();
        let throughout: HashSet<String> = start.intersection(&end_ids).cloned().collect();
        let listed: HashSet<String> = items.iter().map(|s| s.id.to_string()).collect();
        let ctx0 = format!("droplet seed {seed} {order:?} {faults:?} per_page {per_page}");
        if let Some(missing) = throughout.iter().find(|id| !listed.contains(*id)) {
            tally
                .violations
                .push(format!("{ctx0}: walk Ok without {missing}"));
        }
        let gone = listed.iter().filter(|id| !end_ids.contains(*id)).count();
        let path = format!("/v2/droplets/{droplet}/snapshots");
        let full_look = full_look_after_last_change(&sandbox, &faults, end.len(), &path);
        let pool = Pool::of(&items.iter().map(View::v).collect::<Vec<_>>());
        for p in 0..6 {
            let mut spec = random_spec(&mut rng, &pool);
            spec.tags.clear(); // a droplet's listing has none: refused, tested elsewhere
            let now = Utc::now();
            let ctx = format!("{ctx0} policy {p} {spec:?}");
            let plan = match spec.policy().plan(items.clone(), &summary, now) {
                Ok(plan) => plan,
                Err(e) => {
                    *tally
                        .plans_refused
                        .entry(format!("{:?}", e.kind()))
                        .or_default() += 1;
                    if !(e.kind() == ErrorKind::Inconsistent
                        && (summary.vanished > 0 || summary.proof.is_none()))
                    {
                        tally.violations.push(format!("{ctx}: refused: {e}"));
                    }
                    continue;
                }
            };
            tally.plans += 1;
            tally
                .violations
                .extend(judge_plan(&spec, &items, &plan, now, &ctx));
            if let Some(backup) = plan
                .to_delete()
                .find(|s| s.snapshot_type == SnapshotType::Backup)
            {
                tally
                    .violations
                    .push(format!("{ctx}: deletes backup {}", backup.id));
            }
            if p == 0 {
                tally.violations.extend(judge_order_independence(
                    &spec, &items, &summary, &plan, now, &mut rng, &ctx,
                ));
            }
            let deleted: HashSet<String> = plan.to_delete().map(|s| s.id.to_string()).collect();
            let (a, b) = judge_end_state(&spec, &deleted, &end, &throughout);
            if gone == 0 || full_look {
                tally.strict_end_checks += 1;
                if gone > 0 {
                    tally.violations.push(format!(
                        "{ctx}: planned over {gone} deleted snapshots after a full look"
                    ));
                }
                for x in a.iter().chain(&b) {
                    tally.violations.push(format!("{ctx}: {x}"));
                }
            } else {
                tally.unseen_deletions += 1;
                tally.gap_a += u64::from(!a.is_empty());
                tally.gap_b += u64::from(!b.is_empty());
            }
        }
    }
    tally.print("droplet");
    assert!(tally.plans > 30, "{tally:?}");
    assert!(tally.violations.is_empty(), "{:#?}", tally.violations);
}

/// (d): servers whose listing does not add up (lying totals, holes, the
/// first page served for every page, repeated items, a capped page size):
/// a walk either fails, or says `consistent: false` (then no plan), or
/// is `Ok` and then it must really hold every snapshot (nothing changes
/// in these worlds, so the listing is the server's whole state).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walks_that_do_not_add_up_never_yield_a_plan() {
    let mut tally = Tally::default();
    for seed in 3_000..3_090u64 {
        let mut rng = Rng::new(seed);
        let snapshots = rng.pick(&[150, 401, 1_000, 2_000]);
        let per_page = rng.pick(&[50, 100, 200]);
        let faults = match rng.below(9) {
            0 => Faults {
                total: TotalReport::Fixed(rng.pick(&[
                    0,
                    1,
                    -1,
                    199,
                    200,
                    201,
                    snapshots as i64 - 1,
                    snapshots as i64 + 1,
                    i64::MAX,
                    i64::MIN,
                ])),
                ..Faults::default()
            },
            1 => Faults {
                total: TotalReport::HalvedAfterPage(1 + rng.below(3) as u64),
                ..Faults::default()
            },
            2 => Faults {
                total: TotalReport::NegativeAfterPage(1 + rng.below(3) as u64),
                ..Faults::default()
            },
            3 => Faults {
                holes: vec![1 + rng.below(4) as u64],
                ..Faults::default()
            },
            4 => Faults {
                holes: vec![1, 2, 3],
                ..Faults::default()
            },
            5 => Faults {
                repeat_first_page: true,
                ..Faults::default()
            },
            6 => Faults {
                duplicates_in_page: 1 + rng.below(5),
                ..Faults::default()
            },
            7 => Faults {
                page_cap: Some(rng.pick(&[1, 20, 99, 150])),
                ..Faults::default()
            },
            _ => Faults {
                ignore_resource_type: true,
                ..Faults::default()
            },
        };
        let filter = faults.ignore_resource_type.then_some("volume");
        let sandbox = Sandbox::builder()
            .seed(seed)
            .snapshots(snapshots)
            .order(rng.pick(&[Order::Realistic, Order::CreatedAt, Order::Random]))
            .faults(faults.clone())
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .expect("sandbox");
        let truth: HashSet<String> = sandbox.snapshot_ids(filter).into_iter().collect();
        let strict = rng.chance(0.5);
        let mut list = client(&sandbox)
            .list_snapshots()
            .per_page(per_page)
            .concurrency(rng.pick(&[1, 3, 64]))
            .strict(strict)
            .max_pages(400);
        if let Some(f) = filter {
            list = list.resource_type(ResourceType::from(f));
        }
        tally.walks += 1;
        let ctx = format!("seed {seed} {faults:?} per_page {per_page} strict {strict}");
        let walk = list.collect_with_summary().await;
        let (items, summary) = match walk {
            Ok(x) => x,
            Err(e) => {
                tally.error(&e);
                continue;
            }
        };
        tally.walks_ok += 1;
        let listed: HashSet<String> = items.iter().map(|s| s.id.clone()).collect();
        let whole = listed == truth && listed.len() == items.len();
        let spec = Spec {
            last: 1,
            ..Spec::default()
        };
        match spec.policy().plan(items.clone(), &summary, Utc::now()) {
            Ok(plan) => {
                tally.plans += 1;
                if !whole {
                    let missing: Vec<&String> = truth.difference(&listed).take(3).collect();
                    let extra: Vec<&String> = listed.difference(&truth).take(3).collect();
                    tally.violations.push(format!(
                        "{ctx}: a plan (deleting {}) from a listing that is not the server's: {} of {} items, \
                         missing {missing:?}, foreign {extra:?}; {summary:?}",
                        plan.deleted,
                        items.len(),
                        truth.len()
                    ));
                }
            }
            Err(e) => {
                *tally
                    .plans_refused
                    .entry(format!("{:?}", e.kind()))
                    .or_default() += 1;
                if whole && summary.consistent && summary.proof.is_some() {
                    tally
                        .violations
                        .push(format!("{ctx}: a whole, proven listing refused: {e}"));
                }
            }
        }
        if summary.consistent && summary.proof.is_some() && !whole {
            tally.violations.push(format!(
                "{ctx}: the walk calls a listing that is not the server's proven: {summary:?}"
            ));
        }
    }
    tally.print("lying servers");
    assert!(tally.violations.is_empty(), "{:#?}", tally.violations);
}

/// (d) without a server: a summary that proves nothing, or another
/// listing's, gives no plan.
#[test]
fn summaries_that_prove_nothing_give_no_plan() {
    let t = |s: i64| Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap();
    let items = vec![
        Snapshot::new("1", t(0)).with_resource(ResourceType::Volume, "v"),
        Snapshot::new("2", t(10)).with_resource(ResourceType::Volume, "v"),
    ];
    let good = || {
        let mut s = WalkSummary::default();
        s.consistent = true;
        s.complete = true;
        s.proof = Some(ListingProof::OnePage);
        s.items = 2;
        s.first_page = 1;
        s
    };
    let policy = Policy::new().keep_last(1);
    let now = t(1_000_000);
    assert!(policy.plan(items.clone(), &good(), now).is_ok());
    let mut cases: Vec<(&str, WalkSummary, Vec<Snapshot>, ErrorKind)> = Vec::new();
    let mut s = good();
    s.proof = None;
    cases.push(("no proof", s, items.clone(), ErrorKind::Inconsistent));
    let mut s = good();
    s.consistent = false;
    cases.push(("not consistent", s, items.clone(), ErrorKind::Inconsistent));
    let mut s = good();
    s.vanished = 1;
    cases.push(("vanished", s, items.clone(), ErrorKind::Inconsistent));
    let mut s = good();
    s.first_page = 2;
    cases.push(("resumed", s, items.clone(), ErrorKind::Inconsistent));
    let mut s = good();
    s.items = 3;
    cases.push((
        "fewer items than delivered",
        s,
        items.clone(),
        ErrorKind::InvalidInput,
    ));
    let mut s = good();
    s.items = 1;
    cases.push((
        "more items than delivered",
        s,
        items.clone(),
        ErrorKind::InvalidInput,
    ));
    let mut dup = items.clone();
    dup[0].id = "2".into();
    cases.push(("an id twice", good(), dup, ErrorKind::InvalidInput));
    let mut s = good();
    s.complete = false;
    s.proof = None;
    cases.push(("incomplete", s, items.clone(), ErrorKind::Inconsistent));
    // An empty policy, a keep-everything policy: still no plan.
    for (what, summary, items, kind) in cases {
        for policy in [
            Policy::new(),
            Policy::new().keep_last(u32::MAX),
            policy.clone(),
        ] {
            match policy.plan(items.clone(), &summary, now) {
                Ok(_) => panic!("{what}: a plan was made"),
                Err(e) => assert_eq!(e.kind(), kind, "{what}: {e}"),
            }
        }
    }
}

// ------------------------------------------------------- chosen snapshots

fn snap(id: &str, at: &str, rtype: &str, rid: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "created_at": at, "regions": ["nyc3"],
        "resource_id": rid, "resource_type": rtype, "min_disk_size": 10,
        "size_gigabytes": 1.5, "tags": []
    })
}

/// Snapshots chosen to stress the rules, served by the sandbox and read by
/// a real walk: equal instants, look-alike ids, ids of every shape,
/// future and far-past dates, names a glob matches partially, unknown
/// resource types, groups of one, ids and types with the separator of
/// group names, tags null and absent.
fn chosen(now: DateTime<Utc>) -> Vec<Value> {
    let at = |secs: i64| (now - TimeDelta::seconds(secs)).to_rfc3339();
    let same = at(5 * 86400);
    let mut v = vec![
        // Equal instants, look-alike ids, one group.
        snap("7", &same, "droplet", "100", "nightly-7"),
        snap("07", &same, "droplet", "100", "nightly-07"),
        snap("007", &same, "droplet", "100", "nightly-007"),
        snap("+7", &same, "droplet", "100", "nightly-+7"),
        snap("8", &same, "droplet", "100", "nightly-8"),
        snap("10", &same, "droplet", "100", "nightly-10"),
        snap("9", &same, "droplet", "100", "nightly-9"),
        snap("1000", &at(6 * 86400), "droplet", "100", "nightly-1000"),
        snap("999", &at(6 * 86400), "droplet", "100", "nightly-999"),
        // Numbers beyond u64 and u128, against each other.
        snap(
            "99999999999999999999999999999999999999999",
            &at(7 * 86400),
            "droplet",
            "101",
            "big-a",
        ),
        snap(
            "100000000000000000000000000000000000000000",
            &at(7 * 86400),
            "droplet",
            "101",
            "big-b",
        ),
        snap(
            "18446744073709551616",
            &at(7 * 86400),
            "droplet",
            "101",
            "big-c",
        ),
        snap(
            "18446744073709551615",
            &at(7 * 86400),
            "droplet",
            "101",
            "big-d",
        ),
        snap("a", &at(7 * 86400), "droplet", "101", "letter"),
        snap("-1", &at(7 * 86400), "droplet", "101", "negative"),
        // Volumes: UUIDs in both cases at the same instant.
        snap(
            "d87066ca-ead3-11ef-8c1d-4a3e5f0b91c2",
            &same,
            "volume",
            "vol-1",
            "nightly-a",
        ),
        snap(
            "D87066CA-EAD3-11EF-8C1D-4A3E5F0B91C2",
            &same,
            "volume",
            "vol-1",
            "nightly-A",
        ),
        snap(
            "d87066ca-ead3-11ef-8c1d-4a3e5f0b91c3",
            &at(86400),
            "volume",
            "vol-1",
            "nightly-b",
        ),
        // A group of one, old.
        snap("500", &at(900 * 86400), "volume", "vol-alone", "manual"),
        // Future dates (a skewed clock), far future.
        snap(
            "600",
            &(now + TimeDelta::days(3)).to_rfc3339(),
            "volume",
            "vol-2",
            "nightly-f",
        ),
        snap(
            "601",
            "9999-12-31T23:59:59Z",
            "volume",
            "vol-2",
            "nightly-far",
        ),
        snap("602", &at(30 * 86400), "volume", "vol-2", "nightly-old"),
        snap("603", &at(31 * 86400), "volume", "vol-2", "nightly-older"),
        snap(
            "604",
            "1970-01-01T00:00:00Z",
            "volume",
            "vol-2",
            "nightly-epoch",
        ),
        snap(
            "605",
            "0001-01-01T00:00:00Z",
            "volume",
            "vol-2",
            "nightly-year1",
        ),
        // Names a glob matches partially, multi-byte characters.
        snap("700", &at(40 * 86400), "volume", "vol-3", "nightly-é"),
        snap("701", &at(41 * 86400), "volume", "vol-3", "xnightly-1"),
        snap("702", &at(42 * 86400), "volume", "vol-3", "nightly"),
        snap("703", &at(43 * 86400), "volume", "vol-3", "nightly-"),
        snap("704", &at(44 * 86400), "volume", "vol-3", "Nightly-1"),
        snap("705", &at(45 * 86400), "volume", "vol-3", "nightly-1 "),
        snap("706", &at(46 * 86400), "volume", "vol-3", ""),
        // Unknown resource types, and the separator of group names.
        snap("800", &at(50 * 86400), "kubernetes_node", "n1", "node"),
        snap("801", &at(51 * 86400), "kubernetes_node", "n1", "node"),
        snap("802", &at(52 * 86400), "Droplet", "100", "capital"),
        snap("803", &at(1), "volume:a", "b", "colon-type-newer"),
        snap("804", &at(53 * 86400), "volume", "a:b", "colon-id-older"),
        snap("805", &at(54 * 86400), "", "", "empty-type"),
        snap("806", &at(55 * 86400), "droplet", "", "empty-resource"),
        // Equal instants across a bucket boundary and at the same second.
        snap(
            "900",
            "2025-12-31T23:59:59Z",
            "volume",
            "vol-4",
            "nightly-ny",
        ),
        snap(
            "901",
            "2026-01-01T00:00:00Z",
            "volume",
            "vol-4",
            "nightly-ny2",
        ),
        snap(
            "902",
            "2025-12-29T00:00:00Z",
            "volume",
            "vol-4",
            "nightly-w1",
        ),
        snap(
            "903",
            "2025-12-28T23:59:59Z",
            "volume",
            "vol-4",
            "nightly-w0",
        ),
        snap(
            "904",
            "2024-02-29T12:00:00Z",
            "volume",
            "vol-4",
            "nightly-leap",
        ),
    ];
    // Tags null and absent (no tag:read).
    let mut null_tags = snap("950", &at(60 * 86400), "volume", "vol-5", "tagless");
    null_tags["tags"] = Value::Null;
    v.push(null_tags);
    let mut no_tags = snap("951", &at(61 * 86400), "volume", "vol-5", "tagless");
    no_tags.as_object_mut().unwrap().remove("tags");
    v.push(no_tags);
    let mut tagged = snap("952", &at(62 * 86400), "volume", "vol-6", "tagged");
    tagged["tags"] = json!(["env:prod", ""]);
    v.push(tagged);
    v
}

/// Hand-picked policies that aim at the chosen snapshots.
fn chosen_specs() -> Vec<Spec> {
    let mut specs = vec![
        Spec {
            last: 1,
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            ..Spec::default()
        },
        Spec {
            last: 2,
            min_age: Some(Duration::ZERO),
            ..Spec::default()
        },
        Spec {
            last: 3,
            min_age: Some(Duration::ZERO),
            all: true,
            ..Spec::default()
        },
        Spec {
            daily: 1,
            min_age: Some(Duration::ZERO),
            ..Spec::default()
        },
        Spec {
            daily: 3,
            weekly: 2,
            min_age: Some(Duration::ZERO),
            ..Spec::default()
        },
        Spec {
            hourly: u32::MAX,
            min_age: Some(Duration::ZERO),
            ..Spec::default()
        },
        Spec {
            yearly: 2,
            monthly: 1,
            min_age: Some(Duration::ZERO),
            offset: 3600,
            ..Spec::default()
        },
        Spec {
            weekly: 3,
            min_age: Some(Duration::ZERO),
            offset: -86_399,
            ..Spec::default()
        },
        Spec {
            weekly: 3,
            min_age: Some(Duration::ZERO),
            offset: 86_399,
            ..Spec::default()
        },
        Spec {
            within: Duration::from_secs(10 * 86400),
            min_age: Some(Duration::ZERO),
            ..Spec::default()
        },
        Spec {
            within: Duration::MAX,
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::MAX),
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            names: vec!["nightly-?".into()],
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            names: vec!["nightly-*".into()],
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            names: vec!["*".into()],
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            names: vec!["?*".into(), "night*".into()],
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            types: vec!["volume".into()],
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            types: vec!["kubernetes_node".into()],
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            ids: vec!["100".into(), "".into()],
            ..Spec::default()
        },
        Spec {
            last: 1,
            min_age: Some(Duration::ZERO),
            regions: vec!["nyc3".into()],
            ..Spec::default()
        },
        Spec {
            tags: vec!["env:prod".into()],
            ..Spec::default()
        },
        Spec {
            tags: vec!["".into()],
            min_age: Some(Duration::ZERO),
            ids: vec!["vol-6".into()],
            ..Spec::default()
        },
        Spec {
            last: u32::MAX,
            ..Spec::default()
        },
        Spec::default(),
    ];
    for s in specs.clone() {
        specs.push(Spec { all: true, ..s });
    }
    specs
}

/// Chosen snapshots through a real walk, every hand-picked policy, each
/// judged by the oracle, in order and shuffled, and against the end
/// state (the world holds still, so the end state is the listing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_snapshots_that_stress_the_rules() {
    let now = Utc::now();
    let mut violations = Vec::new();
    let mut plans = 0;
    let mut refused = BTreeMap::<String, u64>::new();
    for (round, order) in [
        Order::Realistic,
        Order::CreatedAt,
        Order::IdString,
        Order::Random,
    ]
    .into_iter()
    .enumerate()
    {
        let sandbox = Sandbox::builder()
            .seed(round as u64)
            .snapshots(if round == 0 { 0 } else { 200 })
            .now(now - TimeDelta::days(2))
            .with_snapshots(chosen(now))
            .order(order)
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .expect("sandbox");
        let (items, summary) = client(&sandbox)
            .list_snapshots()
            .per_page([200, 7, 50, 13][round])
            .concurrency([1, 4, 64, 2][round])
            .collect_with_summary()
            .await
            .expect("a still listing is read whole");
        let end: Vec<V> = sandbox
            .snapshots(None)
            .iter()
            .filter_map(account_view)
            .collect();
        assert_eq!(
            end.len(),
            items.len(),
            "{order:?}: every chosen snapshot decodes and is listed"
        );
        let ids: HashSet<String> = end.iter().map(|v| v.id.clone()).collect();
        let mut rng = Rng::new(round as u64);
        for spec in chosen_specs() {
            let ctx = format!("{order:?} {spec:?}");
            let views: Vec<V> = items.iter().map(View::v).collect();
            let plan = match spec.policy().plan(items.clone(), &summary, now) {
                Ok(plan) => plan,
                Err(e) => {
                    *refused
                        .entry(format!("{:?} {:?}", e.kind(), e.invalid_field()))
                        .or_default() += 1;
                    if oracle(&spec, &views, now).err() != Some(Refusal::UnknownTags) {
                        violations.push(format!("{ctx}: refused: {e}"));
                    }
                    continue;
                }
            };
            plans += 1;
            violations.extend(judge_plan(&spec, &items, &plan, now, &ctx));
            for _ in 0..3 {
                violations.extend(judge_order_independence(
                    &spec, &items, &summary, &plan, now, &mut rng, &ctx,
                ));
            }
            let deleted: HashSet<String> = plan.to_delete().map(|s| s.id.clone()).collect();
            let (a, b) = judge_end_state(&spec, &deleted, &end, &ids);
            for x in a.iter().chain(&b) {
                violations.push(format!("{ctx}: {x}"));
            }
        }
    }
    violations.sort();
    violations.dedup();
    println!(
        "[chosen] plans {plans}, refused {refused:?}, violations {}",
        violations.len()
    );
    NAME_NOTES.with(|n| {
        for note in n.borrow().iter() {
            println!("[chosen]   note: {note}");
        }
    });
    for v in violations.iter().take(20) {
        println!("[chosen]   VIOLATION: {v}");
    }
    assert!(plans > 100);
    assert!(violations.is_empty(), "{violations:#?}");
}

/// Chrono's extremes and friends, planned without a server (a walk cannot
/// carry them: RFC 3339 has four-digit years): no panic, the oracle's
/// decisions, the newest of each group kept.
#[test]
fn instants_at_chronos_extremes_are_planned() {
    let extremes = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + TimeDelta::seconds(1),
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MAX_UTC - TimeDelta::seconds(1),
        DateTime::<Utc>::UNIX_EPOCH,
        Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap(),
    ];
    let mut items = Vec::new();
    for (i, t) in extremes.iter().enumerate() {
        for g in ["a", "b"] {
            items.push(
                Snapshot::new(format!("{g}{i}"), *t)
                    .with_resource(ResourceType::Volume, g)
                    .with_size_gigabytes([f64::NAN, f64::INFINITY, -1.0, f64::MAX, 0.5, 3.0][i])
                    .with_tags(["x"]),
            );
        }
        items.push(Snapshot::new(format!("{i}"), *t).with_resource(ResourceType::Droplet, "d"));
    }
    let mut summary = WalkSummary::default();
    summary.consistent = true;
    summary.complete = true;
    summary.proof = Some(ListingProof::OnePage);
    summary.items = items.len() as u64;
    summary.first_page = 1;
    let mut violations = Vec::new();
    let mut rng = Rng::new(77);
    for now in [
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
    ] {
        for mut spec in chosen_specs() {
            spec.names.clear();
            spec.ids.clear();
            for offset in [0, 86_399, -86_399] {
                spec.offset = offset;
                for min_age in [None, Some(Duration::ZERO), Some(Duration::MAX)] {
                    spec.min_age = min_age;
                    let ctx = format!("now {now} {spec:?}");
                    match spec.policy().plan(items.clone(), &summary, now) {
                        Ok(plan) => {
                            violations.extend(judge_plan(&spec, &items, &plan, now, &ctx));
                            violations.extend(judge_order_independence(
                                &spec, &items, &summary, &plan, now, &mut rng, &ctx,
                            ));
                        }
                        Err(e) => {
                            let views: Vec<V> = items.iter().map(View::v).collect();
                            let tags =
                                oracle(&spec, &views, now).err() == Some(Refusal::UnknownTags);
                            if !(tags && e.invalid_field() == Some("keep_tag")) {
                                violations.push(format!("{ctx}: refused: {e}"));
                            }
                        }
                    }
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "{} violations: {:#?}",
        violations.len(),
        &violations[..violations.len().min(20)]
    );
}

// ------------------------------------------------------------- the report

/// The report as a user pipes it into `doctl`: `--only delete --format
/// ids`. From a listing that does not add up: exit 3, nothing on stdout.
/// From one that changed: either no plan (exit 3, nothing on stdout), or
/// ids that keep (a) and (b) against the end state whenever the report's
/// listing saw every deletion; never an id on stdout with another exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_pipes_no_id_from_a_listing_it_could_not_prove() {
    let mut violations = Vec::new();
    let mut outcomes = BTreeMap::<String, u64>::new();
    let mut gaps = 0;
    for seed in 4_000..4_024u64 {
        let mut rng = Rng::new(seed);
        let lying = seed % 3 == 0;
        let faults = if lying {
            rng.pick(&[
                Faults {
                    total: TotalReport::HalvedAfterPage(1),
                    ..Faults::default()
                },
                Faults {
                    holes: vec![2],
                    ..Faults::default()
                },
                Faults {
                    repeat_first_page: true,
                    ..Faults::default()
                },
                Faults {
                    duplicates_in_page: 3,
                    ..Faults::default()
                },
                Faults {
                    total: TotalReport::Fixed(150),
                    ..Faults::default()
                },
            ])
        } else {
            let mut f = random_world(&mut rng, seed, seed % 2 == 0).faults;
            f.unstable_batches = false;
            f
        };
        let snapshots = rng.pick(&[300, 700, 1_500]);
        let sandbox = Sandbox::builder()
            .seed(seed)
            .snapshots(snapshots)
            .now(Utc::now() - TimeDelta::days(2))
            .order(rng.pick(&[Order::Realistic, Order::CreatedAt, Order::Random]))
            .faults(faults.clone())
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .expect("sandbox");
        let start: HashSet<String> = sandbox.snapshot_ids(None).into_iter().collect();
        let last = rng.pick(&[1u32, 2, 3]);
        let last_text = last.to_string();
        let mut args = vec![
            "--keep-last",
            last_text.as_str(),
            "--only",
            "delete",
            "--format",
            "ids",
        ];
        if rng.chance(0.3) {
            args.extend(["--keep-daily", "3"]);
        }
        let conc = rng.pick(&["1", "4", "64"]);
        args.extend(["--concurrency", conc]);
        let out = report(&sandbox, &args).await;
        let code = out.status.code();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        *outcomes
            .entry(format!(
                "{}exit {code:?}",
                if lying { "lying " } else { "" }
            ))
            .or_default() += 1;
        let ctx = format!("report seed {seed} {faults:?} {args:?}");
        if code != Some(0) {
            if !stdout.is_empty() {
                violations.push(format!(
                    "{ctx}: exit {code:?} with ids on stdout: {:?}",
                    stdout.lines().take(3).collect::<Vec<_>>()
                ));
            }
            if code != Some(3) && code != Some(1) {
                violations.push(format!("{ctx}: exit {code:?}: {stderr}"));
            }
            continue;
        }
        let end: Vec<V> = sandbox
            .snapshots(None)
            .iter()
            .filter_map(account_view)
            .collect();
        let end_ids: HashSet<String> = end.iter().map(|v| v.id.clone()).collect();
        let deleted: HashSet<String> = stdout.lines().map(str::to_owned).collect();
        let throughout: HashSet<String> = start.intersection(&end_ids).cloned().collect();
        let spec = Spec {
            last,
            daily: if args.contains(&"--keep-daily") { 3 } else { 0 },
            ..Spec::default()
        };
        let (a, b) = judge_end_state(&spec, &deleted, &end, &throughout);
        let full_look = full_look_after_last_change(&sandbox, &faults, end.len(), "/v2/snapshots");
        let no_deletion = faults.drift_delete == 0 && faults.rotate == 0;
        if lying || no_deletion || full_look {
            if lying {
                // The world held still: the plan must be the oracle's over it.
                let exp = oracle(&spec, &end, Utc::now()).expect("no tags");
                let want: HashSet<String> = exp
                    .decisions
                    .iter()
                    .filter(|(_, (a, _))| *a == Action::Delete)
                    .map(|(id, _)| id.clone())
                    .collect();
                if want != deleted {
                    violations.push(format!(
                        "{ctx}: exit 0 from a lying server, {} ids where a whole listing deletes {}",
                        deleted.len(),
                        want.len()
                    ));
                }
            }
            for x in a.iter().chain(&b) {
                violations.push(format!("{ctx}: {x}"));
            }
        } else if !a.is_empty() || !b.is_empty() {
            gaps += 1;
        }
    }
    println!(
        "[report] outcomes {outcomes:?}, documented gaps {gaps}, violations {}",
        violations.len()
    );
    for v in violations.iter().take(10) {
        println!("[report]   VIOLATION: {v}");
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

// ------------------------------------------------------- the documented gap

/// The documented limit, shown: a listing of one page (proven by that one
/// page: nothing is counted, `vanished` is 0) whose newest snapshot
/// another job deletes right after the page is served. The plan keeps
/// the newest and deletes the other; applied, the group has nothing left.
/// The docs say "a deletion after the walk is not seen by any walk" and
/// advise planning when no other job deletes; the deletion here is
/// during `collect_with_summary` (after the only request), which no walk
/// can see.
#[tokio::test]
#[ignore = "documented limitation: a deletion after the walk's last look is not seen (retention docs, 'A plan is as fresh as its listing')"]
async fn a_deletion_after_the_last_page_empties_a_group() {
    let now = Utc::now();
    let at = |d: i64| (now - TimeDelta::days(d)).to_rfc3339();
    let sandbox = Sandbox::builder()
        .snapshots(0)
        .with_snapshots([
            snap("1", &at(10), "volume", "vol-1", "nightly-1"),
            snap("2", &at(5), "volume", "vol-1", "nightly-2"),
        ])
        .order(Order::CreatedAt)
        .faults(Faults::deleting(1, Position::Tail))
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let (items, summary) = client(&sandbox)
        .list_snapshots()
        .collect_with_summary()
        .await
        .expect("walk");
    let plan = Policy::new()
        .keep_last(1)
        .plan(items, &summary, now)
        .expect("a plan: the walk saw nothing vanish");
    let deleted: Vec<String> = plan.to_delete().map(|s| s.id.clone()).collect();
    let left = sandbox.snapshot_ids(None);
    let survivors: Vec<&String> = left.iter().filter(|id| !deleted.contains(id)).collect();
    assert!(
        !survivors.is_empty(),
        "group vol-1 emptied: the server holds {left:?}, the plan deletes {deleted:?} ({summary:?})"
    );
}

// ------------------------------------------------ one change, aimed anywhere

/// Volumes of ten snapshots each, with ids that scatter them in id order,
/// plus a group whose newest has the first id and one whose newest has
/// the last (so that a deletion at the head or the tail of an id-ordered
/// listing takes the newest of a group).
fn aimed_data(now: DateTime<Utc>, rng: &mut Rng) -> Vec<Value> {
    let mut v = Vec::new();
    let mut used = HashSet::new();
    for g in 0..24 {
        for k in 0..10 {
            let id = loop {
                let id = format!("{:08x}", rng.next() as u32);
                if used.insert(id.clone()) {
                    break id;
                }
            };
            let at = now - TimeDelta::days(k * 3 + 1) - TimeDelta::hours(g);
            v.push(snap(
                &id,
                &at.to_rfc3339(),
                "volume",
                &format!("vol-{g:02}"),
                &format!("nightly-{g}-{k}"),
            ));
        }
    }
    v.push(snap(
        "!head",
        &(now - TimeDelta::hours(5)).to_rfc3339(),
        "volume",
        "vol-head",
        "nightly-h0",
    ));
    v.push(snap(
        "~head-old",
        &(now - TimeDelta::days(9)).to_rfc3339(),
        "volume",
        "vol-head",
        "nightly-h1",
    ));
    v.push(snap(
        "~~tail",
        &(now - TimeDelta::hours(3)).to_rfc3339(),
        "volume",
        "vol-tail",
        "nightly-t0",
    ));
    v.push(snap(
        "!tail-old",
        &(now - TimeDelta::days(9)).to_rfc3339(),
        "volume",
        "vol-tail",
        "nightly-t1",
    ));
    v
}

/// Exactly one change to the listing, after the m-th page served, for
/// every m the walk reaches (found by a dry run), for deletions and
/// creations at the head, the middle, the tail and anywhere: every plan
/// made is judged; one made over a snapshot deleted before the walk read
/// the whole listing again is a violation of the `vanished` promise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_change_at_every_moment_of_the_walk() {
    let mut tally = Tally::default();
    let mut suspects = Vec::new();
    let mut during: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let now = Utc::now();
    let kinds: Vec<(&str, Faults)> = vec![
        (
            "del head, ins head",
            Faults {
                drift_delete: 1,
                drift_delete_at: Position::Head,
                drift_insert: 1,
                drift_insert_at: Position::Head,
                ..Faults::default()
            },
        ),
        (
            "del head, ins tail",
            Faults {
                drift_delete: 1,
                drift_delete_at: Position::Head,
                drift_insert: 1,
                drift_insert_at: Position::Tail,
                ..Faults::default()
            },
        ),
        (
            "del tail, ins tail",
            Faults {
                drift_delete: 1,
                drift_delete_at: Position::Tail,
                drift_insert: 1,
                drift_insert_at: Position::Tail,
                ..Faults::default()
            },
        ),
        (
            "del tail, ins head",
            Faults {
                drift_delete: 1,
                drift_delete_at: Position::Tail,
                drift_insert: 1,
                drift_insert_at: Position::Head,
                ..Faults::default()
            },
        ),
        (
            "del middle, ins middle",
            Faults {
                drift_delete: 1,
                drift_delete_at: Position::Middle,
                drift_insert: 1,
                drift_insert_at: Position::Middle,
                ..Faults::default()
            },
        ),
        (
            "del random x2, ins random x2",
            Faults {
                drift_delete: 2,
                drift_delete_at: Position::Random,
                drift_insert: 2,
                drift_insert_at: Position::Random,
                ..Faults::default()
            },
        ),
        ("del head", Faults::deleting(1, Position::Head)),
        ("del tail", Faults::deleting(1, Position::Tail)),
        ("rotate random", Faults::rotating(1, Position::Random)),
    ];
    let mut seed = 5_000u64;
    for (order, per_page) in [
        (Order::IdString, 30u64),
        (Order::IdString, 100),
        (Order::CreatedAt, 100),
        (Order::Realistic, 100),
    ] {
        {
            seed += 1;
            let mut rng = Rng::new(seed);
            let data = aimed_data(now, &mut rng);
            let build = |faults: Faults| {
                Sandbox::builder()
                    .seed(seed)
                    .snapshots(0)
                    .with_snapshots(data.clone())
                    .order(order)
                    .faults(faults)
                    .rate_limits(RateLimits::unlimited())
                    .start()
            };
            let dry = build(Faults::default()).await.expect("sandbox");
            let _ = client(&dry)
                .list_snapshots()
                .per_page(per_page)
                .concurrency(1)
                .collect_with_summary()
                .await
                .expect("a still listing");
            let served = dry.requests().iter().filter(|r| r.status == 200).count() as u64;
            drop(dry);
            for (kind, faults) in &kinds {
                for m in 1..=served {
                    let faults = Faults {
                        changes_every: m,
                        changes_stop_after: Some(m),
                        ..faults.clone()
                    };
                    let sandbox = build(faults.clone()).await.expect("sandbox");
                    let before: Vec<String> = sandbox.snapshot_ids(None);
                    tally.walks += 1;
                    let walk = client(&sandbox)
                        .list_snapshots()
                        .per_page(per_page)
                        .concurrency(1)
                        .collect_with_summary()
                        .await;
                    let (items, summary) = match walk {
                        Ok(x) => x,
                        Err(e) => {
                            tally.error(&e);
                            continue;
                        }
                    };
                    tally.walks_ok += 1;
                    let end: Vec<V> = sandbox
                        .snapshots(None)
                        .iter()
                        .filter_map(account_view)
                        .collect();
                    let end_ids: HashSet<String> = end.iter().map(|v| v.id.clone()).collect();
                    let start: HashSet<String> = before.iter().cloned().collect();
                    let throughout: HashSet<String> =
                        start.intersection(&end_ids).cloned().collect();
                    let listed: HashSet<String> = items.iter().map(|s| s.id.clone()).collect();
                    let ctx0 =
                        format!("{order:?} per_page {per_page} {kind} after page {m} of {served}");
                    if let Some(missing) = throughout.iter().find(|id| !listed.contains(*id)) {
                        tally
                            .violations
                            .push(format!("{ctx0}: walk Ok without {missing}"));
                    }
                    let gone: Vec<String> = listed
                        .iter()
                        .filter(|id| !end_ids.contains(*id))
                        .cloned()
                        .collect();
                    // Where each gone snapshot was, and whether the walk
                    // read that place again after the change.
                    let log = sandbox.requests();
                    let after: Vec<(u64, u64)> = log
                        .iter()
                        .filter(|r| r.status == 200 && r.seq > m)
                        .map(|r| {
                            let page: u64 = r
                                .query_param("page")
                                .and_then(|p| p.parse().ok())
                                .unwrap_or(1);
                            let per: u64 = r
                                .query_param("per_page")
                                .and_then(|p| p.parse().ok())
                                .unwrap_or(20);
                            ((page - 1) * per, page * per)
                        })
                        .collect();
                    let looked_again: Vec<&String> = gone
                        .iter()
                        .filter(|id| {
                            let i =
                                before.iter().position(|b| b == *id).unwrap_or(usize::MAX) as u64;
                            after.iter().any(|(from, to)| *from <= i && i < *to)
                        })
                        .collect();
                    let specs = [
                        Spec {
                            last: 1,
                            min_age: Some(Duration::ZERO),
                            ..Spec::default()
                        },
                        Spec {
                            last: 2,
                            ..Spec::default()
                        },
                        Spec {
                            daily: 2,
                            weekly: 1,
                            min_age: Some(Duration::ZERO),
                            ..Spec::default()
                        },
                    ];
                    for spec in specs {
                        let ctx = format!("{ctx0} {spec:?}");
                        let plan = match spec.policy().plan(items.clone(), &summary, now) {
                            Ok(plan) => plan,
                            Err(e) => {
                                *tally
                                    .plans_refused
                                    .entry(format!("{:?}", e.kind()))
                                    .or_default() += 1;
                                continue;
                            }
                        };
                        tally.plans += 1;
                        tally
                            .violations
                            .extend(judge_plan(&spec, &items, &plan, now, &ctx));
                        let deleted: HashSet<String> =
                            plan.to_delete().map(|s| s.id.clone()).collect();
                        let (a, b) = judge_end_state(&spec, &deleted, &end, &throughout);
                        if gone.is_empty() {
                            tally.strict_end_checks += 1;
                            for x in a.iter().chain(&b) {
                                tally.violations.push(format!("{ctx}: {x}"));
                            }
                            continue;
                        }
                        tally.unseen_deletions += 1;
                        tally.gap_a += u64::from(!a.is_empty());
                        tally.gap_b += u64::from(!b.is_empty());
                        let when = if m == served {
                            "after the last request"
                        } else {
                            "between two requests"
                        };
                        let e = during.entry(when).or_insert((0, 0));
                        e.0 += 1;
                        e.1 += u64::from(!a.is_empty() || !b.is_empty());
                        if !looked_again.is_empty() {
                            suspects.push(format!(
                                "{ctx}: planned over {gone:?} (vanished {}, passes {}), the walk read their places again after the change; {a:?} {b:?}",
                                summary.vanished, summary.passes
                            ));
                        } else if (!a.is_empty() || !b.is_empty()) && tally.gap_examples.len() < 6 {
                            tally.gap_examples.push(format!(
                                "{ctx}: planned over {gone:?} (passes {}): {a:?} {b:?}",
                                summary.passes
                            ));
                        }
                    }
                }
            }
        }
    }
    tally.print("one change");
    println!(
        "[one change] plans over a deleted snapshot whose place the walk read again: {}",
        suspects.len()
    );
    println!(
        "[one change] plans over unseen deletions, by when the change came (plans, of which (a)/(b) fail): {during:?}"
    );
    for s in suspects.iter().take(10) {
        println!("[one change]   SUSPECT: {s}");
    }
    assert!(tally.violations.is_empty(), "{:#?}", tally.violations);
}

// -------------------------------------------------- walks over part of one

/// (d) through every way of reading a listing: a walk with a limit, one
/// resumed from page 2, an `items()` stream stopped early or whose errors
/// were dropped, `pages()`, the blocking client, `dedup(false)`,
/// `max_passes(1)`. A plan is made only from the whole listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_walks_give_no_plan() {
    use futures_util::TryStreamExt;
    let mut violations = Vec::new();
    let mut outcomes = BTreeMap::<String, u64>::new();
    let policy = Policy::new().keep_last(1).min_age(Duration::ZERO);
    let now = Utc::now();
    let mut note = |what: &str, ok: bool| {
        *outcomes
            .entry(format!("{what}: {}", if ok { "plan" } else { "no plan" }))
            .or_default() += 1;
    };
    for (n, per_page) in [
        (30usize, 200u64),
        (200, 200),
        (201, 200),
        (450, 50),
        (450, 200),
    ] {
        let sandbox = Sandbox::builder()
            .seed(n as u64)
            .snapshots(n)
            .rate_limits(RateLimits::unlimited())
            .start()
            .await
            .expect("sandbox");
        let truth: HashSet<String> = sandbox.snapshot_ids(None).into_iter().collect();
        let whole = |items: &[Snapshot]| {
            items.len() == truth.len() && items.iter().all(|s| truth.contains(&s.id))
        };
        let c = client(&sandbox);
        let ctx = format!("{n} snapshots, per_page {per_page}");
        // limits
        for k in [1, n as u64 - 1, n as u64, n as u64 + 1, 10 * n as u64] {
            if let Ok((items, summary)) = c
                .list_snapshots()
                .per_page(per_page)
                .limit(k)
                .collect_with_summary()
                .await
            {
                let made = policy.plan(items.clone(), &summary, now).is_ok();
                note("limit", made);
                if made && !whole(&items) {
                    violations.push(format!(
                        "{ctx}: a plan from limit({k}): {} items ({summary:?})",
                        items.len()
                    ));
                }
            }
        }
        // resumed
        if let Ok((items, summary)) = c
            .list_snapshots()
            .per_page(per_page)
            .page(2)
            .collect_with_summary()
            .await
        {
            let made = policy.plan(items.clone(), &summary, now).is_ok();
            note("page(2)", made);
            if made {
                violations.push(format!(
                    "{ctx}: a plan from a walk resumed at page 2 ({} items)",
                    items.len()
                ));
            }
        }
        // items() stopped early, then the summary
        for k in [1usize, n / 2, n - 1] {
            let mut stream = c.list_snapshots().per_page(per_page).items();
            let mut items = Vec::new();
            while items.len() < k {
                match stream.try_next().await {
                    Ok(Some(s)) => items.push(s),
                    _ => break,
                }
            }
            let summary = stream.summary();
            let made = policy.plan(items.clone(), &summary, now).is_ok();
            note("items() stopped early", made);
            if made && !whole(&items) {
                violations.push(format!(
                    "{ctx}: a plan from the first {k} items of a stream ({summary:?})"
                ));
            }
            // The same summary with the items the walk says it delivered:
            // still not a plan while the walk has not finished.
            let mut more = items.clone();
            while (more.len() as u64) < summary.items {
                match stream.try_next().await {
                    Ok(Some(s)) => more.push(s),
                    _ => break,
                }
            }
            let made = policy.plan(more.clone(), &summary, now).is_ok();
            note("items() stopped early, summary taken then", made);
            if made && !whole(&more) {
                violations.push(format!(
                    "{ctx}: a plan from {} items of an unfinished stream ({summary:?})",
                    more.len()
                ));
            }
        }
        // items() and pages() to the end
        let mut stream = c.list_snapshots().per_page(per_page).items();
        let mut items = Vec::new();
        while let Ok(Some(s)) = stream.try_next().await {
            items.push(s);
        }
        let summary = stream.summary();
        let made = policy.plan(items.clone(), &summary, now).is_ok();
        note("items() whole", made);
        if made != whole(&items) {
            violations.push(format!(
                "{ctx}: items() whole {} but plan {made}",
                whole(&items)
            ));
        }
        let mut pages = c.list_snapshots().per_page(per_page).pages();
        let mut items = Vec::new();
        while let Ok(Some(page)) = pages.try_next().await {
            items.extend(page.items);
        }
        let summary = pages.summary();
        let made = policy.plan(items.clone(), &summary, now).is_ok();
        note("pages() whole", made);
        if made != whole(&items) {
            violations.push(format!(
                "{ctx}: pages() whole {} but plan {made}",
                whole(&items)
            ));
        }
        // dedup off, one pass only
        let walk = c
            .list_snapshots()
            .per_page(per_page)
            .dedup(false)
            .strict(false)
            .collect_with_summary()
            .await;
        if let Ok((items, summary)) = walk {
            let made = policy.plan(items.clone(), &summary, now).is_ok();
            note("dedup(false)", made);
            if made && !whole(&items) {
                violations.push(format!(
                    "{ctx}: a plan without dedup from {} items ({summary:?})",
                    items.len()
                ));
            }
        }
        if let Ok((items, summary)) = c
            .list_snapshots()
            .per_page(per_page)
            .max_passes(1)
            .collect_with_summary()
            .await
        {
            let made = policy.plan(items.clone(), &summary, now).is_ok();
            note("max_passes(1)", made);
            if made && !whole(&items) {
                violations.push(format!(
                    "{ctx}: a plan from one pass of {} items",
                    items.len()
                ));
            }
        }
        // The blocking client, on its own thread.
        let base = sandbox.base_url().to_owned();
        let token = sandbox.token().unwrap_or_default().to_owned();
        let policy2 = policy.clone();
        let truth2 = truth.clone();
        let (send, receive) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let c = Client::builder()
                .token(token)
                .base_url(base)
                .pace(0, Duration::ZERO)
                .build_blocking()
                .expect("blocking client");
            let mut out = Vec::new();
            let (items, summary) = c
                .list_snapshots()
                .per_page(per_page)
                .collect_with_summary()
                .expect("walk");
            let whole = items.len() == truth2.len() && items.iter().all(|s| truth2.contains(&s.id));
            out.push((
                "blocking whole",
                policy2.plan(items, &summary, now).is_ok(),
                whole,
            ));
            let mut it = c.list_snapshots().per_page(per_page).items();
            let first: Vec<Snapshot> = it.by_ref().take(n / 2).filter_map(Result::ok).collect();
            let summary = it.summary();
            out.push((
                "blocking items() stopped early",
                policy2.plan(first, &summary, now).is_ok(),
                false,
            ));
            let _ = send.send(out);
        });
        let blocking = receive.await.expect("blocking thread");
        for (what, made, whole) in blocking {
            note(what, made);
            if made != whole {
                violations.push(format!("{ctx}: {what}: plan {made}, whole {whole}"));
            }
        }
    }
    // A stream whose errors were dropped: what it read, and its summary.
    let lying = Sandbox::builder()
        .snapshots(600)
        .faults(Faults {
            total: TotalReport::HalvedAfterPage(1),
            ..Faults::default()
        })
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let mut stream = client(&lying).list_snapshots().per_page(100).items();
    let mut items = Vec::new();
    loop {
        match stream.try_next().await {
            Ok(Some(s)) => items.push(s),
            Ok(None) => break,
            Err(_) => continue,
        }
        if items.len() > 10_000 {
            break;
        }
    }
    let summary = stream.summary();
    let made = policy.plan(items.clone(), &summary, now).is_ok();
    note("items() with its errors dropped", made);
    if made {
        violations.push(format!(
            "a plan from a stream whose error was dropped: {} items, {summary:?}",
            items.len()
        ));
    }
    println!("[partial] {outcomes:?}");
    assert!(violations.is_empty(), "{violations:#?}");
}

/// The report over the other listings and scopes, in jsonl: every
/// snapshot decided once, those that lived through the walk among them,
/// backups kept, and (a)/(b) against the end state whenever the walk saw
/// every deletion; with `--keep-tag` over snapshots whose tags are null,
/// no plan and no id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_plans_other_listings_and_scopes() {
    let mut violations = Vec::new();
    let mut outcomes = BTreeMap::<String, u64>::new();
    let droplet = 3_164_444u64;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("droplet", vec!["--droplet", "3164444", "--keep-last", "2"]),
        (
            "droplet daily",
            vec![
                "--droplet",
                "3164444",
                "--keep-daily",
                "2",
                "--min-age",
                "0h",
            ],
        ),
        (
            "volumes",
            vec!["--resource-type", "volume", "--keep-last", "1"],
        ),
        (
            "name scope",
            vec!["--keep-last", "1", "--name", "*-*-1*", "--group-by", "all"],
        ),
        (
            "region scope",
            vec!["--keep-weekly", "2", "--region", "nyc3", "--min-age", "0h"],
        ),
        (
            "keep-tag",
            vec!["--keep-tag", "env:prod", "--keep-last", "1"],
        ),
    ];
    for (i, (what, plan_args)) in cases.iter().enumerate() {
        for rotate in [false, true] {
            let seed = 6_000 + i as u64 * 2 + u64::from(rotate);
            let faults = if rotate {
                Faults {
                    changes_stop_after: Some(2),
                    ..Faults::rotating(1, Position::Random)
                }
            } else {
                Faults::default()
            };
            let sandbox = Sandbox::builder()
                .seed(seed)
                .snapshots(500)
                .droplet(droplet, 120, 30)
                .now(Utc::now() - TimeDelta::days(1))
                .faults(faults.clone())
                .rate_limits(RateLimits::unlimited())
                .start()
                .await
                .expect("sandbox");
            let on_droplet = plan_args.contains(&"--droplet");
            let filter = plan_args.contains(&"volume").then_some("volume");
            let state = |s: &Sandbox| -> Vec<V> {
                if on_droplet {
                    s.droplet_snapshots(droplet)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(droplet_view)
                        .collect()
                } else {
                    s.snapshots(filter)
                        .iter()
                        .filter_map(account_view)
                        .collect()
                }
            };
            let start: HashSet<String> = state(&sandbox).into_iter().map(|v| v.id).collect();
            let mut args = plan_args.clone();
            args.extend(["--format", "jsonl"]);
            let out = report(&sandbox, &args).await;
            let code = out.status.code();
            *outcomes
                .entry(format!(
                    "{what}{}: exit {code:?}",
                    if rotate { " (rotating)" } else { "" }
                ))
                .or_default() += 1;
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let ctx = format!("report {args:?} {faults:?}");
            if code != Some(0) {
                if !stdout.is_empty() {
                    violations.push(format!(
                        "{ctx}: exit {code:?} with output {:?}",
                        stdout.lines().next()
                    ));
                }
                continue;
            }
            let end = state(&sandbox);
            let end_ids: HashSet<String> = end.iter().map(|v| v.id.clone()).collect();
            let throughout: HashSet<String> = start.intersection(&end_ids).cloned().collect();
            let decisions: Vec<Value> = stdout
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            let id_of = |d: &Value| match &d["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let ids: Vec<String> = decisions.iter().map(id_of).collect();
            let unique: HashSet<&String> = ids.iter().collect();
            if unique.len() != ids.len() {
                violations.push(format!("{ctx}: a snapshot decided twice"));
            }
            if let Some(missing) = throughout.iter().find(|id| !unique.contains(id)) {
                violations.push(format!(
                    "{ctx}: {missing} lived through the walk and was not decided"
                ));
            }
            let deleted: HashSet<String> = decisions
                .iter()
                .filter(|d| d["action"] == "delete")
                .map(id_of)
                .collect();
            for d in &decisions {
                if d["action"] == "delete" && d["type"] == "backup" {
                    violations.push(format!("{ctx}: deletes backup {}", id_of(d)));
                }
            }
            let spec = match *what {
                "droplet" => Spec {
                    last: 2,
                    ..Spec::default()
                },
                "droplet daily" => Spec {
                    daily: 2,
                    min_age: Some(Duration::ZERO),
                    ..Spec::default()
                },
                "volumes" => Spec {
                    last: 1,
                    ..Spec::default()
                },
                "name scope" => Spec {
                    last: 1,
                    names: vec!["*-*-1*".into()],
                    all: true,
                    ..Spec::default()
                },
                "region scope" => Spec {
                    weekly: 2,
                    regions: vec!["nyc3".into()],
                    min_age: Some(Duration::ZERO),
                    ..Spec::default()
                },
                _ => Spec {
                    last: 1,
                    tags: vec!["env:prod".into()],
                    ..Spec::default()
                },
            };
            if !rotate {
                // The world held still: the report's decisions are the
                // oracle's over the snapshots it printed.
                let views: Vec<V> = decisions
                    .iter()
                    .filter_map(|d| {
                        if on_droplet {
                            droplet_view(d)
                        } else {
                            account_view(d)
                        }
                    })
                    .collect();
                if views.len() != decisions.len() {
                    violations.push(format!("{ctx}: a decision line that is not a snapshot"));
                }
                let exp = oracle(&spec, &views, Utc::now()).expect("no tags");
                for d in &decisions {
                    let id = id_of(d);
                    let want = exp
                        .decisions
                        .get(&id)
                        .map(|(a, _)| if *a == Action::Keep { "keep" } else { "delete" });
                    if want != d["action"].as_str() {
                        violations.push(format!(
                            "{ctx}: {id} is {}, the docs say {want:?}: {d}",
                            d["action"]
                        ));
                    }
                }
            }
            let (a, b) = judge_end_state(&spec, &deleted, &end, &throughout);
            let gone = ids.iter().filter(|id| !end_ids.contains(*id)).count();
            if gone == 0 {
                for x in a.iter().chain(&b) {
                    violations.push(format!("{ctx}: {x}"));
                }
            }
        }
    }
    println!("[report plans] {outcomes:?}");
    for v in violations.iter().take(10) {
        println!("[report plans]   VIOLATION: {v}");
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

/// The documented limit, inside the walk: one deletion and one creation
/// at the head of an id-ordered listing, right after the walk's second
/// pass has read page 1 again (found by a dry run), and nothing else. The
/// walk cannot see it (the pages after page 1 do not move), ends `Ok` with
/// `vanished` 0, and the plan keeps the deleted snapshot as its group's
/// newest and deletes the group's only survivor. The `WalkSummary::vanished`
/// docs say that in a two-pass walk only deletions before the count are
/// counted; the retention docs warn only about "a deletion after the walk".
#[tokio::test]
#[ignore = "documented limitation: a deletion behind the last pass's read point is not seen (WalkSummary::vanished: 'exactly the snapshots deleted before the count'); the retention docs understate it as 'a deletion after the walk'"]
async fn a_deletion_behind_the_second_pass_empties_a_group() {
    let now = Utc::now();
    let data = aimed_data(now, &mut Rng::new(5_001));
    let build = |faults: Faults| {
        Sandbox::builder()
            .snapshots(0)
            .with_snapshots(data.clone())
            .order(Order::IdString)
            .faults(faults)
            .rate_limits(RateLimits::unlimited())
            .start()
    };
    let walk = |sandbox: &Sandbox| {
        client(sandbox)
            .list_snapshots()
            .per_page(30)
            .concurrency(1)
            .collect_with_summary()
    };
    let dry = build(Faults::default()).await.expect("sandbox");
    let (_, dry_summary) = walk(&dry).await.expect("a still listing");
    let log = dry.requests();
    let pages: Vec<String> = log
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r.query_param("page").unwrap_or_default(),
                r.query_param("per_page").unwrap_or_default()
            )
        })
        .collect();
    let last_page_1 = log
        .iter()
        .filter(|r| r.query_param("page").as_deref() == Some("1"))
        .map(|r| r.seq)
        .max()
        .expect("page 1");
    assert!(
        last_page_1 < log.len() as u64,
        "page 1 is not the walk's last request: {pages:?}"
    );
    let faults = Faults {
        drift_delete: 1,
        drift_delete_at: Position::Head,
        drift_insert: 1,
        drift_insert_at: Position::Head,
        changes_every: last_page_1,
        changes_stop_after: Some(last_page_1),
        ..Faults::default()
    };
    let sandbox = build(faults).await.expect("sandbox");
    let (items, summary) = walk(&sandbox).await.expect("the walk sees nothing");
    let later = sandbox
        .requests()
        .iter()
        .filter(|r| r.seq > last_page_1)
        .count();
    assert!(later > 0);
    let plan = Policy::new()
        .keep_last(1)
        .min_age(Duration::ZERO)
        .plan(items, &summary, now)
        .expect("a plan: nothing vanished that the walk could see");
    let deleted: HashSet<String> = plan.to_delete().map(|s| s.id.clone()).collect();
    let left: Vec<Value> = sandbox
        .snapshots(None)
        .into_iter()
        .filter(|v| v["resource_id"] == "vol-head")
        .collect();
    let survivors: Vec<&Value> = left
        .iter()
        .filter(|v| !deleted.contains(v["id"].as_str().unwrap_or_default()))
        .collect();
    assert!(
        !survivors.is_empty(),
        "vol-head emptied: \"!head\" was deleted after request {last_page_1} (page 1 of the last pass; \
         {later} requests followed; dry run {pages:?}, {dry_summary:?}); the plan kept it and deletes {:?}; \
         the walk reported {summary:?}",
        left.iter().map(|v| v["id"].clone()).collect::<Vec<_>>()
    );
}

/// Kinds the API may add later are left alone (after the adversary's
/// report, the docs now say so): a droplet image of an unknown `type` and
/// backups are never in scope; a snapshot of an unknown `resource_type`
/// only when the scope names that type.
#[tokio::test]
async fn unknown_kinds_are_left_alone_unless_named() {
    let now = Utc::now();
    let at = |d: i64| (now - TimeDelta::days(d)).to_rfc3339();
    let image = |id: i64, d: i64, t: &str| {
        json!({"id": id, "name": format!("img-{id}"), "created_at": at(d), "regions": ["nyc3"],
               "min_disk_size": 25, "size_gigabytes": 2.0, "type": t})
    };
    let sandbox = Sandbox::builder()
        .snapshots(0)
        .with_droplet_snapshots(
            42,
            [
                image(1, 30, "replica"),
                image(2, 20, "replica"),
                image(3, 10, "backup"),
                image(4, 5, "backup"),
                image(5, 40, "snapshot"),
                image(6, 35, "snapshot"),
            ],
        )
        .with_snapshots([
            snap("k1", &at(30), "kubernetes_node", "n1", "node-1"),
            snap("k2", &at(20), "kubernetes_node", "n1", "node-2"),
        ])
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox");
    let c = client(&sandbox);
    let (items, summary) = c
        .list_droplet_snapshots(42)
        .collect_with_summary()
        .await
        .expect("walk");
    let plan = Policy::new()
        .keep_last(1)
        .plan(items, &summary, now)
        .expect("plan");
    let deleted: Vec<i64> = plan.to_delete().map(|s| s.id).collect();
    assert_eq!(
        deleted,
        [5],
        "only the older snapshot goes; replicas and backups stay: {:?}",
        plan.decisions
    );
    let (items, summary) = c
        .list_snapshots()
        .collect_with_summary()
        .await
        .expect("walk");
    let plan = Policy::new()
        .keep_last(1)
        .plan(items.clone(), &summary, now)
        .expect("plan");
    let deleted: Vec<&str> = plan.to_delete().map(|s| s.id.as_str()).collect();
    assert!(
        !deleted.contains(&"k1") && !deleted.contains(&"k2"),
        "{deleted:?}"
    );
    let plan = Policy::new()
        .keep_last(1)
        .scope(Scope::all().resource_type(ResourceType::from("kubernetes_node")))
        .plan(items, &summary, now)
        .expect("plan");
    let deleted: Vec<&str> = plan.to_delete().map(|s| s.id.as_str()).collect();
    assert_eq!(deleted, ["k1"], "named in the scope, planned");
}
