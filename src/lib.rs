#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
pub mod generated;
mod model;
mod pagination;
mod retry;

pub use client::{
    API_URL_ENV_VAR, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_PER_PAGE, DEFAULT_TIMEOUT, MAX_PER_PAGE, TOKEN_ENV_VARS,
};
pub use error::{ApiError, DecodeError, Error, ErrorKind, Result};
pub use model::{DropletSnapshot, PageLinks, RateLimit, ResourceType, Snapshot, SnapshotType};
pub use pagination::{
    AccountSnapshotsEndpoint, DEFAULT_CONCURRENCY, DropletSnapshotsEndpoint, Endpoint, Items, List,
    ListDropletSnapshots, ListSnapshots, MAX_CONCURRENCY, Page, Pages, Progress, WalkSummary,
};
pub use retry::{
    DEFAULT_RETRY_BUDGET, RETRY_COST, RetryPolicy, TIMEOUT_RETRY_COST, Timer, TokioTimer,
};
