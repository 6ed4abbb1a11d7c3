//! A typed client for DigitalOcean's snapshot listings:
//!
//! - `GET /v2/droplets/{droplet_id}/snapshots` — the snapshots and backups of
//!   one droplet ([`Client::list_droplet_snapshots`]);
//! - `GET /v2/snapshots` — every snapshot of the account, optionally only
//!   those of droplets or of volumes ([`Client::list_snapshots`]).
//!
//! The client is generated with [progenitor] from a checked-in OpenAPI
//! fragment (`openapi/snapshots.yaml`); a hand-written layer adds what
//! generated code cannot: a client builder with safe defaults, input checks
//! before anything is sent, pagination that gets every snapshot once,
//! retries that respect the rate limit, forward-compatible enums, and one
//! error type that says what went wrong.
//!
//! ```no_run
//! use digitalocean_snapshots::{Client, ResourceType};
//! use futures_util::TryStreamExt;
//!
//! # #[tokio::main] async fn main() -> digitalocean_snapshots::Result<()> {
//! // DIGITALOCEAN_ACCESS_TOKEN (or DIGITALOCEAN_TOKEN), DIGITALOCEAN_API_URL
//! let client = Client::from_env()?;
//!
//! // Every volume snapshot, streamed: pages of 200, up to 64 at once as the
//! // rate limit allows.
//! let mut snapshots = client.list_snapshots().resource_type(ResourceType::Volume).items();
//! while let Some(snapshot) = snapshots.try_next().await? {
//!     println!("{:<40} {:>9.2} GB  {}", snapshot.name, snapshot.size_gigabytes, snapshot.created_at);
//! }
//!
//! // One droplet's snapshots and backups, all at once.
//! match client.list_droplet_snapshots(3164444).collect_all().await {
//!     Ok(all) => println!("{} snapshots and backups", all.len()),
//!     Err(e) if e.is_not_found() => println!("no such droplet"),
//!     Err(e) => return Err(e),
//! }
//!
//! // One page, as the API serves it.
//! let page = client.list_snapshots().page(2).per_page(50).send().await?;
//! println!("page {} of {}, {} in all", page.page, page.page_count(), page.total);
//! # Ok(()) }
//! ```
//!
//! The README shows how to add the crate to a project, the two commands of
//! this repository, the blocking client, and how to test code that uses the
//! crate.
//!
//! # Where to read more
//!
//! - [`walk`]: the guarantee of a walk in full: what it rests on, how it
//!   proves a listing, what happens when the listing changes, what it
//!   assumes, what it costs, and how a walk reads its pages.
//! - [`List`]: a listing's request: one page ([`List::send`]) or a walk
//!   ([`List::pages`], [`List::items`], [`List::collect_all`],
//!   [`List::collect_with_summary`]), and its options.
//! - [`retry`]: what is retried and how long it waits, the retry budget,
//!   the rate limit and the pace, and the `tracing` spans of each call.
//! - [`error`]: the one error type, what it says, the checks made before
//!   sending, and how to build each kind to test your own handling.
//! - [`retention`]: which snapshots a keep-policy (restic's `forget`
//!   rules) keeps and which it would delete, planned only over a listing
//!   the walk proved whole.
//! - [`ClientBuilder`]: configuration: the settings, the environment
//!   variables, certificates and proxies, how the token is kept, bounded
//!   reads, durations.
//! - [`Snapshot`], [`DropletSnapshot`], [`Page`]: what the API returns, and
//!   their constructors for unit tests.
//! - `blocking` (feature `blocking`): the same client without an async
//!   runtime.
//!
//! # Public API
//!
//! Everything below follows semantic versioning (see `CHANGELOG.md`); every
//! struct is `#[non_exhaustive]`, every enum of server values is open.
//!
//! | item | what it is |
//! |---|---|
//! | [`Client`], [`ClientBuilder`] (`from_env`, `build`) | the client and its configuration (each default is on its setter) |
//! | [`Client::list_droplet_snapshots`], [`Client::list_snapshots`] -> [`List`] ([`ListDropletSnapshots`], [`ListSnapshots`]) | the two listings: `send`, `pages`, `items`, `collect_all`, `collect_with_summary` and their options |
//! | [`Pages`], [`Items`] | the walk's streams, with `summary()` |
//! | [`DropletSnapshot`], [`Snapshot`], [`SnapshotType`], [`ResourceType`], [`Page`], [`PageLinks`], [`RateLimit`], [`Progress`], [`WalkSummary`], [`ListingProof`] | what the API returns and what a walk reports (and how it proved its listing whole) |
//! | [`Error`], [`ErrorKind`], [`ApiError`], [`DecodeError`], [`Result`] | the one error type, its predicates and public constructors (for testing your own handling) |
//! | [`RetryPolicy`], [`Timer`], [`TokioTimer`] | retries, and the clock they run on |
//! | [`retention::Policy`], [`retention::Scope`], [`retention::Plan`] and what a plan holds | retention plans over a proven listing (pure: the crate never deletes) |
//! | [`Endpoint`], [`DropletSnapshotsEndpoint`], [`SnapshotsEndpoint`] | the listings as types (`Endpoint` is sealed; their limits are on `List`'s setters) |
//! | `blocking::{Client, List, ListSnapshots, ListDropletSnapshots, Pages, Items}`, `ClientBuilder::build_blocking` (feature `blocking`) | the same client without an async runtime (the request types named as the async ones) |
//! | `schemars::JsonSchema` on the model types (feature `schemars`) | their JSON Schema |
//! | features `rustls` (default), `native-tls` | the TLS backend (below) |
//!
//! # Typed items
//!
//! [`DropletSnapshot`] (integer `id`, [`SnapshotType`]) and [`Snapshot`]
//! (string `id`, `resource_id`, [`ResourceType`],
//! `tags: Option<Vec<String>>`), `created_at` as `chrono::DateTime<Utc>`,
//! `size_gigabytes` as `f64` (0.1008 round-trips exactly). Structs are
//! `#[non_exhaustive]`; unknown fields are ignored. `SnapshotType` and
//! `ResourceType` keep a value this version does not know in
//! `Unknown(String)` and serialize it back unchanged: one new server value
//! never fails a page. `Snapshot::new`, `DropletSnapshot::new` and
//! `Page::new`, with their `with_*` setters, build values for tests without
//! JSON.
//!
//! # TLS backends
//!
//! Cargo features: `rustls` (the default: rustls with its default crypto
//! provider, aws-lc-rs; no system library, a C compiler builds aws-lc) or
//! `native-tls` (the platform's library: OpenSSL on Linux, which needs
//! `libssl-dev` and `pkg-config`; no aws-lc). With both on, rustls is used;
//! with neither, `build()` refuses an `https://` API with a `Config` error
//! (plain `http://` fakes still work). First build of
//! `cargo run --example snapshots` on a fresh clone, crates already
//! downloaded, on the project's 2-core machine (2026-11-25, one run each):
//!
//! | build | first build | vs a bare program |
//! |---|---|---|
//! | a bare program with the same reqwest (rustls), tokio, axum, clap, serde and chrono features | 59.1 s | 1.00x |
//! | the report, default features (`rustls`) | 83.3 s | 1.41x |
//! | the report, `--no-default-features --features native-tls` | 61.2 s | 1.04x |
//!
//! What the report adds over the bare program is the code generation
//! (progenitor in `build.rs`, with its own `syn`) and the crate itself.
//!
//! # The escape hatch
//!
//! Outside those promises: `raw`, `RawClient` and `Client::raw()` (feature
//! `raw-client`), the client progenitor generates, whose types follow
//! progenitor and `reqwest` and may change with them.
//!
//! [progenitor]: https://github.com/oxidecomputer/progenitor

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Which module may use which is stated once, in CONTRIBUTING.md's
// "Layout" (the layering map), and checked by `.ci/layering`. `walk`,
// `retry` and `error` are public for their module docs, the reference on
// the guarantee, retries and errors; their types are re-exported here.

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
mod builder;
mod client;
mod clock;
mod endpoints;
pub mod error;
mod generated;
mod lock;
mod model;
mod pagination;
mod rate;
mod redact;
// Retention plans over a proven listing: a policy in, keep or delete out.
pub mod retention;
pub mod retry;
mod transport;
pub mod walk;

pub use builder::ClientBuilder;
pub use client::Client;
pub use clock::{Timer, TokioTimer};
pub use endpoints::{DropletSnapshotsEndpoint, Endpoint, SnapshotsEndpoint};
#[doc(inline)]
pub use error::{ApiError, DecodeError, Error, ErrorKind, Result};
pub use model::{
    DropletSnapshot, ListingProof, Page, PageLinks, Progress, RateLimit, ResourceType, Snapshot,
    SnapshotType, WalkSummary,
};
pub use pagination::{Items, List, ListDropletSnapshots, ListSnapshots, Pages};
#[doc(inline)]
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

/// The README's examples, compiled and run as doc tests: the README is no
/// longer the crate's front page, and must still compile as shown. Its
/// blocking example needs the feature, so they run with `--all-features`
/// (as CI runs `cargo test --workspace --all-features`).
#[cfg(all(doctest, feature = "blocking"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
