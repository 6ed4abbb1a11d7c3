//! Requests for the two listings: one [`Page`] at a time, or a walk over
//! every page as a stream.
//!
//! [`Client::list_droplet_snapshots`] and [`Client::list_snapshots`] return
//! a [`List`] request. [`List::send`] fetches one page; [`List::pages`],
//! [`List::items`] and [`List::collect_all`] walk the whole listing:
//!
//! - the number of pages comes from `meta.total` and `per_page`, an empty
//!   page ends the walk, and a ceiling on pages makes an endless walk
//!   impossible whatever the server says;
//! - every request is built from the client's own base URL, path and
//!   parameters: the server's links are never followed;
//! - once the first page gives the total, the next pages are fetched
//!   concurrently (8 at a time by default) and yielded strictly in order,
//!   never more than the window ahead; dropping the stream aborts the
//!   requests in flight;
//! - the listing is live, so items are de-duplicated by id across pages,
//!   and a [`WalkSummary`] says whether the count added up;
//! - an error ends the stream after the pages before it were delivered
//!   whole, and says which page to resume from ([`Error::resume_page`]).

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::stream::{self, FuturesOrdered, Stream, StreamExt, TryStreamExt};
use tracing::Instrument;

use crate::client::{Call, Client, DEFAULT_PER_PAGE, MAX_PER_PAGE};
use crate::error::{Error, Result};
use crate::generated::types;
use crate::model::{DropletSnapshot, PageLinks, RateLimit, ResourceType, Snapshot};
use crate::retry::RetryPolicy;

/// Pages fetched at once by default during a walk.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most pages a walk may fetch at once.
pub const MAX_CONCURRENCY: usize = 64;

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
}

impl<T> Page<T> {
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

fn page_from<T>(
    items: Vec<T>,
    meta: types::Meta,
    links: Option<types::PageLinks>,
    rate_limit: Option<RateLimit>,
    page: Option<u64>,
    per_page: Option<u64>,
) -> Page<T> {
    let pages = links.and_then(|l| l.pages).unwrap_or_default();
    Page {
        items,
        total: meta.total,
        page: page.unwrap_or(1),
        per_page: per_page.unwrap_or(DEFAULT_PER_PAGE),
        links: PageLinks {
            first: pages.first,
            prev: pages.prev,
            next: pages.next,
            last: pages.last,
        },
        rate_limit,
    }
}

mod sealed {
    pub trait Sealed {}
}

/// One of the two listings; implemented by [`DropletSnapshotsEndpoint`]
/// and [`AccountSnapshotsEndpoint`] only.
pub trait Endpoint: sealed::Sealed + Clone + fmt::Debug + Send + Sync + 'static {
    /// The item the listing holds.
    type Item: Send + 'static;

    /// Fetches one page.
    #[doc(hidden)]
    fn fetch(
        &self,
        client: &Client,
        page: Option<u64>,
        per_page: Option<u64>,
        policy: Option<RetryPolicy>,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Result<Page<Self::Item>>> + Send;

    /// A key that is equal for two items exactly when their ids are.
    #[doc(hidden)]
    fn key(item: &Self::Item) -> u128;
}

/// The snapshots and backups of one droplet.
#[derive(Clone, Debug)]
pub struct DropletSnapshotsEndpoint {
    droplet_id: u64,
}

/// The snapshots of the account, optionally of one resource type.
#[derive(Clone, Debug)]
pub struct AccountSnapshotsEndpoint {
    resource_type: Option<ResourceType>,
}

impl sealed::Sealed for DropletSnapshotsEndpoint {}
impl sealed::Sealed for AccountSnapshotsEndpoint {}

impl Endpoint for DropletSnapshotsEndpoint {
    type Item = DropletSnapshot;

