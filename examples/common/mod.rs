//! Shared by the examples: a client for the real API when a token is set,
//! otherwise for the bundled fake server.

use digitalocean_sandbox::Sandbox;
use digitalocean_snapshots::Client;

/// Where `Client::from_env` looks for the token, in order.
pub const TOKEN_ENV_VARS: [&str; 2] = ["DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN"];

/// The client, and the fake server it talks to when there is no token
/// (keep it alive as long as the client is used).
pub async fn client() -> Result<(Client, Option<Sandbox>), Box<dyn std::error::Error>> {
    let token_set = TOKEN_ENV_VARS
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
    if token_set {
        return Ok((Client::from_env()?, None));
    }
    let sandbox = Sandbox::builder()
        .seed(2026)
        .snapshots(1_200)
        .droplet(3164444, 9, 4)
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
