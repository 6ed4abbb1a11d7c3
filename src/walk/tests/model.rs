//! The model of a live account the walk's property tests run against: a
//! list that changes before any page it serves, served in any order, with
//! a server clock that stamps new items and every answer's `Date`.

use std::collections::HashSet;

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

/// One change, applied just before a page is served. A new item is
/// stamped with the server's clock: inserted anywhere but at the tail, it
/// breaks the API's order.
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
    /// Items inserted before the end, against the API's order. The model
    /// never deletes one: a server that lists a new snapshot before older
    /// ones and removes it again before any page shows it leaves no trace
    /// a client could see (the README says so).
    pub(super) misplaced: HashSet<u64>,
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
                for _ in 0..n {
                    self.next_id += 1;
                    self.inserted.insert(self.next_id);
                    if position < end {
                        self.misplaced.insert(self.next_id);
                    }
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
                    let from = self.position(at).min(self.items.len() - 1);
                    let deletable = |i: &usize| !self.misplaced.contains(&self.items[*i].id);
                    let position = (from..self.items.len())
                        .find(deletable)
                        .or_else(|| (0..from).rev().find(deletable));
                    let Some(position) = position else {
                        return;
                    };
                    let item = self.items.remove(position);
                    self.deleted.insert(item.id);
                }
            }
        }
    }

    /// The list as this query orders it: as kept, or with every run of
    /// equal `created_at` shuffled (from the serve count, so runs repeat).
    fn query_order(&self) -> Vec<Item> {
        let mut view = self.items.clone();
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
        let size = self.cap.map_or(per_page, |cap| cap.min(per_page));
        let hole = self.holes.iter().position(|h| *h == page);
        let items = match hole {
            Some(index) => {
                self.holes.remove(index);
                Vec::new()
            }
            None => {
                let skip = usize::try_from((page - 1) * size).unwrap_or(usize::MAX);
                let take = usize::try_from(size).unwrap_or(usize::MAX);
                let view = self.query_order();
                view.into_iter().skip(skip).take(take).collect()
            }
        };
        Page {
            items,
            total: self.items.len() as u64,
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
        // Answered whole, as the transport marks a 200 once its body is
        // in; decoding it takes a few more turns, during which the walk
        // may already ask for the page it held back for this moment.
        crate::served::answered();
        for _ in 0..delay / 2 {
            tokio::task::yield_now().await;
        }
        Ok(served)
    }

    fn id(item: &Item) -> ItemId<'_> {
        ItemId::Integer(i64::try_from(item.id).unwrap_or(i64::MAX))
    }

    fn created_at(item: &Item) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(item.created, 0).unwrap_or_default()
    }
}
