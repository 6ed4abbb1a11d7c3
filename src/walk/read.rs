//! Reading one answer: a page of a pass (its facts, the items it
//! brings, the limit, delivery) or the count between two passes.

use super::keys::ItemKey;
use super::paging::After;
use super::pass::PageFacts;
use super::proof::{pass_stage, probe_stage};
use super::{STALL_BUDGET, Step, WalkState};
use crate::endpoints::Endpoint;
use crate::error::Error;
use crate::model::{Page, Progress};

impl<E: Endpoint> WalkState<E> {
    /// Reads page `number` of the current pass: its facts, its new
    /// items, the limit; lets the paging plan what comes next.
    pub(super) fn read_page(&mut self, number: u64, mut page: Page<E::Item>) -> Step<E::Item> {
        let count = page.items.len() as u64;
        if self.pass.reads() == 0 && number == self.paging.start() {
            self.first_page(&page);
        }
        self.note_total(&page);
        let facts = PageFacts {
            page: number,
            first_page: self.paging.start(),
            size: self.paging.size(),
            offset: self.paging.offset(number),
            count,
            total: page.total,
        };
        self.pass.page(&facts);
        if self.pass.reads() == 1 && repeats_within::<E>(&page.items) {
            self.pass
                .contradict(format!("page {number} lists a snapshot twice"));
        }
        let new_to_pass = self.keep_new(&mut page, pass_stage(self.pass.number));
        if let Some(error) = self.stall(number, new_to_pass) {
            return Step::End(self.fail_at(error, number));
        }
        if self.paging.read(number, count, page.total) == After::End {
            // Pages requested past the end were wasted; stop them.
            self.in_flight.cancel();
        }
        let limit_reached = self.apply_limit(&mut page);
        let step = self.deliver(Some(number), page);
        if limit_reached {
            self.finish(true);
        }
        step
    }

    /// Reads the count taken after the current pass: its total is what
    /// the next pass must account for; its rows (a listing that grew past
    /// it) are delivered like any page's.
    pub(super) fn read_probe(&mut self, mut page: Page<E::Item>) -> Step<E::Item> {
        self.note_total(&page);
        let clean = self.pass.contradiction().is_none();
        self.evidence
            .probe_answered(self.pass.number, page.total, clean);
        self.keep_new(&mut page, probe_stage(self.pass.number));
        let limit_reached = self.apply_limit(&mut page);
        if !limit_reached {
            self.start_pass();
        }
        let step = self.deliver(None, page);
        if limit_reached {
            self.finish(true);
        }
        step
    }

    /// The totals and rate-limit word every answer carries.
    fn note_total(&mut self, page: &Page<E::Item>) {
        let local = &mut self.report.local;
        local.total_at_start.get_or_insert(page.total);
        local.total_at_end = Some(page.total);
        if let Some(rate) = &page.rate_limit {
            self.bounds.allowance = rate.remaining;
        }
    }

    /// On a pass's first page: the server's real page size; on the
    /// walk's, also the window a total like this one allows, and room for
    /// its ids.
    fn first_page(&mut self, page: &Page<E::Item>) {
        let count = page.items.len() as u64;
        self.paging.learn_size(count, page.total);
        if self.pass.number > 1 {
            return;
        }
        let pages = self.paging.last_by_total(page.total) - self.paging.start() + 1;
        let options = &self.source.options;
        self.window.open(pages, options.max_pages);
        if options.dedup {
            let keys: Vec<ItemKey> = page.items.iter().map(|i| ItemKey::of(E::id(i))).collect();
            let room = options.max_pages.saturating_mul(self.paging.asked());
            let wanted = options.limit.unwrap_or(u64::MAX);
            self.seen
                .reserve(page.total.min(room).min(wanted), keys.iter());
        }
    }

    /// Counts a page that brought nothing new to its pass; the error when
    /// too many came in a row (a pass reads past a total that says it has
    /// ended, so it needs a guard against a server repeating itself).
    fn stall(&mut self, number: u64, new_to_pass: u64) -> Option<Error> {
        if new_to_pass > 0 || !self.source.options.dedup {
            self.pass.stalled = 0;
            return None;
        }
        self.pass.stalled += 1;
        // Prefetched pages served out of order while snapshots are deleted
        // can each repeat what a later page brought: a window of them in
        // a row (or as many as are still in flight, asked for when the
        // window was wider) is no sign of a server repeating itself.
        let ahead = self.window.current().max(self.in_flight.len() + 1);
        let window = u32::try_from(ahead).unwrap_or(u32::MAX);
        self.window.stalled();
        let budget = STALL_BUDGET.saturating_add(window.saturating_sub(1));
        (self.pass.stalled >= budget).then(|| {
            Error::inconsistent(format!(
                "{} pages in a row brought nothing new to the pass (the latest: page {number}); the server repeats itself",
                self.pass.stalled
            ))
        })
    }

