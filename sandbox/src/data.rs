//! Deterministic seeded data, rendered to JSON once.
//!
//! Everything here derives from the seed with ChaCha8, whose output is fixed
//! by its specification, so a seed gives the same data on every machine and
//! every version of `rand`.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::chosen::{self, Chosen, ChosenItem};
use crate::order::{self, Key};
use crate::{Faults, Order, Position};

const REGIONS: &[&str] = &[
    "nyc1", "nyc3", "sfo2", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1", "blr1", "syd1",
];
const TAGS: &[&str] = &[
    "web",
    "db",
    "env:prod",
    "env:staging",
    "k8s",
    "team:data",
    "backup-policy:weekly",
];
const DROPLET_ROLES: &[&str] = &["web", "db", "worker", "cache", "lb", "build", "vpn"];
const MIN_DISK_SIZES: &[u64] = &[10, 25, 50, 60, 80, 100, 160, 320];

/// Names a terminal or a spreadsheet would act on.
const HOSTILE_NAMES: &[&str] = &[
    "web\u{1b}[2J\u{1b}[Hcleared",
    "db\rforged: 0 snapshots, 0.00 GB billable",
    "nul\u{0}byte",
    "invoice\u{202e}fdp.exe",
    "line\u{2028}separator",
    "=HYPERLINK(\"http://example.com\",\"x\")",
    "+cmd|' /C calc'!A0",
    "tab\tinside",
];

/// 2019-01-01T00:00:00Z and 2026-11-01T00:00:00Z: the span `created_at`
/// values are drawn from (fixed, so data does not depend on today), unless
/// [`DataConfig::now`] moves its end.
const EPOCH_START: i64 = 1_546_300_800;
const EPOCH_END: i64 = 1_793_491_200;

/// What the order's own random generator is seeded with, beside the
/// seed: the data are the same whatever the order.
const ORDER_STREAM: u64 = 0x6f72_6465_725f_6b65;

/// What an item was taken from (its `resource_type`), for the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResourceType {
    Droplet,
    Volume,
    /// A value the API might add later; only in the unfiltered listing.
    Other,
}

impl ResourceType {
    /// The filter's value; `None` for an empty one (no filter).
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "droplet" => Some(Self::Droplet),
            "volume" => Some(Self::Volume),
            "" => None,
            _ => Some(Self::Other),
        }
    }
}

/// One item, rendered once.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) json: Box<RawValue>,
    pub(crate) resource_type: ResourceType,
    /// The id as the listing shows it (without quotes).
    pub(crate) id: String,
    /// `created_at` as the listing shows it (empty when absent).
    pub(crate) created_at: Box<str>,
    /// `created_at` in Unix seconds (0 when absent or unreadable).
    pub(crate) created: i64,
    /// Where the order puts it in its listing.
    pub(crate) key: Key,
    /// Chosen by the user: served as given, never rewritten.
    pub(crate) chosen: bool,
}

impl Item {
    /// The item as served, read back (`null` in the impossible case that
    /// the served JSON does not read).
    pub(crate) fn value(&self) -> Value {
        serde_json::from_str(self.json.get()).unwrap_or(Value::Null)
    }
}

/// How much and what kind of data to generate.
#[derive(Clone, Debug)]
pub(crate) struct DataConfig {
    pub(crate) seed: u64,
    pub(crate) snapshots: usize,
    pub(crate) droplets: Vec<(u64, usize, usize)>,
    pub(crate) unknown_values: f64,
    pub(crate) extra_fields: bool,
    pub(crate) look_alike_ids: bool,
    pub(crate) hostile_names: bool,
    /// Snapshots made together: every this many in `created_at` order
    /// share one `created_at` (1: none do).
    pub(crate) batch: usize,
    /// The order the listings are served in.
    pub(crate) order: Order,
    /// The end of the span generated `created_at` values are drawn from
    /// (Unix seconds); `None`: 2026-11-01T00:00:00Z. The span's length
    /// does not change.
    pub(crate) now: Option<i64>,
    /// The snapshots the user chose, checked.
    pub(crate) chosen: Chosen,
}

