//! One pass over the listing: what it read, what changed while it read,
//! and whether what it read can be trusted.
//!
//! # Why a pass can be trusted
//!
//! The API pages by offset over a live list, and says only `meta.total`.
//! A change shifts the items after it by the number inserted or deleted,
//! so an item can slide across a page boundary that was already read and
//! be skipped:
//!
//! - reading pages **in increasing order, one at a time**, an insertion
//!   anywhere only pushes unread items further on (a repeat, never a
//!   skip); only a deletion before the boundary can skip one, and a
//!   deletion lowers the total;
//! - reading **in decreasing order, one at a time**, a deletion anywhere
//!   only pulls unread items further back; only an insertion below the
//!   boundary can skip one, and an insertion raises the total;
//! - reading **several pages at once**, pages are served in any order, so
//!   any change can skip an item: only a total that never moves proves
//!   nothing changed.
//!
//! So a pass is trusted when the totals it saw never moved in the
//! direction that can skip, no page contradicted its own total, and, when
//! nothing changed at all, the count adds up. What no client of this API
//! can see is a change that leaves the total where it was between two
//! reads (as many created as deleted in between): the README says so.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::keys::ItemKey;
use super::paging::Direction;

/// What one pass saw.
#[derive(Debug)]
pub(super) struct Pass {
    /// 1 for the walk itself, 2 and on for re-reads.
    pub(super) number: u32,
    pub(super) direction: Direction,
    /// Pages were requested before the previous one was read.
    pub(super) overlapped: bool,
    /// The total of the latest page read (for a re-read, the walk's latest
    /// total before it started).
    last_total: Option<u64>,
    /// The first total of the pass, and the extremes of the others: pages
    /// read at once are served in any order, so only these say which way
    /// the listing moved.
    first_total: Option<u64>,
    lowest: u64,
    highest: u64,
    /// Between two pages read one after the other.
    increased: bool,
    decreased: bool,
    /// The first page that disagreed with its own total, or repeated items
    /// while nothing changed.
    contradiction: Option<String>,
    /// Items read twice in this pass.
    repeats: u64,
    /// Pages that brought nothing new to this pass.
    pub(super) stalled: u32,
    /// Distinct items read in this pass.
    pub(super) read: u64,
    /// Only for re-reads: the ids this pass read (the walk's own pass uses
    /// the walk's set).
    seen: Option<HashSet<ItemKey>>,
    fingerprint: DefaultHasher,
}

/// Whether a finished pass can be trusted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Trusted,
    Untrusted(String),
}

impl Pass {
    pub(super) fn new(number: u32, direction: Direction, total_before: Option<u64>) -> Self {
        Self {
            number,
            direction,
            overlapped: false,
            last_total: total_before,
            first_total: total_before,
            lowest: u64::MAX,
            highest: 0,
            increased: false,
            decreased: false,
            contradiction: None,
            repeats: 0,
            stalled: 0,
            read: 0,
            seen: (number > 1).then(HashSet::new),
            fingerprint: DefaultHasher::new(),
        }
    }

    /// Records a page's total.
    pub(super) fn total(&mut self, page: u64, total: u64) {
        if let Some(before) = self.last_total {
            self.increased |= total > before;
            self.decreased |= total < before;
        }
        self.last_total = Some(total);
        if self.first_total.is_none() {
            self.first_total = Some(total);
        } else {
            self.lowest = self.lowest.min(total);
            self.highest = self.highest.max(total);
        }
        (page, total).hash(&mut self.fingerprint);
    }

    /// Records the first contradiction of the pass.
    pub(super) fn contradict(&mut self, what: impl FnOnce() -> String) {
        if self.contradiction.is_none() {
            self.contradiction = Some(what());
        }
    }

    /// Records one item read; true when it is new to this pass. `new_to_walk`
    /// says whether the walk had not delivered it yet.
    pub(super) fn item(&mut self, key: &ItemKey, new_to_walk: bool) -> bool {
        key.hash(&mut self.fingerprint);
        let new_to_pass = match &mut self.seen {
            Some(seen) => seen.insert(key.clone()),
            None => new_to_walk,
        };
        if new_to_pass {
            self.read += 1;
        } else {
            self.repeats += 1;
        }
        new_to_pass
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

    pub(super) fn changed(&self) -> bool {
        self.increased || self.decreased
    }

    /// The listing grew during the pass: between two pages read one after
    /// the other, or (pages read at once) above its first total.
    pub(super) fn increased(&self) -> bool {
        if self.overlapped {
            self.first_total.is_some_and(|first| self.highest > first)
        } else {
            self.increased
        }
    }

    /// The listing shrank during the pass (see [`Self::increased`]).
    pub(super) fn decreased(&self) -> bool {
        if self.overlapped {
            self.first_total.is_some_and(|first| self.lowest < first)
        } else {
            self.decreased
        }
    }

    /// Whether what the pass read can be trusted: see the module docs.
    /// `expected` is the count a listing that did not change must hold
    /// (the latest total, less the pages before the start).
    pub(super) fn verdict(&self, expected: u64) -> Verdict {
        if let Some(contradiction) = &self.contradiction {
            return Verdict::Untrusted(contradiction.clone());
        }
        if !self.changed() {
            if self.repeats > 0 {
                return Verdict::Untrusted(format!(
                    "{} items came twice while the total stayed put",
                    self.repeats
                ));
            }
            if self.read != expected {
                return Verdict::Untrusted(format!(
                    "{} distinct items read, but the total says {expected}",
                    self.read
                ));
            }
            return Verdict::Trusted;
        }
        let skip_possible = match (self.direction, self.overlapped) {
            (_, true) => true,
            (Direction::Ascending, false) => self.decreased,
            (Direction::Descending, false) => self.increased,
        };
        if skip_possible {
            let how = match (self.increased(), self.decreased()) {
                (true, true) => "grew and shrank",
                (true, false) => "grew",
                _ => "shrank",
            };
            Verdict::Untrusted(format!("the listing {how} while it was read"))
        } else {
            Verdict::Trusted
        }
    }
}