    async fn fetch(
        &self,
        client: &Client,
        page: Option<u64>,
        per_page: Option<u64>,
        policy: Option<RetryPolicy>,
        deadline: Option<Instant>,
    ) -> Result<Page<DropletSnapshot>> {
        let call = Call { policy, deadline };
        let (body, rate_limit) = client
            .droplet_snapshots_page(self.droplet_id, page, per_page, &call)
            .await?;
        Ok(page_from(
            body.snapshots,
            body.meta,
            body.links,
            rate_limit,
            page,
            per_page,
        ))
    }

    fn key(item: &DropletSnapshot) -> u128 {
        u128::from(item.id)
    }
}

impl Endpoint for AccountSnapshotsEndpoint {
    type Item = Snapshot;

    async fn fetch(
        &self,
        client: &Client,
        page: Option<u64>,
        per_page: Option<u64>,
        policy: Option<RetryPolicy>,
        deadline: Option<Instant>,
    ) -> Result<Page<Snapshot>> {
        let call = Call { policy, deadline };
        let (body, rate_limit) = client
            .snapshots_page(page, per_page, self.resource_type.as_ref(), &call)
            .await?;
        Ok(page_from(
            body.snapshots,
            body.meta,
            body.links,
            rate_limit,
            page,
            per_page,
        ))
    }

    fn key(item: &Snapshot) -> u128 {
        string_key(&item.id)
    }
}

/// Exact keys for the two id forms the API uses, a hash for anything else:
/// numeric ids map to themselves (below 2^64); UUIDs to their 128 bits (at
/// or above 2^76, as the version nibble of a UUID is never 0); any other id
/// to a 127-bit hash with the top bit set.
fn string_key(id: &str) -> u128 {
    if let Ok(n) = id.parse::<u64>() {
        return u128::from(n);
    }
    if let Some(uuid) = uuid_bits(id).filter(|bits| *bits >= 1 << 76) {
        return uuid;
    }
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        id.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(1)) << 64 | u128::from(half(2))) | 1 << 127
}

/// The 128 bits of a hyphenated UUID (`8-4-4-4-12` hex digits).
fn uuid_bits(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut bits = 0u128;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let digit = (b as char).to_digit(16)?;
        bits = bits << 4 | u128::from(digit);
    }
    Some(bits)
}

/// What a walk reports as it goes, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Pages delivered so far.
    pub pages: u64,
    /// Items delivered so far (after de-duplication and the limit).
    pub items: u64,
    /// The listing's total as of the latest page.
    pub total: u64,
    /// The pages this walk expects to fetch, as of the latest page (fewer
    /// than the listing has when a limit stops it early).
    pub page_count: u64,
}

/// How a walk went; read it from [`Pages::summary`] or
/// [`Items::summary`], during or after the walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalkSummary {
    /// Pages delivered.
    pub pages: u64,
    /// Items delivered.
    pub items: u64,
    /// Items dropped because an earlier page had already delivered them
    /// (the listing shifted between pages).
    pub duplicates: u64,
    /// `meta.total` of the first page.
    pub total_at_start: Option<u64>,
    /// `meta.total` of the latest page.
    pub total_at_end: Option<u64>,
    /// The walk reached the end of the listing (or the limit) without an
    /// error.
    pub complete: bool,
    /// The items delivered match the latest total (always true for a walk
    /// with a limit, or before completion).
    pub consistent: bool,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Walk settings shared by both listings.
#[derive(Clone)]
struct Walk {
    page: Option<u64>,
    per_page: Option<u64>,
    concurrency: usize,
    limit: Option<u64>,
    max_pages: Option<u64>,
    strict: bool,
    dedup: bool,
    progress: Option<ProgressFn>,
    policy: Option<RetryPolicy>,
    deadline: Option<Duration>,
}

impl Default for Walk {
    fn default() -> Self {
        Self {
            page: None,
            per_page: None,
            concurrency: DEFAULT_CONCURRENCY,
            limit: None,
            max_pages: None,
            strict: false,
            dedup: true,
            progress: None,
            policy: None,
            deadline: None,
        }
    }
}

