//! Helpers shared by the integration tests.
#![allow(dead_code)]

use digitalocean_snapshots::{Client, RetryPolicy};
use httpmock::MockServer;

/// A token that is easy to find in any output it leaks into.
pub const TOKEN: &str = "dop_v1_SECRET0123456789abcdefTOKEN";

pub const SEED_DROPLET_SNAPSHOTS: &str = include_str!("../fixtures/seed_droplet_snapshots.json");
pub const SEED_ALL_SNAPSHOTS: &str = include_str!("../fixtures/seed_all_snapshots.json");

/// A client for the mock server, with the test token and no retries (the
/// retry tests build their own).
pub fn client(server: &MockServer) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client for the mock server")
}

/// The three rate-limit headers as DigitalOcean sends them.
pub const RATE_HEADERS: [(&str, &str); 3] = [
    ("ratelimit-limit", "5000"),
    ("ratelimit-remaining", "4816"),
    ("ratelimit-reset", "1444931833"),
];
