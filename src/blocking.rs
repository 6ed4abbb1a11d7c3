//! A blocking client, for programs without an async runtime (feature
//! `blocking`).
//!
//! [`Client`] owns a small tokio runtime (two worker threads, named
//! `digitalocean-snapshots`), the way `reqwest::blocking` does: it works
//! from a plain `fn main`, and its walks still fetch pages ahead on that
//! runtime while your code handles the items already delivered. Every
//! option, guarantee and error is the async client's: the builder is the
//! same [`ClientBuilder`](crate::ClientBuilder) (finished with
//! [`build_blocking`](crate::ClientBuilder::build_blocking)), a [`List`]
//! has the same options, and [`Pages`] and [`Items`] are iterators over
//! the same walk (dropping one stops the requests in flight).
//!
//! ```no_run
//! # fn main() -> digitalocean_snapshots::Result<()> {
//! use digitalocean_snapshots::blocking::Client;
//!
//! let client = Client::from_env()?;
//! for snapshot in client.list_snapshots().per_page(200).items() {
//!     let snapshot = snapshot?;
//!     println!("{} {}", snapshot.id, snapshot.name);
//! }
//! # Ok(()) }
//! ```
//!
//! Called from inside an async runtime (where blocking would stall one of
//! its threads), every method returns an
//! [`ErrorKind::Config`](crate::ErrorKind::Config) error instead of
//! blocking: use [`crate::Client`] there. `reqwest::blocking` panics
//! instead; this client's calls already return a `Result` the caller
//! handles, and a misplaced call in one code path should not take a
//! server process down.
//!
//! A blocking client is always built whole, with a connection pool of its
//! own used only from its own runtime: there is no conversion from an
//! async client, whose pooled connections would belong to another
//! runtime and die with it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use crate::endpoints::{DropletSnapshotsEndpoint, Endpoint, SnapshotsEndpoint};
use crate::error::{Error, Result};
use crate::model::{Page, Progress, RateLimit, ResourceType, WalkSummary};
use crate::retry::RetryPolicy;

/// The runtime a blocking client and its walks run on. Shut down without
/// waiting when the last user goes, so dropping a client never blocks
/// (nor panics inside another runtime).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn new() -> Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("digitalocean-snapshots")
            .enable_all()
            .build()
            .map(|rt| Self(Some(rt)))
            .map_err(|e| Error::config(format!("cannot start the blocking client's runtime: {e}")))
    }

    /// Runs `future` to completion on this runtime, from a thread that is
    /// not inside one.
    fn block_on<F: Future>(&self, future: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::config(
                "the blocking client was called from inside an async runtime, where it would \
                 block one of its threads: use digitalocean_snapshots::Client (async) there",
            ));
        }
        match &self.0 {
            Some(runtime) => Ok(runtime.block_on(future)),
            None => Err(Error::config("the blocking client's runtime is gone")),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A blocking client for DigitalOcean's snapshot listings: the async
/// [`Client`](crate::Client) with a runtime of its own. Cheap to clone
/// (clones share the runtime, the connection pool and the rate-limit
/// state). It is always built whole (`build_blocking`, `from_env`,
/// `new`), never made from an async client: its connections live on its
/// own runtime only.
///
/// ```no_run
/// # fn main() -> digitalocean_snapshots::Result<()> {
/// let client = digitalocean_snapshots::blocking::Client::builder()
///     .token("dop_v1_...")
///     .timeout(std::time::Duration::from_secs(20))
///     .build_blocking()?;
/// let backups = client.list_droplet_snapshots(3164444).collect_all()?;
/// println!("{} snapshots and backups", backups.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<Runtime>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The async client's Debug, which redacts the token.
        f.debug_struct("blocking::Client")
            .field("client", &self.inner)
            .finish()
    }
}

impl Client {
    /// The builder of the async client, with every option; finish it with
    /// [`build_blocking`](crate::ClientBuilder::build_blocking).
    ///
    /// ```
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// let client = digitalocean_snapshots::blocking::Client::builder()
    ///     .token("dop_v1_example")
    ///     .retry_policy(digitalocean_snapshots::RetryPolicy::none())
    ///     .build_blocking()?;
    /// assert_eq!(client.base_url(), "https://api.digitalocean.com");
    /// # Ok(()) }
    /// ```
    pub fn builder() -> crate::ClientBuilder {
        crate::ClientBuilder::new()
    }

    /// A client configured from the environment, as
    /// [`crate::Client::from_env`].
    ///
    /// ```no_run
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// // DIGITALOCEAN_ACCESS_TOKEN (or DIGITALOCEAN_TOKEN), DIGITALOCEAN_API_URL
    /// let client = digitalocean_snapshots::blocking::Client::from_env()?;
    /// # let _ = client; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`crate::Client::from_env`], or
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the runtime
    /// cannot start.
    pub fn from_env() -> Result<Self> {
        crate::ClientBuilder::from_env().build_blocking()
    }

