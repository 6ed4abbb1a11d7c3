//! Requests for the two listings: one [`Page`] at a time, or a walk over
//! every page as a stream.
//!
//! [`Client::list_droplet_snapshots`] and [`Client::list_snapshots`] return
//! a [`List`] request. [`List::send`] fetches one page; [`List::pages`],
//! [`List::items`], [`List::collect_all`] and
//! [`List::collect_with_summary`] walk the whole listing:
//!
//! - the pages of a pass come from `meta.total` and `per_page`: a pass
//!   ends on the page its own total names as the last (a full page where
//!   the total says the listing has ended is read past, a short one before
//!   it is a hole), and a ceiling on requests makes an endless walk
//!   impossible whatever the server says;
//! - a listing that does not fit its first page with room to spare is
//!   read twice, with a count taken alone between the two looks; it is proven whole when every snapshot
//!   counted was seen on both sides of the count, in whatever order the
//!   server lists them ([`WalkSummary::proof`]);
//! - every request is built from the client's own base URL, path and
//!   parameters: the server's links are never followed;
//! - once the first page gives the total, the next pages are fetched
//!   concurrently (an adaptive window, up to 64) and yielded strictly in order,
//!   never more than the window ahead; dropping the stream aborts the
//!   requests in flight;
//! - the listing is live, so items are de-duplicated by id across pages
//!   and passes, and a [`WalkSummary`] says how the walk went;
//! - an error ends the stream after the pages before it were delivered
//!   whole, and says which page to resume from ([`Error::resume_page`]).
//!
//! The engine behind the streams, and the guarantee in full, is in
//! [`walk`](crate::walk).
//!
//! [`Error::resume_page`]: crate::Error::resume_page

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};

use crate::client::{CallOptions, Client};
use crate::endpoints::{DropletSnapshotsEndpoint, Endpoint, PageRequest, SnapshotsEndpoint};
use crate::error::Result;
use crate::model::Page;
use crate::model::{Progress, ResourceType, WalkSummary};
use crate::retry::RetryPolicy;
use crate::walk::{ListOptions, WalkState, read_summary};

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
    options: ListOptions,
}

/// The request of [`Client::list_droplet_snapshots`].
pub type ListDropletSnapshots = List<DropletSnapshotsEndpoint>;
/// The request of [`Client::list_snapshots`].
pub type ListSnapshots = List<SnapshotsEndpoint>;

impl<E: Endpoint> List<E> {
    pub(crate) fn new(client: Client, endpoint: E) -> Self {
        Self {
            client,
            endpoint,
            options: ListOptions::default(),
        }
    }

    pub(crate) fn map_endpoint(mut self, change: impl FnOnce(&mut E)) -> Self {
        change(&mut self.endpoint);
        self
    }

    /// The page to fetch with [`send`](Self::send), or the page a walk
    /// starts from (to resume one, see [`Error::resume_page`](crate::Error::resume_page)). Default 1.
    pub fn page(mut self, page: u64) -> Self {
        self.options.page = Some(page);
        self
    }