impl DataConfig {
    /// The span generated `created_at` values are drawn from (its end
    /// excluded).
    ///
    /// Moved by `now`, it stays within the years RFC 3339 can write
    /// (0000 to 9999): a `now` outside them dates the data at that edge.
    fn span(&self) -> std::ops::Range<i64> {
        /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
        const FIRST: i64 = -62_167_219_200;
        const LAST: i64 = 253_402_300_799;
        match self.now {
            None => EPOCH_START..EPOCH_END,
            Some(now) => {
                let end = now.clamp(FIRST + 1, LAST + 1);
                end.saturating_sub(EPOCH_END - EPOCH_START).max(FIRST)..end
            }
        }
    }
}

/// The whole dataset.
#[derive(Debug)]
pub(crate) struct Dataset {
    /// The account's snapshots (`GET /v2/snapshots`), in listing order.
    pub(crate) snapshots: Vec<Item>,
    /// Droplet id -> its snapshots and backups, in listing order.
    pub(crate) droplets: BTreeMap<u64, Vec<Item>>,
    rng: ChaCha8Rng,
    /// Draws the keys of [`Order::Random`], apart from `rng`.
    order_rng: ChaCha8Rng,
    config: DataConfig,
    next_droplet_snapshot_id: u64,
    /// The `seq` of the next snapshot made (part of its key).
    next_seq: u64,
    /// Pages served since the start (counted only while a fault that
    /// changes the listings after a page is on: all that reads it).
    pages: u64,
    /// Late snapshots made but not listed yet, oldest first.
    late: Vec<Late>,
    /// Volume snapshots whose real size is not listed yet.
    growing: Vec<Growing>,
}

/// A late snapshot not listed yet, and its retention job's deletion.
#[derive(Debug)]
struct Late {
    /// Listed once this many pages have been served.
    due: u64,
    /// Whose listing: `None` for the account's.
    droplet: Option<u64>,
    item: Item,
    /// Where its retention job deletes, once it is listed.
    delete_at: Position,
}

/// A volume snapshot listed with `size_gigabytes: 0` for now.
#[derive(Debug)]
struct Growing {
    /// Its real size is listed once this many pages have been served.
    due: u64,
    id: String,
    /// The item with its real size.
    grown: Box<RawValue>,
}

struct Raw {
    created: i64,
    droplet: Option<u64>,
    /// The item of `GET /v2/snapshots` (backups have none).
    snapshot: Option<Value>,
    /// The item of `GET /v2/droplets/{id}/snapshots`.
    droplet_item: Option<Value>,
}

