//! The public types of the two listings: their items, a [`Page`], the
//! [`RateLimit`], and what a walk reports ([`Progress`], [`WalkSummary`]).
//!
//! The generated client decodes straight into the item types (see `build.rs`):
//! they stand in for the fragment's `droplet_snapshot`, `snapshot`,
//! `snapshot_type` and `resource_type` schemas.
//!
//! Every struct is `#[non_exhaustive]`, so a field that DigitalOcean adds
//! later can be added here without breaking anyone, and every enum keeps a
//! value it does not know in an `Unknown` variant instead of failing the
//! whole page.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Declares a string enum that survives values the crate does not know yet:
/// known strings become their named variant, anything else is kept verbatim
/// in `Unknown` and serialized back exactly as it came.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know, kept verbatim.
            ///
            /// Build values with [`FromStr`] or [`From<&str>`], which map
            /// known strings to their named variant; matching on the string
            /// inside `Unknown` is fragile, since a later version of the
            /// crate may give it a variant of its own.
            Unknown(String),
        }

        impl $name {
            /// The values this version of the crate knows, as sent on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }

            /// Whether this is one of the values this version of the crate knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Unknown(value),
                }
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;

            /// Never fails: an unknown string becomes `Unknown`. Use
            /// [`Self::is_known`] to reject values in user input.
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        #[cfg(feature = "schemars")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            /// Any string: the known values are listed in the first branch,
            /// the second keeps the type open to values added later.
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "anyOf": [
                        { "type": "string", "enum": [$($wire),+] },
                        { "type": "string" }
                    ]
                })
            }
        }
    };
}

open_enum! {
    /// Whether a droplet image is a snapshot a user took or a backup
    /// DigitalOcean made (the `type` field of a [`DropletSnapshot`]).
    ///
    /// ```
    /// use digitalocean_snapshots::SnapshotType;
    ///
    /// assert_eq!("backup".parse::<SnapshotType>().unwrap(), SnapshotType::Backup);
    /// let new: SnapshotType = "replica".into();
    /// assert_eq!(new, SnapshotType::Unknown("replica".into()));
    /// assert_eq!(new.to_string(), "replica");
    /// ```
    pub enum SnapshotType {
        /// A snapshot taken on request (`"snapshot"`).
        Snapshot => "snapshot",
        /// A backup made automatically (`"backup"`).
        Backup => "backup",
    }
}

open_enum! {
    /// The kind of resource a snapshot was taken from (the `resource_type`
    /// field of a [`Snapshot`], and the filter of the account listing).
    ///
    /// ```
    /// use digitalocean_snapshots::ResourceType;
    ///
    /// assert_eq!("volume".parse::<ResourceType>().unwrap(), ResourceType::Volume);
    /// assert!(!ResourceType::from("kubernetes").is_known());
    /// ```
    pub enum ResourceType {
        /// A droplet (`"droplet"`).
        Droplet => "droplet",
        /// A block storage volume (`"volume"`).
        Volume => "volume",
    }
}

/// A snapshot or backup of one droplet, as listed by
/// `GET /v2/droplets/{droplet_id}/snapshots`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct DropletSnapshot {
    /// The identifier of the snapshot or backup (an integer on this endpoint;
    /// the account listing gives the same snapshot a string id). Signed
    /// 64-bit, as DigitalOcean's description gives it no bound.
    pub id: i64,
    /// A human-readable name.
    pub name: String,
    /// When the snapshot was created.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// Slugs of the regions the snapshot is available in; may be empty.
    pub regions: Vec<String>,
    /// The minimum disk size in GB needed to use the snapshot. Signed, as
    /// DigitalOcean's description gives it no bound (the API sends
    /// non-negative sizes; this crate does not refuse a page that does not).
    pub min_disk_size: i64,
    /// The billable size in gigabytes, with full precision.
    pub size_gigabytes: f64,
    /// Snapshot or backup (the `type` field on the wire).
    #[serde(rename = "type")]
    pub snapshot_type: SnapshotType,
}

