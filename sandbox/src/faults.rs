//! The faults a sandbox can inject: latency, error answers, rate-limit
//! trouble, a listing that changes or lies, hostile bodies.

use std::time::Duration;

/// Faults to inject. Each is off by default; random ones are drawn from
/// the seed and the request's sequence number, so the same sequence of
/// requests meets the same faults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Fixed latency added to every answer.
    pub latency: Duration,
    /// A gateway in front of the service that lets at most this many
    /// requests be served at once: a request that arrives while this
    /// many are being served is answered at once (no latency) with `429`,
    /// `Retry-After: 1` and the error body
    /// `{"id": "too_many_requests", "message": …, "request_id": …}`,
    /// before its token is checked and without touching any rate-limit
    /// budget (it carries no `ratelimit-*` headers: the gateway does not
    /// know them). It is counted in [`Stats`](crate::Stats) and the
    /// request log like any answer. A request holds its slot from its
    /// arrival, through its latency, until its answer is handed to the
    /// connection (a body still streaming, as with `endless_body` or
    /// `stall_body_after`, no longer holds one). `Some(0)` turns every
    /// request away; `None` (the default): no gateway.
    pub in_flight_limit: Option<usize>,
    /// Extra latency, uniform in `0..=jitter`, added to every answer.
    pub jitter: Duration,
    /// Fraction of requests answered `500` with a JSON error body.
    pub error_500: f64,
    /// Fraction answered `502` with an HTML page, as a gateway would.
    pub error_502: f64,
    /// Fraction answered `503` with an empty body.
    pub error_503: f64,
    /// Fraction of `200` answers whose body is cut off mid-way (the
    /// connection is aborted after half the body).
    pub truncated: f64,
    /// Every k-th request is answered `429` with `retry-after`.
    pub every_kth_429: Option<u64>,
    /// The `retry-after` seconds sent with those 429s. Default 1 when 0.
    pub retry_after_secs: u64,
    /// Every k-th request is answered `503` with an empty body, as a load
    /// balancer in front of an upstream that is restarting.
    pub every_kth_503: Option<u64>,
    /// The `Retry-After` those 503s carry, verbatim (`"5"`, an HTTP-date,
    /// or something unreadable); none when unset.
    pub retry_after_503: Option<String>,
    /// Every `500` (from `error_500`, or every k-th request with
    /// `every_kth_500`) carries a `message` of this many characters over
    /// many lines: a stack trace.
    pub long_500_message: Option<usize>,
    /// Every k-th request is answered `500`.
    pub every_kth_500: Option<u64>,
    /// The token is revoked after this many requests: every later one is
    /// answered `401`.
    pub revoke_token_after: Option<u64>,
    /// Every droplet is destroyed after this many requests: every later
    /// request for a droplet's listing is answered `404`.
    pub droplets_gone_after: Option<u64>,
    /// The account's listing ignores `resource_type`: every snapshot is
    /// listed whatever the filter asks (a proxy or a server that dropped
    /// the parameter).
    pub ignore_resource_type: bool,
    /// Snapshots of either listing that share a `created_at` (see
    /// [`SandboxBuilder::batches`](crate::SandboxBuilder::batches)) and
    /// sit side by side are served in a different order on each query, as
    /// the API may (their order is not specified). They sit side by side
    /// when the listing is by `created_at`: everywhere under
    /// [`Order::CreatedAt`](crate::Order::CreatedAt), the droplet
    /// snapshots under [`Order::Realistic`](crate::Order::Realistic).
    pub unstable_batches: bool,
    /// Drift: after each page served from the account's listing, this
    /// many new snapshots (stamped with the server's clock) are inserted
    /// where `drift_insert_at` says, whatever the [`Order`](crate::Order):
    /// anywhere but where the order puts them breaks it (under
    /// [`Order::CreatedAt`](crate::Order::CreatedAt), anywhere but the
    /// tail) ...
    pub drift_insert: usize,
    /// ... and this many are deleted (where `drift_delete_at` says).
    pub drift_delete: usize,
    /// Where drift inserts. Default: the head (as if the listing were
    /// newest first).
    pub drift_insert_at: Position,
    /// Where drift deletes. Default: anywhere at random.
    pub drift_delete_at: Position,
    /// Rotation: after each page served from either listing, this many
    /// snapshots are made (stamped with the server's clock, listed where
    /// the [`Order`](crate::Order) puts them: last when oldest first) and
    /// as many deleted (where `rotate_delete_at` says), in the
    /// account's listing and, after a droplet's page, in that droplet's:
    /// a retention job, so no `meta.total` moves.
    pub rotate: usize,
    /// Where rotation deletes. Default: the head (the oldest, as
    /// retention does, when the listing is oldest first; under
    /// [`Order::Realistic`](crate::Order::Realistic), the account's oldest
    /// droplet snapshot).
    pub rotate_delete_at: Position,
    /// Drift and rotation happen after every k-th page served (of either
    /// listing) only: a retention job that runs now and then rather than
    /// between any two reads. 0 or 1: after every page.
    pub changes_every: u64,
    /// Drift and rotation stop once this many pages have been served: a
    /// burst of changes, then quiet. `None`: they never stop.
    pub changes_stop_after: Option<u64>,
    /// Late snapshots: each droplet snapshot (or backup) made by rotation
    /// is dated at the start of its action, a random span from one second
    /// up to this long before it is made. DigitalOcean dates a droplet
    /// snapshot by when its action started, and the action takes minutes
    /// (1 to 3 per GB of used disk; 8.5 in one published example), so a
    /// new snapshot first appears with a `created_at` before snapshots
    /// already listed, and lands where the order puts that date: under
    /// [`Order::CreatedAt`](crate::Order::CreatedAt), before newer
    /// snapshots rather than last. Volume snapshots made by rotation are
    /// stamped when made, as the API does. `None`: off.
    pub late_snapshots: Option<Duration>,
    /// With `late_snapshots`, each late snapshot is listed only once this
    /// many more pages (of either listing) have been served after the one
    /// that made it; 0 lists it at once (already dated before snapshots
    /// listed before it). Its retention job deletes (where
    /// `rotate_delete_at` says) when it is listed, as tools wait for the
    /// action to complete, so no `meta.total` moves meanwhile.
    pub late_pages: u64,
    /// Growing sizes: each volume snapshot made by rotation or drift lists
    /// `size_gigabytes: 0` until this many more pages (of either listing)
    /// have been served after the one that made it, and its real size
    /// after: a volume snapshot exists as soon as it is made, its size is
    /// filled in later. Never compare whole objects to tell whether one
    /// was seen. 0: off.
    pub growing_sizes: u64,
    /// Pages of the account's listing served empty, once each (a hole in
    /// an eventually consistent backend).
    pub holes: Vec<u64>,
    /// The most items a page of the account's listing holds, whatever
    /// `per_page` asks (a server that caps the page size; offsets follow
    /// the cap).
    pub page_cap: Option<u64>,
    /// What `meta.total` of the account's listing says.
    pub total: TotalReport,
    /// Every page of the account's listing is page 1, with a `next` link.
    pub repeat_first_page: bool,
    /// Each page of the account's listing repeats its first k items in
    /// place of its last k.
    pub duplicates_in_page: usize,
    /// The 429s of `every_kth_429` say no requests remain this hour and
    /// the window resets in a minute (while `200`s say thousands remain),
    /// as a server whose rate-limit headers contradict each other.
    pub spent_on_429: bool,
    /// The 429s of `every_kth_429` give `retry-after` as an HTTP-date.
    pub retry_after_as_date: bool,
    /// A proxy in front strips the `ratelimit-*` headers from every
    /// answer that got past the token check (DigitalOcean documents them
    /// on every response; proxies may remove them): its own 429s then
    /// look like a gateway's.
    pub strip_rate_limit_headers: bool,
    /// `200` answers never end: the start of a page, then the same item
    /// over and over, until the client goes away.
    pub endless_body: bool,
    /// `200` answers send this many bytes, then nothing more (the
    /// connection stays open) until the client goes away.
    pub stall_body_after: Option<usize>,
    /// Answers are gzip-compressed when the request accepts gzip.
    pub gzip: bool,
    /// `200` answers are a gzip body that inflates to this many bytes (a
    /// zip bomb), whatever the request accepts.
    pub gzip_bomb: Option<usize>,
    /// When set, every `next` link points at this base URL instead of the
    /// sandbox itself (e.g. `http://127.0.0.1:9999`): a client that follows
    /// links blindly would send its token there.
    pub foreign_next_link: Option<String>,
}

