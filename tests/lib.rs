//! The integration tests of `digitalocean-snapshots` (each file beside
//! this one is a test binary; `common/` holds their shared helpers). This
//! library is empty: the package exists so that the tests' dependencies
//! build only for `cargo test`, never for the SDK's examples.
