//! Benchmarks that print their figures (no pass/fail: the machines are
//! shared and noisy, so figures are compared as ratios within one run).
//!
//! ```text
//! cargo bench --bench listing            # everything
//! cargo bench --bench listing -- quick   # fewer repetitions
//! cargo bench --bench listing -- quick listing memory   # some sections
//! ```
//!
//! Sections, by the name that selects them (printed in this order;
//! `memory` last):
//!
//! 1. `listing`: 10,000 account snapshots at 0 ms and 50 ms latency: the
//!    SDK sequential, capped at 8 and adaptive, against three raw
//!    reqwest + serde_json programs (sequential; two round trips; the
//!    four round trips of a proven walk: page 1, the rest, a count, every
//!    page again).
//! 2. `memory`: the peak resident memory of a process that only streams
//!    1,000 to 1,000,000 snapshots, dedup on and off (the server runs in
//!    the parent process).
//! 3. `decode`: a 200-item page into the public types vs
//!    `serde_json::Value`.
//! 4. `changing`: 10,000 snapshots in each order the sandbox serves
//!    (oldest first, by id as a string, mixed as the evidence shows, a
//!    random permutation): unchanging at 50 ms against the two-round-trip
//!    floor; a retention job now and then; a burst then quiet; changes
//!    after every page: requests, passes, snapshots lost.
//! 5. `paced`: 100,000 snapshots against DigitalOcean's limits (the minute
//!    shortened to 6 s): 429s, time to the first item, the rate floor.
//! 6. `hostile`: the peak memory while a server streams an endless body.
//! 7. `gateway`: 20,000 snapshots behind a gateway that refuses requests
//!    beyond 12 in flight.
//! 8. `plan`: a retention plan over 1,000,000 account snapshots beside
//!    the walk that read them: each in a child process (the server runs
//!    in the parent), its time and peak resident memory.
// Wall-clock figures and deadlines of a program, not the SDK's Timer.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use digitalocean_sandbox::{Faults, Order, Position, RateLimits, Sandbox};
use digitalocean_snapshots::Client;
use digitalocean_snapshots::retention::{GroupBy, Policy};
use futures_util::TryStreamExt;
use serde::Deserialize;

const PER_PAGE: u64 = 200;
const CHILD_ENV: &str = "DO_SNAPSHOTS_BENCH_CHILD_URL";
const CHILD_DEDUP_ENV: &str = "DO_SNAPSHOTS_BENCH_CHILD_DEDUP";
/// Set (to `walk`, `resource` or `all`): the child runs [`child_plan`]
/// instead of [`child_stream`].
const CHILD_PLAN_ENV: &str = "DO_SNAPSHOTS_BENCH_CHILD_PLAN";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(url) = std::env::var(CHILD_ENV) {
        return match std::env::var(CHILD_PLAN_ENV) {
            Ok(mode) => child_plan(&url, &mode),
            Err(_) => child_stream(&url),
        };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "quick");
    // Section names among the arguments run only those sections.
    let named: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| SECTIONS.contains(a))
        .collect();
    let run = |section: &str| named.is_empty() || named.contains(&section);
    let runtime = tokio::runtime::Runtime::new()?;
    println!(
        "digitalocean-snapshots benchmarks, {} (2 cores shared by client and server)\n",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    if run("listing") {
        runtime.block_on(listing(quick))?;
    }
    if run("decode") {
        runtime.block_on(decode(quick))?;
    }
    if run("changing") {
        runtime.block_on(changing())?;
    }
    if run("paced") {
        runtime.block_on(paced())?;
    }
    if run("hostile") {
        runtime.block_on(hostile_body())?;
    }
    if run("gateway") {
        runtime.block_on(gateway())?;
    }
    // Its million-snapshot server too: after the timed sections.
    if run("plan") {
        runtime.block_on(plan())?;
    }
    // Last: its million-snapshot servers leave this process's heap large,
    // which slowed the timed sections after it 2 to 6 times.
    if run("memory") {
        runtime.block_on(memory())?;
    }
    Ok(())
}

