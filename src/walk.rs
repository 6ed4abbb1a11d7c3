//! The walk engine behind [`List::pages`](crate::List::pages): which page
//! to fetch next, prefetch tasks, de-duplication, the limit, and when the
//! walk ends.
//!
//! # Invariants, and where they are decided
//!
//! - **Order.** Pages are requested in increasing order and yielded in
//!   the order requested (`in_flight` is a `FuturesOrdered`); nothing is
//!   yielded out of order, so "every page before the failed one was
//!   delivered whole" holds when an error ends the walk ([`WalkState::fail`]).
//! - **Window.** At most `concurrency` requests are in flight, fewer when
//!   the latest `ratelimit-remaining` is lower ([`WalkState::refill`]); the
//!   first page is fetched alone, since it gives the total.
//! - **Termination.** The last page comes from the latest `meta.total`; a
//!   ceiling on pages (`max_pages`, or twice the first count plus 10)
//!   ends a listing that keeps growing with an `Inconsistent` error; an
//!   empty page ends the walk ([`WalkState::accept`]).
//! - **Once.** With de-duplication on, an item whose id an earlier page
//!   delivered is dropped ([`WalkState::dedup`]); the limit counts
//!   delivered items ([`WalkState::apply_limit`]).
//! - **Cancellation.** Prefetched pages run on tasks owned by [`Fetch`];
//!   dropping the walk drops them and aborts the tasks.
//! - **Accounting.** [`WalkState::finish`] compares the items delivered
//!   with the latest total; the [`WalkSummary`] is published after every
//!   page, so it can be read during the walk.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesOrdered, StreamExt};
use tracing::Instrument;

use crate::client::{Call, Client};
use crate::endpoints::{Endpoint, MAX_PER_PAGE, PageRequest};
use crate::error::{Error, Result};
use crate::model::Page;
use crate::retry::RetryPolicy;

mod fetch;
mod keys;

use fetch::{Fetch, Work};
use keys::item_key;

/// Pages fetched at once by default during a walk.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most pages a walk may fetch at once.
pub const MAX_CONCURRENCY: usize = 64;

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

/// How a walk went; read it from [`Pages::summary`](crate::Pages::summary)
/// or [`Items::summary`](crate::Items::summary), during or after the walk.
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

pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The settings of a request: one page, or a walk over all of them.
#[derive(Clone)]
pub(crate) struct WalkOptions {
    pub(crate) page: Option<u64>,
    pub(crate) per_page: Option<u64>,
    pub(crate) concurrency: usize,
    pub(crate) limit: Option<u64>,
    pub(crate) max_pages: Option<u64>,
    pub(crate) strict: bool,
    pub(crate) dedup: bool,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) policy: Option<RetryPolicy>,
    pub(crate) deadline: Option<Duration>,
}

