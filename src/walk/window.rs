//! How many pages a walk asks for at once.
//!
//! After the first page (read alone: it gives the total and the server's
//! page size) the window opens at its cap: DigitalOcean allows 250
//! requests a minute, so every page of a typical listing can be asked at
//! once, and the client's pacer, shared by its clones, still gates each
//! request. Each refill asks for at most the smallest of the window, the
//! requests the pacer would let start now, and the hourly allowance the
//! server last reported, never less than one.
//!
//! (A first total that says more pages than the walk may read opens it at
//! 8 instead: see [`Window::open`].)
//!
//! Then additive increase, multiplicative decrease, as TCP does: a page
//! whose fetch met trouble (the client's retry loop counts every 429, 5xx
//! and transport failure, from any clone) or that took more than four
//! times as long as the first page halves the window; a clean page the
//! walk had to wait for opens it by one, up to the cap. Halving reacts
//! within a round trip to a server that is struggling or a limit shared
//! with other programs; growing by one probes back slowly, so a walk does
//! not oscillate between a storm and a trickle.
//!
//! A clean page that was already there when the walk asked for it shows
//! the other side is the slower one: the walk's consumer. More pages at
//! once would only wait longer in memory, so such a page closes the
//! window by one, down to 8 (the fixed prefetch of earlier releases,
//! enough for a consumer slower than the network). A long listing
//! streamed by a fast consumer from a near server so holds about 8 pages
//! ahead, not 64 (a million snapshots: about 12 MB less at the peak).
//!
//! Pages are still yielded in order, and no more than the cap are ever in
//! flight or buffered ahead (64 pages of at most 200 snapshots: about
//! 10 MB).
//!
//! A later pass (the second look after a count) starts with nothing
//! buffered, so it reopens the window to the widest it was since the
//! latest trouble: the consumer that closed it is not ahead of this pass.

use std::time::Duration;

/// Where the window starts when the first page's total cannot be right,
/// and the least a consumer slower than the network closes it to.
const CAUTIOUS: usize = 8;

/// The window of one walk.
#[derive(Debug)]
pub(super) struct Window {
    cap: usize,
    current: usize,
    /// The widest the window was since the latest trouble (what a later
    /// pass reopens it to).
    peak: usize,
    /// How long the first page took: the latency a page may take four
    /// times over before the window shrinks.
    baseline: Option<Duration>,
    /// The client's trouble count when the latest page was read.
    troubled: Option<u64>,
}

