//! The settings of a walk, and the summary it shares with its stream.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{DEFAULT_CONCURRENCY, DEFAULT_MAX_PAGES, DEFAULT_MAX_PASSES, MAX_CONCURRENCY};
use crate::error::{Error, Result};
use crate::model::{Progress, WalkSummary};
use crate::retry::RetryPolicy;

pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The settings of a request: one page, or a walk over all of them.
#[derive(Clone)]
pub(crate) struct ListOptions {
    pub(crate) page: Option<u64>,
    pub(crate) per_page: Option<u64>,
    pub(crate) concurrency: usize,
    pub(crate) limit: Option<u64>,
    pub(crate) max_pages: u64,
    pub(crate) max_passes: u32,
    pub(crate) strict: bool,
    pub(crate) dedup: bool,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) policy: Option<RetryPolicy>,
    pub(crate) deadline: Option<Duration>,
}

impl Default for ListOptions {
    fn default() -> Self {
        Self {
            page: None,
            per_page: None,
            concurrency: DEFAULT_CONCURRENCY,
            limit: None,
            max_pages: DEFAULT_MAX_PAGES,
            max_passes: DEFAULT_MAX_PASSES,
            strict: true,
            dedup: true,
            progress: None,
            policy: None,
            deadline: None,
        }
    }
}

impl ListOptions {
    /// Checks the walk's own settings, before the first request.
    pub(super) fn check(&self) -> Result<()> {
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(Error::invalid_input(
                "concurrency",
                format!(
                    "{} is out of range: expected 1..={MAX_CONCURRENCY}",
                    self.concurrency
                ),
            ));
        }
        if self.max_pages == 0 {
            return Err(Error::invalid_input(
                "max_pages",
                "0 is out of range: a walk needs at least one page",
            ));
        }
        if self.max_passes == 0 {
            return Err(Error::invalid_input(
                "max_passes",
                "0 is out of range: a walk needs at least one pass",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for ListOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListOptions")
            .field("page", &self.page)
            .field("per_page", &self.per_page)
            .field("concurrency", &self.concurrency)
            .field("limit", &self.limit)
            .field("max_pages", &self.max_pages)
            .field("max_passes", &self.max_passes)
            .field("strict", &self.strict)
            .field("dedup", &self.dedup)
            .field("progress", &self.progress.is_some())
            .field("policy", &self.policy)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Reads a summary shared with a walk.
pub(crate) fn read_summary(summary: &Mutex<WalkSummary>) -> WalkSummary {
    *crate::lock::lock(summary)
}