impl Default for WalkOptions {
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

impl fmt::Debug for WalkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalkOptions")
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

/// One walk over a listing; [`WalkState::next`] yields its pages.
pub(crate) struct WalkState<E: Endpoint> {
    client: Client,
    endpoint: E,
    options: WalkOptions,
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

/// Reads a summary shared with a walk.
pub(crate) fn read_summary(summary: &Mutex<WalkSummary>) -> WalkSummary {
    match summary.lock() {
        Ok(s) => *s,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

impl<E: Endpoint> WalkState<E> {
    pub(crate) fn new(
        client: Client,
        endpoint: E,
        options: WalkOptions,
        summary: Arc<Mutex<WalkSummary>>,
    ) -> Self {
        let per_page = options.per_page.unwrap_or(match options.limit {
            Some(n) => n.clamp(1, MAX_PER_PAGE),
            None => MAX_PER_PAGE,
        });
        let start = options.page.unwrap_or(1);
        let limit_page = options.limit.map(|n| {
            start
                .saturating_add(n.div_ceil(per_page.max(1)))
                .saturating_sub(1)
        });
        Self {
            client,
            endpoint,
            per_page,
            start,
            next_page: start,
            last_page: None,
            limit_page,
            ceiling: options.max_pages.unwrap_or(u64::MAX),
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
            options,
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
        let request = PageRequest {
            page: Some(page),
            per_page: Some(self.per_page),
            call: Call {
                policy: self.options.policy.clone(),
                deadline: self.deadline,
            },
        };
        let span = tracing::debug_span!("page", page, per_page = self.per_page);
        let future = async move { endpoint.fetch(&client, &request).await }.instrument(span);
        // The first page and a walk without prefetch have nothing to overlap.
        let work = if self.options.concurrency > 1 && self.last_page.is_some() {
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
            .options
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

    /// The next page of the walk, `None` once it is over.
    pub(crate) async fn next(&mut self) -> Option<Result<Page<E::Item>>> {
        if self.done {
            return None;
        }
        let starting = self.local.pages == 0 && self.in_flight.is_empty();
        if starting && let Err(e) = self.check() {
            self.done = true;
            return Some(Err(e));
        }
        if self.options.limit == Some(0) {
            return self.finish();
        }
        if starting && self.deadline.is_none() {
            self.deadline = self.options.deadline.map(|d| self.client.timer().now() + d);
        }
        self.refill();
        let Some((number, result)) = self.in_flight.next().await else {
            return self.finish();
        };
        match result {
            Ok(page) => self.accept(number, page),
            Err(e) => self.fail(e, number),
        }
    }

    /// Takes in page `number`: learns the total, ends on an empty page,
    /// drops duplicates, applies the limit, reports progress.
    fn accept(&mut self, number: u64, mut page: Page<E::Item>) -> Option<Result<Page<E::Item>>> {
        let first = self.local.total_at_start.is_none();
        let last = match self.learn_total(first, page.total) {
            Ok(last) => last,
            Err(e) => return self.fail(e, number),
        };
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
        self.dedup(&mut page);
        self.apply_limit(&mut page);
        self.local.pages += 1;
        self.local.items += page.items.len() as u64;
        self.publish();
        tracing::debug!(
            page = number,
            items = page.items.len(),
            total = page.total,
            "page delivered"
        );
        if let Some(progress) = &self.options.progress {
            progress(&Progress {
                pages: self.local.pages,
                items: self.local.items,
                total: page.total,
                page_count: last.min(self.limit_page.unwrap_or(u64::MAX)) - self.start + 1,
            });
        }
        Some(Ok(page))
    }

    /// Records a page's total, sets the ceiling from the first one, and
    /// returns the last page it implies; an error past the ceiling.
    fn learn_total(&mut self, first: bool, total: u64) -> Result<u64> {
        if first {
            self.local.total_at_start = Some(total);
            let pages = total.div_ceil(self.per_page);
            self.ceiling = self
                .options
                .max_pages
                .unwrap_or(pages.saturating_mul(2).saturating_add(10));
        }
        self.local.total_at_end = Some(total);
        let last = total.div_ceil(self.per_page).max(self.start);
        if last - self.start >= self.ceiling {
            return Err(Error::inconsistent(format!(
                "the listing grew to {total} items ({last} pages of {}), past the ceiling of {} pages for this walk",
                self.per_page, self.ceiling
            )));
        }
        self.last_page = Some(last);
        Ok(last)
    }

    /// Drops the items an earlier page delivered.
    fn dedup(&mut self, page: &mut Page<E::Item>) {
        if !self.options.dedup {
            return;
        }
        let before = page.items.len();
        let seen = &mut self.seen;
        page.items.retain(|item| seen.insert(item_key(E::id(item))));
        self.local.duplicates += (before - page.items.len()) as u64;
    }

    /// Cuts the page to what the limit leaves, and ends the walk there.
    fn apply_limit(&mut self, page: &mut Page<E::Item>) {
        let Some(limit) = self.options.limit else {
            return;
        };
        let room = limit.saturating_sub(self.local.items);
        page.items
            .truncate(usize::try_from(room).unwrap_or(usize::MAX));
        if self.local.items + page.items.len() as u64 >= limit {
            self.done = true;
            self.in_flight = FuturesOrdered::new();
            self.local.complete = true;
        }
    }

    /// Checks the walk's own settings before the first request.
    fn check(&self) -> Result<()> {
        if !(1..=MAX_CONCURRENCY).contains(&self.options.concurrency) {
            return Err(Error::invalid_input(
                "concurrency",
                format!(
                    "{} is out of range: expected 1..={MAX_CONCURRENCY}",
                    self.options.concurrency
                ),
            ));
        }
        if self.options.max_pages == Some(0) {
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
        if self.options.limit.is_none()
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
                if self.options.strict {
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
