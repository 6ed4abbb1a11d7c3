//! Measures how many 200-item pages per second the sandbox serves.
//!
//! ```text
//! cargo run --release -p digitalocean-sandbox --example load -- [CONCURRENCY] [SECONDS]
//! ```
//!
//! The sandbox and the load run in one process on the same cores, so the
//! figure is a floor for the server alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use digitalocean_sandbox::{DEFAULT_TOKEN, RateLimits, Sandbox};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let concurrency: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(16);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);

    let sandbox = Sandbox::builder()
        .snapshots(10_000)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await?;
    let client = reqwest::Client::new();
    let requests = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, requests, bytes) = (client.clone(), requests.clone(), bytes.clone());
            let base = sandbox.base_url().to_owned();
            tokio::spawn(async move {
                let mut page = 1 + worker as u64 % 50;
                while Instant::now() < deadline {
                    let url = format!("{base}/v2/snapshots?page={page}&per_page=200");
                    let body = client
                        .get(url)
                        .bearer_auth(DEFAULT_TOKEN)
                        .send()
                        .await?
                        .bytes()
                        .await?;
                    bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                    requests.fetch_add(1, Ordering::Relaxed);
                    page = page % 50 + 1;
                }
                Ok::<_, reqwest::Error>(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = requests.load(Ordering::Relaxed);
    let mb = bytes.load(Ordering::Relaxed) as f64 / 1e6;
    println!(
        "{n} pages of 200 items in {elapsed:.1} s with {concurrency} connections: {:.0} requests/s, {:.0} MB/s, {:.1} KB per page",
        n as f64 / elapsed,
        mb / elapsed,
        mb * 1e3 / n as f64
    );
    Ok(())
}
