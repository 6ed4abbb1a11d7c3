//! The walk against a model of a live account: a list that changes between
//! any two pages it serves, served in any order, with a server clock that
//! stamps new items and every answer's `Date`. The property: a walk that
//! ends `Ok` delivered every item that existed throughout exactly once and
//! nothing that never existed; otherwise it ends with an `Inconsistent`
//! error; and it always ends within its ceiling. Under the changes the
//! API's order allows (creations at the end, deletions anywhere, in any
//! mix: a retention job) it ends `Ok`, within twice a clean walk's
//! requests.

use std::collections::HashSet;
use std::sync::OnceLock;

use proptest::prelude::*;

use futures_util::StreamExt;

use super::*;
use crate::endpoints::{ItemId, sealed};
use crate::error::ErrorKind;
use crate::pagination::List;

#[derive(Clone, Debug, PartialEq)]
struct Item {
    id: u64,
    created: i64,
}

/// The model server's clock at its first answer (Unix seconds); the
/// account's items were made in the hour before.
const EPOCH: i64 = 1_800_000_000;

/// Where a change lands in the list.
#[derive(Clone, Copy, Debug)]
enum At {
    Head,
    Tail,
    /// At this fraction (of 256) of the list.
    Middle(u8),
}

/// One change, applied just before a page is served. A new item is
/// stamped with the server's clock: inserted anywhere but at the tail, it
/// breaks the API's order.
#[derive(Clone, Copy, Debug)]
enum Change {
    Insert(At, u8),
    Delete(At, u8),
    /// A retention job: `n` made (at the tail) and `n` deleted at `At`, so
    /// the total does not move.
    Rotate(At, u8),
}

#[derive(Debug, Default)]
struct Model {
    items: Vec<Item>,
    next_id: u64,
    /// The server's clock: one second a serve.
    clock: i64,
    /// Serve no `Date` header.
    no_date: bool,
    /// Items inserted before the end, against the API's order. The model
    /// never deletes one: a server that lists a new snapshot before older
    /// ones and removes it again before any page shows it leaves no trace
    /// a client could see (the README says so).
    misplaced: HashSet<u64>,
    /// The change before each serve, in serve order (then none).
    script: Vec<Option<Change>>,
    /// How many scheduler turns each request waits before it is served,
    /// which shuffles the order prefetched pages are served in.
    delays: Vec<u8>,
    requests: usize,
    serves: usize,
    deleted: HashSet<u64>,
    inserted: HashSet<u64>,
    /// The server serves at most this many items a page.
    cap: Option<u64>,
    /// Pages served with no items once, whatever the list holds.
    holes: Vec<u64>,
    /// A page whose fetch panics: a bug in the fetch, not the server.
    panics_on: Option<u64>,
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
                self.items.iter().skip(skip).take(take).cloned().collect()
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
struct ModelEndpoint(Arc<Mutex<Model>>);

impl ModelEndpoint {
    fn with<R>(&self, f: impl FnOnce(&mut Model) -> R) -> R {
        f(&mut crate::lock::lock(&self.0))
    }
}

impl Endpoint for ModelEndpoint {
    type Item = Item;
}

impl sealed::Fetch for ModelEndpoint {
    async fn fetch(&self, _client: &Client, request: &PageRequest) -> Result<Page<Item>> {
        let delay = self.with(|m| {
            m.requests += 1;
            m.delays
                .get(m.requests % m.delays.len().max(1))
                .copied()
                .unwrap_or(0)
        });
        for _ in 0..delay {
            tokio::task::yield_now().await;
        }
        let page = request.page.unwrap_or(1);
        let per_page = request.per_page.unwrap_or(20);
        Ok(self.with(|m| m.serve(page, per_page)))
    }

    fn id(item: &Item) -> ItemId<'_> {
        ItemId::Integer(i64::try_from(item.id).unwrap_or(i64::MAX))
    }

    fn created_at(item: &Item) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(item.created, 0).unwrap_or_default()
    }
}

fn client() -> Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            Client::builder()
                .token("model")
                .base_url("http://127.0.0.1:9")
                .build()
                .expect("a client that sends nothing")
        })
        .clone()
}

struct Run {
    result: Result<Vec<Item>>,
    summary: WalkSummary,
    model: Model,
}