/// Where drift changes the listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Position {
    /// Before every other item.
    #[default]
    Head,
    /// After every other item (where new snapshots land in a listing that
    /// is oldest first).
    Tail,
    /// In the middle.
    Middle,
    /// Anywhere, at random.
    Random,
}

/// What `meta.total` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TotalReport {
    /// The number of items in the listing.
    #[default]
    Truth,
    /// Always this number: any integer upstream allows, negative or
    /// huge included.
    Fixed(i64),
    /// The truth up to this page, half of it on later pages.
    HalvedAfterPage(u64),
    /// The truth up to this page, its negation (minus one) on later pages.
    NegativeAfterPage(u64),
}

impl Faults {
    /// A live account that grows: `n` new snapshots inserted at `at`
    /// after each page served from the account's listing.
    pub fn inserting(n: usize, at: Position) -> Self {
        Self {
            drift_insert: n,
            drift_insert_at: at,
            ..Self::default()
        }
    }

    /// A retention job: after each page served from either listing, `n`
    /// snapshots made (listed where the order puts them) and `n` deleted
    /// at `at`.
    pub fn rotating(n: usize, at: Position) -> Self {
        Self {
            rotate: n,
            rotate_delete_at: at,
            ..Self::default()
        }
    }

    /// A live account that shrinks: `n` snapshots deleted at `at` after
    /// each page served from the account's listing.
    pub fn deleting(n: usize, at: Position) -> Self {
        Self {
            drift_delete: n,
            drift_delete_at: at,
            ..Self::default()
        }
    }
}

impl TotalReport {
    pub(crate) fn report(self, truth: i64, page: u64) -> i64 {
        match self {
            Self::Truth => truth,
            Self::Fixed(total) => total,
            Self::HalvedAfterPage(after) if page > after => truth / 2,
            Self::NegativeAfterPage(after) if page > after => -truth - 1,
            Self::HalvedAfterPage(_) | Self::NegativeAfterPage(_) => truth,
        }
    }
}