impl Dataset {
    pub(crate) fn generate(config: DataConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut next_id: u64 = 6_372_321;
        let mut raws: Vec<Raw> = Vec::new();

        // 60% droplet snapshots spread over droplets, 40% volume snapshots.
        let droplet_share = config.snapshots * 3 / 5;
        let volume_share = config.snapshots - droplet_share;
        let per_droplet = plan_droplets(&mut rng, &config, droplet_share);
        for (droplet_id, (name, snapshots, backups)) in &per_droplet {
            for n in 0..snapshots + backups {
                let is_backup = n >= *snapshots;
                next_id += rng.random_range(1..=997);
                let (snapshot, droplet_item, created) =
                    droplet_snapshot(&mut rng, &config, next_id, *droplet_id, name, is_backup);
                raws.push(Raw {
                    created,
                    droplet: Some(*droplet_id),
                    snapshot,
                    droplet_item: Some(droplet_item),
                });
            }
        }

        let volume_count = (volume_share / 4).max(1);
        let volumes: Vec<(String, String)> = (0..volume_count)
            .map(|i| (uuid(&mut rng), format!("pvc-{:03}", i + 1)))
            .collect();
        for _ in 0..volume_share {
            let (volume_id, volume_name) = &volumes[rng.random_range(0..volumes.len())];
            let (value, created) = volume_snapshot(&mut rng, &config, volume_id, volume_name);
            raws.push(Raw {
                created,
                droplet: None,
                snapshot: Some(value),
                droplet_item: None,
            });
        }

        // Oldest first, ties by insertion: the rank is each snapshot's
        // `seq`, what batches share `created_at` by, and what keys fall
        // back on.
        raws.sort_by_key(|r| r.created);
        make_batches(&mut raws, config.batch);
        let mut snapshots = Vec::with_capacity(config.snapshots);
        let mut droplets: BTreeMap<u64, Vec<(u64, Item)>> =
            per_droplet.keys().map(|id| (*id, Vec::new())).collect();
        let mut next_seq = 0;
        for raw in raws {
            let seq = next_seq;
            next_seq += 1;
            if let Some(value) = raw.snapshot {
                snapshots.push((seq, render(&value)));
            }
            if let (Some(droplet), Some(value)) = (raw.droplet, raw.droplet_item) {
                droplets
                    .entry(droplet)
                    .or_default()
                    .push((seq, render(&value)));
            }
        }
        if config.look_alike_ids {
            make_look_alikes(&mut snapshots);
        }
        let order = config.order;
        let mut order_rng = ChaCha8Rng::seed_from_u64(config.seed ^ ORDER_STREAM);
        let mut keyed = |listed: Vec<(u64, Item)>, droplet: bool| {
            let mut listed: Vec<Item> = listed
                .into_iter()
                .map(|(seq, mut item)| {
                    let random = order_rng.random();
                    item.key = if droplet {
                        order.droplet_key(&item, seq, random)
                    } else {
                        order.account_key(&item, seq, random)
                    };
                    item
                })
                .collect();
            listed.sort_by(|a, b| a.key.cmp(&b.key));
            listed
        };
        let snapshots = keyed(snapshots, false);
        let droplets = droplets
            .into_iter()
            .map(|(id, items)| (id, keyed(items, true)))
            .collect();
        let mut dataset = Self {
            snapshots,
            droplets,
            rng,
            order_rng,
            config,
            next_droplet_snapshot_id: next_id,
            next_seq,
            pages: 0,
            late: Vec::new(),
            growing: Vec::new(),
        };
        let chosen = std::mem::take(&mut dataset.config.chosen);
        dataset.add_chosen(chosen);
        if dataset.config.hostile_names {
            dataset.make_hostile_names();
        }
        dataset
    }

    /// Lists the chosen snapshots beside the generated ones, each where
    /// its key puts it (keyed after the generated ones, so those keep
    /// theirs): the account's, and each droplet's (made if absent), with
    /// a droplet's snapshots (not its backups) in the account's listing
    /// too.
    fn add_chosen(&mut self, chosen: Chosen) {
        if chosen.snapshots.is_empty() && chosen.droplets.is_empty() {
            return;
        }
        for item in chosen.snapshots {
            let item = self.keyed(chosen_item(item, true), false);
            self.snapshots.push(item);
        }
        for (droplet_id, item) in chosen.droplets {
            if chosen::is_listed_in_account(&item.object) {
                let value = chosen::account_item(droplet_id, &item.object);
                let mirrored = ChosenItem {
                    json: serde_json::value::to_raw_value(&value)
                        .unwrap_or_else(|_| RawValue::NULL.to_owned()),
                    object: match value {
                        Value::Object(object) => object,
                        _ => serde_json::Map::new(),
                    },
                };
                let mirrored = self.keyed(chosen_item(mirrored, true), false);
                self.snapshots.push(mirrored);
            }
            let item = self.keyed(chosen_item(item, false), true);
            self.droplets.entry(droplet_id).or_default().push(item);
        }
        // Stable, and keys are unique anyway: the generated items keep
        // their order among themselves.
        self.snapshots.sort_by(|a, b| a.key.cmp(&b.key));
        for listed in self.droplets.values_mut() {
            listed.sort_by(|a, b| a.key.cmp(&b.key));
        }
    }

    /// Gives `item`, made now, its key in the account's listing (or in a
    /// droplet's).
    fn keyed(&mut self, mut item: Item, droplet: bool) -> Item {
        let seq = self.next_seq;
        self.next_seq += 1;
        let random = self.order_rng.random();
        let order = self.config.order;
        item.key = if droplet {
            order.droplet_key(&item, seq, random)
        } else {
            order.account_key(&item, seq, random)
        };
        item
    }

