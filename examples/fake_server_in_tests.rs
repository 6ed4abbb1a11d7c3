//! Use the fake server in your own tests: seeded data, faults on demand,
//! and counters to assert on. (Written as an example; in a test, put the
//! body in a `#[tokio::test]`.)
//!
//! ```text
//! cargo run --example fake_server_in_tests
//! ```

use digitalocean_sandbox::{Faults, Sandbox};
use digitalocean_snapshots::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1,000 snapshots, and one request in ten answered 503.
    let sandbox = Sandbox::builder()
        .snapshots(1_000)
        .faults(Faults {
            error_503: 0.1,
            ..Faults::default()
        })
        .start()
        .await?;
    let client = Client::builder()
        .token(sandbox.token().unwrap_or_default())
        .base_url(sandbox.base_url())
        .build()?;

    let snapshots = client.list_snapshots().collect_all().await?;

    // Exactly the seeded items, in order, despite the 503s (retried).
    let ids: Vec<String> = snapshots.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, sandbox.snapshot_ids(None));
    let stats = sandbox.stats();
    println!(
        "{} snapshots, {} requests ({} answered 503, retried)",
        snapshots.len(),
        stats.requests,
        stats.status(503)
    );
    Ok(())
}
