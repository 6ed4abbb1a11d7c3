//! `digitalocean-sandbox`: serve the fake API until interrupted.
//!
//! ```text
//! cargo run -p digitalocean-sandbox -- --port 8080 --snapshots 10000
//! curl -H 'Authorization: Bearer sandbox-token' 'http://127.0.0.1:8080/v2/snapshots?per_page=2'
//! ```

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use digitalocean_sandbox::{Faults, Order, Position, RateLimits, Sandbox, TotalReport};

/// A fake DigitalOcean API for the snapshot listings, with seeded data,
/// rate limits and reproducible faults.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Account snapshots to generate.
    #[arg(long, default_value_t = 100)]
    snapshots: usize,
    /// Seed of the data and of the random faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The order both listings are served in (DigitalOcean documents none).
    #[arg(long, value_enum, default_value_t = OrderArg::Realistic)]
    order: OrderArg,
    /// Add a droplet: ID:SNAPSHOTS:BACKUPS (repeatable).
    #[arg(long = "droplet", value_parser = parse_droplet)]
    droplets: Vec<(u64, usize, usize)>,
    /// Bearer token to require.
    #[arg(long, default_value = digitalocean_sandbox::DEFAULT_TOKEN, conflicts_with = "any_token")]
    token: String,
    /// Accept any bearer token.
    #[arg(long)]
    any_token: bool,
    /// Requests per hour per token.
    #[arg(long, default_value_t = 5_000)]
    per_hour: u64,
    /// Requests per minute per token.
    #[arg(long, default_value_t = 250)]
    per_minute: u64,
    /// Fixed latency per answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Extra random latency, up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Fraction of requests answered 500 (JSON).
    #[arg(long, default_value_t = 0.0)]
    error_500: f64,
    /// Fraction answered 502 (HTML).
    #[arg(long, default_value_t = 0.0)]
    error_502: f64,
    /// Fraction answered 503 (empty body).
    #[arg(long, default_value_t = 0.0)]
    error_503: f64,
    /// Fraction of 200 bodies cut off mid-way.
    #[arg(long, default_value_t = 0.0)]
    truncated: f64,
    /// Answer every k-th request with 429.
    #[arg(long)]
    every_kth_429: Option<u64>,
    /// retry-after seconds of those 429s.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// New snapshots inserted after each page of the account's listing.
    #[arg(long, default_value_t = 0)]
    drift_insert: usize,
    /// Snapshots deleted after each page of the account's listing.
    #[arg(long, default_value_t = 0)]
    drift_delete: usize,
    /// Where drift inserts.
    #[arg(long, value_enum, default_value_t = At::Head)]
    drift_insert_at: At,
    /// Where drift deletes.
    #[arg(long, value_enum, default_value_t = At::Random)]
    drift_delete_at: At,
    /// Rotation after each page of either listing: this many snapshots
    /// made (stamped now, listed where the order puts them) and as many
    /// deleted, as a retention job does (no total moves).
    #[arg(long, default_value_t = 0)]
    rotate: usize,
    /// Where rotation deletes.
    #[arg(long, value_enum, default_value_t = At::Head)]
    rotate_delete_at: At,
    /// Drift and rotation after every k-th page served only.
    #[arg(long, default_value_t = 1)]
    changes_every: u64,
    /// Drift and rotation stop after this many pages served (a burst, then
    /// quiet).
    #[arg(long)]
    changes_stop_after: Option<u64>,
    /// Late snapshots: each droplet snapshot or backup made by rotation is
    /// dated at the start of its action, 1 to SECONDS (default 600) before
    /// it is made, so it appears dated before snapshots already listed.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "600")]
    late_snapshots: Option<u64>,
    /// With --late-snapshots: list each late snapshot (and do its
    /// retention job's deletion) only after this many more pages served.
    #[arg(long, value_name = "PAGES", default_value_t = 0)]
    late_pages: u64,
    /// Growing sizes: each volume snapshot made by rotation or drift lists
    /// size_gigabytes 0 until PAGES (default 3) more pages are served.
    #[arg(
        long,
        value_name = "PAGES",
        num_args = 0..=1,
        default_value_t = 0,
        default_missing_value = "3"
    )]
    growing_sizes: u64,
    /// Serve at most this many items a page, whatever per_page asks.
    #[arg(long)]
    page_cap: Option<u64>,
    /// Serve this page of the account's listing empty, once (repeatable).
    #[arg(long = "hole", value_name = "PAGE")]
    holes: Vec<u64>,
    /// Always say this meta.total on the account's listing.
    #[arg(long, allow_negative_numbers = true)]
    fixed_total: Option<i64>,
    /// Give droplet snapshots look-alike ids ("0123" next to "123").
    #[arg(long)]
    look_alike_ids: bool,
    /// Point every `next` link at this base URL instead.
    #[arg(long)]
    foreign_next_link: Option<String>,
    /// Fraction of items with enum values the API may add later.
    #[arg(long, default_value_t = 0.0)]
    unknown_values: f64,
    /// Add unknown fields to every item.
    #[arg(long)]
    extra_fields: bool,
    /// Make every N snapshots in a row share one created_at (batches).
    #[arg(long, default_value_t = 1)]
    batches: usize,
    /// Serve each batch in a different order on every query.
    #[arg(long)]
    unstable_batches: bool,
    /// A gateway in front: at most N requests served at once; one more is
    /// answered 429 at once, with Retry-After: 1.
    #[arg(long, value_name = "N")]
    in_flight_limit: Option<usize>,
    /// Draw generated created_at values from the span ending at this
    /// time (RFC 3339, e.g. 2025-03-01T00:00:00Z) instead of 2026-11-01.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// Also list these account snapshots, served as written: a JSON
    /// array of items of GET /v2/snapshots (repeatable).
    #[arg(long = "snapshots-file", value_name = "FILE")]
    snapshots_files: Vec<std::path::PathBuf>,
    /// Also list these snapshots and backups under droplet ID (made if
    /// absent; its snapshots also in the account's listing): a JSON array
    /// of items of GET /v2/droplets/{ID}/snapshots (repeatable).
    #[arg(long = "droplet-snapshots-file", value_name = "ID:FILE", value_parser = parse_droplet_file)]
    droplet_snapshots_files: Vec<(u64, std::path::PathBuf)>,
}

