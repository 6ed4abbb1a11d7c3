//! The model of a live account the walk's property tests run against: a
//! list that changes before any page it serves, listed in an order the
//! test chooses (as kept, by id, by id as a string, grouped, or a fixed
//! random permutation), served in any order, with counts that may be
//! taken after the rows were read and reads that may go back in time.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use super::super::*;
use crate::endpoints::{ItemId, sealed};

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Item {
    pub(super) id: u64,
    pub(super) created: i64,
}

/// The model server's clock at its first answer (Unix seconds); the
/// account's items were made in the hour before.
pub(super) const EPOCH: i64 = 1_800_000_000;

/// Where a change lands in the list.
#[derive(Clone, Copy, Debug)]
pub(super) enum At {
    Head,
    Tail,
    /// At this fraction (of 256) of the list.
    Middle(u8),
}

/// The order a listing is served in. Every one is kept between two
/// queries of unchanged data (but for equal `created_at` under
/// `unstable_ties`); a new item lands where the order puts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Order {
    /// As kept: where a change inserted it (the API's `created_at`
    /// order when changes insert at the tail; a late-completing snapshot
    /// when one inserts in the middle).
    #[default]
    AsKept,
    /// By numeric id.
    Id,
    /// By id as a string (`"10"` before `"9"`): how volume snapshots
    /// were seen listed.
    IdString,
    /// Odd ids first, then even ones, each by id: grouped by type.
    Grouped,
    /// A fixed random permutation: by a hash of the id.
    Random,
}

impl Order {
    pub(super) const ALL: [Order; 5] = [
        Order::AsKept,
        Order::Id,
        Order::IdString,
        Order::Grouped,
        Order::Random,
    ];
}

/// One change, applied just before a page is served. A new item is
/// stamped with the server's clock and lands where the order puts it
/// (under `AsKept`, where `At` says: anywhere).
#[derive(Clone, Copy, Debug)]
pub(super) enum Change {
    Insert(At, u8),
    Delete(At, u8),
    /// A retention job: `n` made (at the tail) and `n` deleted at `At`, so
    /// the total does not move.
    Rotate(At, u8),
}

#[derive(Debug, Default)]
pub(super) struct Model {
    pub(super) items: Vec<Item>,
    pub(super) next_id: u64,
    /// The server's clock: one second a serve.
    pub(super) clock: i64,
    /// Serve no `Date` header.
    pub(super) no_date: bool,
    /// The order the listing is served in.
    pub(super) order: Order,
    /// Count `meta.total` after the next change is applied (a second
    /// query after the rows were read, with no transaction between).
    pub(super) count_after: bool,
    /// Serve some pages from an older state: every k-th serve answers
    /// from the state `lag` serves back (a replica behind).
    pub(super) lag: Option<(usize, usize)>,
    /// The states served so far (for `lag`).
    pub(super) history: Vec<Vec<Item>>,
    /// Answer every page with page 1's rows (a cache that ignores the
    /// query string), total as counted.
    pub(super) every_page_is_page_one: bool,
    /// Page 1 lists its first snapshot twice in place of its second (a
    /// page as short as the listing, "whole" by its own total).
    pub(super) duplicate_first: bool,
    /// The change before each serve, in serve order (then none).
    pub(super) script: Vec<Option<Change>>,
    /// How many scheduler turns each request waits before it is served,
    /// which shuffles the order prefetched pages are served in.
    pub(super) delays: Vec<u8>,
    pub(super) requests: usize,
    pub(super) serves: usize,
    /// Requests made and not served yet.
    pub(super) unserved: usize,
    /// Each request as it starts: its page, its page size, and how many
    /// requests before it were not served yet.
    pub(super) starts: Vec<(u64, u64, usize)>,
    pub(super) deleted: HashSet<u64>,
    pub(super) inserted: HashSet<u64>,
    /// The server serves at most this many items a page.
    pub(super) cap: Option<u64>,
    /// Pages served with no items once, whatever the list holds.
    pub(super) holes: Vec<u64>,
    /// A page whose fetch panics: a bug in the fetch, not the server.
    pub(super) panics_on: Option<u64>,
    /// Items with equal `created_at` are served in a different order on
    /// each query (the API does not specify their order: `api-facts.md`).
    pub(super) unstable_ties: bool,
    /// Every k-th request meets trouble first (a 429 or a 5xx the retry
    /// loop would have retried): the walk's window halves.
    pub(super) trouble_every: Option<usize>,
}

impl Model {
    fn position(&self, at: At) -> usize {
        match at {
            At::Head => 0,
            At::Tail => self.items.len(),
            At::Middle(fraction) => self.items.len() * usize::from(fraction) / 256,
        }
    }

    fn apply(&mut self, change: Change) {
        match change {
            Change::Insert(at, n) => {
                let position = self.position(at);
                let end = self.items.len();
                let _ = end;
                for _ in 0..n {
                    self.next_id += 1;
                    self.inserted.insert(self.next_id);
                    let item = Item {
                        id: self.next_id,
                        created: self.clock,
                    };
                    self.items.insert(position, item);
                }
            }
            Change::Rotate(at, n) => {
                self.apply(Change::Insert(At::Tail, n));
                self.apply(Change::Delete(at, n));
            }
            Change::Delete(at, n) => {
                for _ in 0..n {
                    if self.items.is_empty() {
                        return;
                    }
                    let position = self.position(at).min(self.items.len() - 1);
                    let item = self.items.remove(position);
                    self.deleted.insert(item.id);
                }
            }
        }
    }