impl fmt::Debug for Walk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walk")
            .field("page", &self.page)
            .field("per_page", &self.per_page)
            .field("concurrency", &self.concurrency)
            .field("limit", &self.limit)
            .field("max_pages", &self.max_pages)
            .field("strict", &self.strict)
            .field("dedup", &self.dedup)
            .field("progress", &self.progress.is_some())
            .field("policy", &self.policy)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// A request for a listing: one page with [`send`](Self::send), or all of
/// it with [`pages`](Self::pages), [`items`](Self::items) or
/// [`collect_all`](Self::collect_all).
///
/// Built by [`Client::list_droplet_snapshots`] ([`ListDropletSnapshots`])
/// and [`Client::list_snapshots`] ([`ListSnapshots`]). Cheap to clone.
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is sent or walked"]
pub struct List<E> {
    client: Client,
    endpoint: E,
    walk: Walk,
}

/// The request of [`Client::list_droplet_snapshots`].
pub type ListDropletSnapshots = List<DropletSnapshotsEndpoint>;
/// The request of [`Client::list_snapshots`].
pub type ListSnapshots = List<AccountSnapshotsEndpoint>;

impl Client {
    /// The snapshots and backups of one droplet
    /// (`GET /v2/droplets/{droplet_id}/snapshots`, scope `droplet:read`).
    ///
    /// ```no_run
    /// # async fn run(client: digitalocean_snapshots::Client) -> digitalocean_snapshots::Result<()> {
    /// let snapshots = client.list_droplet_snapshots(3164444).collect_all().await?;
    /// for snapshot in &snapshots {
    ///     println!("{} {} {:.2} GB", snapshot.kind, snapshot.name, snapshot.size_gigabytes);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_droplet_snapshots(&self, droplet_id: u64) -> ListDropletSnapshots {
        List {
            client: self.clone(),
            endpoint: DropletSnapshotsEndpoint { droplet_id },
            walk: Walk::default(),
        }
    }

    /// Every snapshot of the account (`GET /v2/snapshots`, scope
    /// `snapshot:read`; tags need `tag:read`).
    ///
    /// ```no_run
    /// # async fn run(client: digitalocean_snapshots::Client) -> digitalocean_snapshots::Result<()> {
    /// use digitalocean_snapshots::ResourceType;
    /// use futures_util::TryStreamExt;
    ///
    /// let mut items = client.list_snapshots().resource_type(ResourceType::Volume).items();
    /// while let Some(snapshot) = items.try_next().await? {
    ///     println!("{} {:.2} GB", snapshot.name, snapshot.size_gigabytes);
    /// }
    /// println!("{:?}", items.summary());
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_snapshots(&self) -> ListSnapshots {
        List {
            client: self.clone(),
            endpoint: AccountSnapshotsEndpoint {
                resource_type: None,
            },
            walk: Walk::default(),
        }
    }
}

impl ListSnapshots {
    /// Lists only the snapshots of droplets or of volumes.
    pub fn resource_type(mut self, resource_type: ResourceType) -> Self {
        self.endpoint.resource_type = Some(resource_type);
        self
    }
}

impl<E: Endpoint> List<E> {
    /// The page to fetch with [`send`](Self::send), or the page a walk
    /// starts from (to resume one, see [`Error::resume_page`]). Default 1.
    pub fn page(mut self, page: u64) -> Self {
        self.walk.page = Some(page);
        self
    }

