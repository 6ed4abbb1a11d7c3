//! A fake DigitalOcean API server for the two snapshot listings,
//! `GET /v2/droplets/{droplet_id}/snapshots` and `GET /v2/snapshots`.
//!
//! It knows the API only from the OpenAPI fragment `openapi/snapshots.yaml`
//! and the recorded facts about the real service, never from an SDK's
//! types, so a client tested against it is checked against the API rather
//! than against a mirror of itself.
//!
//! - Seeded, deterministic data: droplets with snapshots and backups,
//!   volume snapshots, regions, tags (some `null`), fractional sizes,
//!   `created_at` spread over years, volume snapshot ids shaped like
//!   version-1 UUIDs.
//! - Served in the order public evidence shows ([`Order::Realistic`]: a
//!   droplet's listing oldest first; the account's listing its droplet
//!   snapshots oldest first, then its volume snapshots by id as a string),
//!   or oldest first, by id, or in a fixed random order ([`Order`]).
//! - Both endpoints as the real API answers them: envelope, absolute page
//!   links, `meta.total`, the `resource_type` filter, 401/404/400 error
//!   bodies, rate-limit headers and 429s from per-token budgets.
//! - Reproducible faults: latency, 500/502/503 answers, truncated bodies,
//!   periodic 429s, drift and rotation between pages, snapshots that
//!   appear late dated at their start, sizes that grow after the fact, a
//!   `next` link to another host, unknown enum values and extra fields.
//! - Snapshots of your choosing beside the generated ones, served as given
//!   ([`SandboxBuilder::with_snapshots`],
//!   [`SandboxBuilder::with_droplet_snapshots`]), and a clock for the
//!   generated dates ([`SandboxBuilder::now`]).
//! - A gateway that limits the requests in flight
//!   ([`Faults::in_flight_limit`]).
//! - Statistics for assertions: requests served, by status, the most
//!   requests in flight at once, and a log of what was asked; the
//!   listings' items whole ([`Sandbox::snapshots`],
//!   [`Sandbox::droplet_snapshots`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use digitalocean_sandbox::Sandbox;
//!
//! let sandbox = Sandbox::builder().snapshots(500).seed(7).start().await?;
//! let url = format!("{}/v2/snapshots?per_page=200", sandbox.base_url());
//! // ... point the client under test at `sandbox.base_url()`,
//! // with the token `sandbox.token()` ...
//! assert_eq!(sandbox.snapshot_ids(None).len(), 500);
//! # let _ = url;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chosen;
mod data;
mod faults;
mod order;
mod server;
#[cfg(feature = "spec")]
pub mod spec;
mod sync;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use data::{DataConfig, Dataset, ResourceType};
pub use faults::{Faults, Position, TotalReport};
pub use order::Order;
use server::{Budgets, Shared, StatsInner};

/// The token the sandbox requires unless told otherwise.
pub const DEFAULT_TOKEN: &str = "sandbox-token";

/// The rate limits of DigitalOcean: 5,000 requests per hour and 250 per
/// minute, per token. Windows are configurable so tests can see a reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests allowed per hourly window (`ratelimit-limit`).
    pub per_hour: u64,
    /// Requests allowed per minute window (a burst over it gets a 429).
    pub per_minute: u64,
    /// The length of the "hourly" window.
    pub hour: Duration,
    /// The length of the "minute" window.
    pub minute: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_hour: 5_000,
            per_minute: 250,
            hour: Duration::from_secs(3_600),
            minute: Duration::from_secs(60),
        }
    }
}

impl RateLimits {
    /// Budgets so large that nothing is ever limited (headers still sent).
    pub fn unlimited() -> Self {
        Self {
            per_hour: u64::MAX / 2,
            per_minute: u64::MAX / 2,
            ..Self::default()
        }
    }
}

/// Configures and starts a [`Sandbox`].
#[derive(Clone, Debug)]
#[must_use = "call start() to run the sandbox"]
pub struct SandboxBuilder {
    seed: u64,
    snapshots: usize,
    droplets: Vec<(u64, usize, usize)>,
    token: Option<String>,
    rate_limits: RateLimits,
    faults: Faults,
    unknown_values: f64,
    extra_fields: bool,
    look_alike_ids: bool,
    hostile_names: bool,
    batches: usize,
    order: Order,
    addr: SocketAddr,
    now: Option<i64>,
    /// Account snapshots chosen by the user, serialized when given.
    chosen_snapshots: Vec<chosen::Given>,
    /// Droplet snapshots chosen by the user, by droplet, as given.
    chosen_droplet_snapshots: Vec<(u64, Vec<chosen::Given>)>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            seed: 1,
            snapshots: 100,
            droplets: Vec::new(),
            token: Some(DEFAULT_TOKEN.to_owned()),
            rate_limits: RateLimits::default(),
            faults: Faults::default(),
            unknown_values: 0.0,
            extra_fields: false,
            look_alike_ids: false,
            hostile_names: false,
            batches: 1,
            order: Order::default(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            now: None,
            chosen_snapshots: Vec::new(),
            chosen_droplet_snapshots: Vec::new(),
        }
    }
}