/// A snapshot of a droplet or a volume, as listed by `GET /v2/snapshots`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Snapshot {
    /// The identifier of the snapshot: a numeric string for droplet
    /// snapshots, a UUID for volume snapshots.
    pub id: String,
    /// A human-readable name.
    pub name: String,
    /// When the snapshot was created.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// Slugs of the regions the snapshot is available in; may be empty.
    pub regions: Vec<String>,
    /// The identifier of the droplet or volume the snapshot was taken from.
    pub resource_id: String,
    /// Whether the snapshot was taken from a droplet or a volume.
    pub resource_type: ResourceType,
    /// The minimum disk size in GB needed to use the snapshot (signed: see
    /// [`DropletSnapshot::min_disk_size`]).
    pub min_disk_size: i64,
    /// The billable size in gigabytes, with full precision.
    pub size_gigabytes: f64,
    /// The snapshot's tags. `None` when the server sends `null` (a real
    /// answer: no tags), or leaves the field out, as it may for a token
    /// without the `tag:read` scope.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// The setters both item types share: name, regions and sizes.
macro_rules! item_setters {
    () => {
        /// With this name.
        #[must_use]
        pub fn with_name(mut self, name: impl Into<String>) -> Self {
            self.name = name.into();
            self
        }

        /// With these region slugs.
        #[must_use]
        pub fn with_regions(
            mut self,
            regions: impl IntoIterator<Item = impl Into<String>>,
        ) -> Self {
            self.regions = regions.into_iter().map(Into::into).collect();
            self
        }

        /// With this minimum disk size, in GB.
        #[must_use]
        pub fn with_min_disk_size(mut self, gigabytes: i64) -> Self {
            self.min_disk_size = gigabytes;
            self
        }

        /// With this billable size, in gigabytes.
        #[must_use]
        pub fn with_size_gigabytes(mut self, gigabytes: f64) -> Self {
            self.size_gigabytes = gigabytes;
            self
        }
    };
}

/// Building values for tests: the structs are `#[non_exhaustive]`, so code
/// outside this crate cannot write them as literals. Start from `new` with
/// the fields that have no sensible default, then set the others.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use digitalocean_snapshots::{DropletSnapshot, SnapshotType};
///
/// let backup = DropletSnapshot::new(7, Utc.with_ymd_and_hms(2026, 11, 30, 4, 0, 0).unwrap())
///     .with_name("web-01 2026-11-30")
///     .with_regions(["nyc3"])
///     .with_size_gigabytes(2.36)
///     .with_type(SnapshotType::Backup);
/// assert_eq!(backup.snapshot_type, SnapshotType::Backup);
/// assert_eq!(backup.min_disk_size, 0);
/// ```
impl DropletSnapshot {
    /// A snapshot (`type` `snapshot`) with this id and creation time, an
    /// empty name, no regions, and sizes of 0.
    pub fn new(id: i64, created_at: DateTime<Utc>) -> Self {
        Self {
            id,
            name: String::new(),
            created_at,
            regions: Vec::new(),
            min_disk_size: 0,
            size_gigabytes: 0.0,
            snapshot_type: SnapshotType::Snapshot,
        }
    }

    item_setters!();

    /// A snapshot or a backup.
    #[must_use]
    pub fn with_type(mut self, snapshot_type: SnapshotType) -> Self {
        self.snapshot_type = snapshot_type;
        self
    }
}

/// Building values for tests (see [`DropletSnapshot`]'s).
///
/// ```
/// use chrono::{Duration, Utc};
/// use digitalocean_snapshots::{ResourceType, Snapshot};
///
/// let now = Utc::now();
/// let old = Snapshot::new("6372321", now - Duration::days(40))
///     .with_name("nightly-2026-10-22")
///     .with_resource(ResourceType::Droplet, "3164444")
///     .with_regions(["nyc1", "nyc3"])
///     .with_size_gigabytes(2.34)
///     .with_tags(["env:prod"]);
/// assert_eq!(old.resource_id, "3164444");
/// assert_eq!(old.tags.as_deref(), Some(&["env:prod".to_owned()][..]));
/// ```
impl Snapshot {
    /// A snapshot with this id and creation time, taken from a droplet
    /// whose id is empty, with an empty name, no regions, sizes of 0 and
    /// no `tags` field (`None`).
    pub fn new(id: impl Into<String>, created_at: DateTime<Utc>) -> Self {
        Self {
            id: id.into(),
            name: String::new(),
            created_at,
            regions: Vec::new(),
            resource_id: String::new(),
            resource_type: ResourceType::Droplet,
            min_disk_size: 0,
            size_gigabytes: 0.0,
            tags: None,
        }
    }

