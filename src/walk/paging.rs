//! Which pages a pass reads and when it is over, and the page
//! arithmetic of the walk (the offset of a page, the last page by a
//! total, what a page should hold). The probe between two passes
//! (`walk/proof.rs`) picks its page with [`Paging::beyond`].

use crate::endpoints::MAX_PER_PAGE;

/// What a pass has read and will read next.
#[derive(Debug)]
pub(super) struct Paging {
    /// The first page of the walk (`List::page`, default 1).
    start: u64,
    /// The page size the current pass asks for.
    asked: u64,
    /// The page size the server serves: `asked`, or less when the first
    /// page showed that the server caps it.
    size: u64,
    /// The next page to request.
    next: u64,
    /// The last page the pass plans to request, from the totals read so
    /// far.
    planned_last: u64,
    /// The page read last (`start - 1` before the first).
    read_up_to: u64,
    /// The pass has read the end of the listing: nothing more to request.
    ended: bool,
}

/// What reading a page told the pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum After {
    /// More pages to read.
    More,
    /// This page was the end of the pass.
    End,
}

impl Paging {
    pub(super) fn new(start: u64, asked: u64) -> Self {
        Self {
            start,
            asked,
            size: asked,
            next: start,
            planned_last: start,
            read_up_to: start.saturating_sub(1),
            ended: false,
        }
    }

    /// The page size the current pass asks for.
    pub(super) fn asked(&self) -> u64 {
        self.asked
    }

    /// The page size the server serves the current pass.
    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// The first page of the walk.
    pub(super) fn start(&self) -> u64 {
        self.start
    }

    /// Whether the pass has read the end of the listing.
    #[cfg(test)]
    pub(super) fn ended(&self) -> bool {
        self.ended
    }

    /// Whether the pass has read no page yet.
    pub(super) fn nothing_read(&self) -> bool {
        self.read_up_to < self.start
    }

    /// The page after the one read last: where a pass that stops here
    /// would resume.
    pub(super) fn first_unread(&self) -> u64 {
        self.read_up_to.saturating_add(1).max(self.start)
    }

    /// The items on the pages before `page`.
    pub(super) fn offset(&self, page: u64) -> u64 {
        page.saturating_sub(1).saturating_mul(self.size)
    }

    /// The last page of a listing of `total` items (never before the
    /// start).
    pub(super) fn last_by_total(&self, total: u64) -> u64 {
        total.div_ceil(self.size.max(1)).max(self.start)
    }

    /// What page `page` holds when the listing has `total` items.
    pub(super) fn expected_count(&self, page: u64, total: u64) -> u64 {
        total.saturating_sub(self.offset(page)).min(self.size)
    }

    /// The last page `room` more items can need, if every page read from
    /// here on brought a full page of new ones.
    pub(super) fn last_for(&self, room: u64) -> u64 {
        self.read_up_to
            .saturating_add(room.div_ceil(self.size.max(1)))
    }

    /// On a pass's first page: a page shorter than asked while the total
    /// says more follow shows the server's real page size.
    pub(super) fn learn_size(&mut self, count: u64, total: u64) {
        let remaining = total.saturating_sub(self.offset(self.start));
        if count > 0 && count < self.asked && count < remaining {
            tracing::debug!(
                asked = self.asked,
                served = count,
                "the server caps the page size"
            );
            self.size = count;
        }
    }

    /// The next page to request, if the pass wants one and no page beyond
    /// `cap` (the limit's) is needed.
    pub(super) fn next_wanted(&self, cap: u64) -> Option<u64> {
        let wanted = !self.ended && self.next <= self.planned_last.min(cap);
        wanted.then_some(self.next)
    }

    /// The page [`next_wanted`](Self::next_wanted) named was requested.
    pub(super) fn requested(&mut self) {
        self.next = self.next.saturating_add(1);
    }

    /// Page `page` was read, with `count` items and `total`: plans what
    /// the pass reads next, or ends it. The pass ends on the page its
    /// own total names as the last when that page is short or holds what
    /// the total says; a full page where the total says the listing has
    /// ended is read past; a short page before the end by its total (a
    /// hole, a cap, or a listing that shrank) does not end the pass.
    pub(super) fn read(&mut self, page: u64, count: u64, total: u64) -> After {
        self.read_up_to = self.read_up_to.max(page);
        let by_total = self.last_by_total(total);
        let at_end = page >= by_total;
        if at_end && (count < self.size || count == self.expected_count(page, total)) {
            self.ended = true;
            return After::End;
        }
        self.planned_last = if count < self.size {
            by_total.max(self.planned_last)
        } else {
            by_total.max(page.saturating_add(1)).max(self.planned_last)
        };
        After::More
    }

    /// Starts the next pass, from the start page, asking for `asked`
    /// items a page (served whole: the sizes a later pass asks for are
    /// at most the served size of the first), over a listing whose
    /// latest total is `latest`.
    pub(super) fn restart(&mut self, asked: u64, latest: u64) {
        self.asked = asked;
        self.size = asked;
        self.ended = false;
        self.next = self.start;
        self.planned_last = self.last_by_total(latest);
        self.read_up_to = self.start.saturating_sub(1);
    }

