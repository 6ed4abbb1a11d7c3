//! Handle what can go wrong: bad input (nothing is sent), a missing
//! droplet, a rejected token, a spent rate limit, and an error in the middle
//! of a walk (resume from the page it names).
//!
//! ```text
//! cargo run --example errors_and_rate_limits
//! ```

mod common;

use std::time::Duration;

use digitalocean_snapshots::{Client, ErrorKind, RetryPolicy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, sandbox) = common::client().await?;

    // Rejected before sending: the error names the field and the range.
    let error = client
        .list_snapshots()
        .per_page(500)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    println!("invalid input: {error}");

    // An API error: branch on the predicates, read what the server said.
    match client.list_droplet_snapshots(1).send().await {
        Err(e) if e.is_not_found() => println!(
            "not found: {} (id {:?}, request {:?})",
            e.message().unwrap_or("-"),
            e.code(),
            e.request_id()
        ),
        other => println!("droplet 1: {:?}", other.map(|p| p.total)),
    }

    // A rejected token says where it came from and which scope is needed.
    let wrong = Client::builder()
        .token("not-a-valid-token")
        .base_url(client.base_url())
        .allow_insecure_http(true)
        .build()?;
    if let Err(e) = wrong.list_snapshots().send().await {
        println!("unauthorized: {e}");
    }

    // The rate limit: what the last response said, shared by every clone.
    if let Some(rate) = client.rate_limit() {
        println!(
            "rate limit: {} of {} left, refills at {}",
            rate.remaining, rate.limit, rate.reset
        );
    }

    // A walk that fails part-way says how far it got and where to resume.
    let patient = client.list_snapshots().retry_policy(
        RetryPolicy::default()
            .max_attempts(6)
            .deadline(Duration::from_secs(60)),
    );
    match patient.clone().collect_all().await {
        Ok(all) => println!("listed {} snapshots", all.len()),
        Err(e) => {
            println!("stopped: {e}");
            if let Some(page) = e.resume_page() {
                let rest = patient.page(page).collect_all().await?;
                println!("resumed from page {page}: {} more", rest.len());
            }
        }
    }
    drop(sandbox);
    Ok(())
}