    item_setters!();

    /// Taken from this resource: its type and id.
    #[must_use]
    pub fn with_resource(
        mut self,
        resource_type: ResourceType,
        resource_id: impl Into<String>,
    ) -> Self {
        self.resource_type = resource_type;
        self.resource_id = resource_id.into();
        self
    }

    /// With these tags (`Some`, even when empty: the server's `[]`).
    #[must_use]
    pub fn with_tags(mut self, tags: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.tags = Some(tags.into_iter().map(Into::into).collect());
        self
    }
}

/// Writing instants as RFC 3339, the format of `created_at`.
mod rfc3339 {
    use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Utc};
    use serde::Serializer;

    /// UTC (`...Z`) as usual. An instant that DigitalOcean may send with an
    /// offset (`0000-01-01T00:00:00+01:00`) can fall outside the four-digit
    /// years in UTC, where RFC 3339 cannot write it: it is then written
    /// with the offset that brings it back (the same instant), so what
    /// decodes serializes to a valid `date-time` again.
    pub(super) fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let year = time.year();
        if (0..=9999).contains(&year) {
            return serializer.collect_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        let limit = 23 * 3600 + 59 * 60;
        let offset = if year < 0 {
            FixedOffset::east_opt(limit)
        } else {
            FixedOffset::west_opt(limit)
        };
        let text = match offset.map(|o| time.with_timezone(&o)) {
            Some(local) if (0..=9999).contains(&local.year()) => {
                local.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            }
            // Further out than any offset reaches: no RFC 3339 form.
            _ => time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        };
        serializer.collect_str(&text)
    }
}

/// Links to neighbouring pages, as the server sent them (the `links`
/// object of a page).
///
/// Kept as data, for logging a page as the server answered it and for code
/// that passes a page on (it serializes back to the wire's `links`
/// object). They are hints, never instructions: the pagination of this
/// crate builds every request from the client's own base URL, path and
/// parameters, never follows a link (a link may name another host, which
/// must not see the token), and checks nothing against them. To walk
/// pages yourself, use [`Page::next_page`], which reads the count.
///
/// On the wire the links sit under `links.pages`, which DigitalOcean's
/// description allows to be anything (`anyOf` forward links, backward
/// links, or any value): whatever `pages` holds decodes, and a link that
/// is not a string is left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageLinks {
    /// The first page.
    pub first: Option<String>,
    /// The previous page.
    pub prev: Option<String>,
    /// The next page; absent on the last page.
    pub next: Option<String>,
    /// The last page; absent on the last page.
    pub last: Option<String>,
}

impl PageLinks {
    fn links(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("first", &self.first),
            ("prev", &self.prev),
            ("next", &self.next),
            ("last", &self.last),
        ]
    }
}

/// `{"pages": {"first": ..., ...}}`, or `{}` when there is no link.
impl Serialize for PageLinks {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let pages: serde_json::Map<String, serde_json::Value> = self
            .links()
            .into_iter()
            .filter_map(|(name, link)| Some((name.to_owned(), link.clone()?.into())))
            .collect();
        let mut map = serializer.serialize_map(None)?;
        if !pages.is_empty() {
            map.serialize_entry("pages", &pages)?;
        }
        map.end()
    }
}

/// Any `links` object: `pages` may hold anything (see the type's docs).
impl<'de> Deserialize<'de> for PageLinks {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default)]
            pages: serde_json::Value,
        }
        let wire = Wire::deserialize(deserializer)?;
        let link = |name: &str| {
            wire.pages
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        Ok(Self {
            first: link("first"),
            prev: link("prev"),
            next: link("next"),
            last: link("last"),
        })
    }
}

