#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Which module may use which is stated once, in the crate docs (the
// README's "Layout": the layering map), and checked by `.ci/layering`.

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
mod builder;
mod client;
mod clock;
mod endpoints;
mod error;
mod generated;
mod lock;
mod model;
mod pagination;
mod rate;
mod redact;
mod retry;
mod transport;
mod walk;

pub use builder::ClientBuilder;
pub use client::Client;
pub use clock::{Timer, TokioTimer};
pub use endpoints::{DropletSnapshotsEndpoint, Endpoint, SnapshotsEndpoint};
pub use error::{ApiError, DecodeError, Error, ErrorKind, Result};
pub use model::{
    DropletSnapshot, ListingProof, Page, PageLinks, Progress, RateLimit, ResourceType, Snapshot,
    SnapshotType, WalkSummary,
};
pub use pagination::{Items, List, ListDropletSnapshots, ListSnapshots, Pages};
pub use retry::RetryPolicy;

/// The client progenitor generates from `openapi/snapshots.yaml`, whole:
/// the escape hatch behind [`Client::raw`] (feature `raw-client`).
///
/// Its types follow progenitor and `reqwest` and may change with them,
/// outside this crate's semver promises.
#[cfg(feature = "raw-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "raw-client")))]
pub mod raw {
    pub use crate::generated::*;

    /// The generated source itself (what `build.rs` wrote to `$OUT_DIR`),
    /// for the tests that hold it to the fragment.
    #[doc(hidden)]
    pub const GENERATED_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

#[cfg(feature = "raw-client")]
pub use transport::RawClient;