    /// Items per page, 1 to 200. Default: for [`send`](Self::send) the
    /// API's (20); for a walk 200, the fewest requests.
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.walk.per_page = Some(per_page);
        self
    }

    /// Pages a walk fetches at once, 1 (one after the other) to 64.
    /// Default 8. Pages are yielded in order whatever the setting.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.walk.concurrency = pages;
        self
    }

    /// Stops a walk after `n` items, asking for no more than needed: unless
    /// a page size was chosen, pages are `min(n, 200)` items.
    pub fn limit(mut self, n: u64) -> Self {
        self.walk.limit = Some(n);
        self
    }

    /// The most pages a walk may fetch. Default: twice the page count of
    /// the first page's total, plus 10. A listing that keeps growing past
    /// it ends the walk with an [`ErrorKind::Inconsistent`] error.
    ///
    /// [`ErrorKind::Inconsistent`]: crate::ErrorKind::Inconsistent
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.walk.max_pages = Some(pages);
        self
    }

    /// In strict mode, a walk whose item count does not match the
    /// listing's latest `meta.total` ends with an
    /// [`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent) error
    /// instead of a warning in the log and `consistent: false` in the
    /// summary. Off by default: a live listing can shift while it is read.
    pub fn strict(mut self, strict: bool) -> Self {
        self.walk.strict = strict;
        self
    }

    /// Whether a walk drops items an earlier page already delivered (on by
    /// default). The ids seen are kept as 16-byte keys: about 2 MB per
    /// 100,000 items.
    pub fn dedup(mut self, dedup: bool) -> Self {
        self.walk.dedup = dedup;
        self
    }

    /// Calls `progress` after each page a walk delivers, e.g. to draw a
    /// progress bar.
    pub fn on_progress(mut self, progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.walk.progress = Some(Arc::new(progress));
        self
    }

    /// The retry policy of this request's calls, instead of the client's.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.walk.policy = Some(policy);
        self
    }

    /// A deadline for the whole request: for [`send`](Self::send) the one
    /// call, for a walk every page of it, waits and retries included. No
    /// retry starts that cannot finish before it; a request still running
    /// at the deadline is abandoned with a timeout error
    /// ([`Error::is_deadline`]).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.walk.deadline = Some(deadline);
        self
    }

    /// Fetches one page: [`page`](Self::page) (default 1) with
    /// [`per_page`](Self::per_page) items (default the API's, 20).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before
    /// anything is sent, when the droplet id or `page` is 0, `per_page` is
    /// outside 1..=200 or the resource type is not one the API knows;
    /// otherwise what the request met: an API error (a missing droplet is
    /// [`is_not_found`](crate::Error::is_not_found)), a decode error, a
    /// transport error.
    pub async fn send(self) -> Result<Page<E::Item>> {
        let deadline = self.walk.deadline.map(|d| self.client.timer().now() + d);
        self.endpoint
            .fetch(
                &self.client,
                self.walk.page,
                self.walk.per_page,
                self.walk.policy,
                deadline,
            )
            .await
    }

    /// Walks every page, lazily: nothing is sent until the stream is
    /// polled. Needs a tokio runtime (pages are fetched on tasks that the
    /// stream aborts when dropped).
    pub fn pages(self) -> Pages<E::Item> {
        let summary = Arc::new(Mutex::new(WalkSummary::default()));
        let state = WalkState::new(self, Arc::clone(&summary));
        let inner = stream::unfold(state, |mut state| async move {
            let next = state.next().await?;
            Some((next, state))
        });
        Pages {
            inner: Box::pin(inner),
            summary,
        }
    }

    /// Walks every item, page after page; see [`pages`](Self::pages).
    pub fn items(self) -> Items<E::Item> {
        let pages = self.pages();
        let summary = Arc::clone(&pages.summary);
        let inner = pages.flat_map(|page| match page {
            Ok(page) => stream::iter(page.items.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::once(std::future::ready(Err(e))).right_stream(),
        });
        Items {
            inner: Box::pin(inner),
            summary,
        }
    }

    /// Every item of the listing in one `Vec`.
    ///
    /// # Errors
    ///
    /// The first error of the walk: never a partial listing passed off as
    /// complete. The error says how many items had been delivered and the
    /// page to resume from.
    pub async fn collect_all(self) -> Result<Vec<E::Item>> {
        self.items().try_collect().await
    }
}

/// A stream of the pages of a listing; see [`List::pages`].
#[must_use = "streams do nothing unless polled"]
pub struct Pages<T> {
    inner: Pin<Box<dyn Stream<Item = Result<Page<T>>> + Send>>,
    summary: Arc<Mutex<WalkSummary>>,
}