/// The sections, by the names that select them on the command line.
const SECTIONS: [&str; 8] = [
    "listing", "memory", "decode", "changing", "paced", "hostile", "gateway", "plan",
];

/// Section 5: a 100,000-item account (500 requests) against the
/// sandbox's real limits with the minute window shortened to 6 s, the
/// client paced to match: 429s received, wall time, and the rate floor of
/// a fixed window that starts full, `floor((requests - 1) / 250) x 6 s`.
async fn paced() -> Result<(), Box<dyn std::error::Error>> {
    const ITEMS: usize = 100_000;
    let window = Duration::from_secs(6);
    println!(
        "5. Listing 100,000 snapshots (500 requests) against 250 requests per 6 s window, paced (250 per 6 s), default window\n"
    );
    println!(
        "| pacing | requests | 429 received | first item | wall time | rate floor | vs floor |"
    );
    println!("|---|---|---|---|---|---|---|");
    for pace in [true, false] {
        let sandbox = Sandbox::builder()
            .snapshots(ITEMS)
            .rate_limits(RateLimits {
                per_minute: 250,
                minute: window,
                ..RateLimits::default()
            })
            .start()
            .await?;
        let mut builder = Client::builder()
            .token(sandbox.token().unwrap_or_default())
            .base_url(sandbox.base_url());
        builder = if pace {
            builder.pace(250, window)
        } else {
            builder.pace(0, Duration::ZERO)
        };
        let client = builder.build()?;
        let started = Instant::now();
        let mut items = client.list_snapshots().items();
        let mut first_item = None;
        let mut outcome = Ok(0usize);
        while let Some(item) = futures_util::StreamExt::next(&mut items).await {
            match item {
                Ok(_) => {
                    first_item.get_or_insert_with(|| started.elapsed());
                    outcome = outcome.map(|n| n + 1);
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        let elapsed = started.elapsed();
        let first_item = first_item.unwrap_or(elapsed);
        let stats = sandbox.stats();
        let ok = stats.status(200);
        let floor = window * u32::try_from((ok.max(1) - 1) / 250).unwrap_or(0);
        let vs = if floor.is_zero() {
            "-".to_owned()
        } else {
            format!("{:.2}x", elapsed.as_secs_f64() / floor.as_secs_f64())
        };
        println!(
            "| {} | {} | {} | {:.1} ms | {:.2} s{} | {:.0} s | {vs} |",
            if pace { "250 per 6 s" } else { "off" },
            stats.requests,
            stats.status(429),
            first_item.as_secs_f64() * 1e3,
            elapsed.as_secs_f64(),
            if outcome.is_ok() { "" } else { " (failed)" },
            floor.as_secs_f64(),
        );
    }
    println!();
    Ok(())
}

/// Section 7: 20,000 snapshots (100 pages of 200) at 20 ms, default
/// settings, with and without a gateway in front that lets 12 requests
/// in at once and refuses the rest with a 429 and `Retry-After: 1`
/// (median of 3 walks each).
async fn gateway() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "7. Listing 20,000 snapshots at 20 ms, default settings, behind a gateway allowing 12 requests in flight (429, Retry-After: 1) and without it; median of 3\n"
    );
    println!("| server | requests | refused (429) | most in flight | outcome | wall time |");
    println!("|---|---|---|---|---|---|");
    for limit in [None, Some(12)] {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..3 {
            let sandbox = Sandbox::builder()
                .snapshots(20_000)
                .faults(Faults {
                    latency: Duration::from_millis(20),
                    in_flight_limit: limit,
                    ..Faults::default()
                })
                .start()
                .await?;
            let client = Client::builder()
                .token(sandbox.token().unwrap_or_default())
                .base_url(sandbox.base_url())
                .build()?;
            let started = Instant::now();
            let outcome = client.list_snapshots().collect_all().await;
            times.push(started.elapsed());
            let outcome = match outcome {
                Ok(items) => format!("Ok, {} snapshots", items.len()),
                Err(e) => format!("error after {:?} items", e.items_delivered()),
            };
            last = Some((sandbox.stats(), outcome));
        }
        if let Some((stats, outcome)) = last {
            println!(
                "| {} | {} | {} | {} | {outcome} | {:.2} s |",
                limit.map_or("no gateway".to_owned(), |l| format!("gateway of {l}")),
                stats.requests,
                stats.status(429),
                stats.max_in_flight,
                median(times).as_secs_f64(),
            );
        }
    }
    println!();
    Ok(())
}

/// Section 6: peak RSS of a process listing from a server whose body never
/// ends, with the default 8 MiB limit.
async fn hostile_body() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "6. Peak resident memory while a hostile server streams an endless body (default limit 8 MiB)\n"
    );
    let sandbox = Sandbox::builder()
        .snapshots(10)
        .faults(Faults {
            endless_body: true,
            ..Faults::default()
        })
        .rate_limits(RateLimits::unlimited())
        .start()
        .await?;
    let (text, _) = run_child(sandbox.base_url(), &[]).await?;
    let fields: Vec<&str> = text.split_whitespace().collect();
    match fields[..] {
        [kind, _, rss] => {
            let rss = mib(rss);
            println!("| outcome | peak RSS |\n|---|---|\n| {kind} error | {rss:.1} MiB |");
        }
        _ => println!("child failed: {}", text.trim()),
    }
    println!();
    Ok(())
}

