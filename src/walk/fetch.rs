//! One page fetch in flight, on a task of its own or polled in place.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{Error, Result};
use crate::model::Page;

/// A page fetch, in flight. Prefetched pages run on tasks of their own, so
/// they progress (and decode on another core) while the consumer is busy;
/// a walk with no prefetch polls its one fetch in place. Either way, the
/// request is cancelled when this is dropped, so dropping the stream
/// cancels everything in flight.
pub(super) struct Fetch<T> {
    pub(super) page: u64,
    pub(super) work: Work<T>,
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>>> + Send>>;

pub(super) enum Work<T> {
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