/// A stream of the items of a listing; see [`List::items`].
#[must_use = "streams do nothing unless polled"]
pub struct Items<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T>> + Send>>,
    summary: Arc<Mutex<WalkSummary>>,
}

fn read_summary(summary: &Mutex<WalkSummary>) -> WalkSummary {
    match summary.lock() {
        Ok(s) => *s,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

impl<T> Pages<T> {
    /// How the walk has gone so far.
    pub fn summary(&self) -> WalkSummary {
        read_summary(&self.summary)
    }
}

impl<T> Items<T> {
    /// How the walk has gone so far.
    pub fn summary(&self) -> WalkSummary {
        read_summary(&self.summary)
    }
}

impl<T> Stream for Pages<T> {
    type Item = Result<Page<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> Stream for Items<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("summary", &self.summary())
            .finish()
    }
}

impl<T> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("summary", &self.summary())
            .finish()
    }
}

/// A page fetch, in flight. Prefetched pages run on tasks of their own, so
/// they progress (and decode on another core) while the consumer is busy;
/// a walk with no prefetch polls its one fetch in place. Either way, the
/// request is cancelled when this is dropped, so dropping the stream
/// cancels everything in flight.
struct Fetch<T> {
    page: u64,
    work: Work<T>,
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>>> + Send>>;

enum Work<T> {
    Task(tokio::task::JoinHandle<Result<Page<T>>>),
    Inline(PageFuture<T>),
}

impl<T> Future for Fetch<T> {
    type Output = (u64, Result<Page<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let page = self.page;
        let result = match &mut self.work {
            Work::Inline(future) => std::task::ready!(future.as_mut().poll(cx)),
            Work::Task(task) => std::task::ready!(Pin::new(task).poll(cx)).unwrap_or_else(|e| {
                Err(Error::inconsistent(format!(
                    "the task fetching page {page} failed: {e}"
                )))
            }),
        };
        Poll::Ready((page, result))
    }
}

impl<T> Drop for Fetch<T> {
    fn drop(&mut self) {
        if let Work::Task(task) = &self.work {
            task.abort();
        }
    }
}

struct WalkState<E: Endpoint> {
    client: Client,
    endpoint: E,
    walk: Walk,
    /// The page size every request of the walk asks for.
    per_page: u64,
    start: u64,
    /// The next page to request.
    next_page: u64,
    /// The last page by the latest total; `None` before the first page.
    last_page: Option<u64>,
    /// The last page the limit needs.
    limit_page: Option<u64>,
    ceiling: u64,
    in_flight: FuturesOrdered<Fetch<E::Item>>,
    /// Requests the rate limit allows to start, as of the latest page.
    allowance: u64,
    seen: HashSet<u128>,
    summary: Arc<Mutex<WalkSummary>>,
    local: WalkSummary,
    done: bool,
    /// When the whole walk must be over; set when it starts.
    deadline: Option<Instant>,
}

impl<E: Endpoint> WalkState<E> {
    fn new(list: List<E>, summary: Arc<Mutex<WalkSummary>>) -> Self {
        let walk = list.walk;
        let per_page = walk.per_page.unwrap_or(match walk.limit {
            Some(n) => n.clamp(1, MAX_PER_PAGE),
            None => MAX_PER_PAGE,
        });
        let start = walk.page.unwrap_or(1);
        let limit_page = walk.limit.map(|n| {
            start
                .saturating_add(n.div_ceil(per_page.max(1)))
                .saturating_sub(1)
        });
        Self {
            client: list.client,
            endpoint: list.endpoint,
            per_page,
            start,
            next_page: start,
            last_page: None,
            limit_page,
            ceiling: walk.max_pages.unwrap_or(u64::MAX),
            in_flight: FuturesOrdered::new(),
            allowance: u64::MAX,
            seen: HashSet::new(),
            summary,
            local: WalkSummary {
                consistent: true,
                ..WalkSummary::default()
            },
            done: false,
            deadline: None,
            walk,
        }
    }

