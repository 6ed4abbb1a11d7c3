//! One pass over the listing: what it read, and whether what it read can
//! be trusted.
//!
//! # Why a pass can be trusted
//!
//! The API pages by offset over a live list, oldest first, and says only
//! `meta.total`. What the API's order allows between two page reads:
//!
//! - **a creation** lands at the end (the newest snapshot is listed last,
//!   its `created_at` from the server's clock): it moves no other item;
//! - **a deletion**, anywhere, moves every later item back one place, so
//!   an item can slide across a page boundary already read and be
//!   skipped by a pass that reads upwards.
//!
//! A retention job does both (as many made as deleted), so the total
//! alone proves nothing. Two facts settle it:
//!
//! - **Reading downwards** (last page first, one at a time), neither can
//!   skip an item: a deletion pulls unread items further down (a repeat,
//!   never a skip), a creation moves nothing below it. Re-reads go this
//!   way. Such a pass is trusted when it started on the page that held
//!   the end, unless a total rose while it read and a page below that
//!   first one held snapshots made since it started: creations land at
//!   the end, above the pages still to read, so that is either more made
//!   than fill a page or a snapshot inserted before the end against the
//!   API's order (which pushes an unread one up past the boundary), and
//!   the listing is read once more rather than trusted. "Made since it
//!   started" is dated at or after the pass's clock start and no earlier
//!   than the newest snapshot on its first page: one clock stamps them
//!   all, so a snapshot dated before that one existed when the pass
//!   began, even within the clocks' tolerance.
//! - **Reading upwards** (the walk itself, prefetched or not), the pass
//!   counts the deletions it could have missed. Let `N0` be the total of
//!   its first page, read alone at server time `T0` (the `Date` header),
//!   and `N1` the total of its last read, the page that holds the end of
//!   the listing, requested when nothing else was in flight (so it was
//!   served after every other page of the pass). Every snapshot made in
//!   between has `created_at >= T0`, and sits at the end: when that last
//!   page also holds an older snapshot, the made ones are all on it, and
//!   counting them there (`C`) bounds them. The deletions in between are
//!   `N0 + made - N1 <= N0 + C - N1`. When that is 0, nothing was deleted
//!   while the pass read: no item moved, every page held what it held at
//!   `T0` plus creations, and the pass read everything that existed
//!   throughout. Otherwise (or when the bound cannot be computed: no
//!   `Date`, a last page of new snapshots only, a last page read while
//!   others were in flight) the pass is not trusted and a re-read
//!   downwards follows.
//!
//! Tolerances: `T0` is taken [`CLOCK_TOLERANCE`] early, so a snapshot made
//! just before the walk counts as made during it (a re-read that was not
//! needed, never a miss). Whatever the direction, a page must agree with
//! its own total, items must come in `created_at` order within and across
//! adjacent pages (a snapshot inserted in the middle breaks it), and a
//! pass upwards over a listing that lost nothing must read no item twice
//! and exactly the total, once every batch of snapshots made in one
//! second that a boundary splits was read whole (`walk/ties.rs`: their
//! order is not fixed, so such a batch can show one snapshot twice and
//! another not at all; read whole, it explains its repeats and gives what
//! was missed). Any of these failing is a contradiction: the pass is not
//! trusted, and a server that keeps contradicting itself ends the walk
//! with an error.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::keys::{ItemKey, Seen};
use super::paging::Direction;
use super::ties::{Edge, Group};

/// The most repeats whose time a pass keeps, to tell repeats a batch read
/// whole explains from others; any beyond it count as unexplained.
const REPEATS_KEPT: usize = 4096;

/// How much earlier than the first page's `Date` a snapshot may be dated
/// and still count as made during the pass: the server's clocks (the one
/// that stamps `Date`, the one that stamps `created_at`) may differ by
/// this much without a snapshot being missed.
pub(super) const CLOCK_TOLERANCE: Duration = Duration::from_secs(2);

/// The order of one page: its `created_at` range, and what it holds on
/// either side of the pass's clock.
#[derive(Clone, Copy, Debug)]
pub(super) struct PageOrder {
    pub(super) first: Option<DateTime<Utc>>,
    pub(super) last: Option<DateTime<Utc>>,
    /// Items in `created_at` order.
    pub(super) sorted: bool,
}

