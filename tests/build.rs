//! Takes the README's test examples out of the README (each Rust block
//! with a `#[cfg(test)]` module or a `#[tokio::test]`), so that
//! `tests/readme.rs` compiles and runs them as tests, exactly as the
//! README shows them: rustdoc drops test items from a doc test, so the
//! doc test of the README alone would not run them.

use std::path::Path;

fn main() {
    // At run time: a build script built for one copy of the workspace
    // may run for another that shares the target directory.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let readme = Path::new(&manifest).join("../README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()));
    let blocks: Vec<&str> = text
        .split("```rust")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block))
        .map(|block| block.split_once('\n').map_or("", |(_, code)| code))
        .filter(|code| code.contains("#[cfg(test)]") || code.contains("#[tokio::test]"))
        .collect();
    // The unit test, the fake server, its faults.
    assert!(
        blocks.len() == 3,
        "README.md should show 3 test examples (a #[cfg(test)] module, two #[tokio::test]s), found {}",
        blocks.len()
    );
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for (n, block) in blocks.iter().enumerate() {
        let path = Path::new(&out).join(format!("readme_test_{n}.rs"));
        std::fs::write(&path, block)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