/// The rate-limit state the server reported with a response.
///
/// DigitalOcean allows 5,000 requests per hour and 250 per minute per
/// token. Proxies may strip the headers, so every response may lack it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per hour (`ratelimit-limit`).
    pub limit: u64,
    /// Requests left in the current hour (`ratelimit-remaining`).
    pub remaining: u64,
    /// When the hourly window refills (`ratelimit-reset`, Unix seconds).
    pub reset: DateTime<Utc>,
}

impl RateLimit {
    /// A rate-limit state, e.g. to build an
    /// [`Error::rate_limited`](crate::Error::rate_limited) in a test.
    pub fn new(limit: u64, remaining: u64, reset: DateTime<Utc>) -> Self {
        Self {
            limit,
            remaining,
            reset,
        }
    }
}

/// One page of a listing.
///
/// `total` is the server's count of the whole listing (`meta.total`); the
/// listing is live, so it may change between pages.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page, in the server's order. During a walk, items
    /// already yielded by an earlier page are removed.
    pub items: Vec<T>,
    /// The number of items in the whole listing (`meta.total`).
    pub total: u64,
    /// The number of this page, from 1.
    pub page: u64,
    /// The page size this page was asked with (the API's default, 20, when
    /// none was given).
    pub per_page: u64,
    /// The links the server sent. Hints only: see [`PageLinks`].
    pub links: PageLinks,
    /// The rate-limit state reported with this page, when the headers were
    /// present.
    pub rate_limit: Option<RateLimit>,
    /// The server's clock when it answered (the `Date` header, to the
    /// second), when present. Nothing relates it to `created_at`; the
    /// walk does not use it.
    pub date: Option<DateTime<Utc>>,
}

impl<T> Page<T> {
    /// A page holding `items`, page `page` of a listing of `total` items
    /// read `per_page` at a time, with no links, rate limit or date: for
    /// tests of code that takes a page.
    ///
    /// ```
    /// use digitalocean_snapshots::Page;
    ///
    /// let page = Page::new(vec!["a", "b"], 5, 1, 2);
    /// assert_eq!(page.page_count(), 3);
    /// assert_eq!(page.next_page(), Some(2));
    /// ```
    pub fn new(items: Vec<T>, total: u64, page: u64, per_page: u64) -> Self {
        Self {
            items,
            total,
            page,
            per_page,
            links: PageLinks::default(),
            rate_limit: None,
            date: None,
        }
    }

    /// With these links.
    #[must_use]
    pub fn with_links(mut self, links: PageLinks) -> Self {
        self.links = links;
        self
    }

