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
mod pass;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesOrdered, StreamExt};
use tracing::Instrument;

use crate::client::{Call, Client};
use crate::endpoints::{Endpoint, MAX_PER_PAGE, PageRequest};
use crate::error::{Error, Result};
use crate::model::{Page, Progress, WalkSummary};
use crate::retry::RetryPolicy;
use fetch::{Fetch, Work};
use keys::ItemKey;
use pass::{Direction, Pass, Verdict};

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

pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The settings of a request: one page, or a walk over all of them.
#[derive(Clone)]
pub(crate) struct WalkOptions {
    pub(crate) page: Option<u64>,
    pub(crate) per_page: Option<u64>,
    pub(crate) concurrency: usize,
    pub(crate) limit: Option<u64>,
    pub(crate) max_pages: u64,
    pub(crate) max_passes: u32,
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
            max_pages: DEFAULT_MAX_PAGES,
            max_passes: DEFAULT_MAX_PASSES,
            strict: true,
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
            .field("max_passes", &self.max_passes)
            .field("strict", &self.strict)
            .field("dedup", &self.dedup)
            .field("progress", &self.progress.is_some())
            .field("policy", &self.policy)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Reads a summary shared with a walk.
pub(crate) fn read_summary(summary: &Mutex<WalkSummary>) -> WalkSummary {
    match summary.lock() {
        Ok(s) => *s,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

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

    /// Reads page `number`: its total, its count against the total, its
    /// new items, the limit; decides what comes next.
    fn read_page(&mut self, number: u64, mut page: Page<E::Item>) -> Step<E::Item> {
        let count = page.items.len() as u64;
        if self.pass.number == 1 && number == self.start {
            self.learn_page_size(count, page.total);
        }
        self.local.total_at_start.get_or_insert(page.total);
        self.local.total_at_end = Some(page.total);
        if let Some(rate) = &page.rate_limit {
            self.allowance = rate.remaining;
        }
        self.pass.total(number, page.total);
        let expected = self.expected_count(number, page.total);
        if count != expected {
            let total = page.total;
            self.pass.contradict(|| {
                format!(
                    "page {number} held {count} items where a total of {total} means {expected}"
                )
            });
        }
        let new_to_pass = self.keep_new(&mut page);
        if new_to_pass == 0 && self.options.dedup {
            self.pass.stalled += 1;
            if self.pass.stalled >= STALL_BUDGET {
                let error = Error::inconsistent(format!(
                    "{} pages brought nothing new to the pass (the latest: page {number}); the server repeats itself",
                    self.pass.stalled
                ));
                return Step::End(self.fail(error, number));
            }
        }
        self.read_up_to = number;
        self.advance(number, count, page.total);
        if let Some(limit) = self.options.limit {
            let room = limit.saturating_sub(self.local.items);
            page.items
                .truncate(usize::try_from(room).unwrap_or(usize::MAX));
            if self.local.items + page.items.len() as u64 >= limit {
                self.done = true;
                self.in_flight = FuturesOrdered::new();
                self.local.complete = true;
            }
        }
        self.deliver(number, page)
    }

    /// On the walk's first page: a page shorter than asked while the total
    /// says more follow shows the server's real page size.
    fn learn_page_size(&mut self, count: u64, total: u64) {
        let before = (self.start - 1).saturating_mul(self.asked);
        let remaining = total.saturating_sub(before);
        if count > 0 && count < self.asked && count < remaining {
            tracing::debug!(
                asked = self.asked,
                served = count,
                "the server caps the page size"
            );
            self.size = count;
        }
    }

    /// What page `number` holds when the listing has `total` items.
    fn expected_count(&self, number: u64, total: u64) -> u64 {
        let before = (number - 1).saturating_mul(self.size);
        total.saturating_sub(before).min(self.size)
    }

    /// Drops the items already delivered (and, in a re-read, counts those
    /// it recovers); returns the items new to this pass.
    fn keep_new(&mut self, page: &mut Page<E::Item>) -> u64 {
        if !self.options.dedup {
            self.pass.unkeyed(page.items.len() as u64);
            return page.items.len() as u64;
        }
        let mut new_to_pass = 0;
        let before = page.items.len();
        let (seen, pass) = (&mut self.seen, &mut self.pass);
        page.items.retain(|item| {
            let key = ItemKey::of(E::id(item));
            let new_to_walk = !seen.contains(&key);
            new_to_pass += u64::from(pass.item(&key, new_to_walk));
            if new_to_walk {
                seen.insert(key);
            }
            new_to_walk
        });
        let dropped = (before - page.items.len()) as u64;
        if self.pass.number == 1 {
            self.local.duplicates += dropped;
        } else {
            self.local.recovered += page.items.len() as u64;
        }
        new_to_pass
    }

    /// Plans what the pass reads after page `number`, or ends it.
    fn advance(&mut self, number: u64, count: u64, total: u64) {
        if self.pass.direction == Direction::Descending {
            self.pass_ended = number <= self.start;
            return;
        }
        let by_total = total.div_ceil(self.size.max(1)).max(self.start);
        let at_end = number >= by_total;
        if at_end && (count < self.size || count == self.expected_count(number, total)) {
            self.pass_ended = true;
            // Pages requested past the end were wasted; stop them.
            self.in_flight = FuturesOrdered::new();
        } else if count < self.size {
            // A short page before the end by the total: a hole, or the
            // listing shrank. Read on to the end; the pass will not be
            // trusted.
            self.planned_last = by_total;
        } else {
            // A full page: read on, past a total that says it has ended.
            self.planned_last = by_total.max(number + 1);
        }
    }

    fn deliver(&mut self, number: u64, page: Page<E::Item>) -> Step<E::Item> {
        if page.items.is_empty() && (self.pass.number > 1 || self.local.pages > 0) {
            self.publish();
            return if self.done {
                Step::End(None)
            } else {
                Step::Continue
            };
        }
        self.local.pages += 1;
        self.local.items += page.items.len() as u64;
        self.publish();
        tracing::debug!(
            page = number,
            items = page.items.len(),
            total = page.total,
            pass = self.pass.number,
            "page delivered"
        );
        if let Some(progress) = &self.options.progress {
            let by_total = page.total.div_ceil(self.size.max(1)).max(self.start);
            progress(&Progress {
                pages: self.local.pages,
                items: self.local.items,
                total: page.total,
                page_count: by_total.min(self.limit_last()).max(number) - self.start + 1,
            });
        }
        Step::Deliver(page)
    }

    /// The pass read everything it planned: trust it and end the walk, or
    /// start a re-read, or end with the error that says what did not add
    /// up.
    fn end_pass(&mut self) -> Step<E::Item> {
        if self.done || (self.options.limit.is_some() && self.local.complete) {
            return Step::End(self.finish(true));
        }
        let latest = self.local.total_at_end.unwrap_or(0);
        let before = (self.start - 1).saturating_mul(self.size);
        let expected = latest.saturating_sub(before);
        let reason = match self.pass.verdict(expected) {
            Verdict::Trusted => return Step::End(self.finish(true)),
            Verdict::Untrusted(reason) => reason,
        };
        self.local.changed = true;
        let fingerprint = self.pass.fingerprint();
        let repeated = self.pass.number > 1 && self.previous_fingerprint == Some(fingerprint);
        if repeated || self.pass.number >= self.options.max_passes || !self.options.dedup {
            let why = if repeated {
                "the server gave the same answers twice"
            } else if self.options.dedup {
                "it did not settle"
            } else {
                "dedup(false) keeps no ids to re-read it by"
            };
            let reason = format!(
                "after {} passes ({why}): {reason}; {} items delivered, latest total {latest}",
                self.pass.number, self.local.items
            );
            return Step::End(self.unsettled(reason));
        }
        tracing::info!(pass = self.pass.number, %reason, "the listing changed while it was read: reading it again");
        self.previous_fingerprint = Some(fingerprint);
        self.start_reread(latest);
        Step::Continue
    }

    /// Starts the next pass, in the order the change seen cannot fool.
    fn start_reread(&mut self, latest: u64) {
        let direction = match (self.pass.increased(), self.pass.decreased()) {
            (false, true) => Direction::Descending,
            (true, false) => Direction::Ascending,
            _ if self.previous_direction == Direction::Ascending && self.pass.number > 1 => {
                Direction::Descending
            }
            _ => Direction::Ascending,
        };
        self.previous_direction = direction;
        let number = self.pass.number + 1;
        self.pass = Pass::new(number, direction, Some(latest));
        self.local.passes = number;
        self.pass_ended = false;
        self.next_page = match direction {
            Direction::Ascending => self.start,
            // From the highest page that could hold an item: by the
            // latest total, or the furthest the last pass read.
            Direction::Descending => latest
                .div_ceil(self.size.max(1))
                .max(self.read_up_to)
                .max(self.start),
        };
        self.planned_last = self.next_page;
        self.read_up_to = self.start - 1;
        self.publish();
    }

    /// A walk whose passes did not settle: an error, or under
    /// `strict(false)` an end with `consistent: false` and a warning.
    fn unsettled(&mut self, reason: String) -> Option<Result<Page<E::Item>>> {
        self.local.consistent = false;
        if self.options.strict {
            let page = self.read_up_to.max(self.start);
            return self.fail(Error::inconsistent(reason), page);
        }
        tracing::warn!("the listing does not add up: {reason}");
        self.finish(false)
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