    /// A page of either listing was served: late snapshots whose time has
    /// come are listed (and their retention jobs delete), and volume
    /// snapshots whose time has come list their real size.
    pub(crate) fn page_served(&mut self) -> u64 {
        self.pages += 1;
        let pages = self.pages;
        if self.late.iter().any(|late| late.due <= pages) {
            let (due, waiting) = std::mem::take(&mut self.late)
                .into_iter()
                .partition(|late| late.due <= pages);
            self.late = waiting;
            for late in due {
                self.replace(late.droplet, late.delete_at, late.item);
            }
        }
        if self.growing.iter().any(|growing| growing.due <= pages) {
            let (due, waiting): (Vec<Growing>, _) = std::mem::take(&mut self.growing)
                .into_iter()
                .partition(|growing| growing.due <= pages);
            self.growing = waiting;
            for growing in due {
                // Gone already when deleted meanwhile.
                if let Some(item) = self.snapshots.iter_mut().find(|i| i.id == growing.id) {
                    item.json = growing.grown;
                }
            }
        }
        pages
    }

    /// A retention job's step in the account's listing (`None`) or in
    /// `droplet`'s: one snapshot deleted at `at`, then `item` listed where
    /// its key puts it.
    fn replace(&mut self, droplet: Option<u64>, at: Position, item: Item) {
        let len = match droplet {
            None => self.snapshots.len(),
            Some(droplet) => self.droplets.get(&droplet).map_or(0, Vec::len),
        };
        let index = (len > 0).then(|| self.index(at, len - 1));
        let listed = match droplet {
            None => &mut self.snapshots,
            Some(droplet) => match self.droplets.get_mut(&droplet) {
                Some(listed) => listed,
                None => return,
            },
        };
        if let Some(index) = index {
            listed.remove(index);
        }
        order::insert(listed, item);
    }

    /// Renders a new volume snapshot of the account's listing; with
    /// growing sizes, listed with `size_gigabytes: 0` until `growing`
    /// more pages have been served.
    fn new_volume_item(&mut self, value: &Value, growing: u64) -> Item {
        if growing == 0 {
            return self.keyed(render(value), false);
        }
        let grown = render(value);
        let mut empty = value.clone();
        empty["size_gigabytes"] = json!(0);
        let item = self.keyed(render(&empty), false);
        self.growing.push(Growing {
            due: self.pages + growing,
            id: item.id.clone(),
            grown: grown.json,
        });
        item
    }

    /// The `created_at` of a droplet snapshot made `now` and the page
    /// count from which it is listed: with late snapshots, dated at the
    /// start of its action, a random span before now, and listed
    /// `late_pages` pages later.
    fn late_stamp(&mut self, faults: &Faults, now: i64) -> (i64, u64) {
        match faults.late_snapshots {
            Some(longest) => {
                let longest = i64::try_from(longest.as_secs()).unwrap_or(i64::MAX).max(1);
                let span = self.rng.random_range(1..=longest);
                (now.saturating_sub(span), self.pages + faults.late_pages)
            }
            None => (now, self.pages),
        }
    }

    /// Drift: `drift_insert` new snapshots inserted and `drift_delete`
    /// deleted in the account's listing, where the faults say (whatever
    /// the order), as a live account would between two page fetches.
    /// New snapshots are stamped `now` (Unix seconds), the server's clock.
    pub(crate) fn drift(&mut self, faults: &Faults, now: i64) {
        let stamp = Value::String(rfc3339(now));
        for _ in 0..faults.drift_delete.min(self.snapshots.len()) {
            let at = self.index(faults.drift_delete_at, self.snapshots.len() - 1);
            self.snapshots.remove(at);
        }
        for _ in 0..faults.drift_insert {
            let item = if self.rng.random_bool(0.5) {
                self.next_droplet_snapshot_id += self.rng.random_range(1..=997);
                let droplet = self.rng.random_range(100_000_000..1_000_000_000u64);
                let (snapshot, _, _) = droplet_snapshot(
                    &mut self.rng,
                    &self.config,
                    self.next_droplet_snapshot_id,
                    droplet,
                    "drift",
                    false,
                );
                let mut value = snapshot.unwrap_or_default();
                value["created_at"] = stamp.clone();
                self.keyed(render(&value), false)
            } else {
                let volume = uuid(&mut self.rng);
                let mut value = volume_snapshot(&mut self.rng, &self.config, &volume, "drift").0;
                value["created_at"] = stamp.clone();
                restamp_volume_id(&mut value, now);
                self.new_volume_item(&value, faults.growing_sizes)
            };
            let at = self.index(faults.drift_insert_at, self.snapshots.len());
            self.snapshots.insert(at, item);
        }
    }

