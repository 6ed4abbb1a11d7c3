//! Take the first few snapshots: `limit(n)` asks the server for no more
//! than needed (one request with `per_page=n` when n <= 200).
//!
//! ```text
//! cargo run --example first_n -- 5
//! ```

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5);
    let (client, _sandbox) = common::client().await?;
    for snapshot in client.list_snapshots().limit(n).collect_all().await? {
        println!(
            "{}  {}  {:.2} GB",
            snapshot.created_at.format("%Y-%m-%d"),
            snapshot.name,
            snapshot.size_gigabytes
        );
    }
    Ok(())
}