    fn publish(&self) {
        match self.summary.lock() {
            Ok(mut s) => *s = self.local,
            Err(poisoned) => *poisoned.into_inner() = self.local,
        }
    }

    /// Ends the walk with `error`, recording where it stood.
    fn fail(&mut self, error: Error, page: u64) -> Option<Result<Page<E::Item>>> {
        self.done = true;
        self.in_flight = FuturesOrdered::new();
        self.publish();
        if error.is_invalid_input() {
            // Nothing was sent: there is nothing to resume.
            return Some(Err(error));
        }
        Some(Err(error.with_walk_position(self.local.items, page)))
    }

    fn spawn(&mut self, page: u64) {
        let client = self.client.clone();
        let endpoint = self.endpoint.clone();
        let per_page = self.per_page;
        let policy = self.walk.policy.clone();
        let deadline = self.deadline;
        let span = tracing::debug_span!("page", page, per_page);
        let future = async move {
            endpoint
                .fetch(&client, Some(page), Some(per_page), policy, deadline)
                .await
        }
        .instrument(span);
        // The first page and a walk without prefetch have nothing to overlap.
        let work = if self.walk.concurrency > 1 && self.last_page.is_some() {
            Work::Task(tokio::spawn(future))
        } else {
            Work::Inline(Box::pin(future))
        };
        self.in_flight.push_back(Fetch { page, work });
    }

    /// Starts as many requests as the window, the listing, the limit, the
    /// ceiling and the rate limit allow.
    fn refill(&mut self) {
        let Some(last) = self.last_page else {
            if self.next_page == self.start && self.in_flight.is_empty() {
                self.spawn(self.start);
                self.next_page += 1;
            }
            return;
        };
        let window = self
            .walk
            .concurrency
            .min(usize::try_from(self.allowance).unwrap_or(usize::MAX))
            .max(1);
        let last = self.limit_page.map_or(last, |l| l.min(last));
        while self.in_flight.len() < window
            && self.next_page <= last
            && self.next_page - self.start < self.ceiling
        {
            self.spawn(self.next_page);
            self.next_page += 1;
            self.allowance = self.allowance.saturating_sub(1);
        }
    }

    async fn next(&mut self) -> Option<Result<Page<E::Item>>> {
        if self.done {
            return None;
        }
        if self.local.pages == 0
            && self.in_flight.is_empty()
            && let Err(e) = self.check()
        {
            self.done = true;
            return Some(Err(e));
        }
        if self.walk.limit == Some(0) {
            return self.finish();
        }
        if self.local.pages == 0 && self.in_flight.is_empty() && self.deadline.is_none() {
            self.deadline = self.walk.deadline.map(|d| self.client.timer().now() + d);
        }
        self.refill();
        let Some((number, result)) = self.in_flight.next().await else {
            return self.finish();
        };
        let mut page = match result {
            Ok(page) => page,
            Err(e) => return self.fail(e, number),
        };
        let first = self.local.total_at_start.is_none();
        if first {
            self.local.total_at_start = Some(page.total);
            let pages = page.total.div_ceil(self.per_page);
            self.ceiling = self
                .walk
                .max_pages
                .unwrap_or(pages.saturating_mul(2).saturating_add(10));
        }
        self.local.total_at_end = Some(page.total);
        let last = page.total.div_ceil(self.per_page).max(self.start);
        if last - self.start >= self.ceiling {
            let error = Error::inconsistent(format!(
                "the listing grew to {} items ({last} pages of {}), past the ceiling of {} pages for this walk",
                page.total, self.per_page, self.ceiling
            ));
            return self.fail(error, number);
        }
        self.last_page = Some(last);
        if let Some(rate) = &page.rate_limit {
            self.allowance = rate.remaining;
        }
        if page.items.is_empty() {
            // An empty page ends the walk; pages after it would be empty too.
            self.in_flight = FuturesOrdered::new();
            if !first {
                return self.finish();
            }
            // The first page is still delivered, for its total and links.
            self.last_page = Some(self.start);
        }
        if self.walk.dedup {
            let before = page.items.len();
            let seen = &mut self.seen;
            page.items.retain(|item| seen.insert(E::key(item)));
            self.local.duplicates += (before - page.items.len()) as u64;
        }
        if let Some(limit) = self.walk.limit {
            let room = limit.saturating_sub(self.local.items);
            page.items
                .truncate(usize::try_from(room).unwrap_or(usize::MAX));
            if self.local.items + page.items.len() as u64 >= limit {
                self.done = true;
                self.in_flight = FuturesOrdered::new();
                self.local.complete = true;
            }
        }
        self.local.pages += 1;
        self.local.items += page.items.len() as u64;
        self.publish();
        tracing::debug!(
            page = number,
            items = page.items.len(),
            total = page.total,
            "page delivered"
        );
        if let Some(progress) = &self.walk.progress {
            progress(&Progress {
                pages: self.local.pages,
                items: self.local.items,
                total: page.total,
                page_count: last.min(self.limit_page.unwrap_or(u64::MAX)) - self.start + 1,
            });
        }
        Some(Ok(page))
    }

