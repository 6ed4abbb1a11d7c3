//! List every snapshot of the account as a stream, without holding the
//! listing in memory.
//!
//! ```text
//! cargo run --example stream_all
//! ```

mod common;

use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sandbox) = common::client().await?;
    let mut snapshots = client.list_snapshots().items();
    let mut gigabytes = 0.0;
    while let Some(snapshot) = snapshots.try_next().await? {
        gigabytes += snapshot.size_gigabytes;
    }
    let summary = snapshots.summary();
    println!(
        "{} snapshots in {} pages, {gigabytes:.2} GB; {} duplicates dropped; consistent: {}",
        summary.items, summary.pages, summary.duplicates, summary.consistent
    );
    Ok(())
}
