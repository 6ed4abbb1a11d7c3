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

/// The requests a walk over an unchanging listing of `count` snapshots
/// makes at `per_page`, read against what the sandbox recorded (`sizes`:
/// the `per_page` of each request, in order): one when the listing fits a
/// page with room to spare; else the first pass, a count (a page past the
/// end, alone, at a size of its own) and a second pass at the size the
/// walk chose, which is the size of the first request after the count.
pub fn unchanged_cost(count: u64, per_page: u64, sizes: &[u64]) -> u64 {
    if count < per_page {
        return 1;
    }
    let first = count.div_ceil(per_page).max(1);
    let second = sizes
        .get(usize::try_from(first + 1).unwrap_or(usize::MAX))
        .map_or(0, |&q| count.div_ceil(q).max(1));
    first + 1 + second
}

/// The `per_page` of each request the sandbox recorded, in order.
pub fn sizes(sandbox: &digitalocean_sandbox::Sandbox) -> Vec<u64> {
    sandbox
        .requests()
        .iter()
        .map(|r| {
            r.query_param("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(20)
        })
        .collect()
}

/// Runs the report (`cargo run --example snapshots`, built as this
/// crate's binary) against `sandbox` with `args`, as a separate process
/// with only the environment it needs.
pub async fn report(
    sandbox: &digitalocean_sandbox::Sandbox,
    args: &[&str],
) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_snapshots"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "DIGITALOCEAN_ACCESS_TOKEN",
            sandbox.token().expect("a token"),
        )
        .env("DIGITALOCEAN_API_URL", sandbox.base_url())
        .kill_on_drop(true)
        .output()
        .await
        .expect("the report runs")
}