    /// The list as this query orders it: in the model's order, with
    /// every run of equal `created_at` shuffled under `unstable_ties`
    /// (from the serve count, so runs repeat).
    fn query_order(&self, items: &[Item]) -> Vec<Item> {
        let mut view = items.to_vec();
        match self.order {
            Order::AsKept => {}
            Order::Id => view.sort_by_key(|i| i.id),
            Order::IdString => view.sort_by_key(|i| i.id.to_string()),
            Order::Grouped => view.sort_by_key(|i| (i.id % 2 == 0, i.id)),
            Order::Random => view.sort_by_key(|i| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (i.id, 0x5eed_u64).hash(&mut h);
                h.finish()
            }),
        }
        if !self.unstable_ties {
            return view;
        }
        let mut state = (self.serves as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut start = 0;
        while start < view.len() {
            let created = view[start].created;
            let end = start
                + view[start..]
                    .iter()
                    .take_while(|i| i.created == created)
                    .count();
            for i in (start + 1..end).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let j = start + usize::try_from(state % (i - start + 1) as u64).unwrap_or(0);
                view.swap(i, j);
            }
            start = end;
        }
        view
    }

    fn serve(&mut self, page: u64, per_page: u64) -> Page<Item> {
        assert_ne!(
            self.panics_on,
            Some(page),
            "a bug in the fetch of page {page}"
        );
        self.clock = EPOCH + i64::try_from(self.serves).unwrap_or(i64::MAX);
        if let Some(Some(change)) = self.script.get(self.serves).copied() {
            self.apply(change);
        }
        self.serves += 1;
        self.history.push(self.items.clone());
        // A replica behind: this serve answers from an older state.
        let stale = self
            .lag
            .is_some_and(|(every, _)| every > 0 && self.serves.is_multiple_of(every));
        let state = match self.lag {
            Some((_, back)) if stale => {
                let at = self.history.len().saturating_sub(back + 1);
                self.history[at].clone()
            }
            _ => self.items.clone(),
        };
        let size = self.cap.map_or(per_page, |cap| cap.min(per_page));
        let hole = self.holes.iter().position(|h| *h == page);
        let items = match hole {
            Some(index) => {
                self.holes.remove(index);
                Vec::new()
            }
            None => {
                let page = if self.every_page_is_page_one { 1 } else { page };
                let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
                let take = usize::try_from(size).unwrap_or(usize::MAX);
                let view = self.query_order(&state);
                let mut rows: Vec<Item> = view.into_iter().skip(skip).take(take).collect();
                if self.duplicate_first && page == 1 && rows.len() > 1 {
                    rows[1] = rows[0].clone();
                }
                rows
            }
        };
        // A count taken by a second query, after the next change.
        if self.count_after
            && let Some(Some(change)) = self.script.get(self.serves).copied()
        {
            self.apply(change);
            if let Some(slot) = self.script.get_mut(self.serves) {
                *slot = None;
            }
        }
        let counted = if stale { state.len() } else { self.items.len() };
        Page {
            items,
            total: counted as u64,
            page,
            per_page,
            links: Default::default(),
            rate_limit: None,
            date: (!self.no_date)
                .then(|| chrono::DateTime::from_timestamp(self.clock, 0))
                .flatten(),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct ModelEndpoint(pub(super) Arc<Mutex<Model>>);

impl ModelEndpoint {
    pub(super) fn with<R>(&self, f: impl FnOnce(&mut Model) -> R) -> R {
        f(&mut crate::lock::lock(&self.0))
    }
}

impl Endpoint for ModelEndpoint {
    type Item = Item;
}

impl sealed::Fetch for ModelEndpoint {
    async fn fetch(&self, client: &Client, request: &PageRequest) -> Result<Page<Item>> {
        let page = request.page.unwrap_or(1);
        let delay = self.with(|m| {
            m.requests += 1;
            if m.trouble_every.is_some_and(|k| m.requests % k == 0) {
                client.note_trouble();
            }
            m.starts
                .push((page, request.per_page.unwrap_or(20), m.unserved));
            m.unserved += 1;
            m.delays
                .get(m.requests % m.delays.len().max(1))
                .copied()
                .unwrap_or(0)
        });
        for _ in 0..delay {
            tokio::task::yield_now().await;
        }
        let per_page = request.per_page.unwrap_or(20);
        let served = self.with(|m| {
            m.unserved -= 1;
            m.serve(page, per_page)
        });
        // Decoding it takes a few more turns.
        for _ in 0..delay / 2 {
            tokio::task::yield_now().await;
        }
        Ok(served)
    }

    fn id(item: &Item) -> ItemId<'_> {
        ItemId::Integer(i64::try_from(item.id).unwrap_or(i64::MAX))
    }
}