impl SandboxBuilder {
    /// The seed all data and random faults derive from. Default 1.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many account snapshots to generate (about 60% of droplets, 40%
    /// of volumes). Default 100. Droplets added with
    /// [`droplet`](Self::droplet) and snapshots chosen with
    /// [`with_snapshots`](Self::with_snapshots) or
    /// [`with_droplet_snapshots`](Self::with_droplet_snapshots) come on
    /// top: `snapshots(0)` leaves only those in the account's listing (a
    /// generated droplet with a few backups, listed only under it,
    /// remains).
    pub fn snapshots(mut self, count: usize) -> Self {
        self.snapshots = count;
        self
    }

    /// Adds a droplet with exactly `snapshots` snapshots (also listed in the
    /// account listing) and `backups` backups (listed only under the
    /// droplet).
    pub fn droplet(mut self, id: u64, snapshots: usize, backups: usize) -> Self {
        self.droplets.push((id, snapshots, backups));
        self
    }

    /// The bearer token requests must carry; `None` accepts any non-empty
    /// bearer token. Default [`DEFAULT_TOKEN`].
    pub fn token(mut self, token: Option<impl Into<String>>) -> Self {
        self.token = token.map(Into::into);
        self
    }

    /// Rate-limit budgets and windows. Default: DigitalOcean's.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Faults to inject.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Fixed latency per answer (a shortcut for [`Faults::latency`]).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.faults.latency = latency;
        self
    }

    /// Fraction of items that carry enum values the API may add later
    /// (`type: "replica"`, `resource_type: "kubernetes_node"`).
    pub fn unknown_values(mut self, fraction: f64) -> Self {
        self.unknown_values = fraction;
        self
    }

    /// Adds fields the API may add later to every item.
    pub fn extra_fields(mut self, on: bool) -> Self {
        self.extra_fields = on;
        self
    }

    /// Gives the account's droplet snapshots ids that only look alike:
    /// next to `"123"` come `"0123"`, `"+123"` and `"00123"`, all
    /// different snapshots (the API's ids are strings here).
    pub fn look_alike_ids(mut self, on: bool) -> Self {
        self.look_alike_ids = on;
        self
    }

    /// Gives the first account snapshots names and regions a terminal or a
    /// spreadsheet would act on: ESC sequences, CR, NUL, a right-to-left
    /// override, a line separator, a leading `=`, a forged summary line.
    pub fn hostile_names(mut self, on: bool) -> Self {
        self.hostile_names = on;
        self
    }

    /// Makes every `n` snapshots in a row share one `created_at` (a job
    /// that snapshots several volumes at once): batches whose order the
    /// API does not fix (see [`Faults::unstable_batches`]). Default 1:
    /// no batches.
    pub fn batches(mut self, n: usize) -> Self {
        self.batches = n;
        self
    }

    /// The order both listings are served in. Default
    /// [`Order::Realistic`]: what public evidence shows (a droplet's
    /// listing oldest first; the account's listing its droplet snapshots
    /// oldest first, then its volume snapshots by id as a string).
    /// [`Order::CreatedAt`] is oldest first everywhere.
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// The address to listen on. Default `127.0.0.1:0` (a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The clock of the generated data: their `created_at` values are
    /// drawn from the span that ends at `now` (now excluded, to the
    /// second) instead of the fixed one from 2019-01-01T00:00:00Z to
    /// 2026-11-01T00:00:00Z. The span keeps its length (2,861 days), and
    /// everything else is drawn as without it, so each generated
    /// snapshot is the same one moved by `now - 2026-11-01`: its
    /// `created_at`, the time fields of a volume snapshot's id, and the
    /// time in its name move with it. Without `now` the data do not
    /// depend on any clock, so a seed gives the same data on every day.
    ///
    /// Snapshots chosen with [`with_snapshots`](Self::with_snapshots) or
    /// [`with_droplet_snapshots`](Self::with_droplet_snapshots) keep
    /// their own dates, and snapshots made while serving (drift,
    /// rotation) are stamped with the server's real clock, as before.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use chrono::{TimeZone, Utc};
    /// use digitalocean_sandbox::Sandbox;
    ///
    /// let now = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
    /// let sandbox = Sandbox::builder().now(now).start().await?;
    /// for item in sandbox.snapshots(None) {
    ///     let created_at = item["created_at"].as_str().unwrap_or_default();
    ///     assert!(created_at < "2025-03-01T00:00:00Z");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// A `now` outside the years RFC 3339 can write (0000 to 9999) dates
    /// the data at that edge instead.
    pub fn now(mut self, now: chrono::DateTime<chrono::Utc>) -> Self {
        self.now = Some(now.timestamp());
        self
    }

    /// Adds snapshots of your choosing to the account's listing,
    /// `GET /v2/snapshots`, beside the generated ones (`.snapshots(0)`
    /// to have only yours): to test code such as "delete the snapshots
    /// older than 30 days" against snapshots whose dates you know.
    ///
    /// Each item is an item of that listing: `id` (a string), `name`,
    /// `created_at`, `regions`, `resource_id`, `resource_type`
    /// (`droplet` or `volume`), `min_disk_size`, `size_gigabytes`,
    /// `tags`. Pass anything that serializes to that object, such as an
    /// SDK's own snapshot type or a `serde_json::json!` value. Each is
    /// serialized to JSON once, here, and served exactly as serialized:
    /// nothing is checked against the API's schema, nothing is added or
    /// rewritten (not by [`extra_fields`](Self::extra_fields),
    /// [`unknown_values`](Self::unknown_values),
    /// [`look_alike_ids`](Self::look_alike_ids),
    /// [`hostile_names`](Self::hostile_names),
    /// [`batches`](Self::batches) or [`now`](Self::now)). Faults that
    /// change the listing while it is served (drift, rotation) may delete
    /// them like any other snapshot.
    ///
    /// They are placed where the [`Order`] puts them, like generated
    /// ones, by what the listing reads from them: their `created_at`, as
    /// RFC 3339, and their `id`, as the listing's text; a snapshot whose
    /// `resource_type` is `volume` is a volume snapshot (under
    /// [`Order::Realistic`], listed among the volume snapshots by id),
    /// any other one is listed with the droplet snapshots. Ties go to the
    /// generated snapshots first, then to the chosen ones in the order
    /// given. An item without a readable `created_at` (absent, not a
    /// string, not RFC 3339) is placed as if made at
    /// 1970-01-01T00:00:00Z, before every dated one in an oldest-first
    /// order; one without a readable `id` (neither a string nor an
    /// integer) as if its id were empty, first in id order. Such items
    /// are still served as given. The `resource_type` filter matches
    /// `droplet` and `volume` only: an item with another one, or none, is
    /// listed only when the listing is not filtered.
    ///
    /// Calls add up. [`start`](Self::start) fails when an item could not
    /// be serialized, is not a JSON object, or has the id of another
    /// chosen item (see [`start`](Self::start)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use digitalocean_sandbox::Sandbox;
    /// use serde_json::json;
    ///
    /// let old = json!({
    ///     "id": "6372321", "name": "web-01-old", "created_at": "2020-07-28T16:47:44Z",
    ///     "regions": ["nyc3"], "resource_id": "200776916", "resource_type": "droplet",
    ///     "min_disk_size": 25, "size_gigabytes": 2.34, "tags": ["web"],
    /// });
    /// let sandbox = Sandbox::builder()
    ///     .snapshots(0)
    ///     .with_snapshots([old.clone()])
    ///     .start()
    ///     .await?;
    /// assert_eq!(sandbox.snapshots(None), vec![old]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_snapshots<I, T>(mut self, items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: serde::Serialize,
    {
        self.chosen_snapshots
            .extend(items.into_iter().map(|item| chosen::serialize(&item)));
        self
    }

    /// Adds snapshots and backups of your choosing to the listing of the
    /// droplet `droplet_id`, `GET /v2/droplets/{droplet_id}/snapshots`,
    /// making the droplet when the sandbox has none of that id (with
    /// nothing else in its listing), beside what it has otherwise.
    ///
    /// Each item is an item of that listing: `id` (an integer), `name`,
    /// `created_at`, `regions`, `min_disk_size`, `size_gigabytes`, `type`
    /// (`snapshot` or `backup`). Each is serialized once, here, served in
    /// the droplet's listing exactly as serialized, and placed there by
    /// the [`Order`] as
    /// [`with_snapshots`](Self::with_snapshots) says (a droplet's listing
    /// has no groups and no filter).
    ///
    /// As the API does, the droplet's snapshots (`"type": "snapshot"`)
    /// are also listed in the account's listing, and its backups (any
    /// other `type`, or none) are not. There each is the same image as
    /// the API shows it: `id` as a string (`6372321` becomes
    /// `"6372321"`), `name`, `created_at`, `regions` copied,
    /// `resource_id` the droplet's id as a string, `resource_type`
    /// `droplet`, `min_disk_size`, `size_gigabytes` copied, and `tags`
    /// copied when the item has them, else `[]`; no other field. Fields
    /// the item lacks are left out, not made up.
    ///
    /// Calls add up, for one droplet or several. [`start`](Self::start)
    /// fails when an item could not be serialized, is not a JSON object,
    /// or has the id of another chosen item.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use digitalocean_sandbox::Sandbox;
    /// use serde_json::json;
    ///
    /// let sandbox = Sandbox::builder()
    ///     .with_droplet_snapshots(3164444, [
    ///         json!({"id": 6372321, "name": "web-01", "created_at": "2020-07-28T16:47:44Z",
    ///                "regions": ["nyc3"], "min_disk_size": 25, "size_gigabytes": 2.34,
    ///                "type": "snapshot"}),
    ///         json!({"id": 7938206, "name": "web-01 2021-02-01",
    ///                "created_at": "2021-02-01T04:12:09Z", "regions": [],
    ///                "min_disk_size": 25, "size_gigabytes": 12.07, "type": "backup"}),
    ///     ])
    ///     .start()
    ///     .await?;
    /// assert_eq!(sandbox.droplet_snapshot_ids(3164444), Some(vec![6372321, 7938206]));
    /// assert!(sandbox.snapshot_ids(Some("droplet")).contains(&"6372321".to_owned()));
    /// assert!(!sandbox.snapshot_ids(None).contains(&"7938206".to_owned()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_droplet_snapshots<I, T>(mut self, droplet_id: u64, items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: serde::Serialize,
    {
        let items = items.into_iter().map(|item| chosen::serialize(&item));
        self.chosen_droplet_snapshots
            .push((droplet_id, items.collect()));
        self
    }

    /// Generates the data, binds, and serves in the background on the
    /// current tokio runtime until the returned [`Sandbox`] is dropped or
    /// shut down.
    ///
    /// # Errors
    ///
    /// An error of kind [`InvalidInput`](std::io::ErrorKind::InvalidInput),
    /// before anything is bound, whose message names the item (`with_snapshots
    /// item 3`, `with_droplet_snapshots(3164444) item 0`: counted from 0
    /// over every call for the same listing), when a snapshot chosen with
    /// [`with_snapshots`](Self::with_snapshots) or
    /// [`with_droplet_snapshots`](Self::with_droplet_snapshots) could not
    /// be serialized, is not a JSON object, or has the id of another
    /// chosen one. Ids are compared as the listing's text (`123` and
    /// `"123"` are one id): the account's chosen snapshots among
    /// themselves and with the droplets' chosen snapshots listed beside
    /// them, and the droplets' chosen snapshots and backups across every
    /// droplet (image ids are global). Items without an id never clash;
    /// chosen ids are not compared with generated ones (which are seeded
    /// and of seven digits or more, or UUIDs).
    ///
    /// Otherwise, any error binding the address.
    pub async fn start(self) -> std::io::Result<Sandbox> {
        let chosen = chosen::check(&self.chosen_snapshots, &self.chosen_droplet_snapshots)?;
        let dataset = Dataset::generate(DataConfig {
            seed: self.seed,
            snapshots: self.snapshots,
            droplets: self.droplets.clone(),
            unknown_values: self.unknown_values,
            extra_fields: self.extra_fields,
            look_alike_ids: self.look_alike_ids,
            hostile_names: self.hostile_names,
            batch: self.batches,
            order: self.order,
            now: self.now,
            chosen,
        });
        let holes = self.faults.holes.clone();
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            seed: self.seed,
            token: self.token,
            faults: self.faults,
            data: RwLock::new(dataset),
            stats: StatsInner::default(),
            budgets: Budgets::new(self.rate_limits),
            holes: Mutex::new(holes),
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::serve(listener, Arc::clone(&shared), stopped));
        Ok(Sandbox {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running fake server. Dropping it stops the server.
#[derive(Debug)]
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// One request as the sandbox saw it (never with its token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The sequence number, from 1.
    pub seq: u64,
    /// The path, e.g. `/v2/snapshots`.
    pub path: String,
    /// The raw query string, e.g. `page=2&per_page=200`.
    pub query: String,
    /// Whether an `Authorization: Bearer` header was present.
    pub authorized: bool,
    /// The status it was answered with.
    pub status: u16,
}

impl RecordedRequest {
    /// The value of one query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// Counters for assertions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received.
    pub requests: u64,
    /// Requests answered, by status.
    pub by_status: BTreeMap<u16, u64>,
    /// The most requests in flight at once (latency included; requests
    /// turned away by [`Faults::in_flight_limit`] do not count, so this
    /// never exceeds it).
    pub max_in_flight: usize,
}

impl Stats {
    /// Requests answered with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

impl Sandbox {
    /// A builder with the defaults: seed 1, 100 snapshots, token
    /// [`DEFAULT_TOKEN`], DigitalOcean's rate limits, the
    /// [`Order::Realistic`] order, no faults.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The base URL to give a client, e.g. `http://127.0.0.1:43121`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token it requires, or `None` when any bearer token is accepted.
    pub fn token(&self) -> Option<&str> {
        self.shared.token.as_deref()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let stats = &self.shared.stats;
        Stats {
            requests: stats.requests.load(Ordering::SeqCst),
            by_status: sync::lock(&stats.by_status).clone(),
            max_in_flight: stats.max_in_flight.load(Ordering::SeqCst),
        }
    }

    /// The requests received so far, oldest first (the first 100,000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        sync::lock(&self.shared.stats.log).clone()
    }

    /// Resets the counters, the request log and the rate-limit budgets.
    pub fn reset_stats(&self) {
        let stats = &self.shared.stats;
        stats.requests.store(0, Ordering::SeqCst);
        stats.max_in_flight.store(0, Ordering::SeqCst);
        sync::lock(&stats.by_status).clear();
        sync::lock(&stats.log).clear();
        self.shared.budgets.clear();
    }

    /// The ids of the account's snapshots (`GET /v2/snapshots`) as they
    /// stand, in the order a query now serves them (before
    /// [`Faults::unstable_batches`] reorders a batch; late snapshots not
    /// listed yet are not in it); `Some("droplet")` or `Some("volume")`
    /// filters like `resource_type`. A chosen snapshot whose id is
    /// neither a string nor an integer is given as `""`.
    pub fn snapshot_ids(&self, resource_type: Option<&str>) -> Vec<String> {
        let data = sync::read(&self.shared.data);
        let wanted = resource_type.map(ResourceType::parse);
        data.snapshots
            .iter()
            .filter(|item| wanted.is_none_or(|w| w == Some(item.resource_type)))
            .map(|item| item.id.clone())
            .collect()
    }

    /// The ids of one droplet's snapshots and backups, in the order a
    /// query now serves them; `None` for a droplet the sandbox does not
    /// have. A chosen item whose id is not a non-negative integer is
    /// left out (see [`droplet_snapshots`](Self::droplet_snapshots)).
    pub fn droplet_snapshot_ids(&self, droplet_id: u64) -> Option<Vec<u64>> {
        let data = sync::read(&self.shared.data);
        let items = data.droplets.get(&droplet_id)?;
        Some(items.iter().filter_map(|i| i.id.parse().ok()).collect())
    }

    /// The account's snapshots (`GET /v2/snapshots`) whole, as they stand:
    /// each item as a query now serves it, in the order a query now serves
    /// them (with the caveats of [`snapshot_ids`](Self::snapshot_ids)),
    /// generated and chosen alike; `Some("droplet")` or `Some("volume")`
    /// filters like `resource_type`. Reading every page of the listing
    /// (and no fault changing it meanwhile) gives exactly these.
    pub fn snapshots(&self, resource_type: Option<&str>) -> Vec<serde_json::Value> {
        let data = sync::read(&self.shared.data);
        let wanted = resource_type.map(ResourceType::parse);
        data.snapshots
            .iter()
            .filter(|item| wanted.is_none_or(|w| w == Some(item.resource_type)))
            .map(|item| item.value())
            .collect()
    }

    /// One droplet's snapshots and backups whole, each as a query now
    /// serves it, in the order a query now serves them; `None` for a
    /// droplet the sandbox does not have. Reading every page of the
    /// droplet's listing gives exactly these.
    pub fn droplet_snapshots(&self, droplet_id: u64) -> Option<Vec<serde_json::Value>> {
        let data = sync::read(&self.shared.data);
        let items = data.droplets.get(&droplet_id)?;
        Some(items.iter().map(data::Item::value).collect())
    }

    /// The droplets the sandbox has, by id.
    pub fn droplet_ids(&self) -> Vec<u64> {
        sync::read(&self.shared.data)
            .droplets
            .keys()
            .copied()
            .collect()
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // Nobody can await here; the graceful stop above ends the task
            // once requests in flight are answered.
            drop(task);
        }
    }
}
