//! Reading batches of snapshots made in one second whole, where a page
//! boundary splits them (why: `walk/ties.rs`).
//!
//! A pass upwards that proved nothing was deleted while it read looks for
//! them once its pages are read; a pass downwards (read while the listing
//! changes) asks for each as soon as the page below the boundary is read,
//! so the batch has had little time to move before it is read whole.

use super::paging::Direction;
use super::ties::{self, Group};
use super::{Step, WalkState};
use crate::endpoints::{Endpoint, MAX_PER_PAGE};
use crate::error::Result;
use crate::model::Page;

impl<E: Endpoint> WalkState<E> {
    /// Once per pass, after its pages: asks for every batch a boundary
    /// may split that was not asked for yet. True when any was (the pass
    /// ends once they are read).
    pub(super) fn sweep_batches(&mut self, latest: u64) -> Result<bool> {
        if self.pass.swept || !self.source.options.dedup {
            return Ok(false);
        }
        self.pass.swept = true;
        // A pass upwards that cannot prove nothing was deleted is read
        // again anyway: its batches wait for that pass.
        let upward = self.pass.direction == Direction::Ascending;
        if upward && !self.pass.unchanged() {
            return Ok(false);
        }
        let paging = &self.paging;
        let groups = ties::groups(self.pass.edges(), |page| paging.offset(page));
        self.ask_batches(groups, latest)
    }

    /// In a pass downwards, once page `page` is read: asks at once for a
    /// batch it shares with the page above, when its start is on this
    /// page (a page of the batch alone may have more of it below).
    pub(super) fn ask_batch_above(&mut self, page: u64) {
        if !self.source.options.dedup {
            return;
        }
        let edges = self.pass.edges();
        let (Some(below), Some(above)) = (
            edges.get(&page),
            page.checked_add(1).and_then(|p| edges.get(&p)),
        ) else {
            return;
        };
        if !below.shares_batch(above) || below.uniform() {
            return;
        }
        let at = below.last;
        let paging = &self.paging;
        let groups: Vec<Group> = ties::groups(edges, |p| paging.offset(p))
            .into_iter()
            .filter(|g| g.at == at)
            .collect();
        let latest = self.report.local.total_at_end.unwrap_or(0);
        // A ceiling reached here is met again by the next request.
        let _ = self.ask_batches(groups, latest);
    }

    /// Asks for one page holding each of `groups` whole, but those made
    /// during the walk (not part of the guarantee) and those asked for
    /// already; a batch no page can hold whole is a contradiction.
    fn ask_batches(&mut self, groups: Vec<Group>, latest: u64) -> Result<bool> {
        let made_during = self
            .history
            .began
            // Later than the first page's `Date` by more than the clocks
            // may differ (`walk/pass.rs`): made during the walk.
            .and_then(|b| b.checked_add_signed(super::pass::tolerance()));
        // Any page size up to the API's, or up to the server's cap when
        // the first page showed one.
        let paging = &self.paging;
        let size = if paging.size() < paging.asked() {
            paging.size()
        } else {
            MAX_PER_PAGE
        };
        let mut asked = false;
        for group in groups {
            let new = made_during.is_some_and(|m| group.at > m);
            if new || self.pass.batches.iter().any(|b| b.at == group.at) {
                continue;
            }
            let Some((page, per_page)) = ties::window(group, latest, size) else {
                let (at, n) = (group.at, group.last.saturating_sub(group.first) + 1);
                self.pass.contradict(|| {
                    format!("{n} snapshots made at {at} straddle a page boundary and no page of up to {size} holds them with a neighbour on either side")
                });
                continue;
            };
            self.check_ceiling(
                "before it could read whole the batches of snapshots made in one second that page boundaries split",
            )?;
            self.pass.batches.push(group);
            self.spawn(page, per_page, Some(self.pass.batches.len() - 1));
            asked = true;
        }
        Ok(asked)
    }

    /// Reads the page asked for to hold batch `index` whole: delivers what
    /// the pass missed of it, or records that the listing moved under it.
    pub(super) fn read_batch(&mut self, index: usize, mut page: Page<E::Item>) -> Step<E::Item> {
        let Some(group) = self.pass.batches.get(index).copied() else {
            return Step::Continue;
        };
        let created: Vec<_> = page.items.iter().map(|i| E::created_at(i)).collect();
        if !ties::holds_whole(group, (page.page, page.per_page, page.total), &created) {
            let at = group.at;
            self.pass.contradict(|| {
                format!("the listing moved while the snapshots made at {at} were read in one page")
            });
            return Step::Continue;
        }
        self.pass.read_whole(group.at);
        let (seen, pass) = (&mut self.seen, &mut self.pass);
        page.items.retain(|item| {
            E::created_at(item) == group.at && super::read::note_item::<E>(seen, pass, item).0
        });
        self.report.local.recovered += page.items.len() as u64;
        let limit_reached = self.apply_limit(&mut page);
        // Progress counts against the pass's pages, not this page's size.
        let position = self.paging.position();
        let step = self.deliver(position, page);
        if limit_reached {
            self.finish(true);
        }
        step
    }
}
