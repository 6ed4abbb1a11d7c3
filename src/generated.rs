//! The client progenitor generates from `openapi/snapshots.yaml` (see
//! `build.rs`), kept whole as an escape hatch.
//!
//! Prefer [`crate::Client`]: it validates input, authenticates, maps errors
//! and pages. This module exposes the raw operations for what the typed
//! layer does not cover. Its types follow progenitor and `reqwest` and may
//! change with them, outside this crate's semver promises.
#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unused_imports,
    unreachable_pub,
    rustdoc::all
)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));