/// One walk of section 4 over 10,000 snapshots in `order` at `latency`:
/// the row after the case's name.
async fn walk_while_changing(
    order: Order,
    latency: Duration,
    faults: Faults,
) -> Result<(String, Duration), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder()
        .snapshots(LISTING_ITEMS)
        .order(order)
        .faults(Faults { latency, ..faults })
        .rate_limits(RateLimits::unlimited())
        .start()
        .await?;
    let client = Client::builder()
        .token(sandbox.token().unwrap_or_default())
        .base_url(sandbox.base_url())
        .pace(0, Duration::ZERO)
        .build()?;
    let before = sandbox.snapshot_ids(None);
    let started = Instant::now();
    let mut items = client.list_snapshots().items();
    let mut delivered = std::collections::HashSet::new();
    let outcome = loop {
        match items.try_next().await {
            Ok(Some(item)) => {
                delivered.insert(item.id);
            }
            Ok(None) => break "ok".to_owned(),
            Err(e) => break format!("{:?} error", e.kind()),
        }
    };
    let elapsed = started.elapsed();
    let summary = items.summary();
    let after: std::collections::HashSet<String> = sandbox.snapshot_ids(None).into_iter().collect();
    let lost = before
        .iter()
        .filter(|id| after.contains(*id) && !delivered.contains(*id))
        .count();
    let row = format!(
        "{outcome} | {} | {} | {} | {:.0} ms | {lost}",
        sandbox.stats().requests,
        summary.passes,
        summary.recovered,
        elapsed.as_secs_f64() * 1e3
    );
    Ok((row, elapsed))
}

/// The orders of section 4, by name.
const ORDERS: [(&str, Order); 4] = [
    ("oldest first", Order::CreatedAt),
    ("id as a string", Order::IdString),
    (
        "mixed (droplets oldest first, then volumes by id)",
        Order::Realistic,
    ),
    ("a random permutation", Order::Random),
];

