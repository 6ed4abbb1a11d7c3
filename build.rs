//! Generates the raw client from `openapi/snapshots.yaml` with progenitor.
//!
//! This is the whole regeneration step: edit the fragment, run `cargo build`.
//! The output goes to `$OUT_DIR/generated.rs` and is included by
//! `src/generated.rs`. Nothing here touches the network.
//!
//! Two deliberate adjustments are made to what progenitor sees (the fragment
//! on disk is not changed):
//!
//! - Only the 2xx responses are kept. Progenitor decodes documented error
//!   bodies itself and, when one is not JSON (a gateway's HTML page, an empty
//!   503), reports a payload error that has lost the status code. With no
//!   documented error responses every non-2xx answer reaches the hand-written
//!   layer whole (status, headers, body), which turns it into a typed
//!   `Error`. This also sidesteps progenitor's trouble with `default:`.
//! - The item schemas and the two string enums are replaced by the
//!   hand-written types in `src/model.rs` (forward-compatible enums,
//!   `#[non_exhaustive]` structs, `f64` sizes), so decoding goes straight
//!   into the public types and a new enum value never fails a page.
//!
//! The generated client is built with `HooksMode::Expected`: the
//! hand-written `src/transport.rs` implements progenitor's `ClientHooks`
//! for it (the pre-request hook removes the `api-version` header
//! progenitor adds on its own), so nothing generated names a path into
//! the hand-written crate.

use std::path::Path;
use std::process::ExitCode;

mod codegen;

const FRAGMENT: &str = "openapi/snapshots.yaml";

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed={FRAGMENT}");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=codegen.rs");
    match write_client() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Cargo prints a failing build script's stderr: make it readable.
            eprintln!("\nerror: cannot generate the client from {FRAGMENT}:\n{message}\n");
            ExitCode::FAILURE
        }
    }
}

fn write_client() -> Result<(), String> {
    let text = std::fs::read_to_string(FRAGMENT).map_err(|e| format!("  reading it: {e}"))?;
    let code = codegen::generate(&text)?;
    let out_dir = std::env::var_os("OUT_DIR").ok_or("  OUT_DIR is not set (not run by cargo?)")?;
    let out = Path::new(&out_dir).join("generated.rs");
    // Write only when changed, so an unchanged fragment does not rebuild.
    if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&out, code).map_err(|e| format!("  writing {}: {e}", out.display()))?;
    }
    Ok(())
}