    /// Rotation, as a retention job between two page reads: in the
    /// account's listing and in `droplet`'s, `rotate` new snapshots made
    /// now (`now`, Unix seconds, the clock of the `Date` header; listed
    /// where their keys put them) and as many deleted at
    /// `rotate_delete_at`, so no total moves. With late snapshots, a
    /// droplet snapshot is dated before `now` and may wait for pages, its
    /// deletion with it.
    pub(crate) fn rotate(&mut self, faults: &Faults, now: i64, droplet: Option<u64>) {
        let at = faults.rotate_delete_at;
        for _ in 0..faults.rotate {
            if self.rng.random_bool(0.5) {
                self.next_droplet_snapshot_id += self.rng.random_range(1..=997);
                let droplet = self.rng.random_range(100_000_000..1_000_000_000u64);
                let id = self.next_droplet_snapshot_id;
                let mut value =
                    droplet_snapshot(&mut self.rng, &self.config, id, droplet, "rotated", false)
                        .0
                        .unwrap_or_default();
                let (created, due) = self.late_stamp(faults, now);
                value["created_at"] = Value::String(rfc3339(created));
                let item = self.keyed(render(&value), false);
                self.made(None, at, item, due);
            } else {
                let volume = uuid(&mut self.rng);
                let mut value = volume_snapshot(&mut self.rng, &self.config, &volume, "rotated").0;
                value["created_at"] = Value::String(rfc3339(now));
                restamp_volume_id(&mut value, now);
                let item = self.new_volume_item(&value, faults.growing_sizes);
                self.replace(None, at, item);
            }
        }
        if let Some(droplet) = droplet {
            for _ in 0..faults.rotate {
                self.next_droplet_snapshot_id += self.rng.random_range(1..=997);
                let id = self.next_droplet_snapshot_id;
                let (_, mut value, _) =
                    droplet_snapshot(&mut self.rng, &self.config, id, droplet, "backup", true);
                let (created, due) = self.late_stamp(faults, now);
                value["created_at"] = Value::String(rfc3339(created));
                let item = self.keyed(render(&value), true);
                self.made(Some(droplet), at, item, due);
            }
        }
    }

    /// A retention job's new snapshot: listed now, with its deletion, or
    /// held (with it) until `due` pages have been served.
    fn made(&mut self, droplet: Option<u64>, at: Position, item: Item, due: u64) {
        if due <= self.pages {
            self.replace(droplet, at, item);
        } else {
            self.late.push(Late {
                due,
                droplet,
                item,
                delete_at: at,
            });
        }
    }

    /// An index from 0 to `last` where `position` says.
    fn index(&mut self, position: Position, last: usize) -> usize {
        match position {
            Position::Head => 0,
            Position::Tail => last,
            Position::Middle => last / 2,
            Position::Random => self.rng.random_range(0..=last),
        }
    }

    /// Renames the first snapshots in listing order (and their regions)
    /// with what a terminal or a spreadsheet would act on.
    fn make_hostile_names(&mut self) {
        let generated = self.snapshots.iter_mut().filter(|item| !item.chosen);
        for (item, name) in generated.zip(HOSTILE_NAMES) {
            let mut value: Value = serde_json::from_str(item.json.get()).unwrap_or(Value::Null);
            value["name"] = Value::String((*name).to_owned());
            value["regions"] = json!(["nyc1\u{1b}[31m", "\u{202e}3cyn"]);
            let key = std::mem::take(&mut item.key);
            *item = render(&value);
            item.key = key;
        }
    }
}

