//! When the server has answered a request whole: the moment its data was
//! read on the server is before that, whatever the client does next.
//!
//! A walk proves a pass by reading the page that holds the end of the
//! listing after every other page of the pass was served (`walk/pass.rs`).
//! Waiting until the other pages are *decoded* would add their decoding to
//! the walk's last round trip; waiting until their bodies have *arrived*
//! is enough: a server cannot put into a body it has already sent a
//! change it makes later. So each fetch of a walk runs inside a [`scope`],
//! and the transport calls [`answered`] once a 200's body is in whole
//! (before progenitor decodes it). A fetch that ends any other way is
//! marked when it ends ([`Mark::set`]), so the tally always reaches zero.
//!
//! A body is only in whole once it has been read within the body limits:
//! an attempt after that does not exist (decode errors and broken limits
//! are not retried), so a fetch never goes back to the server once marked.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

/// How many of a walk's fetches have not been answered yet, and who waits
/// for that to reach zero.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    unanswered: AtomicUsize,
    waiter: AtomicWaker,
}

impl Tally {
    /// A new fetch counted as unanswered, and the mark that answers it.
    pub(crate) fn open(self: &Arc<Self>) -> Arc<Mark> {
        self.unanswered.fetch_add(1, Ordering::AcqRel);
        Arc::new(Mark {
            done: AtomicBool::new(false),
            tally: Arc::clone(self),
        })
    }

    /// Whether every fetch opened so far has been answered.
    pub(crate) fn all_answered(&self) -> bool {
        self.unanswered.load(Ordering::Acquire) == 0
    }

    /// Ready once every fetch opened so far has been answered.
    pub(crate) fn poll_all_answered(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.all_answered() {
            return Poll::Ready(());
        }
        self.waiter.register(cx.waker());
        // Answered between the check and the registration: no wake-up
        // would come.
        if self.all_answered() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// One fetch's place in a [`Tally`].
#[derive(Debug)]
pub(crate) struct Mark {
    done: AtomicBool,
    tally: Arc<Tally>,
}

impl Mark {
    /// The fetch was answered (or ended): counted once, however often it
    /// is called.
    pub(crate) fn set(&self) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.tally.unanswered.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.tally.waiter.wake();
        }
    }
}

tokio::task_local! {
    static CURRENT: Arc<Mark>;
}

/// Runs `fetch` with `mark` as the mark [`answered`] sets.
pub(crate) async fn scope<F: Future>(mark: Arc<Mark>, fetch: F) -> F::Output {
    CURRENT.scope(mark, fetch).await
}

/// The request running in this [`scope`] (if any) was answered whole.
pub(crate) fn answered() {
    let _ = CURRENT.try_with(|mark| mark.set());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn the_tally_reaches_zero_once_each_mark_is_set_however_often() {
        let tally = Arc::new(Tally::default());
        assert!(tally.all_answered());
        let (a, b) = (tally.open(), tally.open());
        a.set();
        a.set();
        assert!(!tally.all_answered(), "one set twice is still one");
        let mut cx = Context::from_waker(Waker::noop());
        assert!(tally.poll_all_answered(&mut cx).is_pending());
        b.set();
        assert!(tally.poll_all_answered(&mut cx).is_ready());
    }

    #[tokio::test]
    async fn answered_sets_the_mark_of_its_scope_only() {
        let tally = Arc::new(Tally::default());
        let (inside, other) = (tally.open(), tally.open());
        answered(); // outside any scope: nothing
        scope(Arc::clone(&inside), async { answered() }).await;
        assert!(inside.done.load(Ordering::Acquire));
        assert!(!other.done.load(Ordering::Acquire));
        assert!(!tally.all_answered());
    }
}
