//! Reading one page of a pass: its total against its count, the items it
//! brings, the limit, and delivery.

use super::keys::{ItemKey, Seen};
use super::paging::{After, Direction};
use super::pass::{PageOrder, Pass};
use super::ties::Edge;
use super::{STALL_BUDGET, Step, WalkState};
use crate::endpoints::Endpoint;
use crate::error::Error;
use crate::model::{Page, Progress};

impl<E: Endpoint> WalkState<E> {
    /// Reads page `number` (requested `alone` or not): its total, its
    /// count against the total, its order, its new items, the limit; lets
    /// the paging plan what comes next.
    pub(super) fn read_page(
        &mut self,
        number: u64,
        alone: bool,
        mut page: Page<E::Item>,
    ) -> Step<E::Item> {
        let count = page.items.len() as u64;
        if self.pass.number == 1 && number == self.paging.start() {
            self.first_page(&page);
        }
        let local = &mut self.report.local;
        local.total_at_start.get_or_insert(page.total);
        local.total_at_end = Some(page.total);
        if let Some(rate) = &page.rate_limit {
            self.bounds.allowance = rate.remaining;
        }
        let at_end = self.paging.last_by_total(page.total) <= number;
        self.pass.page(number, page.total, page.date, at_end);
        self.record_order(number, alone, &page);
        let expected = self.paging.expected_count(number, page.total);
        if count != expected {
            let total = page.total;
            self.pass.contradict(|| {
                format!(
                    "page {number} held {count} items where a total of {total} means {expected}"
                )
            });
        }
        let new_to_pass = self.keep_new(&mut page);
        if let Some(error) = self.stall(number, new_to_pass) {
            return Step::End(self.fail_at(error, number));
        }
        if self.paging.read(number, count, page.total) == After::End {
            // Pages requested past the end were wasted; stop them.
            self.in_flight.cancel();
        }
        // The listing shrank below the page this re-read started on (it
        // came back empty): no snapshot on it dates the pass's start.
        let shrank = count == 0 && self.paging.last_by_total(page.total) < number;
        if self.paging.direction() == Direction::Descending
            && self.pass.reads() == 1
            && (!at_end || shrank)
        {
            // The listing grew past the page this re-read started on, or
            // shrank below it: start it again from the new end (what was
            // read stays read).
            if shrank {
                self.paging.restart_lower(page.total);
            } else {
                self.paging.restart(Direction::Descending, page.total);
            }
            self.pass.start_over();
        }
        if self.paging.direction() == Direction::Descending {
            self.ask_batch_above(number);
        }
        let limit_reached = self.apply_limit(&mut page);
        let step = self.deliver(number, page);
        if limit_reached {
            self.finish(true);
        }
        step
    }

    /// On the walk's first page: the server's real page size, the window
    /// a total like this one allows, and room for its ids.
    fn first_page(&mut self, page: &Page<E::Item>) {
        let count = page.items.len() as u64;
        self.history.began = page.date;
        self.paging.learn_size(count, page.total);
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

    /// Counts a page that brought nothing new to a pass upwards; the error
    /// when too many came in a row. A pass downwards ends at the start
    /// whatever it reads; only one upwards, which reads past a total that
    /// says it has ended, needs a guard against a server repeating itself.
    fn stall(&mut self, number: u64, new_to_pass: u64) -> Option<Error> {
        if new_to_pass > 0 || !self.source.options.dedup || self.pass.number > 1 {
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

    /// Records the page's `created_at` order with the pass: its range, and
    /// how many of its items were made since the pass's clock start.
    fn record_order(&mut self, number: u64, alone: bool, page: &Page<E::Item>) {
        let since = self.pass.since();
        let mut order = PageOrder {
            first: None,
            last: None,
            sorted: true,
        };
        let (mut fresh, mut held_older) = (0, false);
        for item in &page.items {
            let created = E::created_at(item);
            order.first.get_or_insert(created);
            if order.last.is_some_and(|last| created < last) {
                order.sorted = false;
            }
            order.last = Some(created);
            match since {
                Some(since) if created >= since => fresh += 1,
                _ => held_older = true,
            }
        }
        self.pass
            .order(number, page.total, alone, order, fresh, held_older);
        let edge = Edge::of(page.items.iter().map(|item| E::created_at(item)));
        self.pass.edge(number, edge);
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

    /// Drops the items already delivered (and, in a re-read, counts those
    /// it recovers); returns the items new to this pass.
    fn keep_new(&mut self, page: &mut Page<E::Item>) -> u64 {
        if !self.source.options.dedup {
            self.pass.unkeyed(page.items.len() as u64);
            return page.items.len() as u64;
        }
        let mut new_to_pass = 0;
        let before = page.items.len();
        let (seen, pass) = (&mut self.seen, &mut self.pass);
        page.items.retain(|item| {
            let (new_to_walk, new) = note_item::<E>(seen, pass, item);
            new_to_pass += u64::from(new);
            new_to_walk
        });
        let dropped = (before - page.items.len()) as u64;
        if self.pass.number == 1 {
            self.report.local.duplicates += dropped;
        } else {
            self.report.local.recovered += page.items.len() as u64;
        }
        new_to_pass
    }

    /// Delivers what is left of page `number`, or reads on when nothing
    /// is (the walk's first page is delivered even when empty).
    pub(super) fn deliver(&mut self, number: u64, page: Page<E::Item>) -> Step<E::Item> {
        let local = &mut self.report.local;
        if page.items.is_empty() && (self.pass.number > 1 || local.pages > 0) {
            self.report.publish();
            return Step::Continue;
        }
        local.pages += 1;
        local.items += page.items.len() as u64;
        self.report.publish();
        tracing::debug!(
            page = number,
            items = page.items.len(),
            total = page.total,
            pass = self.pass.number,
            "page delivered"
        );
        if let Some(progress) = &self.source.options.progress {
            let last = self
                .paging
                .last_by_total(page.total)
                .min(self.limit_last())
                .max(number);
            let local = &self.report.local;
            progress(&Progress {
                pages: local.pages,
                items: local.items,
                total: page.total,
                page_count: last - self.paging.start() + 1,
            });
        }
        Step::Deliver(page)
    }
}

/// Records `item` with the pass and the walk's set of ids: whether it is
/// new to the walk (to be delivered), and whether it is new to the pass.
pub(super) fn note_item<E: Endpoint>(
    seen: &mut Seen,
    pass: &mut Pass,
    item: &E::Item,
) -> (bool, bool) {
    let key = ItemKey::of(E::id(item));
    let new_to_walk = !seen.contains(&key);
    let new_to_pass = pass.item(&key, E::created_at(item), new_to_walk);
    if new_to_walk {
        seen.insert(key);
    }
    (new_to_walk, new_to_pass)
}
