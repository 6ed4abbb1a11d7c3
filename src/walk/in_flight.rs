//! The page fetches of a walk that are in flight, in the order they will
//! be yielded, and the one way to cancel them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FuturesOrdered, StreamExt};

use crate::error::{Error, Result};
use crate::model::Page;

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
}

/// What a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// A page of the current pass.
    Page,
    /// The count between two passes (`walk/proof.rs`).
    Probe,
}

/// A fetch that is done, and what the walk learns from it besides its page.
pub(super) struct Done<T> {
    pub(super) page: u64,
    /// How long it took, on the client's clock.
    pub(super) took: Duration,
    /// The walk had to wait for it: it was not done when asked for (the
    /// network is the slower side, not the walk's consumer).
    pub(super) waited: bool,
    /// What it was asked for.
    pub(super) role: Role,
    pub(super) result: Result<Page<T>>,
}

impl<T: Send + 'static> InFlight<T> {
    pub(super) fn new() -> Self {
        Self {
            fetches: FuturesOrdered::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.fetches.len()
    }

    /// Starts fetching `page`: on a task of its own (`prefetch`), or to be
    /// polled in place.
    pub(super) fn push(
        &mut self,
        page: u64,
        fetch: impl Future<Output = Fetched<T>> + Send + 'static,
        prefetch: bool,
        role: Role,
    ) {
        let work = if prefetch {
            Work::Task(tokio::spawn(fetch))
        } else {
            Work::Inline(Box::pin(fetch))
        };
        self.fetches.push_back(PageFetch { page, role, work });
    }

    /// The next fetch in order once it is done; `None` when none is in
    /// flight.
    ///
    /// # Panics
    ///
    /// When the task fetching the page panicked: a bug, resumed in the
    /// caller as tokio's `JoinHandle` users do, never passed off as a
    /// listing error.
    pub(super) async fn next(&mut self) -> Option<Done<T>> {
        let mut waited = false;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(done) = self.fetches.poll_next_unpin(cx) {
                return Poll::Ready(done.map(|(page, role, took, result)| Done {
                    page,
                    took,
                    waited,
                    role,
                    result,
                }));
            }
            waited = true;
            Poll::Pending
        })
        .await
    }

    /// Cancels every fetch in flight: tasks are aborted, requests dropped.
    pub(super) fn cancel(&mut self) {
        self.fetches = FuturesOrdered::new();
    }
}

/// One page fetch, in flight.
struct PageFetch<T> {
    page: u64,
    role: Role,
    work: Work<T>,
}

enum Work<T> {
    Task(tokio::task::JoinHandle<Fetched<T>>),
    Inline(PageFuture<T>),
}

impl<T> Future for PageFetch<T> {
    type Output = (u64, Role, Duration, Result<Page<T>>);

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
        Poll::Ready((page, self.role, took, result))
    }
}

impl<T> Drop for PageFetch<T> {
    fn drop(&mut self) {
        if let Work::Task(task) = &self.work {
            task.abort();
        }
    }
}
