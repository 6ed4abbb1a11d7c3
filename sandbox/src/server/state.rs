//! What the running server keeps: its settings, the data, the counters
//! and the per-token rate-limit budgets.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Mutex, RwLock};

use super::rate::Budgets;
use crate::data::Dataset;
use crate::{Faults, RecordedRequest};

/// The state every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) seed: u64,
    pub(crate) token: Option<String>,
    pub(crate) faults: Faults,
    pub(crate) data: RwLock<Dataset>,
    pub(crate) stats: StatsInner,
    /// Per-token rate-limit budgets, under the sandbox's limits.
    pub(crate) budgets: Budgets,
    /// The holes not served yet.
    pub(crate) holes: Mutex<Vec<u64>>,
}

/// The counters behind [`crate::Stats`] and the request log.
#[derive(Debug, Default)]
pub(crate) struct StatsInner {
    pub(crate) requests: AtomicU64,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    pub(crate) by_status: Mutex<BTreeMap<u16, u64>>,
    pub(crate) log: Mutex<Vec<RecordedRequest>>,
}

/// At most this many requests are kept in the log.
const LOG_LIMIT: usize = 100_000;

impl StatsInner {
    pub(crate) fn record(&self, request: RecordedRequest) {
        *crate::sync::lock(&self.by_status)
            .entry(request.status)
            .or_default() += 1;
        let mut log = crate::sync::lock(&self.log);
        if log.len() < LOG_LIMIT {
            log.push(request);
        }
    }
}