    /// Checks the walk's own settings before the first request.
    fn check(&self) -> Result<()> {
        if !(1..=MAX_CONCURRENCY).contains(&self.walk.concurrency) {
            return Err(Error::invalid_input(
                "concurrency",
                format!(
                    "{} is out of range: expected 1..={MAX_CONCURRENCY}",
                    self.walk.concurrency
                ),
            ));
        }
        if self.walk.max_pages == Some(0) {
            return Err(Error::invalid_input(
                "max_pages",
                "0 is out of range: a walk needs at least one page",
            ));
        }
        Ok(())
    }

    /// The end of a walk without an error: check that the count adds up.
    fn finish(&mut self) -> Option<Result<Page<E::Item>>> {
        self.done = true;
        self.local.complete = true;
        if self.walk.limit.is_none()
            && let Some(total) = self.local.total_at_end
        {
            let skipped = (self.start - 1).saturating_mul(self.per_page);
            let expected = total.saturating_sub(skipped);
            if self.local.items != expected {
                self.local.consistent = false;
                let reason = format!(
                    "{} items delivered from page {} on, but the listing's total is now {total} ({expected} expected from that page; {} duplicates dropped; total at start {})",
                    self.local.items,
                    self.start,
                    self.local.duplicates,
                    self.local.total_at_start.unwrap_or(total),
                );
                if self.walk.strict {
                    self.local.complete = false;
                    self.publish();
                    return Some(Err(Error::inconsistent(reason)));
                }
                tracing::warn!("{reason}");
            }
        }
        self.publish();
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_keys_are_exact_for_numbers_and_uuids_and_never_meet() {
        assert_eq!(string_key("6372321"), 6_372_321);
        let uuid = "fbe805e8-866b-11e6-96bf-000f53315a41";
        assert_eq!(string_key(uuid), 0xfbe805e8_866b_11e6_96bf_000f53315a41);
        assert_eq!(string_key(&uuid.to_uppercase()), string_key(uuid));
        assert!(string_key("snap-1") >= 1 << 127);
        assert_ne!(string_key("snap-1"), string_key("snap-2"));
        // Not UUIDs: wrong length, misplaced hyphen, non-hex digit.
        for other in [
            "fbe805e8-866b-11e6-96bf-000f53315a4",
            "fbe805e8866b-11e6-96bf-000f53315a41-",
            "gbe805e8-866b-11e6-96bf-000f53315a41",
        ] {
            assert!(string_key(other) >= 1 << 127, "{other}");
        }
        assert!(
            string_key("00000000-0000-0000-0000-000000000001") >= 1 << 127,
            "a nil-like UUID is hashed"
        );
    }
}
