//! The README's unit-test example, as the README shows it (taken out by
//! `build.rs`): it compiles against the crate and its test passes.

include!(concat!(env!("OUT_DIR"), "/readme_unit_test.rs"));
