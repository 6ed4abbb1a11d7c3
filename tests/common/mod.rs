//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod canned;

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

/// A client for a running sandbox, with its token and the default policy.
pub fn sandbox_client(sandbox: &digitalocean_sandbox::Sandbox) -> Client {
    Client::builder()
        .token(sandbox.token().expect("a sandbox with a token"))
        .base_url(sandbox.base_url())
        .build()
        .expect("client for the sandbox")
}

/// The three rate-limit headers as DigitalOcean sends them.
pub const RATE_HEADERS: [(&str, &str); 3] = [
    ("ratelimit-limit", "5000"),
    ("ratelimit-remaining", "4816"),
    ("ratelimit-reset", "1444931833"),
];

/// The fields of an account snapshot, in the spec's order: all required,
/// `tags` nullable.
pub const SNAPSHOT_FIELDS: [&str; 9] = [
    "id",
    "name",
    "created_at",
    "regions",
    "resource_id",
    "resource_type",
    "min_disk_size",
    "size_gigabytes",
    "tags",
];

/// DigitalOcean's answer to a rejected token.
pub const UNAUTHORIZED: &str = r#"{"id":"unauthorized","message":"Unable to authenticate you."}"#;

/// A mock server that answers every request with `status` and `body`.
pub async fn answering(status: u16, body: &str) -> MockServer {
    let server = MockServer::start_async().await;
    let body = body.to_owned();
    server
        .mock_async(move |when, then| {
            when.any_request();
            then.status(status).body(body);
        })
        .await;
    server
}

/// The canonical (lowercase, hyphenated) form of the UUID with bits `n`.
/// A server whose account listing answers 503 twice, then an empty
/// page: two retries, then a success.
pub async fn twice_unavailable_then_empty() -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(503).up_to_n_times(2);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(200).body(r#"{"meta":{"total":0}}"#);
        })
        .await;
    server
}

pub fn uuid(n: u128) -> String {
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The workspace root (this test crate lives in its `tests/`).
pub fn project_root() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}