/// Section 4: 10,000 snapshots in each order: unchanging at 50 ms (against
/// the raw two-round-trip floor, measured on the same server); a
/// retention job now and then, a burst then quiet, and changes after
/// every page (5 ms): requests, passes, wall time, and the snapshots that
/// existed throughout but were not delivered (must be 0).
async fn changing() -> Result<(), Box<dyn std::error::Error>> {
    let pages = (LISTING_ITEMS as u64).div_ceil(PER_PAGE);
    println!(
        "4a. Listing 10,000 snapshots that do not change, at 50 ms, in each order (a clean walk: {pages} pages, a count, about {pages} more)\n"
    );
    println!(
        "| order | outcome | requests | passes | recovered | wall time | lost | vs two round trips |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, order) in ORDERS {
        let latency = Duration::from_millis(50);
        let floor = {
            let sandbox = Sandbox::builder()
                .snapshots(LISTING_ITEMS)
                .order(order)
                .latency(latency)
                .rate_limits(RateLimits::unlimited())
                .start()
                .await?;
            let http = reqwest::Client::new();
            let token = sandbox.token().unwrap_or_default().to_owned();
            raw_burst(&http, sandbox.base_url(), &token, false).await?;
            time_raw(&sandbox, &http, &token, 3, Schedule::Burst)
                .await?
                .0
        };
        let mut times = Vec::new();
        let mut row = String::new();
        for _ in 0..3 {
            let (r, t) = walk_while_changing(order, latency, Faults::default()).await?;
            times.push(t);
            row = r;
        }
        let time = median(times);
        println!(
            "| {name} | {row} | {:.2}x (median {:.0} ms vs {:.0} ms) |",
            time.as_secs_f64() / floor.as_secs_f64(),
            time.as_secs_f64() * 1e3,
            floor.as_secs_f64() * 1e3
        );
    }
    println!();
    println!(
        "4b. Listing 10,000 snapshots while they change (3 snapshots at a time, 5 ms latency, default window)\n"
    );
    println!("| order | change | outcome | requests | passes | recovered | wall time | lost |");
    println!("|---|---|---|---|---|---|---|---|");
    let cases = |every: u64, stop: Option<u64>| Faults {
        changes_every: every,
        changes_stop_after: stop,
        ..Faults::rotating(3, Position::Head)
    };
    for (name, order) in ORDERS {
        for (what, faults) in [
            ("none", Faults::default()),
            ("retention after every 40th page", cases(40, None)),
            ("retention after every 120th page", cases(120, None)),
            (
                "retention after each of the first 10 pages, then quiet",
                cases(1, Some(10)),
            ),
            ("retention after every page", cases(1, None)),
            (
                "deletions at random after each of the first 10 pages, then quiet",
                Faults {
                    changes_stop_after: Some(10),
                    ..Faults::deleting(3, Position::Random)
                },
            ),
        ] {
            let (row, _) = walk_while_changing(order, Duration::from_millis(5), faults).await?;
            println!("| {name} | {what} | {row} |");
        }
    }
    println!();
    Ok(())
}

