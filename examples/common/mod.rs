//! Shared by the examples: a client for the real API when a token is set,
//! otherwise for the bundled fake server.

use digitalocean_sandbox::Sandbox;
use digitalocean_snapshots::{Client, ResourceType, Snapshot};

/// Where `Client::from_env` looks for the token, in order.
pub const TOKEN_ENV_VARS: [&str; 2] = ["DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN"];

/// The client, and the fake server it talks to when there is no token
/// (keep it alive as long as the client is used).
// The fake server's data are dated from the program's wall clock.
#[allow(clippy::disallowed_methods)]
pub async fn client() -> Result<(Client, Option<Sandbox>), Box<dyn std::error::Error>> {
    let token_set = TOKEN_ENV_VARS
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
    if token_set {
        return Ok((Client::from_env()?, None));
    }
    // Seeded data dated up to now, and a nightly job's snapshots of one
    // volume for the last 45 days (what a retention plan is for).
    let now = chrono::Utc::now();
    let nightly = (1..=45).map(|days| {
        let at = now - chrono::TimeDelta::days(days);
        Snapshot::new(format!("7a1e5c00-0000-4000-8000-{days:012}"), at)
            .with_name(format!("nightly-{}", at.format("%Y-%m-%d")))
            .with_resource(ResourceType::Volume, "0b8f6e2a-5d1c-11ef-9a0e-0a58ac14a2b1")
            .with_regions(["nyc3"])
            .with_size_gigabytes(12.5)
            .with_tags(["job:nightly"])
    });
    let sandbox = Sandbox::builder()
        .seed(2026)
        .snapshots(1_200)
        .droplet(3164444, 9, 4)
        .with_snapshots(nightly)
        .now(now)
        .start()
        .await?;
    eprintln!(
        "note: no {} set: reading a fake DigitalOcean API at {} with seeded data",
        TOKEN_ENV_VARS[0],
        sandbox.base_url()
    );
    let client = Client::builder()
        .token(sandbox.token().unwrap_or("sandbox"))
        .base_url(sandbox.base_url())
        .build()?;
    Ok((client, Some(sandbox)))
}