/// Rewrites every fourth droplet snapshot's id (oldest first) to look like
/// the one before it: `"0123"`, `"+123"`, `"00123"` after `"123"`.
fn make_look_alikes(snapshots: &mut [(u64, Item)]) {
    let mut base: Option<String> = None;
    let mut n = 0;
    for (_, item) in snapshots {
        if item.resource_type != ResourceType::Droplet {
            continue;
        }
        let prefix = match (n % 4, &base) {
            (0, _) | (_, None) => {
                base = Some(item.id.clone());
                n += 1;
                continue;
            }
            (1, _) => "0",
            (2, _) => "+",
            _ => "00",
        };
        n += 1;
        let Some(original) = &base else { continue };
        let id = format!("{prefix}{original}");
        let mut value: Value = serde_json::from_str(item.json.get()).unwrap_or(Value::Null);
        value["id"] = Value::String(id);
        *item = render(&value);
    }
}
/// The droplets and how many snapshots and backups each has: `share`
/// snapshots spread over generated droplets (0 to 4 backups each), plus
/// the droplets the configuration fixes. Droplet id -> (name, snapshots,
/// backups).
fn plan_droplets(
    rng: &mut ChaCha8Rng,
    config: &DataConfig,
    droplet_share: usize,
) -> BTreeMap<u64, (String, usize, usize)> {
    let droplet_count = (droplet_share / 3).max(1);
    let mut generated_droplets: Vec<(u64, String)> = (0..droplet_count)
        .map(|i| {
            let id = 100_000_000 + rng.random_range(0..900_000_000u64);
            let role = DROPLET_ROLES[rng.random_range(0..DROPLET_ROLES.len())];
            (id, format!("{role}-{:02}", i + 1))
        })
        .collect();
    generated_droplets.sort_unstable();
    generated_droplets.dedup_by_key(|(id, _)| *id);

    let mut per_droplet: BTreeMap<u64, (String, usize, usize)> = BTreeMap::new();
    for (id, name) in &generated_droplets {
        per_droplet.insert(*id, (name.clone(), 0, rng.random_range(0..=4)));
    }
    for _ in 0..droplet_share {
        let (id, _) = &generated_droplets[rng.random_range(0..generated_droplets.len())];
        if let Some(entry) = per_droplet.get_mut(id) {
            entry.1 += 1;
        }
    }
    for (i, (id, snapshots, backups)) in config.droplets.iter().enumerate() {
        per_droplet.insert(*id, (format!("fixture-{:02}", i + 1), *snapshots, *backups));
    }
    per_droplet
}