    /// A client with this token and every default, as
    /// [`crate::Client::new`].
    ///
    /// ```
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// let client = digitalocean_snapshots::blocking::Client::new("dop_v1_example")?;
    /// assert!(!format!("{client:?}").contains("dop_v1_example"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`crate::Client::new`].
    pub fn new(token: impl Into<String>) -> Result<Self> {
        crate::ClientBuilder::new().token(token).build_blocking()
    }

    /// The snapshots and backups of one droplet, as
    /// [`crate::Client::list_droplet_snapshots`].
    ///
    /// ```no_run
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// # let client = digitalocean_snapshots::blocking::Client::from_env()?;
    /// for snapshot in client.list_droplet_snapshots(3164444).collect_all()? {
    ///     println!("{} {}", snapshot.snapshot_type, snapshot.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_droplet_snapshots(&self, droplet_id: u64) -> ListDropletSnapshots {
        self.list(self.inner.list_droplet_snapshots(droplet_id))
    }

    /// Every snapshot of the account, as [`crate::Client::list_snapshots`].
    ///
    /// ```no_run
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// # let client = digitalocean_snapshots::blocking::Client::from_env()?;
    /// use digitalocean_snapshots::ResourceType;
    /// let volumes = client.list_snapshots().resource_type(ResourceType::Volume).collect_all()?;
    /// println!("{} volume snapshots", volumes.len());
    /// # Ok(()) }
    /// ```
    pub fn list_snapshots(&self) -> ListSnapshots {
        self.list(self.inner.list_snapshots())
    }

    fn list<E>(&self, inner: crate::List<E>) -> List<E> {
        List {
            inner,
            runtime: Arc::clone(&self.runtime),
        }
    }

    /// The freshest rate-limit state the server reported, as
    /// [`crate::Client::rate_limit`].
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate_limit()
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &str {
        self.inner.base_url()
    }
}

impl crate::ClientBuilder {
    /// Builds a [`blocking::Client`](Client) (feature `blocking`): the same
    /// checks as [`build`](Self::build), and a runtime of its own.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build), or
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the runtime
    /// cannot start.
    pub fn build_blocking(self) -> Result<Client> {
        // A client of its own: its connection pool is only ever used from
        // this runtime. (Sharing one pool between two runtimes, as a
        // conversion from an existing async client would, leaves
        // connections whose tasks die with the other runtime.)
        Ok(Client {
            inner: self.build()?,
            runtime: Arc::new(Runtime::new()?),
        })
    }
}

/// The blocking request for one droplet's snapshots and backups, as
/// [`crate::ListDropletSnapshots`] is for the async client.
pub type ListDropletSnapshots = List<DropletSnapshotsEndpoint>;

/// The blocking request for the account's snapshots, as
/// [`crate::ListSnapshots`] is for the async client.
pub type ListSnapshots = List<SnapshotsEndpoint>;

/// A blocking request for a listing: the options of [`crate::List`], then
/// [`send`](Self::send), [`pages`](Self::pages), [`items`](Self::items) or
/// [`collect_all`](Self::collect_all).
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is sent or walked"]
pub struct List<E> {
    inner: crate::List<E>,
    runtime: Arc<Runtime>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Runtime")
    }
}

/// Options passed on to the async request as they are.
macro_rules! options {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty);)*) => {
        $(
            $(#[$doc])*
            pub fn $name(self, $arg: $ty) -> Self {
                Self { inner: self.inner.$name($arg), runtime: self.runtime }
            }
        )*
    };
}

impl<E: Endpoint> List<E> {
    options! {
        /// As [`crate::List::page`].
        page(page: u64);
        /// As [`crate::List::per_page`].
        per_page(per_page: u64);
        /// As [`crate::List::concurrency`]: pages fetched ahead on the
        /// client's runtime while the iterator's consumer works.
        concurrency(pages: usize);
        /// As [`crate::List::limit`].
        limit(n: u64);
        /// As [`crate::List::max_pages`].
        max_pages(pages: u64);
        /// As [`crate::List::max_passes`].
        max_passes(passes: u32);
        /// As [`crate::List::strict`].
        strict(strict: bool);
        /// As [`crate::List::dedup`].
        dedup(dedup: bool);
        /// As [`crate::List::retry_policy`].
        retry_policy(policy: RetryPolicy);
        /// As [`crate::List::deadline`].
        deadline(deadline: Duration);
    }

    /// As [`crate::List::on_progress`] (called on a runtime thread).
    pub fn on_progress(self, progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        Self {
            inner: self.inner.on_progress(progress),
            runtime: self.runtime,
        }
    }