fn walk(model: Model, per_page: u64, concurrency: usize, limit: Option<u64>) -> Run {
    let endpoint = ModelEndpoint(Arc::new(Mutex::new(model)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let (result, summary) = runtime.block_on(async {
        let mut list = List::new(client(), endpoint.clone())
            .per_page(per_page)
            .concurrency(concurrency);
        if let Some(n) = limit {
            list = list.limit(n);
        }
        let mut items = list.items();
        let mut delivered = Vec::new();
        let result = loop {
            match items.next().await {
                Some(Ok(item)) => delivered.push(item),
                Some(Err(e)) => break Err(e),
                None => break Ok(delivered),
            }
        };
        (result, items.summary())
    });
    let model = endpoint.with(std::mem::take);
    Run {
        result,
        summary,
        model,
    }
}

fn at() -> impl Strategy<Value = At> {
    prop_oneof![
        Just(At::Head),
        Just(At::Tail),
        any::<u8>().prop_map(At::Middle)
    ]
}

fn change() -> impl Strategy<Value = Option<Change>> {
    prop_oneof![
        3 => Just(None),
        1 => (at(), 1u8..5).prop_map(|(a, n)| Some(Change::Insert(a, n))),
        1 => (at(), 1u8..5).prop_map(|(a, n)| Some(Change::Delete(a, n))),
        1 => (at(), 1u8..5).prop_map(|(a, n)| Some(Change::Rotate(a, n))),
    ]
}

/// What a retention job does between two reads: as many made (at the
/// end) as deleted (anywhere), so the total never moves; up to 7 at once,
/// fewer than a page holds (the walks below use pages of 8 or more: a job
/// deleting a page's worth between two reads, again and again, makes
/// every page repeat the last, and the walk stops it as a server that
/// repeats itself).
fn rotation() -> impl Strategy<Value = Option<Change>> {
    prop_oneof![
        2 => Just(None),
        3 => (at(), 1u8..8).prop_map(|(a, n)| Some(Change::Rotate(a, n))),
    ]
}

/// What a live account does in the API's order: new snapshots at the end,
/// deletions anywhere, retention rotations; a change before one read in
/// four at most on average, fewer made at once than a page holds (a
/// listing that changes faster than it can be read twice ends with the
/// error after `max_passes`, as the README says).
fn api_order_change() -> impl Strategy<Value = Option<Change>> {
    prop_oneof![
        9 => Just(None),
        1 => (1u8..3).prop_map(|n| Some(Change::Insert(At::Tail, n))),
        1 => (at(), 1u8..4).prop_map(|(a, n)| Some(Change::Delete(a, n))),
        1 => (at(), 1u8..3).prop_map(|(a, n)| Some(Change::Rotate(a, n))),
    ]
}

/// Checks a walk that ended `Ok`: every item that existed throughout
/// exactly once, nothing that never existed.
fn check_exact(run: &Run, items: u64) -> std::result::Result<(), TestCaseError> {
    let delivered = match &run.result {
        Ok(delivered) => delivered,
        Err(e) => return Err(TestCaseError::fail(format!("{e}; {:?}", run.summary))),
    };
    let ids: Vec<u64> = delivered.iter().map(|i| i.id).collect();
    let unique: HashSet<u64> = ids.iter().copied().collect();
    prop_assert_eq!(unique.len(), ids.len(), "an item delivered twice");
    for id in 1..=items {
        if !run.model.deleted.contains(&id) {
            prop_assert!(
                unique.contains(&id),
                "item {} existed throughout but was not delivered; {:?}",
                id,
                run.summary
            );
        }
    }
    for id in &unique {
        prop_assert!(*id <= items || run.model.inserted.contains(id));
    }
    prop_assert!(run.summary.complete && run.summary.consistent);
    Ok(())
}

fn model(items: u64, script: Vec<Option<Change>>, delays: Vec<u8>) -> Model {
    Model {
        items: (1..=items)
            .map(|id| Item {
                id,
                created: EPOCH - 3600 + i64::try_from(id).unwrap_or(0),
            })
            .collect(),
        next_id: items,
        script,
        delays,
        ..Model::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Every item that existed throughout, exactly once, or an error; and
    /// an end within the ceiling.
    #[test]
    fn a_walk_over_a_changing_listing_is_exact_or_fails(
        items in 0u64..250,
        per_page in 3u64..40,
        concurrency in 1usize..=64,
        script in proptest::collection::vec(change(), 0..60),
        delays in proptest::collection::vec(0u8..6, 1..16),
        no_date in proptest::bool::weighted(0.1),
    ) {
        let mut m = model(items, script, delays);
        m.no_date = no_date;
        let run = walk(m, per_page, concurrency, None);
        prop_assert!(run.model.serves as u64 <= DEFAULT_MAX_PAGES);
        match &run.result {
            Ok(_) => check_exact(&run, items)?,
            Err(error) => {
                prop_assert_eq!(error.kind(), ErrorKind::Inconsistent, "{}", error);
                prop_assert!(error.walk_summary().is_some());
            }
        }
    }

    /// A retention job rotating snapshots between any two reads, served in
    /// any order at any window: the walk ends `Ok` with every snapshot
    /// that existed throughout exactly once, within twice the requests of
    /// a clean walk (and with no `Date` to tell new snapshots by, too).
    #[test]
    fn a_walk_survives_rotation(
        items in 0u64..250,
        per_page in 8u64..40,
        concurrency in 1usize..=64,
        script in proptest::collection::vec(rotation(), 0..60),
        delays in proptest::collection::vec(0u8..6, 1..16),
        no_date in proptest::bool::weighted(0.1),
    ) {
        let mut m = model(items, script, delays);
        m.no_date = no_date;
        let run = walk(m, per_page, concurrency, None);
        check_exact(&run, items)?;
        let clean = items.div_ceil(per_page).max(1);
        prop_assert!(
            run.summary.requests <= 2 * clean,
            "{} requests for a listing of {} pages; {:?}", run.summary.requests, clean, run.summary
        );
    }

    /// Any mix of the changes the API's order allows, between any two
    /// reads, at any window: every snapshot that existed throughout
    /// exactly once, and `Ok` (the walk and at most a few re-reads).
    #[test]
    fn a_walk_survives_a_live_account_in_the_apis_order(
        items in 0u64..250,
        per_page in 10u64..40,
        concurrency in 1usize..=64,
        script in proptest::collection::vec(api_order_change(), 0..60),
        delays in proptest::collection::vec(0u8..6, 1..16),
    ) {
        let run = walk(model(items, script, delays), per_page, concurrency, None);
        check_exact(&run, items)?;
    }

    /// An account that does not change: everything, in order, with no
    /// request beyond the pages it holds.
    #[test]
    fn an_unchanging_listing_costs_no_extra_request(
        items in 0u64..500,
        per_page in 1u64..60,
        concurrency in 1usize..=16,
        delays in proptest::collection::vec(0u8..6, 1..16),
    ) {
        let run = walk(model(items, Vec::new(), delays), per_page, concurrency, None);
        let delivered = run.result.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ids: Vec<u64> = delivered.iter().map(|i| i.id).collect();
        prop_assert_eq!(ids, (1..=items).collect::<Vec<_>>());
        prop_assert_eq!(run.model.serves as u64, items.div_ceil(per_page).max(1));
        prop_assert_eq!(run.summary.passes, 1);
        prop_assert!(!run.summary.changed);
    }

    /// A server that serves fewer items a page than asked: the walk learns
    /// its page size and still gets everything, with no extra request.
    #[test]
    fn a_capped_page_size_is_learned(
        items in 0u64..400,
        cap in 1u64..50,
        per_page in 1u64..=200,
        concurrency in 1usize..=16,
        limit in proptest::option::of(1u64..400),
    ) {
        let mut m = model(items, Vec::new(), vec![0, 3, 1]);
        m.cap = Some(cap);
        let run = walk(m, per_page, concurrency, limit);
        let delivered = run.result.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let want = limit.unwrap_or(items).min(items);
        prop_assert_eq!(delivered.len() as u64, want);
        let size = cap.min(per_page);
        if limit.is_none() {
            prop_assert_eq!(run.model.serves as u64, items.div_ceil(size).max(1));
        }
    }

    /// A page served empty once, anywhere: re-read, never a short Ok.
    #[test]
    fn a_hole_is_read_again(
        items in 1u64..300,
        per_page in 1u64..40,
        hole in 1u64..10,
        concurrency in 1usize..=8,
    ) {
        let mut m = model(items, Vec::new(), vec![0, 2]);
        m.holes = vec![hole];
        let run = walk(m, per_page, concurrency, None);
        let delivered = run.result.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ids: HashSet<u64> = delivered.iter().map(|i| i.id).collect();
        prop_assert_eq!(ids.len() as u64, items);
    }
}

#[test]
fn a_limit_counts_distinct_items() {
    // Insertions at the head before every page repeat items into the next
    // page; the limit still yields that many distinct items.
    let script = vec![Some(Change::Insert(At::Head, 3)); 20];
    let run = walk(model(100, script, vec![0]), 10, 1, Some(25));
    let delivered = run.result.expect("a walk to the limit");
    let ids: HashSet<u64> = delivered.iter().map(|i| i.id).collect();
    assert_eq!((delivered.len(), ids.len()), (25, 25));
}

#[test]
fn a_listing_that_never_settles_ends_with_the_summary() {
    // Snapshots inserted at the head before every page served: against
    // the API's order, so no pass can prove it missed nothing.
    let script = [
        Change::Insert(At::Head, 2),
        Change::Delete(At::Middle(128), 1),
    ]
    .into_iter()
    .cycle()
    .take(400)
    .map(Some)
    .collect();
    let run = walk(model(200, script, vec![0, 1, 4]), 10, 4, None);
    let error = run.result.expect_err("no pass can be trusted");
    assert_eq!(error.kind(), ErrorKind::Inconsistent);
    let summary = error.walk_summary().copied().unwrap_or_default();
    assert_eq!(summary.passes, DEFAULT_MAX_PASSES, "{summary:?}");
    assert!(summary.changed && !summary.consistent, "{summary:?}");
}

/// A panic in a prefetched page's task is a bug: it resumes in the caller
/// (as a `JoinHandle`'s does), never as a listing that does not add up.
#[test]
#[should_panic(expected = "a bug in the fetch of page 3")]
fn a_panic_in_a_fetch_task_resumes_in_the_caller() {
    let mut m = model(100, Vec::new(), vec![0, 1]);
    m.panics_on = Some(3);
    let run = walk(m, 10, 4, None);
    // Not reached: the walk panics.
    let _ = run.result;
}