fn render(value: &Value) -> Item {
    let resource_type = match value.get("resource_type").and_then(Value::as_str) {
        // Droplet listing items have no resource_type: they are droplets.
        None => ResourceType::Droplet,
        Some(text) => ResourceType::parse(text).unwrap_or(ResourceType::Other),
    };
    let id = match &value["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let json = serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned());
    let created_at: Box<str> = value["created_at"].as_str().unwrap_or_default().into();
    let created = DateTime::parse_from_rfc3339(&created_at).map_or(0, |t| t.timestamp());
    Item {
        json,
        resource_type,
        id,
        created_at,
        created,
        key: Key::default(),
        chosen: false,
    }
}

/// A chosen item, its JSON as given. In the account's listing its
/// `resource_type` is what the filter matches (`droplet`, `volume`;
/// anything else, or none, is listed only unfiltered); its id is a string
/// as it is or an integer in decimal, else empty; its `created_at` is
/// read as RFC 3339, else taken as the Unix epoch.
fn chosen_item(item: ChosenItem, account: bool) -> Item {
    let object = &item.object;
    let resource_type = if account {
        match object.get("resource_type").and_then(Value::as_str) {
            Some("droplet") => ResourceType::Droplet,
            Some("volume") => ResourceType::Volume,
            _ => ResourceType::Other,
        }
    } else {
        ResourceType::Droplet
    };
    let created_at: Box<str> = object
        .get("created_at")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .into();
    let created = DateTime::parse_from_rfc3339(&created_at).map_or(0, |t| t.timestamp());
    Item {
        json: item.json,
        resource_type,
        id: chosen::id_text(object).unwrap_or_default(),
        created_at,
        created,
        key: Key::default(),
        chosen: true,
    }
}

/// Makes every `batch` snapshots in a row (oldest first) share the first
/// one's `created_at`, as a job that snapshots several volumes at once
/// does (a volume snapshot's id follows its new `created_at`).
fn make_batches(raws: &mut [Raw], batch: usize) {
    if batch < 2 {
        return;
    }
    for chunk in raws.chunks_mut(batch) {
        let created = chunk[0].created;
        let stamp = Value::String(rfc3339(created));
        for raw in chunk {
            raw.created = created;
            for value in [&mut raw.snapshot, &mut raw.droplet_item]
                .into_iter()
                .flatten()
            {
                value["created_at"] = stamp.clone();
                if value["resource_type"] == "volume" {
                    restamp_volume_id(value, created);
                }
            }
        }
    }
}

/// Unix seconds as RFC 3339, the form of `created_at`.
fn rfc3339(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A `created_at` drawn from the configured span. The draw depends only
/// on the span's length, so a span moved by `now` moves every value by
/// as much and leaves the rest of the data drawn as before.
fn timestamp(rng: &mut ChaCha8Rng, config: &DataConfig) -> (i64, String) {
    let secs = rng.random_range(config.span());
    let text = DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    (secs, text)
}

fn regions(rng: &mut ChaCha8Rng) -> Vec<&'static str> {
    // Mostly one region, sometimes several, rarely none (being transferred).
    let count = match rng.random_range(0..20) {
        0 => 0,
        1..=14 => 1,
        15..=18 => 2,
        _ => 3,
    };
    let mut picked: Vec<&str> = Vec::with_capacity(count);
    while picked.len() < count {
        let region = REGIONS[rng.random_range(0..REGIONS.len())];
        if !picked.contains(&region) {
            picked.push(region);
        }
    }
    picked
}

fn tags(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..10) {
        0 | 1 => Value::Null,
        2..=4 => json!([]),
        _ => {
            let count = rng.random_range(1..=3);
            let mut picked: Vec<&str> = Vec::new();
            while picked.len() < count {
                let tag = TAGS[rng.random_range(0..TAGS.len())];
                if !picked.contains(&tag) {
                    picked.push(tag);
                }
            }
            json!(picked)
        }
    }
}

/// A size in GB with up to four decimals, e.g. 0.1008 or 41.57.
fn size(rng: &mut ChaCha8Rng, max_gb: u64) -> f64 {
    let ten_thousandths = rng.random_range(1..=max_gb * 10_000);
    let decimals = rng.random_range(0..=4u32);
    let unit = 10u64.pow(4 - decimals);
    let rounded = (ten_thousandths / unit).max(1) * unit;
    rounded as f64 / 10_000.0
}

/// A random (version 4) UUID drawn from `rng`.
pub(crate) fn uuid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// 100 ns intervals from 1582-10-15T00:00:00Z, where the clock of
/// version-1 UUIDs starts, to the Unix epoch.
const GREGORIAN_TO_UNIX: u64 = 0x01B2_1DD2_1381_4000;

/// A volume snapshot's id, shaped like the version-1 UUIDs DigitalOcean
/// gives them (`d87066ca-…-11ef-…` for one made in February 2025):
/// lowercase hex, `time_low-time_mid-time_hi_and_version-clock_seq-node`.
///
/// `time_mid` and `time_hi` are those of `created` (Unix seconds), so the
/// third group reads `11e9` to `11f1` over the data's years. `time_low`,
/// the first group, is the low 32 bits of the 100 ns clock, which wraps
/// every 7 minutes 9.5 seconds: drawn from `rng` here, as it is unrelated
/// to a `created_at` of one-second resolution across minutes, and so that
/// where a new snapshot lands in id order is reproducible from the seed
/// (not from the wall clock). `clock_seq` carries the RFC 4122 variant.
fn uuid_v1(rng: &mut ChaCha8Rng, created: i64) -> String {
    let time_low: u32 = rng.random();
    let clock_seq = (rng.random::<u16>() & 0x3fff) | 0x8000;
    let node = rng.random::<u64>() & 0xffff_ffff_ffff;
    let ticks = v1_ticks(created);
    format!(
        "{time_low:08x}-{:04x}-{:04x}-{clock_seq:04x}-{node:012x}",
        (ticks >> 32) & 0xffff,
        ((ticks >> 48) & 0x0fff) | 0x1000,
    )
}