/// Where drift changes the listing.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum At {
    Head,
    Tail,
    Middle,
    Random,
}

/// The order both listings are served in.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum OrderArg {
    /// What public evidence shows: a droplet's listing oldest first; the
    /// account's, its droplet snapshots oldest first, then its volume
    /// snapshots by id as a string.
    Realistic,
    /// Oldest first everywhere (new snapshots last).
    CreatedAt,
    /// Every listing by id as a string.
    IdString,
    /// A fixed random permutation from the seed.
    Random,
}

impl From<OrderArg> for Order {
    fn from(order: OrderArg) -> Self {
        match order {
            OrderArg::Realistic => Order::Realistic,
            OrderArg::CreatedAt => Order::CreatedAt,
            OrderArg::IdString => Order::IdString,
            OrderArg::Random => Order::Random,
        }
    }
}

impl From<At> for Position {
    fn from(at: At) -> Self {
        match at {
            At::Head => Position::Head,
            At::Tail => Position::Tail,
            At::Middle => Position::Middle,
            At::Random => Position::Random,
        }
    }
}

fn parse_droplet(value: &str) -> Result<(u64, usize, usize), String> {
    let parts: Vec<&str> = value.split(':').collect();
    let [id, snapshots, backups] = parts[..] else {
        return Err("expected ID:SNAPSHOTS:BACKUPS, e.g. 3164444:5:2".into());
    };
    let number = |s: &str| s.parse::<u64>().map_err(|e| format!("`{s}`: {e}"));
    Ok((
        number(id)?,
        number(snapshots)? as usize,
        number(backups)? as usize,
    ))
}