    /// A page of `per_page` items past the end of a listing of `total`,
    /// `extra` pages further: a probe holds no rows unless the listing
    /// grew (or the server serves fewer a page than it asks for).
    pub(super) fn beyond(total: u64, per_page: u64, extra: u64) -> u64 {
        total
            .div_ceil(per_page.max(1))
            .saturating_add(1)
            .saturating_add(extra)
    }
}

/// A page size for the next pass: one no earlier pass (in `used`) asked
/// for, close below the size `served` (so the pass costs about as many
/// pages and its pages straddle the earlier boundaries), above it when
/// it is too small; chosen at random among those, so two walks in a row
/// ask for other addresses than the one before (a cache in front of the
/// API answers an address it has seen with what it saw).
pub(super) fn next_size(served: u64, used: &[u64]) -> u64 {
    let served = served.clamp(1, MAX_PER_PAGE);
    let below = served.saturating_sub(8).max(1)..served;
    let above = served.saturating_add(1)..=served.saturating_add(8).min(MAX_PER_PAGE);
    // Below first: a server that caps its pages serves every size below
    // the cap as asked.
    for range in [
        below,
        above.start().to_owned()..above.end().saturating_add(1),
    ] {
        let fresh: Vec<u64> = range.filter(|s| !used.contains(s)).collect();
        if let Some(&size) = fresh.get(fastrand::usize(..fresh.len().max(1))) {
            return size;
        }
    }
    (1..=MAX_PER_PAGE)
        .rev()
        .find(|s| !used.contains(s))
        .unwrap_or(served)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_at_the_edges_saturates() {
        let paging = Paging::new(u64::MAX, 200);
        assert_eq!(paging.offset(u64::MAX), u64::MAX);
        assert_eq!(paging.expected_count(u64::MAX, u64::MAX), 0);
        assert_eq!(paging.last_by_total(u64::MAX), u64::MAX);
        assert_eq!(paging.last_for(u64::MAX), u64::MAX);
        let mut paging = Paging::new(1, 1);
        paging.learn_size(0, u64::MAX);
        assert_eq!(paging.expected_count(1, u64::MAX), 1);
    }

    #[test]
    fn an_ascending_pass_ends_on_the_page_the_total_names() {
        let mut paging = Paging::new(1, 10);
        assert_eq!(paging.next_wanted(u64::MAX), Some(1));
        paging.requested();
        assert_eq!(paging.read(1, 10, 25), After::More);
        let mut asked = Vec::new();
        while let Some(page) = paging.next_wanted(u64::MAX) {
            asked.push(page);
            paging.requested();
        }
        assert_eq!(asked, [2, 3]);
        assert_eq!(paging.read(2, 10, 25), After::More);
        assert_eq!(paging.read(3, 5, 25), After::End);
        assert!(paging.ended());
    }

    #[test]
    fn a_full_last_page_is_read_past() {
        let mut paging = Paging::new(1, 10);
        paging.requested();
        // The total says 10, the page holds 10: the end.
        assert_eq!(paging.read(1, 10, 10), After::End);
        let mut paging = Paging::new(1, 10);
        paging.requested();
        // The total says 5, the page is full: read on.
        assert_eq!(paging.read(1, 10, 5), After::More);
        assert_eq!(paging.next_wanted(u64::MAX), Some(2));
    }

    #[test]
    fn a_later_pass_reads_from_the_start_with_its_own_size() {
        let mut paging = Paging::new(2, 10);
        paging.requested();
        paging.read(2, 10, 45);
        paging.restart(9, 45);
        assert_eq!(paging.size(), 9);
        let mut asked = Vec::new();
        while let Some(page) = paging.next_wanted(u64::MAX) {
            asked.push(page);
            paging.requested();
        }
        assert_eq!(asked, [2, 3, 4, 5]);
        assert_eq!(paging.read(5, 9, 45), After::End);
        assert!(paging.ended());
    }

    #[test]
    fn a_probe_page_holds_nothing_of_the_listing_read() {
        for (total, per_page) in [(0, 1), (1, 1), (199, 200), (200, 200), (10_000, 7)] {
            let page = Paging::beyond(total, per_page, 0);
            assert!((page - 1) * per_page >= total, "{total} {per_page} {page}");
        }
        assert_eq!(Paging::beyond(u64::MAX, 1, u64::MAX), u64::MAX);
    }

    #[test]
    fn a_later_pass_asks_for_a_size_no_pass_asked_for() {
        for served in [1, 2, 8, 9, 150, 200, 0, u64::MAX] {
            let mut used = vec![served.clamp(1, 200)];
            for _ in 0..20 {
                let size = next_size(served, &used);
                assert!((1..=200).contains(&size), "{size}");
                assert!(!used.contains(&size), "{size} in {used:?}");
                used.push(size);
            }
        }
        let all: Vec<u64> = (1..=200).collect();
        assert!((1..=200).contains(&next_size(200, &all)));
    }

    #[test]
    fn a_capped_server_teaches_its_page_size() {
        let mut paging = Paging::new(1, 200);
        paging.learn_size(50, 120);
        assert_eq!(paging.last_by_total(120), 3);
        // A last page that is short because the listing ends teaches nothing.
        let mut paging = Paging::new(1, 200);
        paging.learn_size(50, 50);
        assert_eq!(paging.last_by_total(120), 1);
    }
}