    /// Cuts the page to the room the limit leaves; true when the limit is
    /// reached with it.
    pub(super) fn apply_limit(&self, page: &mut Page<E::Item>) -> bool {
        let Some(limit) = self.source.options.limit else {
            return false;
        };
        let room = limit.saturating_sub(self.report.local.items);
        page.items
            .truncate(usize::try_from(room).unwrap_or(usize::MAX));
        self.report.local.items + page.items.len() as u64 >= limit
    }

    /// Drops the items already delivered, records every item's sighting
    /// at `stage` (`walk/proof.rs`), and counts those a later pass
    /// recovers; returns the items new to this pass.
    fn keep_new(&mut self, page: &mut Page<E::Item>, stage: u8) -> u64 {
        if !self.source.options.dedup {
            return page.items.len() as u64;
        }
        let mut new_to_pass = 0;
        let before = page.items.len();
        let (seen, evidence) = (&mut self.seen, &mut self.evidence);
        page.items.retain(|item| {
            let key = ItemKey::of(E::id(item));
            let previous = seen.sight(key, |previous| evidence.sighting(previous, stage));
            let new = previous.is_none_or(|last| last < stage);
            new_to_pass += u64::from(new);
            previous.is_none()
        });
        let dropped = (before - page.items.len()) as u64;
        if stage == pass_stage(1) {
            self.report.local.duplicates += dropped;
        } else {
            // A count or a later pass.
            self.report.local.recovered += page.items.len() as u64;
        }
        new_to_pass
    }

    /// Delivers what is left of page `number` of the pass (`None`: the
    /// count between two passes), or reads on when nothing is (the walk's
    /// first page is delivered even when empty).
    pub(super) fn deliver(&mut self, number: Option<u64>, page: Page<E::Item>) -> Step<E::Item> {
        let local = &mut self.report.local;
        let deliver = !page.items.is_empty() || (self.pass.number == 1 && local.pages == 0);
        if deliver {
            local.pages += 1;
            local.items += page.items.len() as u64;
        }
        self.report.publish();
        if number.is_some() || deliver {
            self.report_progress(number, page.total);
        }
        let number = number.unwrap_or(page.page);
        if !deliver {
            return Step::Continue;
        }
        tracing::debug!(
            page = number,
            items = page.items.len(),
            total = page.total,
            pass = self.pass.number,
            "page delivered"
        );
        Step::Deliver(page)
    }

    /// Tells the caller's progress callback where the walk is after page
    /// `number` of the current pass (`None`: the count before it, which
    /// delivered snapshots, before the pass read a page): against this
    /// pass's own count of pages (a later pass reads the listing again at
    /// another size), and never more pages or items than it expects.
    fn report_progress(&self, number: Option<u64>, total: u64) {
        let Some(progress) = &self.source.options.progress else {
            return;
        };
        if number.is_none() && self.pass_over {
            // The count's rows reached the limit: no new pass began, and
            // the one before already reported its last page.
            return;
        }
        let start = self.paging.start();
        let last = self
            .paging
            .last_by_total(total)
            .min(self.limit_last())
            .max(number.unwrap_or(start));
        let local = &self.report.local;
        let listed = total.saturating_sub(self.paging.offset(start));
        let wanted = self.source.options.limit.map_or(listed, |l| l.min(listed));
        progress(&Progress {
            pass: self.pass.number,
            pages: number.map_or(0, |number| number.saturating_sub(start) + 1),
            page_count: last.saturating_sub(start) + 1,
            items: local.items,
            expected_items: wanted.max(local.items),
            total,
        });
    }
}

/// Whether a page lists one id twice (a page that is the whole listing
/// must not: it would hide the snapshot it stands in for).
fn repeats_within<E: Endpoint>(items: &[E::Item]) -> bool {
    let mut ids = std::collections::HashSet::with_capacity(items.len());
    items
        .iter()
        .any(|item| !ids.insert(ItemKey::of(E::id(item))))
}
