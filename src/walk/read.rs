//! Reading one page of a pass: its total against its count, the items it
//! brings, the limit, and what the pass reads next.

use futures_util::stream::FuturesOrdered;

use super::keys::ItemKey;
use super::pass::Direction;
use super::{STALL_BUDGET, Step, WalkState};
use crate::endpoints::Endpoint;
use crate::error::Error;
use crate::model::{Page, Progress};

impl<E: Endpoint> WalkState<E> {
    /// Reads page `number`: its total, its count against the total, its
    /// new items, the limit; decides what comes next.
    pub(super) fn read_page(&mut self, number: u64, mut page: Page<E::Item>) -> Step<E::Item> {
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
}