/// The 100 ns ticks of the version-1 clock at `created` (Unix seconds).
fn v1_ticks(created: i64) -> u64 {
    u64::try_from(created)
        .unwrap_or(0)
        .saturating_mul(10_000_000)
        .saturating_add(GREGORIAN_TO_UNIX)
}

/// Rewrites the time fields of a volume snapshot's version-1 id (groups
/// two and three) to those of `created`, keeping the rest.
fn restamp_volume_id(value: &mut Value, created: i64) {
    let Some(id) = value["id"].as_str() else {
        return;
    };
    let mut parts: Vec<String> = id.split('-').map(str::to_owned).collect();
    if parts.len() != 5 {
        return;
    }
    let ticks = v1_ticks(created);
    parts[1] = format!("{:04x}", (ticks >> 32) & 0xffff);
    parts[2] = format!("{:04x}", ((ticks >> 48) & 0x0fff) | 0x1000);
    value["id"] = Value::String(parts.join("-"));
}

fn extra_fields(value: &mut Value, config: &DataConfig) {
    if config.extra_fields
        && let Value::Object(map) = value
    {
        map.insert("encrypted".into(), json!(false));
        map.insert(
            "x_sandbox_future_field".into(),
            json!({ "nested": [1, 2, 3], "note": "a field this SDK does not know" }),
        );
    }
}

/// Returns the item for `GET /v2/snapshots` (snapshots only, not
/// backups), the item for the droplet's listing, and the creation time.
fn droplet_snapshot(
    rng: &mut ChaCha8Rng,
    config: &DataConfig,
    id: u64,
    droplet_id: u64,
    droplet_name: &str,
    is_backup: bool,
) -> (Option<Value>, Value, i64) {
    let (created, created_at) = timestamp(rng, config);
    let name = if is_backup {
        format!("{droplet_name} {}", &created_at[..10])
    } else {
        format!(
            "{droplet_name}-{}",
            created * 1000 + rng.random_range(0..1000)
        )
    };
    let regions = regions(rng);
    let min_disk_size = MIN_DISK_SIZES[rng.random_range(0..MIN_DISK_SIZES.len())];
    let size_gigabytes = size(rng, min_disk_size);
    let unknown = rng.random_bool(config.unknown_values.clamp(0.0, 1.0));
    let snapshot_type = match (unknown, is_backup) {
        (true, _) => "replica",
        (false, true) => "backup",
        (false, false) => "snapshot",
    };
    let mut droplet_item = json!({
        "id": id,
        "name": name,
        "created_at": created_at,
        "regions": regions,
        "min_disk_size": min_disk_size,
        "size_gigabytes": size_gigabytes,
        "type": snapshot_type,
    });
    extra_fields(&mut droplet_item, config);
    let snapshot = (!is_backup).then(|| {
        let mut value = json!({
            "id": id.to_string(),
            "name": name,
            "created_at": created_at,
            "regions": regions,
            "resource_id": droplet_id.to_string(),
            "resource_type": if unknown { "kubernetes_node" } else { "droplet" },
            "min_disk_size": min_disk_size,
            "size_gigabytes": size_gigabytes,
            "tags": tags(rng),
        });
        extra_fields(&mut value, config);
        value
    });
    (snapshot, droplet_item, created)
}

fn volume_snapshot(
    rng: &mut ChaCha8Rng,
    config: &DataConfig,
    volume_id: &str,
    volume_name: &str,
) -> (Value, i64) {
    let (created, created_at) = timestamp(rng, config);
    let min_disk_size = rng.random_range(1..=500u64);
    let mut value = json!({
        "id": uuid_v1(rng, created),
        "name": format!("{volume_name}-{}", created * 1000 + rng.random_range(0..1000)),
        "created_at": created_at,
        "regions": regions(rng),
        "resource_id": volume_id,
        "resource_type": "volume",
        "min_disk_size": min_disk_size,
        "size_gigabytes": size(rng, min_disk_size),
        "tags": tags(rng),
    });
    extra_fields(&mut value, config);
    (value, created)
}
