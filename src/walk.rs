//! How a walk over a listing gets every snapshot once, or says why not:
//! the engine behind [`List::pages`], [`List::items`], [`List::collect_all`]
//! and [`List::collect_with_summary`]. Nothing here is called directly: this
//! page is the reference for what a walk guarantees, what that rests on,
//! what it assumes and what it costs. For maintainers, the engine decides
//! which page to fetch next, runs the prefetch tasks, de-duplicates, runs
//! the passes and the count between them that prove a listing whole, and
//! decides when the walk ends ([Where it is decided](#where-it-is-decided)).
//!
//! `pages()` and `items()` are lazy, `Send` streams; `collect_all()` gathers
//! a `Vec`, and `collect_with_summary()` the `Vec` with the walk's
//! [`WalkSummary`].
//!
//! # The guarantee
//!
//! A walk that ends `Ok` delivered every snapshot that existed for the
//! whole walk exactly once, plus possibly snapshots created during it, each
//! once. A walk that cannot prove that ends with an
//! [`ErrorKind::Inconsistent`] error that says what did not add up (its
//! [`walk_summary()`](crate::Error::walk_summary) says how far it got); it
//! never ends `Ok` with a short list. It always
//! ends within [`max_pages`](crate::List::max_pages) requests (default
//! 5,000, the API's hourly budget), whatever the server claims.
//!
//! ## What it rests on: what DigitalOcean documents, nothing more
//!
//! Pages by number, `meta.total` (the number of snapshots in the listing),
//! and an id that names one snapshot and is never given to another. The
//! order of either listing is not documented, and the public evidence
//! differs by listing: a droplet's snapshots look oldest first; an account's
//! volume snapshots came back by id as a string (version-1 UUIDs, so a new
//! one lands anywhere); DigitalOcean's own example lists a 2020 snapshot
//! before a 2019 one; a droplet snapshot is dated when its action started
//! and may appear minutes later, before newer ones. So the walk never looks
//! at the order, at `created_at`, or at the `Date` header.
//!
//! ## How it proves a listing
//!
//! A listing that fits its first page with room to spare, whole by that
//! page's own total, is proven by that page: one request. A longer one is
//! read once (page 1 alone, then prefetched), then **counted**: one request
//! alone, for a page past the end, whose total is the listing's size at some
//! moment. Then it is read again, prefetched like the first look, at another
//! page size (so a cache in front of the API has not seen those addresses).
//! Every snapshot seen both before the count and after it existed at that
//! moment, since ids are never reused; when they are as many as the count,
//! they are every snapshot that existed then. So every snapshot that existed
//! for the whole walk was delivered, and de-duplication by id delivered it
//! once. Nothing in this depends on the order, on how long a snapshot takes
//! to appear, or on a page's total being counted with its rows. A count is
//! used only when every page of the pass before it and of every pass after
//! it read that same total, and no page of the pass before it contradicted
//! its own total. [`summary().proof`](crate::WalkSummary::proof) says which
//! proof held ([`OnePage`](crate::ListingProof::OnePage) or
//! [`Counted`](crate::ListingProof::Counted)); the argument in full is in
//! `src/walk/proof.rs`.
//!
//! ## When the listing changes
//!
//! During the walk, the first count may be short of it (a snapshot made
//! before the count where the first look had already read, or deleted after
//! it before the second look got there). The walk counts again and reads
//! again, up to [`max_passes`](crate::List::max_passes) (default 6); a
//! snapshot missed by one look and seen by the next still counts for the
//! counts on either side. A burst of changes followed by quiet, or a
//! retention job that runs now and then, costs a look or two more. A listing
//! that changes between nearly every two reads leaves no count met: after
//! each snapshot was delivered once, the walk ends with the `Inconsistent`
//! error (the report: a warning, exit 3), never a short list. So does a
//! server whose pages contradict their own totals in two looks in a row.
//! `summary()` says `changed`, `passes` and `recovered`.
//!
//! ## What it assumes, and what it cannot see
//!
//! Beyond what DigitalOcean documents, one property of any server: an answer
//! to a request sent after another answer came back reflects the account as
//! it was then or later (reads do not go back in time). Where that fails, no
//! answer carries a trace of what it hides: a listing that fits one page,
//! read from a replica that lags, or a walk answered entirely from one old
//! state, misses the snapshots made within that lag before the walk began. A
//! replica behind the others mixed into a walk most often shows itself in a
//! total that differs from the count, and the walk reads again (the model
//! property with such reads found no short `Ok` in 20,000 cases; it is
//! checked, not proven). A server that serves fewer snapshots than the
//! documented `per_page` asks for, on a listing that fits one page, whose
//! total is counted after a deletion so that it matches, passes for a whole
//! one-page listing. A walk resumed from a later page (`page(n)`) keeps its
//! page size (its addresses repeat) and counts only from its start page on,
//! which a change below it can move snapshots across. Snapshots made during
//! the walk may or may not be delivered (each at most once).
//! [`dedup(false)`](crate::List::dedup) keeps no ids: only a listing that
//! fits one page can be proven.
//!
//! ## Cost
//!
//! A one-page listing: one request. A longer unchanging one: its pages, the
//! count, and its pages again at a size 1 to 8 smaller (about twice the
//! pages plus one); when the pages fit one window, four round trips instead
//! of the two an unproven walk needs. Each look a change costs adds a count
//! and a pass.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = digitalocean_sandbox::Sandbox::builder().snapshots(500).start().await?;
//! let client = digitalocean_snapshots::Client::builder()
//!     .token(sandbox.token().unwrap_or_default())
//!     .base_url(sandbox.base_url())
//!     .build()?;
//! assert_eq!(client.list_snapshots().collect_all().await?.len(), 500);
//! assert_eq!(sandbox.stats().requests, 7); // 3 pages, a count, 3 pages again
//! # Ok(()) }
//! ```
//!
//! Measured (the [benchmarks], on a shared 2-core machine, the fake server
//! in the same process): 10,000 snapshots at 50 ms latency take 241 ms with
//! the default window, 2.06x the two round trips of an unproven walk (goal:
//! within 2.5x) and 1.05x the four of a proven one; a window of 8 takes 3.5x
//! longer, one page at a time 5.4 s. In every order the fake server offers,
//! an unchanging listing is proven in 102 or 103 requests and two passes. A
//! burst of changes then quiet, or a retention job that runs less often than
//! once a pass, costs at most 1.5x a clean walk; one that runs about once a
//! pass costs four passes, or the `Inconsistent` error; no walk lost a
//! snapshot that existed throughout. 100,000 snapshots against
//! DigitalOcean's limits (the minute shortened) take 1.02x the rate floor
//! with no 429. A million snapshots with dedup peak at 34.8 MiB resident.
//!
//! # How a walk reads
//!
//! - Never one signal alone: a page shorter than asked on the first page
//!   teaches the server's real page size; a full page where the total says
//!   the listing has ended is read past; a short or empty page before the
//!   end is read past and read again by the next look; pages that bring
//!   nothing new to their look count against a budget of 3 in a row plus the
//!   window (a server repeating page 1 with a total of 10^15 is stopped after
//!   a few requests).
//! - Ids are compared exactly: `"0123"`, `"+123"` and `"123"` are three
//!   snapshots. [`limit(n)`](crate::List::limit) yields `n` distinct items
//!   when the listing has them.
//! - Every request is built from the client's own base URL, path and
//!   parameters (the filter is kept on every page). Links are hints, never
//!   followed: a `next` pointing at another host or path receives nothing.
//! - After the first page, the next ones are fetched in an adaptive window:
//!   as many at once as the per-minute pace (shared by the client's clones),
//!   the hourly budget and a limit on requests in flight learned from a
//!   server's 429s (see [`retry`](crate::retry)) allow, up to
//!   [`concurrency(n)`](crate::List::concurrency) (default 64; 1 = one after
//!   the other). It halves when an answer meets a 429, a 5xx or a transport
//!   failure, a page takes four times as long as the first, or a page brings
//!   nothing new, and grows back by one a clean page the walk had to wait for
//!   (additive increase, multiplicative decrease: quick to back off, slow to
//!   probe). A page that was already there when asked for (the consumer, not
//!   the network, is the slower side) closes it by one, down to 8: more pages
//!   ahead would only wait in memory. A first total that cannot be read
//!   within `max_pages` opens it at 8. Pages are yielded strictly in order,
//!   never more than the cap (64 pages, about 10 MB at 200 snapshots) in
//!   flight or buffered ahead. Dropping the stream aborts the requests in
//!   flight. Walks use `per_page = 200` unless told otherwise; `limit(n)`
//!   asks for no more than needed (`limit(5)` is one request with
//!   `per_page=5`).
//! - An error ends the stream after the pages before it were delivered
//!   whole; `collect_all()` returns `Err`, never a partial listing. The error
//!   says how many items were delivered and which page to resume from
//!   ([`error.resume_page()`](crate::Error::resume_page), then `.page(n)`).
//!   [`strict(false)`](crate::List::strict) lets a walk that does not add up
//!   end without an error, with a warning in the log and `consistent: false`
//!   in its summary: `collect_with_summary()` returns that summary with the
//!   items, where `collect_all()` would drop it.
//! - An answer that contradicts its request is never delivered as its
//!   answer: items whose `resource_type` is not the one asked for (a server
//!   or proxy that dropped the filter), or more items than `per_page` asked,
//!   end the call or walk with an `Inconsistent` error that names the
//!   contradiction (the report: a warning and exit 3, no foreign row).
//! - [`on_progress(|p| ...)`](crate::List::on_progress) after each page, for
//!   a progress bar; a `tracing` span per page.
//!
//! # Why two looks
//!
//! A single look at a listing proves nothing of it when its order is not
//! documented: a deletion and a creation between two page reads keep every
//! total where it was and hide one snapshot, and no answer shows it (the
//! crate's earlier proof rested on new snapshots being listed last, dated by
//! the clock of the `Date` header, which DigitalOcean never said and the
//! evidence contradicts). So every listing longer than a page is read twice
//! with a count between: about twice the requests and, when it fits one
//! window, four round trips instead of two or three (the decision of issue
//! 27).
//!
//! # Memory
//!
//! The listing is never held. What grows with it is the set of ids kept to
//! deliver each item once, which `dedup(false)` turns off: one table per
//! form (4 bytes for a numeric id up to `u32::MAX`, 8 for a larger one, 16
//! for a UUID, the whole string otherwise), with a quarter more for free
//! slots (open addressing at a load of 4/5: no control bytes, no rounding up
//! to a power of two), sized once from the first page's total so it never
//! doubles mid-walk. That is 5 bytes an item for numeric ids and 20 for
//! UUIDs: about 12 MB for the fake account's million (60% numeric, 40%
//! UUIDs). The window adds what is in flight or buffered ahead: a fast
//! consumer closes it to 8 pages (about 1.3 MB at 200 snapshots); it holds
//! up to 64 (about 10 MB) while the network is the slower side.
//!
//! # Where it is decided
//!
//! Each part of the guarantee, where the engine decides it, and the tests
//! that break it on purpose (`.ci/guarantee-tests` checks that each named
//! test exists). The items named in code are private (`cargo doc
//! --document-private-items` shows them).
//!
//! - **Order and window.** A pass requests pages in increasing order,
//!   the walk's first page alone (it gives the total and the server's
//!   real page size), then up to `concurrency` at once, and yields them
//!   in the order requested (`WalkState::refill`). Dropping the walk
//!   drops the fetches and aborts their tasks. Broken on purpose by:
//!   `an_unchanging_listing_in_any_order_is_proven`,
//!   `dropping_a_stream_stops_its_requests`.
//! - **The end of a pass** is the page its own total names as the last,
//!   when that page is short or holds what the total says; a full page
//!   where the total says the listing has ended is read past; a short
//!   page before the end by its own total is a hole and is read past
//!   (`Paging::read`, in `walk/paging.rs`). Broken on purpose by:
//!   `a_hole_is_read_again`,
//!   `a_total_that_halves_after_page_two_is_not_a_short_list`,
//!   `a_server_that_caps_the_page_size_is_followed_at_its_size`.
//! - **Once.** Ids are kept as exact keys (`walk/keys.rs`); an item whose
//!   id was delivered is never delivered again (`WalkState::read_page`).
//!   Broken on purpose by: `a_limit_counts_distinct_items`,
//!   `look_alike_ids_are_different_snapshots`.
//! - **Proof.** A listing that fit its first page, short and whole by its
//!   own total, is proven by that page. Any other is read again after a
//!   count taken alone between the two passes, with another page size
//!   (other addresses than the first pass, which a cache in front of the
//!   API has not seen; a walk resumed from a later page keeps its size,
//!   so its start stays where it was); it is proven when the snapshots seen on both
//!   sides of a count reach it (`walk/proof.rs` gives the argument,
//!   `walk/pass.rs` decides). A listing that keeps changing is read
//!   again, up to `max_passes` times; then the walk ends with
//!   [`ErrorKind::Inconsistent`]
//!   (`WalkState::end_pass`, in `walk/end.rs`). Broken on purpose by:
//!   `a_walk_that_ends_ok_missed_nothing_under_any_change`,
//!   `without_the_count_a_changing_listing_is_not_proven`,
//!   `a_burst_of_changes_then_quiet_is_proven`,
//!   `reads_that_go_back_in_time_are_exact_or_fail`,
//!   `a_server_whose_every_page_is_page_one_is_never_proven`,
//!   `a_count_taken_after_the_rows_never_hides_a_deletion`,
//!   `retention_create_one_delete_one`,
//!   `late_completing_snapshots_while_the_oldest_goes`,
//!   `total_counted_after_the_next_change`.
//! - **Progress or stop.** A page that brings nothing new to its pass
//!   counts against a budget of `STALL_BUDGET` (3, plus the window) in a
//!   row, per pass; every request counts against `max_pages`
//!   (`WalkState::read_page`, `WalkState::refill`). Broken on purpose
//!   by: `a_server_that_repeats_page_one_forever_is_stopped`,
//!   `a_total_of_i64_max_over_a_short_listing_is_bounded_and_reported`,
//!   `a_listing_that_never_settles_ends_with_the_summary`.
//!
//! # Layout
//!
//! - `walk.rs` (here): `WalkState`, its parts, and the loop of
//!   `WalkState::next`: start, refill, read, end.
//! - `walk/paging.rs`: which page is fetched next, when a pass is over,
//!   and the page arithmetic (`paging::Paging`).
//! - `walk/in_flight.rs`: the fetches in flight and the one way to cancel
//!   them; a panic in a fetch task resumes in the caller.
//! - `walk/window.rs`: how many pages the walk asks for at once.
//! - `walk/read.rs`: reading one page or count (its facts, new items,
//!   the limit, delivery).
//! - `walk/pass.rs`: what one pass read, and the verdict at its end.
//! - `walk/proof.rs`: the counts between passes and the snapshots seen
//!   around each: the argument that makes a walk whole.
//! - `walk/end.rs`: the end of a pass: finish, count and read again, or
//!   fail.
//! - `walk/keys.rs`: exact, small de-duplication keys, kept in the
//!   compact table of `walk/keys/table.rs`.
//! - `walk/options.rs`: the settings of a walk.
//!
//! [`List::pages`]: crate::List::pages
//! [`List::items`]: crate::List::items
//! [`List::collect_all`]: crate::List::collect_all
//! [`List::collect_with_summary`]: crate::List::collect_with_summary
//! [`WalkSummary`]: crate::WalkSummary
//! [`ErrorKind::Inconsistent`]: crate::ErrorKind::Inconsistent
//! [benchmarks]: https://github.com/digitalocean-snapshots/digitalocean-snapshots/blob/main/benches/README.md

