//! The end of a pass: the walk is proven and over, or it takes a count
//! and reads the listing again, or it ends with what did not add up.

use super::in_flight::Role;
use super::paging::{self, Paging};
use super::pass::{self, Pass, Verdict};
use super::proof::{PASS_CEILING, pass_stage};
use super::{Step, WalkState};
use crate::endpoints::{Endpoint, MAX_PER_PAGE};
use crate::error::Error;

impl<E: Endpoint> WalkState<E> {
    /// The pass read everything it planned: end the walk proven, or take
    /// a count and read again, or end with the error that says what did
    /// not add up.
    pub(super) fn end_pass(&mut self) -> Step<E::Item> {
        self.pass_over = true;
        let local = self.report.local;
        let latest = local.total_at_end.unwrap_or(0);
        let before_start = self.paging.offset(self.paging.start());
        if let Some((lowest, highest)) = self.pass.totals() {
            self.evidence.pass_ended(self.pass.number, lowest, highest);
        }
        let verdict = pass::verdict(
            &self.pass,
            &self.evidence,
            before_start,
            self.source.options.dedup,
        );
        let why = match verdict {
            Verdict::Proven(proof) => {
                self.report.local.proof = Some(proof);
                // Every snapshot there at the count was seen again by
                // this pass (`walk/proof.rs`): one it did not see was
                // deleted while the walk read.
                if self.pass.number > 1 {
                    let vanished = self.seen.count_below(pass_stage(self.pass.number));
                    self.report.local.vanished = vanished;
                    self.report.local.changed |= vanished > 0;
                }
                self.report.local.changed |= self.pass.number > 2;
                self.finish(true);
                return Step::End(None);
            }
            Verdict::Unprovable(why) => {
                let reason = format!(
                    "{why}; {} items delivered, latest total {latest}",
                    local.items
                );
                return Step::End(self.unsettled(reason));
            }
            Verdict::ReadAgain(why) => why,
        };
        let passes = self.source.options.max_passes.min(PASS_CEILING);
        // Two passes in a row whose pages contradicted their own totals:
        // a server whose totals lie, not a listing that moved.
        let lying = self.pass.contradiction().is_some() && self.evidence.last_pass_contradicted();
        if lying {
            let reason = format!(
                "two passes in a row contradicted the server's own totals: {why}; {} items delivered, latest total {latest}",
                local.items
            );
            return Step::End(self.unsettled(reason));
        }
        if self.pass.number >= passes {
            let reason = format!(
                "after {} passes it did not settle: {why}; {} items delivered, latest total {latest}",
                self.pass.number, local.items
            );
            return Step::End(self.unsettled(reason));
        }
        if self.pass.number > 1 {
            self.report.local.changed = true;
            tracing::info!(pass = self.pass.number, %why, "the listing changed while it was read: reading it again");
        }
        if let Err(e) = self.check_ceiling("with a count to take before the listing is read again")
        {
            return Step::End(self.fail(e));
        }
        self.start_probe(latest);
        Step::Continue
    }

    /// Asks, alone, for a page past the end of the listing: its total is
    /// the count the next pass is held to (`walk/proof.rs`). Its size and
    /// page are drawn at random, so its address is one no earlier request
    /// (of this walk or, most likely, of one before it) used: a cache in
    /// front of the API cannot answer it with an old count.
    fn start_probe(&mut self, latest: u64) {
        self.note_sizes();
        // From the upper half: a server that answers more than a small
        // size asks for is refused as contradicting the request.
        let fresh: Vec<u64> = (MAX_PER_PAGE / 2..=MAX_PER_PAGE)
            .filter(|s| !self.sizes.contains(s))
            .collect();
        let per_page = fresh
            .get(fastrand::usize(..fresh.len().max(1)))
            .copied()
            .or_else(|| (1..=MAX_PER_PAGE).rev().find(|s| !self.sizes.contains(s)))
            .unwrap_or_else(|| fastrand::u64(MAX_PER_PAGE / 2..=MAX_PER_PAGE));
        self.sizes.push(per_page);
        let page = Paging::beyond(latest, per_page, fastrand::u64(0..16));
        self.spawn(page, per_page, Role::Probe);
    }

    /// On the first count: the sizes the first pass asked for and was
    /// served, which no later request asks for again.
    fn note_sizes(&mut self) {
        if self.sizes.is_empty() {
            self.reference_size = self.paging.size();
            self.sizes.push(self.paging.asked());
            self.sizes.push(self.paging.size());
        }
    }

    /// Starts the next pass after a count: from the start page, with a
    /// page size no pass asked for (`paging::next_size`).
    pub(super) fn start_pass(&mut self) {
        self.note_sizes();
        // A walk resumed from a later page keeps its page size, so its
        // start stays at the same offset (its addresses repeat: the
        // `walk` module docs say what that leaves to a cache).
        let size = if self.paging.start() > 1 {
            self.paging.size()
        } else {
            paging::next_size(self.reference_size, &self.sizes)
        };
        self.sizes.push(size);
        let number = self.pass.number + 1;
        self.pass = Pass::new(number);
        self.pass_over = false;
        self.report.local.passes = number;
        let latest = self.report.local.total_at_end.unwrap_or(0);
        self.paging.restart(size, latest);
        self.window.new_pass();
        self.report.publish();
    }

    /// A walk that did not add up: an error, or under `strict(false)` an
    /// end with `consistent: false` and a warning.
    fn unsettled(
        &mut self,
        reason: String,
    ) -> Option<crate::error::Result<crate::model::Page<E::Item>>> {
        self.report.local.changed = true;
        if self.source.options.strict {
            self.report.local.consistent = false;
            let page = self.paging.first_unread();
            return self.fail_at(Error::inconsistent(reason), page);
        }
        tracing::warn!("the listing does not add up: {reason}");
        self.finish(false);
        None
    }
}
