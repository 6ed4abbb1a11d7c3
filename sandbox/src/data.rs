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

use crate::Position;

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
/// values are drawn from (fixed, so data does not depend on today).
const EPOCH_START: i64 = 1_546_300_800;
const EPOCH_END: i64 = 1_793_491_200;

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
    /// Snapshots made together: every this many in listing order share
    /// one `created_at` (1: none do).
    pub(crate) batch: usize,
}

/// The whole dataset.
#[derive(Debug)]
pub(crate) struct Dataset {
    /// The account's snapshots (`GET /v2/snapshots`), in listing order.
    pub(crate) snapshots: Vec<Item>,
    /// Droplet id -> its snapshots and backups, in listing order.
    pub(crate) droplets: BTreeMap<u64, Vec<Item>>,
    rng: ChaCha8Rng,
    config: DataConfig,
    next_droplet_snapshot_id: u64,
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

        // Listing order: oldest first, ties by insertion.
        raws.sort_by_key(|r| r.created);
        make_batches(&mut raws, config.batch);
        let mut snapshots = Vec::with_capacity(config.snapshots);
        let mut droplets: BTreeMap<u64, Vec<Item>> =
            per_droplet.keys().map(|id| (*id, Vec::new())).collect();
        for raw in raws {
            if let Some(value) = raw.snapshot {
                snapshots.push(render(&value));
            }
            if let (Some(droplet), Some(value)) = (raw.droplet, raw.droplet_item) {
                droplets.entry(droplet).or_default().push(render(&value));
            }
        }
        let mut dataset = Self {
            snapshots,
            droplets,
            rng,
            config,
            next_droplet_snapshot_id: next_id,
        };
        if dataset.config.look_alike_ids {
            dataset.make_look_alikes();
        }
        if dataset.config.hostile_names {
            dataset.make_hostile_names();
        }
        dataset
    }

    /// Drift: `insert` new snapshots at the head of the account's listing
    /// and `delete` from just after them, as a live account would between
    /// two page fetches.
    /// New snapshots are stamped `now` (Unix seconds), the server's clock.
    pub(crate) fn drift(
        &mut self,
        insert: usize,
        delete: usize,
        at: (Position, Position),
        now: i64,
    ) {
        let (insert_at, delete_at) = at;
        let stamp = Value::String(rfc3339(now));
        for _ in 0..delete.min(self.snapshots.len()) {
            let at = self.index(delete_at, self.snapshots.len() - 1);
            self.snapshots.remove(at);
        }
        for _ in 0..insert {
            let value = if self.rng.random_bool(0.5) {
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
                snapshot.unwrap_or_default()
            } else {
                let volume = uuid(&mut self.rng);
                volume_snapshot(&mut self.rng, &self.config, &volume, "drift").0
            };
            let mut value = value;
            value["created_at"] = stamp.clone();
            let at = self.index(insert_at, self.snapshots.len());
            self.snapshots.insert(at, render(&value));
        }
    }

    /// Rotation, as a retention job between two page reads: in the
    /// account's listing and in `droplet`'s, `n` new snapshots made now
    /// (stamped `now`, Unix seconds, the clock of the `Date` header;
    /// listed last, as the API lists oldest first) and `n` deleted at
    /// `at`, so no total moves.
    pub(crate) fn rotate(&mut self, n: usize, at: Position, now: i64, droplet: Option<u64>) {
        let stamp = rfc3339(now);
        for _ in 0..n {
            if !self.snapshots.is_empty() {
                let index = self.index(at, self.snapshots.len() - 1);
                self.snapshots.remove(index);
            }
            let mut value = if self.rng.random_bool(0.5) {
                self.next_droplet_snapshot_id += self.rng.random_range(1..=997);
                let droplet = self.rng.random_range(100_000_000..1_000_000_000u64);
                let id = self.next_droplet_snapshot_id;
                droplet_snapshot(&mut self.rng, &self.config, id, droplet, "rotated", false)
                    .0
                    .unwrap_or_default()
            } else {
                let volume = uuid(&mut self.rng);
                volume_snapshot(&mut self.rng, &self.config, &volume, "rotated").0
            };
            value["created_at"] = Value::String(stamp.clone());
            self.snapshots.push(render(&value));
        }
        if let Some(droplet) = droplet {
            for _ in 0..n {
                self.next_droplet_snapshot_id += self.rng.random_range(1..=997);
                let id = self.next_droplet_snapshot_id;
                let (_, mut value, _) =
                    droplet_snapshot(&mut self.rng, &self.config, id, droplet, "backup", true);
                value["created_at"] = Value::String(stamp.clone());
                let len = self.droplets.get(&droplet).map_or(0, Vec::len);
                let index = (len > 0).then(|| self.index(at, len - 1));
                if let Some(items) = self.droplets.get_mut(&droplet) {
                    if let Some(index) = index {
                        items.remove(index);
                    }
                    items.push(render(&value));
                }
            }
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

    /// Renames the first snapshots (and their regions) with what a
    /// terminal or a spreadsheet would act on.
    fn make_hostile_names(&mut self) {
        for (item, name) in self.snapshots.iter_mut().zip(HOSTILE_NAMES) {
            let mut value: Value = serde_json::from_str(item.json.get()).unwrap_or(Value::Null);
            value["name"] = Value::String((*name).to_owned());
            value["regions"] = json!(["nyc1\u{1b}[31m", "\u{202e}3cyn"]);
            *item = render(&value);
        }
    }

    /// Rewrites every fourth droplet snapshot's id to look like the one
    /// before it: `"0123"`, `"+123"`, `"00123"` after `"123"`.
    fn make_look_alikes(&mut self) {
        let mut base: Option<String> = None;
        let mut n = 0;
        for item in &mut self.snapshots {
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
    let created_at = value["created_at"].as_str().unwrap_or_default().into();
    Item {
        json,
        resource_type,
        id,
        created_at,
    }
}

/// Makes every `batch` snapshots in a row (in listing order) share the
/// first one's `created_at`, as a job that snapshots several volumes at
/// once does.
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

fn timestamp(rng: &mut ChaCha8Rng) -> (i64, String) {
    let secs = rng.random_range(EPOCH_START..EPOCH_END);
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
    let (created, created_at) = timestamp(rng);
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
    let (created, created_at) = timestamp(rng);
    let min_disk_size = rng.random_range(1..=500u64);
    let mut value = json!({
        "id": uuid(rng),
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