mod end;
mod in_flight;
mod keys;
mod options;
mod paging;
mod pass;
mod proof;
mod read;
#[cfg(test)]
mod tests;
mod window;

pub(crate) use options::{ListOptions, read_summary};

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing::Instrument;

use crate::client::{CallOptions, Client};
use crate::endpoints::{Endpoint, MAX_PER_PAGE, PageRequest};
use crate::error::{Error, Result};
use crate::model::{Page, WalkSummary};
use in_flight::{InFlight, Role};
use keys::Seen;
use paging::Paging;
use pass::Pass;
use proof::Evidence;
use window::Window;

/// The most pages a walk may fetch at once, and its default cap (the
/// window adapts below it: `walk/window.rs`).
pub(crate) const MAX_CONCURRENCY: usize = 64;
/// The default cap of a walk's window.
pub(crate) const DEFAULT_CONCURRENCY: usize = MAX_CONCURRENCY;
/// The most requests one walk makes by default, every pass included:
/// DigitalOcean's hourly budget, so a walk that needed more could not
/// finish within an hour anyway.
pub(crate) const DEFAULT_MAX_PAGES: u64 = 5_000;
/// The most passes over the listing by default: the walk, the second
/// look every longer listing needs, and four more for one that changed
/// (or whose batches of equal `created_at` the server lists in a new
/// order each time: each pass may miss a few, and the count needs every
/// snapshot on both sides of it).
pub(crate) const DEFAULT_MAX_PASSES: u32 = 6;
/// Pages per pass that may hold items without anything new to the pass.
pub(crate) const STALL_BUDGET: u32 = 3;