impl Window {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap,
            current: cap,
            peak: cap,
            baseline: None,
            troubled: None,
        }
    }

    /// The first page said the listing has `pages` pages: a listing the
    /// walk cannot read within its `max_pages` (a total that lies, or one
    /// too long to finish) opens the window at 8, not at the cap, so a
    /// server that repeats itself costs a few requests, not a burst.
    pub(super) fn open(&mut self, pages: u64, max_pages: u64) {
        if pages > max_pages {
            self.current = self.current.min(CAUTIOUS);
            self.peak = self.current;
        }
    }

    /// A new pass starts with nothing buffered: back to the widest the
    /// window was since the latest trouble.
    pub(super) fn new_pass(&mut self) {
        self.current = self.peak;
    }

    /// Pages to have in flight now, given the requests the pacer would
    /// let start (`pace_room`) and the hourly `allowance`.
    pub(super) fn size(&self, pace_room: usize, allowance: u64) -> usize {
        let allowance = usize::try_from(allowance).unwrap_or(usize::MAX);
        self.current.min(pace_room).min(allowance).max(1)
    }

    /// A page came back after `took`, with the client's trouble count at
    /// `troubled`; the walk `waited` for it, or it was already there.
    pub(super) fn observe(&mut self, took: Duration, waited: bool, troubled: u64) {
        let trouble = self.troubled.is_some_and(|before| troubled > before);
        self.troubled = Some(troubled);
        let slow = match self.baseline {
            None => {
                self.baseline = Some(took);
                false
            }
            Some(first) => took > first.saturating_mul(4).max(Duration::from_millis(20)),
        };
        self.current = if trouble || slow {
            let halved = (self.current / 2).max(1);
            self.peak = halved;
            halved
        } else if waited {
            let grown = self.current.saturating_add(1).min(self.cap);
            self.peak = self.peak.max(grown);
            grown
        } else if self.current > CAUTIOUS {
            self.current - 1
        } else {
            self.current
        };
    }

    /// Holds the window (and what a later pass reopens it to) at `most`:
    /// the requests in flight a gateway allows.
    pub(super) fn clamp(&mut self, most: usize) {
        let most = most.max(1);
        self.current = self.current.min(most);
        self.peak = self.peak.min(most);
    }

    /// The window now.
    pub(super) fn current(&self) -> usize {
        self.current
    }

    /// A page brought nothing new: a server repeating itself, or more
    /// deleted between two reads than a page holds. Either way, fewer at
    /// once.
    pub(super) fn stalled(&mut self) {
        self.current = (self.current / 2).max(1);
        self.peak = self.current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn it_opens_at_the_cap_and_is_bounded_by_the_pace_and_the_allowance() {
        let window = Window::new(64);
        assert_eq!(window.size(usize::MAX, u64::MAX), 64);
        assert_eq!(window.size(10, u64::MAX), 10);
        assert_eq!(window.size(usize::MAX, 3), 3);
        assert_eq!(window.size(0, 0), 1, "never less than one");
    }

    #[test]
    fn trouble_halves_it_and_clean_pages_open_it_by_one() {
        let mut window = Window::new(64);
        window.observe(50 * MS, true, 0);
        window.observe(50 * MS, true, 1);
        assert_eq!(window.current(), 32);
        window.observe(50 * MS, true, 3);
        assert_eq!(window.current(), 16);
        window.observe(50 * MS, true, 3);
        assert_eq!(window.current(), 17);
        for _ in 0..100 {
            window.observe(50 * MS, true, 3);
        }
        assert_eq!(window.current(), 64, "back to the cap, not past it");
    }

    #[test]
    fn a_new_pass_reopens_it_to_its_widest_since_the_latest_trouble() {
        let mut window = Window::new(64);
        window.observe(5 * MS, true, 0);
        for _ in 0..100 {
            window.observe(5 * MS, false, 0);
        }
        assert_eq!(window.current(), CAUTIOUS);
        window.new_pass();
        assert_eq!(
            window.current(),
            64,
            "the consumer is not ahead of a new pass"
        );
        window.observe(5 * MS, true, 1);
        assert_eq!(window.current(), 32);
        for _ in 0..100 {
            window.observe(5 * MS, false, 1);
        }
        window.new_pass();
        assert_eq!(window.current(), 32, "trouble is remembered");
        window.stalled();
        window.new_pass();
        assert_eq!(window.current(), 16);
    }

    #[test]
    fn a_gate_holds_it_and_it_grows_back_by_one_when_the_gate_lifts() {
        let mut window = Window::new(64);
        window.observe(5 * MS, true, 0);
        window.clamp(12);
        assert_eq!(window.current(), 12);
        window.new_pass();
        assert_eq!(window.current(), 12, "a new pass stays under the gate");
        window.clamp(0);
        assert_eq!(window.current(), 1, "never below one");
        window.clamp(usize::MAX);
        window.observe(5 * MS, true, 0);
        assert_eq!(window.current(), 2, "lifted: grows by one, no burst");
    }

    #[test]
    fn a_page_four_times_slower_than_the_first_halves_it() {
        let mut window = Window::new(8);
        window.observe(50 * MS, true, 0);
        window.observe(150 * MS, true, 0);
        assert_eq!(window.current(), 8);
        window.observe(250 * MS, true, 0);
        assert_eq!(window.current(), 4);
        for _ in 0..10 {
            window.observe(250 * MS, true, 0);
        }
        assert_eq!(window.current(), 1, "never below one");
    }

    #[test]
    fn pages_that_wait_for_the_consumer_close_it_to_eight_and_no_further() {
        let mut window = Window::new(64);
        window.observe(5 * MS, true, 0);
        assert_eq!(window.current(), 64);
        for _ in 0..100 {
            window.observe(5 * MS, false, 0);
        }
        assert_eq!(window.current(), CAUTIOUS, "a fast stream holds 8 ahead");
        window.observe(5 * MS, true, 0);
        assert_eq!(window.current(), CAUTIOUS + 1, "waiting opens it again");
        let mut small = Window::new(4);
        small.observe(5 * MS, false, 0);
        small.observe(5 * MS, false, 0);
        assert_eq!(
            small.current(),
            4,
            "a cap below 8 is not closed by a fast network"
        );
        small.observe(5 * MS, false, 1);
        assert_eq!(small.current(), 2, "trouble still halves it");
    }
}
