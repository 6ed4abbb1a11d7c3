//! The end of a pass: trust it, or read the listing again in the order
//! the change seen cannot fool, or end with what did not add up.

use super::paging::Direction;
use super::pass::{Pass, Verdict};
use super::{Step, WalkState};
use crate::endpoints::Endpoint;
use crate::error::Error;

impl<E: Endpoint> WalkState<E> {
    /// The pass read everything it planned: trust it and end the walk, or
    /// start a re-read, or end with the error that says what did not add
    /// up.
    pub(super) fn end_pass(&mut self) -> Step<E::Item> {
        let local = self.report.local;
        if self.source.options.limit.is_some() && local.complete {
            self.finish(true);
            return Step::End(None);
        }
        let latest = local.total_at_end.unwrap_or(0);
        match self.sweep_batches(latest) {
            Ok(true) => return Step::Continue,
            Ok(false) => {}
            Err(e) => return Step::End(self.fail(e)),
        }
        let reason = match self.pass.verdict(self.paging.expected_items(latest)) {
            Verdict::Trusted => {
                self.finish(true);
                return Step::End(None);
            }
            Verdict::Untrusted(reason) => reason,
        };
        self.report.local.changed = true;
        let fingerprint = self.pass.fingerprint();
        let repeated =
            self.pass.number > 1 && self.history.previous_fingerprint == Some(fingerprint);
        let options = &self.source.options;
        if repeated || self.pass.number >= options.max_passes || !options.dedup {
            let why = if repeated {
                "the server gave the same answers twice"
            } else if options.dedup {
                "it did not settle"
            } else {
                "dedup(false) keeps no ids to re-read it by"
            };
            let reason = format!(
                "after {} passes ({why}): {reason}; {} items delivered, latest total {latest}",
                self.pass.number, local.items
            );
            return Step::End(self.unsettled(reason));
        }
        tracing::info!(pass = self.pass.number, %reason, "the listing changed while it was read: reading it again");
        self.history.previous_fingerprint = Some(fingerprint);
        self.start_reread(latest);
        Step::Continue
    }

    /// Starts the next pass: downwards, one page at a time, the order no
    /// change the API allows can fool (see `walk/pass.rs`).
    fn start_reread(&mut self, latest: u64) {
        let direction = Direction::Descending;
        let number = self.pass.number + 1;
        self.pass = Pass::new(number, direction);
        self.report.local.passes = number;
        self.paging.restart(direction, latest);
        self.report.publish();
    }

    /// A walk whose passes did not settle: an error, or under
    /// `strict(false)` an end with `consistent: false` and a warning.
    fn unsettled(
        &mut self,
        reason: String,
    ) -> Option<crate::error::Result<crate::model::Page<E::Item>>> {
        if self.source.options.strict {
            self.report.local.consistent = false;
            let page = self.paging.position();
            return self.fail_at(Error::inconsistent(reason), page);
        }
        tracing::warn!("the listing does not add up: {reason}");
        self.finish(false);
        None
    }
}