fn parse_now(value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&chrono::Utc))
        .map_err(|e| format!("expected an RFC 3339 time, e.g. 2025-03-01T00:00:00Z: {e}"))
}

fn parse_droplet_file(value: &str) -> Result<(u64, std::path::PathBuf), String> {
    let Some((id, file)) = value.split_once(':') else {
        return Err("expected ID:FILE, e.g. 3164444:snapshots.json".into());
    };
    let id = id.parse::<u64>().map_err(|e| format!("`{id}`: {e}"))?;
    Ok((id, file.into()))
}

/// The items of a JSON array in `file`, each kept as written.
fn read_items(
    file: &std::path::Path,
) -> Result<Vec<Box<serde_json::value::RawValue>>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let items = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a JSON array: {e}", file.display()))?;
    Ok(items)
}

fn fraction(name: &str, value: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("--{name} must be between 0 and 1, got {value}"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        error_500: fraction("error-500", args.error_500)?,
        error_502: fraction("error-502", args.error_502)?,
        error_503: fraction("error-503", args.error_503)?,
        truncated: fraction("truncated", args.truncated)?,
        every_kth_429: args.every_kth_429,
        retry_after_secs: args.retry_after,
        drift_insert: args.drift_insert,
        drift_delete: args.drift_delete,
        drift_insert_at: args.drift_insert_at.into(),
        drift_delete_at: args.drift_delete_at.into(),
        rotate: args.rotate,
        rotate_delete_at: args.rotate_delete_at.into(),
        changes_every: args.changes_every,
        changes_stop_after: args.changes_stop_after,
        late_snapshots: args.late_snapshots.map(Duration::from_secs),
        late_pages: args.late_pages,
        growing_sizes: args.growing_sizes,
        holes: args.holes,
        page_cap: args.page_cap,
        total: args
            .fixed_total
            .map_or(TotalReport::Truth, TotalReport::Fixed),
        foreign_next_link: args.foreign_next_link,
        unstable_batches: args.unstable_batches,
        in_flight_limit: args.in_flight_limit,
        ..Faults::default()
    };
    let mut builder = Sandbox::builder()
        .addr(SocketAddr::new(args.host, args.port))
        .seed(args.seed)
        .order(args.order.into())
        .snapshots(args.snapshots)
        .token((!args.any_token).then_some(args.token))
        .rate_limits(RateLimits {
            per_hour: args.per_hour,
            per_minute: args.per_minute,
            ..RateLimits::default()
        })
        .faults(faults)
        .unknown_values(fraction("unknown-values", args.unknown_values)?)
        .extra_fields(args.extra_fields)
        .batches(args.batches)
        .look_alike_ids(args.look_alike_ids);
    for (id, snapshots, backups) in args.droplets {
        builder = builder.droplet(id, snapshots, backups);
    }
    if let Some(now) = args.now {
        builder = builder.now(now);
    }
    for file in &args.snapshots_files {
        builder = builder.with_snapshots(read_items(file)?);
    }
    for (id, file) in &args.droplet_snapshots_files {
        builder = builder.with_droplet_snapshots(*id, read_items(file)?);
    }
    let sandbox = builder.start().await?;
    let droplets = sandbox.droplet_ids();
    eprintln!(
        "digitalocean-sandbox listening on {} ({} snapshots, {} droplets, e.g. {:?}); token: {}",
        sandbox.base_url(),
        sandbox.snapshot_ids(None).len(),
        droplets.len(),
        droplets.first(),
        sandbox.token().unwrap_or("any"),
    );
    tokio::signal::ctrl_c().await?;
    let stats = sandbox.stats();
    eprintln!("served {} requests: {:?}", stats.requests, stats.by_status);
    sandbox.shutdown().await;
    Ok(())
}