/// One walk over a listing; [`WalkState::next`] yields its pages.
pub(crate) struct WalkState<E: Endpoint> {
    /// What is read, and with which settings.
    source: Source<E>,
    /// Which pages the current pass has read and reads next.
    paging: Paging,
    /// The fetches in flight, in the order they are yielded.
    in_flight: InFlight<E::Item>,
    /// How many pages the walk's own pass asks for at once.
    window: Window,
    /// What the current pass saw.
    pass: Pass,
    /// The counts between passes and what was seen around them.
    evidence: Evidence,
    /// The page sizes the passes asked for so far (and the first pass's
    /// served size): a later pass asks for one not among them.
    sizes: Vec<u64>,
    /// The size the server served the first pass.
    reference_size: u64,
    /// The current pass has been read to its end (its verdict, a count
    /// after it): an error from here on resumes at the start.
    pass_over: bool,
    /// The ids delivered so far (empty with `dedup(false)`).
    seen: Seen,
    /// What bounds the walk besides its settings.
    bounds: Bounds,
    /// Where the walk stands, shared with its stream.
    report: Report,
    phase: Phase,
}

/// The listing a walk reads and how.
struct Source<E> {
    client: Client,
    endpoint: E,
    options: ListOptions,
}

/// What bounds a walk besides its settings.
struct Bounds {
    /// Requests the rate limit allows to start, as of the latest page.
    allowance: u64,
    /// When the whole walk must be over; set when it starts.
    deadline: Option<Instant>,
}

