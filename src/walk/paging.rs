//! Which pages a pass reads, in which order, and when it is over: the one
//! place that decides which page is fetched next, and the only one that
//! does page arithmetic (the offset of a page, the last page by a total,
//! what a page should hold).

/// The order a pass reads pages in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    /// From the first page on: the walk itself.
    Ascending,
    /// From the last page down: re-reads (see `walk/pass.rs` for why
    /// this order cannot be fooled by the changes the API allows).
    Descending,
}

/// What a pass has read and will read next.
#[derive(Debug)]
pub(super) struct Paging {
    /// The first page of the walk (`List::page`, default 1).
    start: u64,
    /// The page size every request asks for.
    asked: u64,
    /// The page size the server serves: `asked`, or less when the first
    /// page shows the server caps it.
    size: u64,
    direction: Direction,
    /// The next page to request.
    next: u64,
    /// The last page the pass plans to request (ascending), from the
    /// totals read so far.
    planned_last: u64,
    /// The page that holds the end of the listing by the latest total.
    end: u64,
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
            direction: Direction::Ascending,
            next: start,
            planned_last: start,
            end: start,
            read_up_to: start.saturating_sub(1),
            ended: false,
        }
    }

    /// The page size every request asks for.
    pub(super) fn asked(&self) -> u64 {
        self.asked
    }

    /// The page size the server serves (what the first page showed).
    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// The first page of the walk.
    pub(super) fn start(&self) -> u64 {
        self.start
    }

    pub(super) fn direction(&self) -> Direction {
        self.direction
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

    /// The page read last, or the start before any.
    pub(super) fn position(&self) -> u64 {
        self.read_up_to.max(self.start)
    }

    /// The page after the one read last: where an ascending pass that
    /// stops here would resume.
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

    /// What the walk reads when the listing has `total` items: all of it,
    /// less the pages before the start.
    pub(super) fn expected_items(&self, total: u64) -> u64 {
        total.saturating_sub(self.offset(self.start))
    }

    /// The last page `room` more items can need, if every page read from
    /// here on brought a full page of new ones.
    pub(super) fn last_for(&self, room: u64) -> u64 {
        self.read_up_to
            .saturating_add(room.div_ceil(self.size.max(1)))
    }

    /// On the walk's first page: a page shorter than asked while the total
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
    /// `cap` (the limit's) is needed. `answered` says the server has
    /// answered every request in flight whole (`served.rs`).
    ///
    /// Reading upwards, the page that holds the end of the listing by the
    /// latest total (and any past it) waits until every other page has
    /// been answered: served after them, it is what proves nothing was
    /// deleted while the pass read (see `walk/pass.rs`). It costs no
    /// request, and a round trip only when the pages before it are all
    /// in flight at once (then the floor of a proven walk is three round
    /// trips: the first page, the others, the end).
    pub(super) fn next_wanted(&self, cap: u64, answered: bool) -> Option<u64> {
        let wanted = !self.ended
            && match self.direction {
                Direction::Ascending => {
                    self.next <= self.planned_last.min(cap) && (answered || self.next < self.end)
                }
                Direction::Descending => self.next >= self.start && self.next > 0,
            };
        wanted.then_some(self.next)
    }

    /// Whether [`next_wanted`](Self::next_wanted) holds a page back until
    /// every page in flight has been answered.
    pub(super) fn held_back(&self, cap: u64) -> bool {
        self.next_wanted(cap, true).is_some() && self.next_wanted(cap, false).is_none()
    }

    /// The page [`next_wanted`](Self::next_wanted) named was requested.
    pub(super) fn requested(&mut self) {
        match self.direction {
            Direction::Ascending => self.next = self.next.saturating_add(1),
            // Stops below `start`: `next_wanted` is `None` from there.
            Direction::Descending => self.next = self.next.saturating_sub(1),
        }
    }

    /// Page `page` was read, with `count` items and `total`: plans what
    /// the pass reads next, or ends it.
    pub(super) fn read(&mut self, page: u64, count: u64, total: u64) -> After {
        self.read_up_to = page;
        if self.direction == Direction::Descending {
            self.ended = page <= self.start;
            return if self.ended { After::End } else { After::More };
        }
        let by_total = self.last_by_total(total);
        self.end = by_total;
        let at_end = page >= by_total;
        if at_end && (count < self.size || count == self.expected_count(page, total)) {
            self.ended = true;
            return After::End;
        }
        self.planned_last = if count < self.size {
            // A short page before the end by the total: a hole, or the
            // listing shrank. Read on to the end; the pass will not be
            // trusted.
            by_total
        } else {
            // A full page: read on, past a total that says it has ended.
            by_total.max(page.saturating_add(1))
        };
        After::More
    }

    /// Starts a new pass in `direction` over a listing whose latest total
    /// is `latest`.
    /// Starts the pass downwards again from the page that holds the end
    /// by `latest`, below the one it started on (which came back empty).
    pub(super) fn restart_lower(&mut self, latest: u64) {
        self.restart(Direction::Descending, latest);
        self.next = self.last_by_total(latest);
        self.planned_last = self.next;
        self.end = self.next;
    }

    pub(super) fn restart(&mut self, direction: Direction, latest: u64) {
        self.direction = direction;
        self.ended = false;
        self.next = match direction {
            Direction::Ascending => self.start,
            // From the highest page that could hold an item: by the latest
            // total, or the furthest the last pass read.
            Direction::Descending => self.last_by_total(latest).max(self.read_up_to),
        };
        self.planned_last = self.next;
        self.end = self.next;
        self.read_up_to = self.start.saturating_sub(1);
    }
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
        assert_eq!(paging.next_wanted(u64::MAX, true), Some(1));
        paging.requested();
        assert_eq!(paging.read(1, 10, 25), After::More);
        let mut asked = Vec::new();
        while let Some(page) = paging.next_wanted(u64::MAX, true) {
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
        assert_eq!(paging.next_wanted(u64::MAX, true), Some(2));
    }

    #[test]
    fn a_descending_pass_reads_down_to_the_start() {
        let mut paging = Paging::new(2, 10);
        paging.restart(Direction::Descending, 45);
        let mut asked = Vec::new();
        while let Some(page) = paging.next_wanted(u64::MAX, true) {
            asked.push(page);
            paging.requested();
            paging.read(page, 10, 45);
        }
        assert_eq!(asked, [5, 4, 3, 2]);
        assert!(paging.ended());
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