/// The latest page the pass read.
#[derive(Clone, Copy, Debug)]
struct LastRead {
    page: u64,
    total: u64,
    /// Requested when nothing else of the pass was in flight.
    alone: bool,
    /// Items made at or after the pass's clock start, and whether any
    /// older one was on the page.
    fresh: u64,
    held_older: bool,
    order: PageOrder,
}

/// What one pass saw.
#[derive(Debug)]
pub(super) struct Pass {
    /// 1 for the walk itself, 2 and on for re-reads.
    pub(super) number: u32,
    pub(super) direction: Direction,
    /// The total of the first page read, and its server time less the
    /// tolerance: what the upward bound counts from.
    first_total: Option<u64>,
    since: Option<DateTime<Utc>>,
    /// The pass has read its first page (a missing `Date` leaves `since`
    /// empty for good).
    started: bool,
    /// The first page read was the last one by its own total: a pass
    /// downwards started at the end of the listing.
    started_at_end: bool,
    last: Option<LastRead>,
    /// Pages read.
    reads: u64,
    /// The totals moved between two reads.
    moved: bool,
    /// A total above the first one of the pass, or above the one read
    /// just before it.
    grew: bool,
    /// A page other than the first read held snapshots made since the
    /// pass's clock start.
    fresh_below_top: bool,
    /// The newest `created_at` on the first page the pass read: a
    /// snapshot made after that page was served is dated no earlier (one
    /// clock stamps them all).
    top_newest: Option<DateTime<Utc>>,
    /// The first contradiction of the pass.
    contradiction: Option<String>,
    /// Items read twice in this pass.
    repeats: u64,
    /// Pages in a row that brought nothing new to this pass.
    pub(super) stalled: u32,
    /// Distinct items read in this pass.
    pub(super) read: u64,
    /// Only for re-reads: the ids this pass read (the walk's own pass uses
    /// the walk's set).
    seen: Option<Seen>,
    fingerprint: DefaultHasher,
    /// The `created_at` edges of every page read, by page number.
    edges: BTreeMap<u64, Edge>,
    /// When each repeated item was made (up to [`REPEATS_KEPT`]).
    repeated_at: Vec<DateTime<Utc>>,
    /// The batches straddling a boundary asked for whole so far
    /// (`walk/ties.rs`; a fetch's tag is its index here).
    pub(super) batches: Vec<Group>,
    /// The pass looked for batches once its pages were read.
    pub(super) swept: bool,
    /// Batches read whole since.
    whole: Vec<DateTime<Utc>>,
}

/// Whether a finished pass can be trusted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Trusted,
    Untrusted(String),
}

impl Pass {
    pub(super) fn new(number: u32, direction: Direction) -> Self {
        Self {
            number,
            direction,
            first_total: None,
            since: None,
            started: false,
            started_at_end: false,
            last: None,
            reads: 0,
            moved: false,
            grew: false,
            fresh_below_top: false,
            top_newest: None,
            contradiction: None,
            repeats: 0,
            stalled: 0,
            read: 0,
            seen: (number > 1).then(Seen::default),
            fingerprint: DefaultHasher::new(),
            edges: BTreeMap::new(),
            repeated_at: Vec::new(),
            batches: Vec::new(),
            swept: false,
            whole: Vec::new(),
        }
    }

    /// Records the `created_at` edges of page `page`.
    pub(super) fn edge(&mut self, page: u64, edge: Option<Edge>) {
        match edge {
            Some(edge) => self.edges.insert(page, edge),
            None => self.edges.remove(&page),
        };
    }

    /// The edges of the pages read, by page number.
    pub(super) fn edges(&self) -> &BTreeMap<u64, Edge> {
        &self.edges
    }

    /// The batch made at `at` was read whole in one page.
    pub(super) fn read_whole(&mut self, at: DateTime<Utc>) {
        self.whole.push(at);
    }

    /// Pages read by this pass.
    pub(super) fn reads(&self) -> u64 {
        self.reads
    }

