//! The end of a pass: trust it, or read the listing again in the order
//! the change seen cannot fool, or end with what did not add up.

use super::pass::{Direction, Pass, Verdict};
use super::{Step, WalkState};
use crate::endpoints::Endpoint;
use crate::error::{Error, Result};
use crate::model::Page;

impl<E: Endpoint> WalkState<E> {
    /// The pass read everything it planned: trust it and end the walk, or
    /// start a re-read, or end with the error that says what did not add
    /// up.
    pub(super) fn end_pass(&mut self) -> Step<E::Item> {
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
}
