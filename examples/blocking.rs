//! The blocking client, from a plain `fn main` with no async runtime:
//! count the account's snapshots and show the first few.
//!
//! ```text
//! cargo run --example blocking --features blocking
//! ```
//!
//! With `DIGITALOCEAN_ACCESS_TOKEN` set it reads the real API; without, a
//! bundled fake server (which, being a server, runs on a runtime of its
//! own: the client does not need one).

use digitalocean_sandbox::Sandbox;
/// Where `Client::from_env` looks for the token, in order.
const TOKEN_ENV_VARS: [&str; 2] = ["DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN"];
use digitalocean_snapshots::blocking::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _fake) = client()?;
    let mut count = 0;
    let mut first = Vec::new();
    // Pages are fetched ahead in the background while this loop runs.
    for snapshot in client.list_snapshots().per_page(200).items() {
        let snapshot = snapshot?;
        if first.len() < 5 {
            first.push(snapshot.name);
        }
        count += 1;
    }
    println!("{count} snapshots");
    for name in first {
        println!("  {name}");
    }
    Ok(())
}

/// The fake server and the runtime it runs on.
type Fake = (tokio::runtime::Runtime, Sandbox);

/// The real API when a token is set; otherwise the fake server, kept
/// alive (with its runtime) as long as the client is used.
fn client() -> Result<(Client, Option<Fake>), Box<dyn std::error::Error>> {
    let token_set = TOKEN_ENV_VARS
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
    if token_set {
        return Ok((Client::from_env()?, None));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let sandbox = runtime.block_on(Sandbox::builder().seed(2026).snapshots(1_200).start())?;
    eprintln!(
        "note: no {} set: reading a fake DigitalOcean API at {}",
        TOKEN_ENV_VARS[0],
        sandbox.base_url()
    );
    let client = Client::builder()
        .token(sandbox.token().unwrap_or("sandbox"))
        .base_url(sandbox.base_url())
        .build_blocking()?;
    Ok((client, Some((runtime, sandbox))))
}
