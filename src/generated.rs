//! The client progenitor generates from `openapi/snapshots.yaml` (see
//! `build.rs`). Only `transport.rs` uses it; the `raw-client` feature
//! re-exports it whole as `crate::raw`.
#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unused_imports,
    unreachable_pub,
    dead_code,
    rustdoc::all
)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));
