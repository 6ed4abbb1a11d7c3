//! Batches of snapshots with one `created_at`, split by a page boundary.
//!
//! The API lists snapshots oldest first, but the order of snapshots made
//! in the same second (a backup job snapshotting ten volumes at once) is
//! not specified and may differ between two queries (`api-facts.md`).
//! Inside a page that does not matter: the page holds the batch whatever
//! its order. Across a boundary it does: the page before shows some of the
//! batch, the page after the rest, each by its own query's order, so one
//! snapshot can show up on both pages and another on neither. Neither
//! direction of reading helps, and the totals say nothing.
//!
//! So a pass remembers the edges of every page it read ([`Edge`]); where
//! one page ends with the `created_at` the next one starts with, the batch
//! may straddle the boundary ([`groups`]), and the pass reads it again
//! whole: one request for a page size and page number whose one page
//! holds the batch with a snapshot on either side of it ([`window`]). That
//! page shows the whole batch in one query; what the pass missed of it is
//! delivered, and its repeats are explained. The answer proves it held the
//! batch whole when it starts with an older snapshot (or at the start of
//! the listing) and ends with a newer one (or is the listing's last page);
//! a listing that moved in between fails that check, and the pass is not
//! trusted. A batch larger than a page can hold cannot be read whole: the
//! pass is not trusted either, and says why.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// The `created_at` edges of one page read by a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Edge {
    pub(super) first: DateTime<Utc>,
    pub(super) last: DateTime<Utc>,
    /// Items at the start of the page made at `first`.
    pub(super) leading: u64,
    /// Items at the end of the page made at `last`.
    pub(super) trailing: u64,
    pub(super) len: u64,
}

impl Edge {
    /// The edges of a page's `created_at` values, in the page's order
    /// (`None` for an empty page).
    pub(super) fn of(created: impl IntoIterator<Item = DateTime<Utc>>) -> Option<Self> {
        let mut edge: Option<Self> = None;
        for at in created {
            edge = Some(match edge {
                None => Self {
                    first: at,
                    last: at,
                    leading: 1,
                    trailing: 1,
                    len: 1,
                },
                Some(e) => Self {
                    first: e.first,
                    last: at,
                    leading: e.leading + u64::from(e.leading == e.len && at == e.first),
                    trailing: if at == e.last { e.trailing + 1 } else { 1 },
                    len: e.len + 1,
                },
            });
        }
        edge
    }

    /// Every item of the page was made at one time.
    pub(super) fn uniform(&self) -> bool {
        self.leading == self.len
    }

    /// Whether this page and the `next` one may share a batch: the same
    /// time across the boundary. One snapshot on both sides counts too: it
    /// may be a batch of two served in two orders (the other one on
    /// neither page), or a repeat a deletion between the two reads left,
    /// and no answer tells which.
    pub(super) fn shares_batch(&self, next: &Self) -> bool {
        self.last == next.first
    }
}

/// A batch that may straddle a page boundary: its time and the positions
/// (from 0, in the listing) of its first and last snapshot as the pass
/// read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Group {
    pub(super) at: DateTime<Utc>,
    pub(super) first: u64,
    pub(super) last: u64,
}

/// The batches the pages of a pass (`edges`, by page number, each page
/// `size` items from `offset(page)`) may have split.
pub(super) fn groups(edges: &BTreeMap<u64, Edge>, offset: impl Fn(u64) -> u64) -> Vec<Group> {
    let mut found: Vec<Group> = Vec::new();
    for (&page, edge) in edges {
        let Some(next) = page.checked_add(1).and_then(|n| edges.get(&n)) else {
            continue;
        };
        if !edge.shares_batch(next) {
            continue;
        }
        let at = edge.last;
        // Back to the first page of the batch, on to its last.
        let mut start = (page, edge);
        while start.1.uniform()
            && let Some(b) = start.0.checked_sub(1)
            && let Some(before) = edges.get(&b)
            && before.last == at
        {
            start = (b, before);
        }
        let mut end = (page + 1, next);
        while end.1.uniform()
            && let Some(a) = end.0.checked_add(1)
            && let Some(after) = edges.get(&a)
            && after.first == at
        {
            end = (a, after);
        }
        let ((first_page, s), (last_page, e)) = (start, end);
        let group = Group {
            at,
            first: offset(first_page).saturating_add(s.len - s.trailing),
            last: offset(last_page)
                .saturating_add(e.leading)
                .saturating_sub(1),
        };
        if found.last() != Some(&group) {
            found.push(group);
        }
    }
    found
}

/// Snapshots a window keeps below a batch, where it can: a deletion below
/// the batch between the pass's read and the window's moves the batch
/// down (nothing the API allows moves it up), and the window still holds
/// it whole after this many.
const SLACK: u64 = 32;

/// The page number and page size (at most `max_size`) of one page that
/// holds `group` with a snapshot on either side of it (none before the
/// listing's first, none after its last of `total`), and up to [`SLACK`]
/// more below it; the smallest such page. `None` when no page size up to
/// `max_size` can.
pub(super) fn window(group: Group, total: u64, max_size: u64) -> Option<(u64, u64)> {
    let lo = group.first.saturating_sub(1);
    let hi = if group.last.saturating_add(1) < total {
        group.last + 1
    } else {
        group.last
    };
    let need = hi.checked_sub(lo)?.checked_add(1)?;
    // The page of `size` holding `hi`, if it also holds `lo - slack`.
    let fits = |size: u64, slack: u64| {
        let page = hi / size;
        (page.saturating_mul(size) <= lo.saturating_sub(slack)).then_some((page + 1, size))
    };
    (need..=max_size)
        .find_map(|size| fits(size, SLACK))
        .or_else(|| (need..=max_size).find_map(|size| fits(size, 0)))
}