/// The floor's item: the same fields as the public type, nothing else.
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawItem {
    id: String,
    name: String,
    created_at: String,
    regions: Vec<String>,
    resource_id: String,
    resource_type: String,
    min_disk_size: u64,
    size_gigabytes: f64,
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawMeta {
    total: u64,
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    snapshots: Vec<RawItem>,
    meta: RawMeta,
}

/// One raw page: its items and the total.
async fn raw_page(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    page: u64,
    per_page: u64,
) -> Result<(usize, u64), Box<dyn std::error::Error>> {
    let url = format!("{base}/v2/snapshots?page={page}&per_page={per_page}");
    let body = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let parsed: RawPage = serde_json::from_slice(&body)?;
    Ok((parsed.snapshots.len(), parsed.meta.total))
}

/// The schedule floor: page 1, then every other page at once, with plain
/// reqwest and serde_json (no pacing, no checks): two round trips. With
/// `prove`, what a proven walk needs on top (`src/walk/proof.rs`): a count
/// alone (a page past the end), then every page again at another size:
/// four round trips.
async fn raw_burst(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    prove: bool,
) -> Result<usize, Box<dyn std::error::Error>> {
    let (first, total) = raw_page(http, base, token, 1, PER_PAGE).await?;
    let pages = total.div_ceil(PER_PAGE);
    let rest = futures_util::future::join_all(
        (2..=pages).map(|p| raw_page(http, base, token, p, PER_PAGE)),
    )
    .await;
    let mut items = first;
    for page in rest {
        items += page?.0;
    }
    if prove && pages > 1 {
        let size = PER_PAGE - 1;
        raw_page(http, base, token, total.div_ceil(150) + 1, 150).await?;
        let again = futures_util::future::join_all(
            (1..=total.div_ceil(size)).map(|p| raw_page(http, base, token, p, size)),
        )
        .await;
        for page in again {
            page?;
        }
    }
    Ok(items)
}

/// The floor: sequential pages with plain reqwest and serde_json.
async fn raw_listing(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut items = 0;
    let mut page = 1;
    loop {
        let (count, total) = raw_page(http, base, token, page, PER_PAGE).await?;
        items += count;
        if page * PER_PAGE >= total || count == 0 {
            return Ok(items);
        }
        page += 1;
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The size of the listing the first table times.
const LISTING_ITEMS: usize = 10_000;

async fn listing(quick: bool) -> Result<(), Box<dyn std::error::Error>> {
    const ITEMS: usize = LISTING_ITEMS;
    println!("1. Listing {ITEMS} account snapshots, per_page {PER_PAGE} (median of n runs)\n");
    println!(
        "| latency | variant | at once | wall time | requests | vs raw sequential | vs two round trips | vs four (proven) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for latency_ms in [0u64, 50] {
        let sandbox = Sandbox::builder()
            .snapshots(ITEMS)
            .latency(Duration::from_millis(latency_ms))
            .rate_limits(RateLimits::unlimited())
            .start()
            .await?;
        let token = sandbox.token().unwrap_or_default().to_owned();
        // The fake server is unlimited here; pacing would time the pacer.
        let client = Client::builder()
            .token(&token)
            .base_url(sandbox.base_url())
            .pace(0, Duration::ZERO)
            .build()?;
        let http = reqwest::Client::new();
        let runs = match (quick, latency_ms) {
            (true, _) => 3,
            (false, 0) => 15,
            (false, _) => 5,
        };
        let pages = (ITEMS as u64).div_ceil(PER_PAGE);

        // Warm up connections and caches once.
        raw_listing(&http, sandbox.base_url(), &token).await?;
        client.list_snapshots().collect_all().await?;

        let mut measure = Vec::new();
        let (raw_time, raw_requests) =
            time_raw(&sandbox, &http, &token, runs, Schedule::Sequential).await?;
        measure.push(("raw reqwest + serde_json", 1usize, raw_time, raw_requests));
        let all_at_once = usize::try_from(pages - 1).unwrap_or(usize::MAX);
        for (name, schedule) in [
            (
                "raw: page 1, then every page at once (two round trips)",
                Schedule::Burst,
            ),
            (
                "raw: page 1, every page at once, a count, every page again at once (four: a proven walk's floor)",
                Schedule::ProvenBurst,
            ),
        ] {
            let (time, requests) = time_raw(&sandbox, &http, &token, runs, schedule).await?;
            let at_once = all_at_once;
            measure.push((name, at_once, time, requests));
        }
        for (name, concurrency) in [
            ("SDK sequential", 1usize),
            ("SDK, window capped at 8 (the old fixed prefetch)", 8),
            ("SDK adaptive window (default, cap 64)", 64),
        ] {
            let (time, requests) = time_sdk(&sandbox, &client, concurrency, runs).await?;
            measure.push((name, concurrency, time, requests));
        }
        let (two, three) = (measure[1].2, measure[2].2);
        let ratio = |time: Duration, floor: Duration| time.as_secs_f64() / floor.as_secs_f64();
        for (name, concurrency, time, requests) in measure {
            println!(
                "| {latency_ms} ms | {name} | {concurrency} | {:.1} ms | {requests} | {:.2}x | {:.2}x | {:.2}x |",
                time.as_secs_f64() * 1e3,
                ratio(time, raw_time),
                ratio(time, two),
                ratio(time, three),
            );
        }
    }
    println!();
    Ok(())
}

/// How a raw listing asks for its pages.
#[derive(Clone, Copy)]
enum Schedule {
    /// One after the other.
    Sequential,
    /// Page 1, then all the others at once.
    Burst,
    /// Page 1, all the others but the end at once, then the end.
    ProvenBurst,
}

/// The median time of `runs` raw listings of `LISTING_ITEMS`, and the
/// requests one takes.
async fn time_raw(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    token: &str,
    runs: usize,
    schedule: Schedule,
) -> Result<(Duration, u64), Box<dyn std::error::Error>> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        sandbox.reset_stats();
        let started = Instant::now();
        let base = sandbox.base_url();
        let n = match schedule {
            Schedule::Sequential => raw_listing(http, base, token).await?,
            Schedule::Burst => raw_burst(http, base, token, false).await?,
            Schedule::ProvenBurst => raw_burst(http, base, token, true).await?,
        };
        samples.push(started.elapsed());
        assert_eq!(n, LISTING_ITEMS);
    }
    Ok((median(samples), sandbox.stats().requests))
}

/// The median time of `runs` SDK listings at `concurrency`, and the
/// requests one takes.
async fn time_sdk(
    sandbox: &Sandbox,
    client: &Client,
    concurrency: usize,
    runs: usize,
) -> Result<(Duration, u64), Box<dyn std::error::Error>> {
    let mut samples = Vec::new();
    let mut requests = 0;
    for _ in 0..runs {
        sandbox.reset_stats();
        let started = Instant::now();
        let items = client
            .list_snapshots()
            .concurrency(concurrency)
            .collect_all()
            .await?;
        samples.push(started.elapsed());
        requests = sandbox.stats().requests;
        assert_eq!(items.len(), LISTING_ITEMS);
    }
    Ok((median(samples), requests))
}

/// Runs in a child process: streams every item, then prints the peak RSS.
fn child_stream(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    let (count, gigabytes) = runtime.block_on(async {
        let client = child_client(url)?;
        let dedup = std::env::var(CHILD_DEDUP_ENV).map_or(true, |v| v != "off");
        // A million snapshots are 5,000 pages: all of DigitalOcean's
        // hourly budget, the default ceiling. The fake server has no such
        // budget, and the batches of snapshots its random clock dates to
        // one second, split by a boundary, take a request each.
        let mut items = client
            .list_snapshots()
            .dedup(dedup)
            // Without ids only a one-page listing can be proven: the
            // memory is what is measured here.
            .strict(dedup)
            .max_pages(20_000)
            .items();
        let (mut count, mut gigabytes) = (0u64, 0f64);
        loop {
            match items.try_next().await {
                Ok(Some(item)) => {
                    count += 1;
                    gigabytes += item.size_gigabytes;
                }
                Ok(None) => break,
                // A hostile server (section 6): the limit that broke.
                Err(e) if e.is_body_limit() => {
                    println!("{:?} 0 {}", e.kind(), peak_rss_kib().unwrap_or(0));
                    std::process::exit(0);
                }
                Err(e) => return Err(e),
            }
        }
        Ok::<_, digitalocean_snapshots::Error>((count, gigabytes))
    })?;
    println!("{count} {gigabytes:.2} {}", peak_rss_kib().unwrap_or(0));
    Ok(())
}

/// The client of a child process: the sandbox's token, pacing off (its
/// server is unlimited).
fn child_client(url: &str) -> digitalocean_snapshots::Result<Client> {
    Client::builder()
        .token(digitalocean_sandbox::DEFAULT_TOKEN)
        .base_url(url)
        .pace(0, Duration::ZERO)
        .build()
}

/// Runs this benchmark again as a child process listing from `url` (the
/// server stays in this process), with `envs` set: its stdout and stderr.
async fn run_child(
    url: &str,
    envs: &[(&str, &str)],
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .env(CHILD_ENV, url)
        .envs(envs.iter().copied())
        .output()
        .await?;
    Ok((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// A child's peak RSS, printed in KiB, in MiB.
fn mib(kib: &str) -> f64 {
    kib.parse::<f64>().unwrap_or(0.0) / 1024.0
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn memory() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "2. Peak resident memory of a process streaming the account listing (items() with the default window)\n"
    );
    println!("| items | dedup | peak RSS |");
    println!("|---|---|---|");
    for (items, dedup) in [
        (1_000usize, "on"),
        (10_000, "on"),
        (100_000, "on"),
        (100_000, "off"),
        (1_000_000, "on"),
        (1_000_000, "off"),
    ] {
        let sandbox = Sandbox::builder()
            .snapshots(items)
            .rate_limits(RateLimits::unlimited())
            .start()
            .await?;
        let (text, errors) = run_child(sandbox.base_url(), &[(CHILD_DEDUP_ENV, dedup)]).await?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        match fields[..] {
            [count, _, rss] if count == items.to_string() => {
                println!("| {items} | {dedup} | {:.1} MiB |", mib(rss));
            }
            _ => println!(
                "| {items} | {dedup} | child failed: {} {} |",
                text.trim(),
                errors.trim()
            ),
        }
    }
    println!();
    Ok(())
}

/// The policy of section 8: a common schedule's.
fn bench_policy(group_by: GroupBy) -> Policy {
    Policy::new()
        .keep_last(3)
        .keep_daily(7)
        .keep_weekly(4)
        .keep_monthly(6)
        .group_by(group_by)
}

/// Runs in a child process (section 8): reads the whole account listing
/// with `collect_with_summary`, then (`mode` `resource` or `all`) plans
/// over it, and prints `snapshots groups kept deleted plan_ns wall_ns
/// peak_rss_kib` (`-` for what a walk alone has not). The wall time is the
/// walk's and the plan's, the plan time the call to `plan` alone; neither
/// counts dropping the items.
fn child_plan(url: &str, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let group_by = match mode {
        "walk" => None,
        "resource" => Some(GroupBy::Resource),
        "all" => Some(GroupBy::All),
        other => return Err(format!("unknown plan mode {other:?}").into()),
    };
    // Fixed, so the plan is the same on every day: a month after the
    // newest snapshot the sandbox dates by default (2026-11-01).
    let now: chrono::DateTime<chrono::Utc> = "2026-12-01T00:00:00Z".parse()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let started = Instant::now();
    let (items, summary) = runtime.block_on(async {
        // Two passes of 5,000 pages (and the extra requests of the batches
        // sharing a second, as in `child_stream`): past the default ceiling.
        child_client(url)?
            .list_snapshots()
            .max_pages(20_000)
            .collect_with_summary()
            .await
    })?;
    let snapshots = items.len();
    let (plan, plan_time) = match group_by {
        None => (None, None),
        Some(group_by) => {
            let planned = Instant::now();
            let plan = bench_policy(group_by).plan(items, &summary, now)?;
            (Some(plan), Some(planned.elapsed()))
        }
    };
    let wall = started.elapsed();
    let rss = peak_rss_kib().unwrap_or(0);
    let field = |n: Option<String>| n.unwrap_or_else(|| "-".to_owned());
    println!(
        "{snapshots} {} {} {} {} {} {rss}",
        field(plan.as_ref().map(|p| p.groups.len().to_string())),
        field(plan.as_ref().map(|p| p.kept.to_string())),
        field(plan.as_ref().map(|p| p.deleted.to_string())),
        field(plan_time.map(|t| t.as_nanos().to_string())),
        wall.as_nanos(),
    );
    // Exit without freeing a million snapshots one by one.
    std::process::exit(0);
}

/// Section 8: a retention plan over 1,000,000 account snapshots beside
/// the walk that read them, each in a child process reading from one
/// sandbox in this process: the walk alone, the walk then a plan by
/// resource, the walk then a plan of one group.
async fn plan() -> Result<(), Box<dyn std::error::Error>> {
    const ITEMS: usize = 1_000_000;
    println!(
        "8. A retention plan over {ITEMS} account snapshots beside the walk that read them (keep_last 3, daily 7, weekly 4, monthly 6; default min_age; now 2026-12-01; each row a child process, the server in this one)\n"
    );
    println!(
        "| run | snapshots | groups | kept | deleted | plan time | wall time | peak RSS (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let sandbox = Sandbox::builder()
        .snapshots(ITEMS)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await?;
    for (name, mode) in [
        ("walk (collect_with_summary)", "walk"),
        ("walk + plan", "resource"),
        ("walk + plan, one group (GroupBy::All)", "all"),
    ] {
        let (text, errors) = run_child(sandbox.base_url(), &[(CHILD_PLAN_ENV, mode)]).await?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        let nanos = |n: &str| n.parse().map(Duration::from_nanos).ok();
        match fields[..] {
            [snapshots, groups, kept, deleted, plan_ns, wall_ns, rss] => println!(
                "| {name} | {snapshots} | {groups} | {kept} | {deleted} | {} | {} | {:.1} |",
                nanos(plan_ns).map_or("-".to_owned(), |t| format!(
                    "{:.0} ms",
                    t.as_secs_f64() * 1e3
                )),
                nanos(wall_ns).map_or("-".to_owned(), |t| format!("{:.2} s", t.as_secs_f64())),
                mib(rss),
            ),
            _ => println!(
                "| {name} | child failed: {} {} |",
                text.trim(),
                errors.trim()
            ),
        }
    }
    println!(
        "\nInline sizes (their strings apart): Snapshot {} bytes, Decision<Snapshot> {} bytes\n",
        std::mem::size_of::<digitalocean_snapshots::Snapshot>(),
        std::mem::size_of::<
            digitalocean_snapshots::retention::Decision<digitalocean_snapshots::Snapshot>,
        >(),
    );
    Ok(())
}

async fn decode(quick: bool) -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder().snapshots(200).start().await?;
    let body = reqwest::Client::new()
        .get(format!("{}/v2/snapshots?per_page=200", sandbox.base_url()))
        .bearer_auth(digitalocean_sandbox::DEFAULT_TOKEN)
        .send()
        .await?
        .bytes()
        .await?;
    let rounds = if quick { 200 } else { 2_000 };
    println!(
        "3. Decoding a 200-item page ({:.1} KB), {rounds} rounds\n",
        body.len() as f64 / 1e3
    );
    println!("| target | MB/s | vs Value |");
    println!("|---|---|---|");
    let time = |f: &dyn Fn() -> usize| {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            for _ in 0..rounds / 5 {
                assert_eq!(f(), 200);
            }
            samples.push(started.elapsed());
        }
        median(samples) * 5
    };
    let value = time(&|| {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        v["snapshots"].as_array().map_or(0, Vec::len)
    });
    let typed = time(&|| {
        digitalocean_snapshots::raw::types::SnapshotList::deserialize(
            &mut serde_json::Deserializer::from_slice(&body),
        )
        .map_or(0, |page| page.snapshots.len())
    });
    let mbps = |t: Duration| body.len() as f64 * rounds as f64 / t.as_secs_f64() / 1e6;
    println!("| serde_json::Value | {:.0} | 1.00x |", mbps(value));
    println!(
        "| public types (Snapshot, chrono, open enums) | {:.0} | {:.2}x |",
        mbps(typed),
        value.as_secs_f64() / typed.as_secs_f64()
    );
    println!();
    Ok(())
}
