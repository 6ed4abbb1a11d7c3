//! Takes the README's unit-test example (the Rust block with a
//! `#[cfg(test)]` module) out of the README, so that `tests/readme.rs`
//! compiles and runs it as a test, exactly as the README shows it:
//! rustdoc drops a `#[cfg(test)]` module from a doc test, so the doc test
//! of the README alone would not run it.

use std::path::Path;

fn main() {
    // At run time: a build script built for one copy of the workspace
    // may run for another that shares the target directory.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let readme = Path::new(&manifest).join("../README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()));
    let block = text
        .split("```rust")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block))
        .map(|block| block.split_once('\n').map_or("", |(_, code)| code))
        .find(|code| code.contains("#[cfg(test)]"))
        .unwrap_or_else(|| panic!("README.md has no Rust block with a #[cfg(test)] module"));
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("readme_unit_test.rs");
    std::fs::write(&out, block).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