    /// With this rate-limit state.
    #[must_use]
    pub fn with_rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = Some(rate_limit);
        self
    }

    /// With this `Date` header's time.
    #[must_use]
    pub fn with_date(mut self, date: DateTime<Utc>) -> Self {
        self.date = Some(date);
        self
    }

    /// The number of pages of the listing at this page's size, from
    /// `total`: `ceil(total / per_page)`.
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1))
    }

    /// The number of the next page, or `None` when this is the last one by
    /// the count (links are not consulted).
    pub fn next_page(&self) -> Option<u64> {
        (self.page < self.page_count()).then(|| self.page + 1)
    }

    /// Whether no page follows this one by the count.
    pub fn is_last(&self) -> bool {
        self.next_page().is_none()
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// What a walk reports as it goes, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
///
/// A walk reads a longer listing more than once (see
/// [`WalkSummary::passes`]): each pass reports its pages against its own
/// count, so `pages` never exceeds `page_count` and `items` never exceeds
/// `expected_items`. A progress bar shows `items` of `expected_items`
/// (the second pass mostly confirms, adding few items), or `pages` of
/// `page_count` labelled with the `pass`.
pub struct Progress {
    /// The pass the latest page belongs to: 1 for the first read, 2 and
    /// on for the looks that prove it.
    pub pass: u32,
    /// Pages this pass has read so far, from its first (at most
    /// `page_count`; 0 when the count taken before the pass delivered
    /// snapshots created meanwhile).
    pub pages: u64,
    /// The pages this pass expects to read, as of the latest page (fewer
    /// than the listing has when a limit stops it early).
    pub page_count: u64,
    /// Items delivered so far, over every pass (after de-duplication and
    /// the limit).
    pub items: u64,
    /// The items this walk expects to deliver, as of the latest page: the
    /// listing's total from the walk's first page on, or the limit when
    /// lower; never less than `items` (a listing that gains snapshots
    /// while it is read delivers them too).
    pub expected_items: u64,
    /// The listing's total as of the latest page (`meta.total`, as the
    /// server sent it).
    pub total: u64,
}

/// How a walk went; read it from [`Pages::summary`](crate::Pages::summary)
/// or [`Items::summary`](crate::Items::summary), during or after the walk,
/// or from [`Error::walk_summary`](crate::Error::walk_summary) when the
/// listing did not add up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalkSummary {
    /// Pages delivered (pages whose items were all delivered before are
    /// read but not delivered).
    pub pages: u64,
    /// Items delivered.
    pub items: u64,
    /// Items the walk's own pass read again after an earlier page had
    /// delivered them (the listing shifted between pages); not delivered
    /// twice.
    pub duplicates: u64,
    /// `meta.total` of the first page.
    pub total_at_start: Option<u64>,
    /// `meta.total` of the latest page.
    pub total_at_end: Option<u64>,
    /// The walk reached the end of the listing (or the limit) without an
    /// error.
    pub complete: bool,
    /// What was delivered can be trusted: every item that existed for the
    /// whole walk was delivered once (always true for a walk with a limit
    /// that reached it, and before the end). False only for a walk that
    /// ended without adding up, under `strict(false)`.
    pub consistent: bool,
    /// The listing changed (or contradicted itself) while it was read:
    /// its totals moved, the walk needed more than one count to prove
    /// it, or snapshots it delivered were deleted meanwhile
    /// ([`vanished`](Self::vanished)).
    pub changed: bool,
    /// Passes over the listing: 1 for a listing that fit its first page
    /// with room to spare, 2 for a longer one that held still, more when
    /// it changed.
    pub passes: u32,
    /// Items first delivered by a later pass (or a count between two):
    /// skipped by an earlier pass because the listing shifted, or created
    /// during the walk.
    pub recovered: u64,
    /// Requests made: pages, counts between passes, and pages cancelled
    /// in flight.
    pub requests: u64,
    /// How the walk proved that it delivered every snapshot that existed
    /// throughout; `None` while it runs, for a walk stopped by its limit,
    /// and for one that did not add up.
    pub proof: Option<ListingProof>,
    /// The page the walk started from: 1, or the page a resumed walk
    /// was given (its proof covers the snapshots from that page on).
    pub first_page: u64,
    /// Snapshots delivered that the walk's last look did not see again:
    /// deleted while the walk read. Every snapshot there when the listing
    /// was counted is seen again after the count, so in a walk of two
    /// passes these are exactly the snapshots deleted before the count;
    /// in a longer one they may also hold a few its last look missed.
    /// They are in what was delivered (they existed when their page was
    /// read); a retention plan refuses a listing with any
    /// ([`retention`](crate::retention)). Counted only for a walk proven
    /// by a count; 0 otherwise.
    pub vanished: u64,
}

/// How a walk proved its listing whole ([`WalkSummary::proof`]); the
/// crate's documentation gives the argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListingProof {
    /// The listing's first page was shorter than the page size and its
    /// own total said it held the whole listing: one request.
    OnePage,
    /// After pass `after_pass`, a request alone counted `counted`
    /// snapshots, and every one of them was seen both before that count
    /// and after it: every snapshot that existed when it was counted was
    /// delivered. (A walk resumed from a later page is asked only for the
    /// snapshots from its start page on: those on the pages before it are
    /// in `counted` but were not read.)
    #[non_exhaustive]
    Counted {
        /// The count the proof met.
        counted: u64,
        /// The pass the count followed.
        after_pass: u32,
    },
}