    /// Items per page, 1 to 200. Default: for [`send`](Self::send) the
    /// API's (20); for a walk 200, the fewest requests.
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.options.per_page = Some(per_page);
        self
    }

    /// The most pages a walk fetches at once, 1 (one after the other) to
    /// 64. Default 64. Below it the window adapts: after the first page
    /// it asks for as many as the per-minute pace and the hourly budget
    /// allow, halves when an answer meets a 429, a 5xx or a transport
    /// failure or is four times slower than the first, and grows back by
    /// one a clean page. Pages are yielded in order whatever the setting;
    /// no more than this many are in flight or buffered ahead.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.options.concurrency = pages;
        self
    }

    /// Stops a walk after `n` items, asking for no more than needed: unless
    /// a page size was chosen, pages are `min(n, 200)` items.
    pub fn limit(mut self, n: u64) -> Self {
        self.options.limit = Some(n);
        self
    }

    /// The most requests a walk makes, every pass and count included. Default
    /// 5,000 (the API's
    /// hourly budget), whatever the server's total says. A walk that
    /// needs more ends with an [`ErrorKind::Inconsistent`] error.
    ///
    /// [`ErrorKind::Inconsistent`]: crate::ErrorKind::Inconsistent
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.options.max_pages = pages;
        self
    }

    /// The most passes over the listing. Default 6: a listing that fits
    /// its first page with room to spare takes one, any other that holds
    /// still takes two
    /// (with a count between them), one that changed while it was read
    /// takes more. 1 proves only a listing that fits one page: a longer
    /// one ends the walk with an error. At most 100 are made, whatever
    /// this says.
    pub fn max_passes(mut self, passes: u32) -> Self {
        self.options.max_passes = passes;
        self
    }

    /// Whether a walk that does not add up ends with an error (on by
    /// default): the listing kept changing through every pass, or the
    /// server's pages contradicted its own total. With `strict(false)`
    /// such a walk ends without an error, with a warning in the log and
    /// `consistent: false` in the [`WalkSummary`]: check it.
    pub fn strict(mut self, strict: bool) -> Self {
        self.options.strict = strict;
        self
    }

    /// Whether a walk keeps the ids it delivered (on by default), to
    /// deliver each item once and to prove the listing whole by comparing
    /// two looks at it. The ids are kept as exact keys (a number or a UUID
    /// in 4 to 16 bytes and one more byte, other ids whole). Off, items
    /// repeated by a shifting listing are delivered again, and only a
    /// listing that fits one page can be proven: a longer one ends the
    /// walk with an error (or, with `strict(false)`, with everything read
    /// and `consistent: false`).
    pub fn dedup(mut self, dedup: bool) -> Self {
        self.options.dedup = dedup;
        self
    }

    /// Calls `progress` after each page a walk delivers, e.g. to draw a
    /// progress bar.
    pub fn on_progress(mut self, progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.options.progress = Some(Arc::new(progress));
        self
    }

    /// The retry policy of this request's calls, instead of the client's.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.policy = Some(policy);
        self
    }

    /// A deadline for the whole request: for [`send`](Self::send) the one
    /// call, for a walk every page of it, waits and retries included. No
    /// retry starts that cannot finish before it; a request still running
    /// at the deadline is abandoned with a timeout error
    /// ([`Error::is_deadline`](crate::Error::is_deadline)).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.options.deadline = Some(deadline);
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
        let now = self.client.timer().now();
        let deadline = self
            .options
            .deadline
            .and_then(|d| crate::clock::deadline_after(now, d));
        let request = PageRequest {
            page: self.options.page,
            per_page: self.options.per_page,
            call: CallOptions {
                policy: self.options.policy,
                deadline,
            },
        };
        self.endpoint.fetch(&self.client, &request).await
    }

    /// Walks every page, lazily: nothing is sent until the stream is
    /// polled. Needs a tokio runtime (pages are fetched on tasks that the
    /// stream aborts when dropped).
    ///
    /// **The guarantee.** A walk that ends without an error delivered
    /// every item that existed for the whole walk exactly once, plus
    /// possibly items created during it, each once; a page holds only
    /// items no earlier page delivered. It rests only on what DigitalOcean
    /// documents (pages by number, `meta.total`, ids), in whatever order
    /// the server lists: a listing longer than a page is read, counted
    /// with one request alone, and read again at another page size, and
    /// is proven when every snapshot counted was seen on both sides of
    /// the count; a listing that changed is counted and read again, and
    /// what a later look finds is delivered after the rest
    /// ([`WalkSummary::proof`], [`WalkSummary::changed`],
    /// [`WalkSummary::recovered`]). A walk whose counts are never met ends
    /// with an [`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent)
    /// error, never with a short listing; every walk ends within
    /// [`max_pages`](Self::max_pages) requests.
    pub fn pages(self) -> Pages<E::Item> {
        let summary = Arc::new(Mutex::new(WalkSummary::default()));
        let state = WalkState::new(
            self.client,
            self.endpoint,
            self.options,
            Arc::clone(&summary),
        );
        let inner = stream::unfold(state, |mut state| async move {
            let next = state.next().await?;
            Some((next, state))
        });
        Pages {
            inner: Box::pin(inner),
            summary,
        }
    }

    /// Walks every item, page after page, with the guarantee of
    /// [`pages`](Self::pages): each item that existed throughout exactly
    /// once, or an error.
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

    /// Every item of the listing in one `Vec`, with the guarantee of
    /// [`pages`](Self::pages): each item that existed throughout exactly
    /// once.
    ///
    /// # Errors
    ///
    /// The first error of the walk: never a partial listing passed off as
    /// complete. The error says how many items had been delivered and the
    /// page to resume from; an
    /// [`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent) error
    /// carries the walk's [`WalkSummary`]
    /// ([`Error::walk_summary`](crate::Error::walk_summary)).
    pub async fn collect_all(self) -> Result<Vec<E::Item>> {
        self.items().try_collect().await
    }

    /// Every item of the listing in one `Vec`, as
    /// [`collect_all`](Self::collect_all), with the walk's
    /// [`WalkSummary`]: how it was proven ([`WalkSummary::proof`]), how
    /// many requests and passes it took, and, under
    /// [`strict(false)`](Self::strict), whether what it read adds up
    /// ([`WalkSummary::consistent`]: a `false` there is the only sign that
    /// the list may be short).
    ///
    /// ```no_run
    /// # async fn run(client: digitalocean_snapshots::Client) -> digitalocean_snapshots::Result<()> {
    /// let (snapshots, summary) = client.list_snapshots().strict(false).collect_with_summary().await?;
    /// if !summary.consistent {
    ///     eprintln!("warning: the listing changed while it was read; {} snapshots may be short of it", snapshots.len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`collect_all`](Self::collect_all).
    pub async fn collect_with_summary(self) -> Result<(Vec<E::Item>, WalkSummary)> {
        let mut items = self.items();
        let mut all = Vec::new();
        while let Some(item) = items.try_next().await? {
            all.push(item);
        }
        Ok((all, items.summary()))
    }
}

/// The entry points of the two listings: the handle does not know the
/// requests built on it.
impl Client {
    /// The snapshots and backups of one droplet
    /// (`GET /v2/droplets/{droplet_id}/snapshots`, scope `droplet:read`).
    ///
    /// ```no_run
    /// # async fn run(client: digitalocean_snapshots::Client) -> digitalocean_snapshots::Result<()> {
    /// let snapshots = client.list_droplet_snapshots(3164444).collect_all().await?;
    /// for snapshot in &snapshots {
    ///     println!("{} {} {:.2} GB", snapshot.snapshot_type, snapshot.name, snapshot.size_gigabytes);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_droplet_snapshots(&self, droplet_id: u64) -> ListDropletSnapshots {
        List::new(self.clone(), DropletSnapshotsEndpoint::new(droplet_id))
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
        List::new(self.clone(), SnapshotsEndpoint::new())
    }
}

impl ListSnapshots {
    /// Lists only the snapshots of droplets or of volumes.
    pub fn resource_type(self, resource_type: ResourceType) -> Self {
        self.map_endpoint(|endpoint| endpoint.set_resource_type(resource_type))
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
