//! The page fetches of a walk that are in flight, in the order they will
//! be yielded, and the one way to cancel them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FuturesOrdered, StreamExt};

use crate::error::{Error, Result};
use crate::model::Page;
use crate::served::{self, Mark, Tally};

/// A fetch's outcome, and how long it took on the client's clock.
type Fetched<T> = (Result<Page<T>>, Duration);

type PageFuture<T> = Pin<Box<dyn Future<Output = Fetched<T>> + Send>>;

/// The fetches in flight. Prefetched pages run on tasks of their own, so
/// they progress (and decode on another core) while the consumer is busy;
/// a page read alone is polled in place. Either way the request is
/// cancelled when its entry is dropped: by [`cancel`](Self::cancel), or
/// with the walk.
pub(super) struct InFlight<T> {
    fetches: FuturesOrdered<PageFetch<T>>,
    /// Which of them the server has answered whole (`served.rs`).
    tally: Arc<Tally>,
}

/// What [`InFlight::next`] waited for.
// Returned once per page and taken apart at once: boxing the large
// variant would only add an allocation per page.
#[allow(clippy::large_enum_variant)]
pub(super) enum Event<T> {
    /// The next fetch in order is done.
    Done(Done<T>),
    /// Every fetch in flight has been answered (asked for by
    /// `until_answered`): a page held back for that can be requested.
    AllAnswered,
}

/// A fetch that is done, and what the walk learns from it besides its page.
pub(super) struct Done<T> {
    pub(super) page: u64,
    /// It was requested when every other fetch had been answered, so it
    /// was served after every page before it.
    pub(super) alone: bool,
    /// How long it took, on the client's clock.
    pub(super) took: Duration,
    /// The walk had to wait for it: it was not done when asked for (the
    /// network is the slower side, not the walk's consumer).
    pub(super) waited: bool,
    /// What the walk tagged it with when it asked (a batch read whole:
    /// `walk/ties.rs`).
    pub(super) tag: Option<usize>,
    pub(super) result: Result<Page<T>>,
}

impl<T: Send + 'static> InFlight<T> {
    pub(super) fn new() -> Self {
        Self {
            fetches: FuturesOrdered::new(),
            tally: Arc::default(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.fetches.len()
    }

    /// Whether the server has answered every fetch in flight whole (their
    /// bodies are in, maybe not decoded yet).
    pub(super) fn all_answered(&self) -> bool {
        self.tally.all_answered()
    }

    /// Starts fetching `page`: on a task of its own (`prefetch`), or to be
    /// polled in place.
    pub(super) fn push(
        &mut self,
        page: u64,
        fetch: impl Future<Output = Fetched<T>> + Send + 'static,
        prefetch: bool,
        tag: Option<usize>,
    ) {
        let alone = self.tally.all_answered();
        let mark = self.tally.open();
        let fetch = served::scope(Arc::clone(&mark), fetch);
        let work = if prefetch {
            Work::Task(tokio::spawn(fetch))
        } else {
            Work::Inline(Box::pin(fetch))
        };
        self.fetches.push_back(PageFetch {
            page,
            alone,
            tag,
            mark,
            work,
        });
    }

    /// The next fetch in order once it is done, or (with `until_answered`)
    /// the moment every fetch in flight has been answered, whichever comes
    /// first; `None` when none is in flight.
    ///
    /// # Panics
    ///
    /// When the task fetching the page panicked: a bug, resumed in the
    /// caller as tokio's `JoinHandle` users do, never passed off as a
    /// listing error.
    pub(super) async fn next(&mut self, until_answered: bool) -> Option<Event<T>> {
        let tally = Arc::clone(&self.tally);
        let mut waiting = until_answered && !tally.all_answered();
        let mut waited = false;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(done) = self.fetches.poll_next_unpin(cx) {
                return Poll::Ready(done.map(|(page, alone, tag, took, result)| {
                    Event::Done(Done {
                        page,
                        alone,
                        took,
                        waited,
                        tag,
                        result,
                    })
                }));
            }
            waited = true;
            if waiting && tally.poll_all_answered(cx).is_ready() {
                waiting = false;
                return Poll::Ready(Some(Event::AllAnswered));
            }
            Poll::Pending
        })
        .await
    }

    /// Cancels every fetch in flight: tasks are aborted, requests dropped.
    pub(super) fn cancel(&mut self) {
        self.fetches = FuturesOrdered::new();
        self.tally = Arc::default();
    }
}

/// One page fetch, in flight.
struct PageFetch<T> {
    page: u64,
    alone: bool,
    tag: Option<usize>,
    /// Set when the server answers, or at the latest when the fetch ends.
    mark: Arc<Mark>,
    work: Work<T>,
}

enum Work<T> {
    Task(tokio::task::JoinHandle<Fetched<T>>),
    Inline(PageFuture<T>),
}

impl<T> Future for PageFetch<T> {
    type Output = (u64, bool, Option<usize>, Duration, Result<Page<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let page = self.page;
        let (result, took) = match &mut self.work {
            Work::Inline(future) => std::task::ready!(future.as_mut().poll(cx)),
            Work::Task(task) => match std::task::ready!(Pin::new(task).poll(cx)) {
                Ok(fetched) => fetched,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Only a runtime shutting down cancels a task the walk
                // still holds: the request never finished.
                Err(e) => (
                    Err(Error::transport(format!(
                        "the task fetching page {page} was cancelled: {e}"
                    ))),
                    Duration::ZERO,
                ),
            },
        };
        self.mark.set();
        Poll::Ready((page, self.alone, self.tag, took, result))
    }
}

impl<T> Drop for PageFetch<T> {
    fn drop(&mut self) {
        if let Work::Task(task) = &self.work {
            task.abort();
        }
    }
}