/// Whether a page read for `group` (asked as `page` of `size`, answered
/// with a listing of `total`) holds the whole batch: it starts before the
/// batch (or at the listing's start) and ends after it (or where the
/// listing ends), in `created_at` order. In the API's order every snapshot
/// made at the batch's time is then on this page (none, if the batch was
/// deleted since).
pub(super) fn holds_whole(
    group: Group,
    (page, size, total): (u64, u64, u64),
    created: &[DateTime<Utc>],
) -> bool {
    let at = group.at;
    let count = created.len() as u64;
    let reaches_end = page
        .saturating_sub(1)
        .saturating_mul(size)
        .saturating_add(count)
        >= total;
    let starts_before = page == 1 || created.first().is_some_and(|c| *c < at);
    let ends_after = count < size || reaches_end || created.last().is_some_and(|c| *c > at);
    let sorted = created.windows(2).all(|pair| pair[0] <= pair[1]);
    starts_before && ends_after && sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap_or_default()
    }

    fn edges(pages: &[&[i64]]) -> BTreeMap<u64, Edge> {
        pages
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i as u64 + 1, Edge::of(p.iter().map(|s| t(*s)))?)))
            .collect()
    }

    #[test]
    fn edges_count_the_runs_at_either_end() {
        let e = Edge::of([1, 1, 2, 3, 3, 3].map(t)).expect("an edge");
        assert_eq!((e.leading, e.trailing, e.len), (2, 3, 6));
        let u = Edge::of([5, 5, 5].map(t)).expect("an edge");
        assert!(u.uniform() && u.trailing == 3);
        assert_eq!(Edge::of([]), None);
    }

    #[test]
    fn a_batch_across_one_boundary_and_across_three_pages() {
        let offset = |p: u64| (p - 1) * 3;
        // Pages of 3: [1 2 2] [2 3 4]: the batch of 2s is at 1..=3.
        let g = groups(&edges(&[&[1, 2, 2], &[2, 3, 4]]), offset);
        assert_eq!(
            g,
            vec![Group {
                at: t(2),
                first: 1,
                last: 3
            }]
        );
        // [1 5 5] [5 5 5] [5 6 7]: one batch at 1..=6, found once.
        let g = groups(&edges(&[&[1, 5, 5], &[5, 5, 5], &[5, 6, 7]]), offset);
        assert_eq!(
            g,
            vec![Group {
                at: t(5),
                first: 1,
                last: 6
            }]
        );
        // No shared time across a boundary: nothing to read again.
        assert!(groups(&edges(&[&[1, 2, 2], &[3, 3, 4]]), offset).is_empty());
    }

    #[test]
    fn a_window_holds_the_batch_and_a_neighbour_on_either_side() {
        let g = Group {
            at: t(2),
            first: 199,
            last: 201,
        };
        let (page, size) = window(g, 1000, 200).expect("a window");
        let start = (page - 1) * size;
        assert!(
            start + SLACK <= 198 && start + size > 202,
            "{page} x {size}"
        );
        // At the listing's ends no neighbour is needed.
        assert_eq!(
            window(
                Group {
                    at: t(2),
                    first: 0,
                    last: 1
                },
                2,
                200
            ),
            Some((1, 2))
        );
        assert_eq!(
            window(
                Group {
                    at: t(2),
                    first: 3,
                    last: 4
                },
                5,
                200
            ),
            Some((1, 5))
        );
        // Where no page size leaves the slack, a neighbour is enough.
        let tight = Group {
            at: t(2),
            first: 181,
            last: 299,
        };
        let (page, size) = window(tight, 1000, 200).expect("a window");
        let start = (page - 1) * size;
        assert!(
            start <= 180 && start + SLACK > 180 && start + size > 300,
            "{page} x {size}"
        );
        // A batch larger than a page: none.
        assert_eq!(
            window(
                Group {
                    at: t(2),
                    first: 10,
                    last: 300
                },
                1000,
                200
            ),
            None
        );
        // Positions at the edge of u64 give an answer, not a panic.
        let far = Group {
            at: t(2),
            first: u64::MAX - 1,
            last: u64::MAX,
        };
        let (page, size) = window(far, u64::MAX, 200).expect("a window");
        let start = u128::from(page - 1) * u128::from(size);
        assert!(
            start <= u128::from(u64::MAX - 2) && start + u128::from(size) > u128::from(u64::MAX)
        );
    }

    #[test]
    fn a_page_holds_the_batch_whole_only_with_older_and_newer_around_it() {
        let g = Group {
            at: t(2),
            first: 4,
            last: 6,
        };
        assert!(holds_whole(g, (2, 5, 20), &[1, 2, 2, 2, 3].map(t)));
        assert!(
            !holds_whole(g, (2, 5, 20), &[2, 2, 2, 3, 4].map(t)),
            "may start earlier"
        );
        assert!(
            !holds_whole(g, (2, 5, 20), &[1, 1, 2, 2, 2].map(t)),
            "may go on"
        );
        assert!(
            holds_whole(g, (2, 5, 20), &[1, 2, 2].map(t)),
            "the listing ends in it"
        );
        assert!(
            holds_whole(g, (2, 5, 10), &[1, 1, 2, 2, 2].map(t)),
            "the listing ends with it"
        );
        assert!(
            holds_whole(g, (1, 5, 20), &[2, 2, 3].map(t)),
            "the listing starts in it"
        );
        assert!(
            holds_whole(g, (2, 5, 20), &[1, 1, 3, 3, 4].map(t)),
            "deleted since"
        );
        assert!(
            !holds_whole(g, (2, 5, 20), &[1, 2, 3, 2, 4].map(t)),
            "out of order"
        );
    }
}