    /// One page, as [`crate::List::send`].
    ///
    /// ```no_run
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// # let client = digitalocean_snapshots::blocking::Client::from_env()?;
    /// let page = client.list_snapshots().page(2).per_page(50).send()?;
    /// println!("page {} of {}", page.page, page.page_count());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`crate::List::send`].
    pub fn send(self) -> Result<Page<E::Item>> {
        self.runtime.block_on(self.inner.send())?
    }

    /// Every item in one `Vec`, as [`crate::List::collect_all`]: each
    /// item that existed for the whole walk exactly once, or an error.
    ///
    /// # Errors
    ///
    /// As [`crate::List::collect_all`].
    pub fn collect_all(self) -> Result<Vec<E::Item>> {
        self.runtime.block_on(self.inner.collect_all())?
    }

    /// Every item in one `Vec` with the walk's summary, as
    /// [`crate::List::collect_with_summary`].
    ///
    /// # Errors
    ///
    /// As [`crate::List::collect_with_summary`].
    pub fn collect_with_summary(self) -> Result<(Vec<E::Item>, WalkSummary)> {
        self.runtime.block_on(self.inner.collect_with_summary())?
    }

    /// The pages of the listing as an iterator, with the guarantee of
    /// [`crate::List::pages`]. Pages are fetched ahead in the background;
    /// dropping the iterator cancels them.
    ///
    /// ```no_run
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// # let client = digitalocean_snapshots::blocking::Client::from_env()?;
    /// let mut pages = client.list_snapshots().pages();
    /// for page in pages.by_ref() {
    ///     let page = page?;
    ///     println!("page {}: {} snapshots", page.page, page.items.len());
    /// }
    /// println!("read {} times", pages.summary().passes);
    /// # Ok(()) }
    /// ```
    pub fn pages(self) -> Pages<E::Item> {
        Pages {
            inner: self.inner.pages(),
            done: false,
            runtime: self.runtime,
        }
    }

    /// The items of the listing as an iterator, with the guarantee of
    /// [`crate::List::pages`]: after an error, the iterator ends.
    ///
    /// ```no_run
    /// # fn main() -> digitalocean_snapshots::Result<()> {
    /// # let client = digitalocean_snapshots::blocking::Client::from_env()?;
    /// // The first five; dropping the iterator cancels what was fetched ahead.
    /// for snapshot in client.list_snapshots().items().take(5) {
    ///     println!("{}", snapshot?.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn items(self) -> Items<E::Item> {
        Items {
            inner: self.inner.items(),
            done: false,
            runtime: self.runtime,
        }
    }
}

impl List<SnapshotsEndpoint> {
    /// As [`crate::ListSnapshots::resource_type`](crate::List::resource_type).
    pub fn resource_type(self, resource_type: ResourceType) -> Self {
        Self {
            inner: self.inner.resource_type(resource_type),
            runtime: self.runtime,
        }
    }
}

/// The next element of a walk's stream, blocking; `None` for good once
/// the walk ended (after its last element or an error, including being
/// called inside a runtime).
fn next<S, T>(stream: &mut S, done: &mut bool, runtime: &Runtime) -> Option<Result<T>>
where
    S: futures_util::Stream<Item = Result<T>> + Unpin,
{
    if *done {
        return None;
    }
    let item = runtime
        .block_on(stream.next())
        .unwrap_or_else(|e| Some(Err(e)));
    *done = !matches!(item, Some(Ok(_)));
    item
}

/// The pages of a listing, as an iterator; see [`List::pages`].
#[must_use = "iterators do nothing unless consumed"]
pub struct Pages<T> {
    inner: crate::Pages<T>,
    done: bool,
    runtime: Arc<Runtime>,
}

/// The items of a listing, as an iterator; see [`List::items`].
#[must_use = "iterators do nothing unless consumed"]
pub struct Items<T> {
    inner: crate::Items<T>,
    done: bool,
    runtime: Arc<Runtime>,
}

impl<T> Pages<T> {
    /// What the walk saw so far, as [`crate::Pages::summary`].
    pub fn summary(&self) -> WalkSummary {
        self.inner.summary()
    }
}

impl<T> Items<T> {
    /// What the walk saw so far, as [`crate::Items::summary`].
    pub fn summary(&self) -> WalkSummary {
        self.inner.summary()
    }
}

impl<T> Iterator for Pages<T> {
    type Item = Result<Page<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        next(&mut self.inner, &mut self.done, &self.runtime)
    }
}

impl<T> Iterator for Items<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        next(&mut self.inner, &mut self.done, &self.runtime)
    }
}

impl<T> std::iter::FusedIterator for Pages<T> {}
impl<T> std::iter::FusedIterator for Items<T> {}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Pages")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Items")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}
