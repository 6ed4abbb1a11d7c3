//! The README's test examples, as the README shows them (taken out by
//! `build.rs`): each compiles against the crates and passes.

/// Unit tests over values built without JSON.
mod unit {
    include!(concat!(env!("OUT_DIR"), "/readme_test_0.rs"));
}

/// An integration test against the fake server, given chosen snapshots.
mod fake_server {
    include!(concat!(env!("OUT_DIR"), "/readme_test_1.rs"));
}

/// An integration test of error handling, with the fake server's faults.
mod faults {
    include!(concat!(env!("OUT_DIR"), "/readme_test_2.rs"));
}
