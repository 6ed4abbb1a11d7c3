//! The walk engine behind [`List::pages`](crate::List::pages): which page
//! to fetch next, prefetch tasks, de-duplication, the limit, re-reads of a
//! listing that changed, and when the walk ends.
//!
//! # The guarantee, and where it is decided
//!
//! A walk that ends `Ok` delivered every item that existed for the whole
//! walk exactly once (and maybe items created during it, each once); any
//! other walk ends with an error that says what did not add up. It ends
//! within [`WalkOptions::max_pages`] requests whatever the server says.
//!
//! - **Order and window.** The walk's own pass requests pages in increasing
//!   order, the first one alone (it gives the total and the server's real
//!   page size), then up to `concurrency` at once, and yields them in the
//!   order requested ([`WalkState::refill`]). Dropping the walk drops the
//!   fetches and aborts their tasks.
//! - **The end of a pass** is a page shorter than the page size, or the
//!   last page by the total when it holds exactly what the total says; a
//!   full page where the total says the listing has ended is read past,
//!   never trusted ([`WalkState::advance`]).
//! - **Once.** Ids are kept as exact keys (`walk/keys.rs`); an item whose
//!   id was delivered is never delivered again ([`WalkState::read_page`]).
//! - **Trust.** Each pass records the totals it saw and whether any page
//!   contradicted its own total (`walk/pass.rs` explains which changes can
//!   skip an item in which reading order). A pass that cannot be trusted
//!   is followed by a re-read, one page at a time, in the order the change
//!   cannot fool: increasing after insertions, decreasing after deletions.
//!   Items a re-read finds are delivered after the others. A walk whose
//!   passes never settle, or that reads the same contradiction twice, ends
//!   with [`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent)
//!   ([`WalkState::end_pass`]).
//! - **Progress or stop.** A page that brings nothing new to its pass
//!   counts against a budget of [`STALL_BUDGET`] per pass; every request
//!   counts against `max_pages` ([`WalkState::read_page`],
//!   [`WalkState::refill`]).

mod fetch;
mod keys;
mod options;
mod pass;
mod read;
mod reread;
#[cfg(test)]
mod tests;

pub(crate) use options::{WalkOptions, read_summary};

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::stream::{FuturesOrdered, StreamExt};
use tracing::Instrument;

use crate::client::{Call, Client};
use crate::endpoints::{Endpoint, MAX_PER_PAGE, PageRequest};
use crate::error::{Error, Result};
use crate::model::{Page, WalkSummary};
use fetch::{Fetch, Work};
use keys::ItemKey;
use pass::{Direction, Pass};

/// Pages fetched at once by default during a walk.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most pages a walk may fetch at once.
pub const MAX_CONCURRENCY: usize = 64;
/// The most requests one walk makes by default, re-reads included:
/// DigitalOcean's hourly budget, so a walk that needed more could not
/// finish within an hour anyway.
pub const DEFAULT_MAX_PAGES: u64 = 5_000;
/// The most passes over the listing by default: the walk and three
/// re-reads.
pub const DEFAULT_MAX_PASSES: u32 = 4;
/// Pages per pass that may hold items without anything new to the pass.
pub(crate) const STALL_BUDGET: u32 = 3;

/// One walk over a listing; [`WalkState::next`] yields its pages.
pub(crate) struct WalkState<E: Endpoint> {
    client: Client,
    endpoint: E,
    options: WalkOptions,
    /// The page size every request asks for.
    asked: u64,
    /// The page size the server serves: `asked`, or less when the first
    /// page shows the server caps it.
    size: u64,
    start: u64,
    pass: Pass,
    /// The next page to request, and the last one the walk plans to.
    next_page: u64,
    planned_last: u64,
    /// The pass reached the end of the listing: nothing more to request.
    pass_ended: bool,
    /// The page the pass read last.
    read_up_to: u64,
    in_flight: FuturesOrdered<Fetch<E::Item>>,
    /// Requests the rate limit allows to start, as of the latest page.
    allowance: u64,
    /// The ids delivered so far (empty with `dedup(false)`).
    seen: HashSet<ItemKey>,
    previous_fingerprint: Option<u64>,
    previous_direction: Direction,
    summary: Arc<Mutex<WalkSummary>>,
    local: WalkSummary,
    done: bool,
    /// When the whole walk must be over; set when it starts.
    deadline: Option<Instant>,
}

/// What reading one page led to.
enum Step<T> {
    /// A page to deliver.
    Deliver(Page<T>),
    /// Nothing to deliver from this page: read on.
    Continue,
    /// The walk is over (`None`) or failed.
    End(Option<Result<Page<T>>>),
}