    /// Makes the next page read the pass's first (a re-read whose first
    /// page turned out not to hold the end starts again from it); what
    /// it read and found stays.
    pub(super) fn start_over(&mut self) {
        self.started = false;
        self.started_at_end = false;
        self.first_total = None;
        self.since = None;
        self.last = None;
        self.reads = 0;
        self.grew = false;
        self.fresh_below_top = false;
        self.top_newest = None;
    }

    /// The pass's clock start (`None` before its first page, or without
    /// a `Date`).
    pub(super) fn since(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    /// Records a page's total and server time, before its items;
    /// `at_end` says it is the last page by its own total.
    pub(super) fn page(
        &mut self,
        page: u64,
        total: u64,
        date: Option<DateTime<Utc>>,
        at_end: bool,
    ) {
        if !self.started {
            self.started = true;
            self.started_at_end = at_end;
            self.first_total = Some(total);
            self.since = date.and_then(|d| d.checked_sub_signed(tolerance()));
        }
        if let Some(last) = self.last {
            self.moved |= last.total != total;
            self.grew |= total > last.total;
        }
        self.grew |= self.first_total.is_some_and(|first| total > first);
        self.reads += 1;
        (page, total).hash(&mut self.fingerprint);
    }

    /// Records the order of the page just read, and checks it against the
    /// page read before it.
    pub(super) fn order(
        &mut self,
        page: u64,
        total: u64,
        alone: bool,
        order: PageOrder,
        fresh: u64,
        held_older: bool,
    ) {
        if !order.sorted {
            self.contradict(|| format!("page {page} is not in created_at order"));
        }
        // Below the first page, a snapshot counts as made during the pass
        // only when it is also no older than the newest on that page: one
        // dated earlier existed before the pass began (it merely falls in
        // the clocks' tolerance, and sits below the first page whenever
        // that page holds few).
        if self.reads == 1 {
            self.top_newest = order.last;
        }
        let made_during = order
            .last
            .is_some_and(|newest| self.top_newest.is_none_or(|top| newest >= top));
        self.fresh_below_top |= fresh > 0 && made_during && self.reads > 1;
        // Pages read upwards one after the other stay in order whatever
        // the API's order allows between them (a deletion brings newer
        // items down, a creation moves nothing); read downwards, a
        // deletion legitimately brings newer items below older ones read
        // before, so only upward pairs are compared.
        if let Some(before) = self.last.filter(|l| l.page.checked_add(1) == Some(page))
            && let (Some(end), Some(start)) = (before.order.last, order.first)
            && start < end
        {
            self.contradict(|| {
                format!(
                    "pages {} and {page} are not in created_at order: a snapshot was inserted before the end",
                    before.page
                )
            });
        }
        // An empty page keeps the order of the page before it for the
        // next comparison.
        let order = match self.last {
            Some(before) if order.first.is_none() => PageOrder {
                first: before.order.last,
                last: before.order.last,
                sorted: true,
            },
            _ => order,
        };
        self.last = Some(LastRead {
            page,
            total,
            alone,
            fresh,
            held_older,
            order,
        });
    }

    /// Records the first contradiction of the pass.
    pub(super) fn contradict(&mut self, what: impl FnOnce() -> String) {
        if self.contradiction.is_none() {
            self.contradiction = Some(what());
        }
    }

    /// Records one item read, made at `created`; true when it is new to
    /// this pass. `new_to_walk` says whether the walk had not delivered it
    /// yet.
    pub(super) fn item(
        &mut self,
        key: &ItemKey,
        created: DateTime<Utc>,
        new_to_walk: bool,
    ) -> bool {
        key.hash(&mut self.fingerprint);
        let new_to_pass = match &mut self.seen {
            Some(seen) => seen.insert(key.clone()),
            None => new_to_walk,
        };
        if new_to_pass {
            self.read += 1;
        } else {
            self.repeats += 1;
            if self.repeated_at.len() < REPEATS_KEPT {
                self.repeated_at.push(created);
            }
        }
        new_to_pass
    }

    /// Repeats no batch read whole explains.
    fn unexplained_repeats(&self) -> u64 {
        let explained = self
            .repeated_at
            .iter()
            .filter(|at| self.whole.contains(at))
            .count() as u64;
        self.repeats - explained
    }

    /// Records items read without ids (`dedup(false)`): counted, never
    /// told apart.
    pub(super) fn unkeyed(&mut self, count: u64) {
        self.read += count;
        count.hash(&mut self.fingerprint);
    }

    /// A summary of everything this pass read, to tell two identical
    /// passes apart from two different ones.
    pub(super) fn fingerprint(&self) -> u64 {
        self.fingerprint.finish()
    }

    /// Whether the totals moved while the pass read.
    pub(super) fn changed(&self) -> bool {
        self.moved
    }

    /// Whether what the pass read can be trusted: see the module docs.
    /// `expected` is the count a listing that lost nothing must have given
    /// (the latest total, less the pages before the start).
    pub(super) fn verdict(&self, expected: u64) -> Verdict {
        if let Some(contradiction) = &self.contradiction {
            return Verdict::Untrusted(contradiction.clone());
        }
        match self.direction {
            // Neither a creation nor a deletion can skip an item read
            // downwards from the end; repeats are what deletions leave.
            Direction::Descending if !self.started_at_end => {
                Verdict::Untrusted("the listing grew past the page the re-read started from".into())
            }
            // New snapshots below the page the pass started on, while the
            // listing grew: either more were made than fill that page, or
            // one was inserted before the end against the API's order
            // (which can push an unread snapshot up past the boundary).
            // Without a `Date`, new snapshots cannot be told from old ones:
            // any rise is suspect.
            Direction::Descending
                if self.grew && (self.fresh_below_top || self.since.is_none()) =>
            {
                Verdict::Untrusted(
                    "the listing grew with new snapshots below the end while it was read again"
                        .into(),
                )
            }
            Direction::Descending => Verdict::Trusted,
            Direction::Ascending => match self.upward(expected) {
                Ok(()) => Verdict::Trusted,
                Err(reason) => Verdict::Untrusted(reason),
            },
        }
    }

    /// The upward bound of the module docs.
    fn upward(&self, expected: u64) -> Result<(), String> {
        if self.reads > 1 {
            self.nothing_deleted()?;
        }
        let repeats = self.unexplained_repeats();
        if repeats > 0 {
            return Err(format!(
                "{repeats} items came twice although nothing was deleted: the server's order is not stable"
            ));
        }
        if self.read != expected {
            return Err(format!(
                "{} distinct items read, but the total says {expected}",
                self.read
            ));
        }
        Ok(())
    }

    /// Whether this pass upwards read a listing that provably lost
    /// nothing while it read, and contradicted itself nowhere (repeats and
    /// a count short of the total aside: batches read whole may explain
    /// them).
    pub(super) fn unchanged(&self) -> bool {
        self.contradiction.is_none() && (self.reads <= 1 || self.nothing_deleted().is_ok())
    }

    /// Proves no snapshot was deleted between the pass's first read and
    /// its last, or says why it cannot.
    fn nothing_deleted(&self) -> Result<(), String> {
        let (Some(first), Some(last)) = (self.first_total, self.last) else {
            return Err("the pass read nothing".into());
        };
        if !last.alone {
            return Err(format!(
                "the pass ended on page {} while other pages were in flight",
                last.page
            ));
        }
        if self.since.is_none() {
            return Err(
                "the server sent no Date header: snapshots made during the walk cannot be told from older ones".into(),
            );
        }
        if !last.held_older {
            return Err(format!(
                "page {}, the end, holds only snapshots made during the walk",
                last.page
            ));
        }
        let deleted = i128::from(first) + i128::from(last.fresh) - i128::from(last.total);
        match deleted {
            0 => Ok(()),
            d if d > 0 => Err(format!(
                "{d} snapshot(s) deleted while it was read (total {first}, then {} with {} made since)",
                last.total, last.fresh
            )),
            d => Err(format!(
                "the listing grew by {} more than the snapshots made during the walk",
                -d
            )),
        }
    }
}

/// [`CLOCK_TOLERANCE`] as a `chrono` span.
pub(super) fn tolerance() -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(CLOCK_TOLERANCE).unwrap_or(chrono::TimeDelta::MAX)
}