/// The walk's summary: its own copy, and the one its stream reads.
struct Report {
    local: WalkSummary,
    shared: Arc<Mutex<WalkSummary>>,
}

impl Report {
    fn publish(&self) {
        *crate::lock::lock(&self.shared) = self.local;
    }
}

/// Where a walk is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Nothing sent yet: the settings are checked on the first poll.
    Ready,
    Running,
    /// Over: [`WalkState::next`] yields nothing more.
    Over,
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
        options: ListOptions,
        summary: Arc<Mutex<WalkSummary>>,
    ) -> Self {
        let asked = options.per_page.unwrap_or(match options.limit {
            Some(n) => n.clamp(1, MAX_PER_PAGE),
            None => MAX_PER_PAGE,
        });
        let window = Window::new(options.concurrency);
        let first_page = options.page.unwrap_or(1);
        Self {
            paging: Paging::new(first_page, asked),
            source: Source {
                client,
                endpoint,
                options,
            },
            in_flight: InFlight::new(),
            window,
            pass: Pass::new(1),
            evidence: Evidence::default(),
            sizes: Vec::new(),
            reference_size: asked,
            pass_over: false,
            seen: Seen::default(),
            bounds: Bounds {
                allowance: u64::MAX,
                deadline: None,
            },
            report: Report {
                local: WalkSummary {
                    consistent: true,
                    passes: 1,
                    first_page,
                    ..WalkSummary::default()
                },
                shared: summary,
            },
            phase: Phase::Ready,
        }
    }

    /// The next page of the walk, `None` once it is over.
    pub(crate) async fn next(&mut self) -> Option<Result<Page<E::Item>>> {
        match self.phase {
            Phase::Over => return None,
            Phase::Ready => {
                if let Err(e) = self.begin() {
                    return self.fail(e);
                }
                if self.phase == Phase::Over {
                    return None;
                }
            }
            Phase::Running => {}
        }
        loop {
            if let Err(e) = self.refill() {
                return self.fail(e);
            }
            let Some(done) = self.in_flight.next().await else {
                match self.end_pass() {
                    Step::End(end) => return end,
                    _ => continue,
                }
            };
            let first_of_walk = self.pass.number == 1 && done.page <= self.paging.start();
            if done.role == Role::Page && !first_of_walk {
                let troubled = self.source.client.troubled();
                self.window.observe(done.took, done.waited, troubled);
            }
            let step = match (done.result, done.role) {
                (Ok(page), Role::Page) => self.read_page(done.page, page),
                (Ok(page), Role::Probe) => self.read_probe(page),
                (Err(e), _) => Step::End(self.fail_at(e, done.page)),
            };
            match step {
                Step::Deliver(page) => return Some(Ok(page)),
                Step::Continue => {}
                Step::End(end) => return end,
            }
        }
    }

    /// Checks the walk's own settings before the first request and starts
    /// its clock.
    fn begin(&mut self) -> Result<()> {
        self.source.options.check()?;
        self.phase = Phase::Running;
        if self.source.options.limit == Some(0) {
            self.finish(true);
            return Ok(());
        }
        let timer = self.source.client.timer();
        self.bounds.deadline = self
            .source
            .options
            .deadline
            .and_then(|d| crate::clock::deadline_after(timer.now(), d));
        Ok(())
    }

    /// Starts as many requests as the window, the plan, the limit, the
    /// ceiling and the rate limit allow. The walk's first page goes
    /// alone; so does a count between passes (the pass before it is over,
    /// and the next starts once it is read: `walk/end.rs`).
    fn refill(&mut self) -> Result<()> {
        let window = if self.pass.number == 1 && self.paging.nothing_read() {
            1
        } else {
            let client = &self.source.client;
            let gate = client.gate_limit();
            // Held under the gate while it is closed, so that it does not
            // burst past it the moment the gate lifts.
            self.window.clamp(gate);
            self.window
                .size(client.pace_room().min(gate), self.bounds.allowance)
        };
        let cap = self.limit_last();
        while self.in_flight.len() < window {
            let Some(page) = self.paging.next_wanted(cap) else {
                break;
            };
            self.check_ceiling("with the listing not yet read to its end")?;
            self.spawn(page, self.paging.asked(), Role::Page);
            self.paging.requested();
            self.bounds.allowance = self.bounds.allowance.saturating_sub(1);
        }
        Ok(())
    }

    /// The error once the walk has made `max_pages` requests, saying what
    /// was left to do.
    fn check_ceiling(&self, left: &str) -> Result<()> {
        if self.report.local.requests >= self.source.options.max_pages {
            return Err(Error::inconsistent(format!(
                "the walk reached its ceiling of {} requests (max_pages) {left}",
                self.source.options.max_pages
            )));
        }
        Ok(())
    }

    /// Asks for `page` of `per_page` items, for `role`.
    fn spawn(&mut self, page: u64, per_page: u64, role: Role) {
        let Source {
            client,
            endpoint,
            options,
        } = &self.source;
        let (client, endpoint) = (client.clone(), endpoint.clone());
        let request = PageRequest {
            page: Some(page),
            per_page: Some(per_page),
            call: CallOptions {
                policy: options.policy.clone(),
                deadline: self.bounds.deadline,
            },
        };
        let span = tracing::debug_span!("page", page, per_page, pass = self.pass.number);
        let fetch = async move {
            let started = client.timer().now();
            let page = endpoint.fetch(&client, &request).await;
            let took = client.timer().now().saturating_duration_since(started);
            (page, took)
        }
        .instrument(span);
        // The first page and a count have nothing to overlap.
        let prefetch = options.concurrency > 1
            && (self.pass.number > 1 || page > self.paging.start())
            && role == Role::Page;
        self.report.local.requests += 1;
        self.in_flight.push(page, fetch, prefetch, role);
    }

    /// The last page the limit can need, if every page read from here on
    /// brought a full page of new items.
    fn limit_last(&self) -> u64 {
        match self.source.options.limit {
            Some(limit) if self.pass.number == 1 => self
                .paging
                .last_for(limit.saturating_sub(self.report.local.items)),
            _ => u64::MAX,
        }
    }

    /// Ends the walk: nothing more is yielded, what is in flight is
    /// cancelled, the summary is published. The one way a walk ends.
    fn close(&mut self) {
        self.phase = Phase::Over;
        self.in_flight.cancel();
        self.report.publish();
    }

    /// Ends the walk without an error.
    fn finish(&mut self, consistent: bool) {
        self.report.local.complete = true;
        self.report.local.consistent = consistent;
        self.report.local.changed |= self.pass.totals_moved();
        self.close();
    }

    /// Ends the walk with `error`, at the page the pass stands on.
    fn fail(&mut self, error: Error) -> Option<Result<Page<E::Item>>> {
        let page = self.paging.first_unread();
        self.fail_at(error, page)
    }

    /// Ends the walk with `error`, met reading `page`: says how far the
    /// walk got and where to resume.
    fn fail_at(&mut self, error: Error, page: u64) -> Option<Result<Page<E::Item>>> {
        self.close();
        if error.is_invalid_input() {
            // Nothing was sent: there is nothing to resume.
            return Some(Err(error));
        }
        // Once the walk's own pass was read to its end (a count, a later
        // pass, or the end of a pass failed), a new walk has to start over.
        let resume = if self.pass.number == 1 && !self.pass_over {
            page
        } else {
            self.paging.start()
        };
        let local = self.report.local;
        Some(Err(error
            .with_walk_position(local.items, resume)
            .with_walk_summary(local)))
    }
}