impl<E: Endpoint> WalkState<E> {
    pub(crate) fn new(
        client: Client,
        endpoint: E,
        options: WalkOptions,
        summary: Arc<Mutex<WalkSummary>>,
    ) -> Self {
        let asked = options.per_page.unwrap_or(match options.limit {
            Some(n) => n.clamp(1, MAX_PER_PAGE),
            None => MAX_PER_PAGE,
        });
        let start = options.page.unwrap_or(1);
        Self {
            client,
            endpoint,
            asked,
            size: asked,
            start,
            pass: Pass::new(1, Direction::Ascending, None),
            next_page: start,
            planned_last: start,
            pass_ended: false,
            read_up_to: start.saturating_sub(1),
            in_flight: FuturesOrdered::new(),
            allowance: u64::MAX,
            seen: HashSet::new(),
            previous_fingerprint: None,
            previous_direction: Direction::Ascending,
            summary,
            local: WalkSummary {
                consistent: true,
                passes: 1,
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
        // A re-read failed after the walk's own pass was delivered whole:
        // a new walk has to start over.
        let resume = if self.pass.number == 1 {
            page
        } else {
            self.start
        };
        Some(Err(error
            .with_walk_position(self.local.items, resume)
            .with_walk_summary(self.local)))
    }

    fn spawn(&mut self, page: u64) {
        let client = self.client.clone();
        let endpoint = self.endpoint.clone();
        let request = PageRequest {
            page: Some(page),
            per_page: Some(self.asked),
            call: Call {
                policy: self.options.policy.clone(),
                deadline: self.deadline,
            },
        };
        let span =
            tracing::debug_span!("page", page, per_page = self.asked, pass = self.pass.number);
        let future = async move { endpoint.fetch(&client, &request).await }.instrument(span);
        if !self.in_flight.is_empty() {
            self.pass.overlapped = true;
        }
        // The first page and one-at-a-time reads have nothing to overlap.
        let prefetch = self.options.concurrency > 1 && self.pass.number == 1 && page > self.start;
        let work = if prefetch {
            Work::Task(tokio::spawn(future))
        } else {
            Work::Inline(Box::pin(future))
        };
        self.local.requests += 1;
        self.in_flight.push_back(Fetch { page, work });
    }

    /// Starts as many requests as the window, the plan, the limit, the
    /// ceiling and the rate limit allow. Re-reads go one page at a time.
    fn refill(&mut self) -> Result<()> {
        if self.pass_ended {
            return Ok(());
        }
        let window = if self.pass.number > 1 || self.read_up_to < self.start {
            1
        } else {
            self.options
                .concurrency
                .min(usize::try_from(self.allowance).unwrap_or(usize::MAX))
                .max(1)
        };
        let last = self.planned_last.min(self.limit_last());
        while self.in_flight.len() < window && self.wanted(last) {
            if self.local.requests >= self.options.max_pages {
                return Err(Error::inconsistent(format!(
                    "the walk reached its ceiling of {} requests (max_pages) with the listing not yet read to its end",
                    self.options.max_pages
                )));
            }
            let page = self.next_page;
            self.spawn(page);
            self.allowance = self.allowance.saturating_sub(1);
            match self.pass.direction {
                Direction::Ascending => self.next_page += 1,
                // Stops below `start`: `wanted` is false from there.
                Direction::Descending => self.next_page = self.next_page.saturating_sub(1),
            }
        }
        Ok(())
    }

    fn wanted(&self, last: u64) -> bool {
        match self.pass.direction {
            Direction::Ascending => self.next_page <= last,
            Direction::Descending => self.next_page >= self.start && self.next_page > 0,
        }
    }

    /// The last page the limit can need, if every page read from here on
    /// brought a full page of new items.
    fn limit_last(&self) -> u64 {
        match self.options.limit {
            Some(limit) if self.pass.number == 1 => {
                let room = limit.saturating_sub(self.local.items);
                self.read_up_to
                    .saturating_add(room.div_ceil(self.size.max(1)))
            }
            _ => u64::MAX,
        }
    }

    /// The next page of the walk, `None` once it is over.
    pub(crate) async fn next(&mut self) -> Option<Result<Page<E::Item>>> {
        if self.done {
            return None;
        }
        if self.local.requests == 0 {
            if let Err(e) = self.check() {
                self.done = true;
                return Some(Err(e));
            }
            if self.options.limit == Some(0) {
                return self.finish(true);
            }
            self.deadline = self.options.deadline.map(|d| self.client.timer().now() + d);
        }
        loop {
            if let Err(e) = self.refill() {
                return self.fail(e, self.next_page);
            }
            let Some((number, result)) = self.in_flight.next().await else {
                match self.end_pass() {
                    Step::End(end) => return end,
                    _ => continue,
                }
            };
            let page = match result {
                Ok(page) => page,
                Err(e) => return self.fail(e, number),
            };
            match self.read_page(number, page) {
                Step::Deliver(page) => return Some(Ok(page)),
                Step::Continue => {}
                Step::End(end) => return end,
            }
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
        if self.options.max_pages == 0 {
            return Err(Error::invalid_input(
                "max_pages",
                "0 is out of range: a walk needs at least one page",
            ));
        }
        if self.options.max_passes == 0 {
            return Err(Error::invalid_input(
                "max_passes",
                "0 is out of range: a walk needs at least one pass",
            ));
        }
        Ok(())
    }

    /// The end of a walk without an error.
    fn finish(&mut self, consistent: bool) -> Option<Result<Page<E::Item>>> {
        self.done = true;
        self.in_flight = FuturesOrdered::new();
        self.local.complete = true;
        self.local.consistent = consistent;
        self.local.changed |= self.pass.changed();
        self.publish();
        None
    }
}
