//! The main job: a report of every snapshot of an account, or of one
//! droplet.
//!
//! ```text
//! cargo run --example snapshots                          # fake server unless a token is set
//! cargo run --example snapshots -- --older-than 90d      # clean-up candidates
//! cargo run --example snapshots -- --droplet 3164444     # one droplet's snapshots and backups
//! cargo run --example snapshots -- --resource-type volume --format csv
//! ```
//!
//! With `DIGITALOCEAN_ACCESS_TOKEN` (or `DIGITALOCEAN_TOKEN`) set it reads
//! the real API, or the server `DIGITALOCEAN_API_URL` names. Without one it
//! starts the bundled fake server with seeded data and says so on stderr.
//!
//! Exit status: 0 when the listing is complete (a note on stderr says when
//! it changed while it was read and had to be read again); 1 when it could
//! not be listed (token, network, server); 2 for a usage error; 3 when the
//! listing did not add up (it kept changing, or the server contradicted
//! itself): what was read is still printed, with a warning on stderr; 3
//! also when a plan was asked for and none could be made (the listing did
//! not add up, another job deleted snapshots while it was read, or
//! `--keep-tag` over snapshots whose tags are not listed): the warning
//! says why, and nothing is printed on stdout.
// Wall-clock figures and deadlines of a program, not the SDK's Timer.
#![allow(clippy::disallowed_methods)]

use std::io::{IsTerminal, Write};

use output::{Row, Summary, print_table, safe, write_item};
use std::process::ExitCode;

#[path = "../common/mod.rs"]
mod common;
mod output;
mod plan;

use chrono::{Duration, Utc};
use clap::{Parser, ValueEnum};
use digitalocean_snapshots::retention::Retainable;
use digitalocean_snapshots::{
    Client, Error, ErrorKind, Pages, RateLimit, ResourceType, WalkSummary,
};
use futures_util::StreamExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Lists DigitalOcean snapshots with a summary: counts, billable size,
/// regions, the oldest and the largest.
#[derive(Debug, Parser)]
#[command(name = "snapshots")]
struct Args {
    /// List the snapshots and backups of this droplet instead of the account's.
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..))]
    droplet: Option<u64>,
    /// Only snapshots of droplets or of volumes (account listing only).
    #[arg(long, value_enum, conflicts_with = "droplet")]
    resource_type: Option<ResourceTypeArg>,
    /// Only snapshots older than this: 90d, 12w, 36h, 1y.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: Option<Duration>,
    /// Output format. json is one array; jsonl and csv stream as pages
    /// arrive. In csv, regions and tags are JSON arrays, and a cell a
    /// spreadsheet would run as a formula starts with `'`. The table and
    /// stderr show control and bidi characters escaped (`\u{1b}`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Start at this page of 200 (to resume a listing that ended early:
    /// the error names the page).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    page: u64,
    /// Stop after this many snapshots (fetches no more than needed).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Give up the whole listing after this long (waits and retries
    /// included), e.g. 90s, 10m, 1h: a stalled server ends the run with a
    /// clear error instead of holding it.
    #[arg(long, value_name = "TIME", default_value = "10m", value_parser = parse_deadline)]
    deadline: std::time::Duration,
    /// The most pages fetched at once (the window adapts below it to the
    /// rate limit and to trouble; 1 reads one page after the other).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
    /// A listing that does not add up still prints what was read, with a
    /// warning, and exits 3 (the default).
    #[arg(long, overrides_with = "no_strict")]
    strict: bool,
    /// Let the SDK finish a listing that does not add up without an error;
    /// the warning and exit status 3 remain.
    #[arg(long)]
    no_strict: bool,
    /// Show the SDK's events on stderr: -v retries, waits and listing
    /// warnings; -vv every request; -vvv everything. `RUST_LOG` (e.g.
    /// `RUST_LOG=digitalocean_snapshots=debug`), when set, decides instead.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(flatten)]
    plan: plan::PlanArgs,
}

/// Exit status when the listing did not add up.
const EXIT_INCOMPLETE: u8 = 3;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ResourceTypeArg {
    Droplet,
    Volume,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    /// One id per line (with `--only delete`: what a plan would delete).
    Ids,
}

/// A number and a unit (`10m`, `90d`) as seconds, from `units` (unit,
/// seconds in it); `example` shows the form in the error.
fn parse_span(value: &str, units: &[(&str, u64)], example: &str) -> Result<u64, String> {
    let (number, unit) = value.split_at(value.trim_end_matches(char::is_alphabetic).len());
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{value}`: expected a number and a unit, e.g. {example}"))?;
    let Some((_, seconds)) = units.iter().find(|(name, _)| *name == unit) else {
        let names: Vec<&str> = units.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "`{value}`: the unit must be one of {}",
            names.join(", ")
        ));
    };
    n.checked_mul(*seconds)
        .ok_or_else(|| format!("`{value}` is out of range"))
}

fn parse_deadline(value: &str) -> Result<std::time::Duration, String> {
    let seconds = parse_span(value, &[("s", 1), ("m", 60), ("h", 3_600)], "10m")?;
    if seconds == 0 {
        return Err(format!("`{value}`: a deadline must be longer than zero"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

fn parse_age(value: &str) -> Result<Duration, String> {
    const HOUR: u64 = 3_600;
    let units = [
        ("h", HOUR),
        ("d", 24 * HOUR),
        ("w", 7 * 24 * HOUR),
        ("y", 365 * 24 * HOUR),
    ];
    let seconds = parse_span(value, &units, "90d")?;
    i64::try_from(seconds)
        .ok()
        .and_then(Duration::try_seconds)
        .ok_or_else(|| format!("`{value}` is out of range"))
}

/// The tracing filter: `RUST_LOG` when set, otherwise the SDK's events at
/// the level `-v` asks for; `None`: no logging (the default).
fn log_filter(verbose: u8, rust_log: Option<&str>) -> Option<String> {
    if let Some(filter) = rust_log.filter(|f| !f.trim().is_empty()) {
        return Some(filter.to_owned());
    }
    let level = match verbose {
        0 => return None,
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    Some(format!("digitalocean_snapshots={level}"))
}

/// Sends the SDK's tracing events to stderr, escaped like the rest of
/// stderr (a server's message may hold terminal control sequences).
fn init_logging(verbose: u8) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let Some(filter) = log_filter(verbose, rust_log.as_deref()) else {
        return;
    };
    // `target=level` directives, comma-separated (the common part of
    // RUST_LOG's syntax, without the regex engine of `EnvFilter`).
    let targets: Targets = filter.parse().unwrap_or_else(|e| {
        eprintln!(
            "warning: log filter `{}`: {e}; showing warnings only",
            safe(&filter)
        );
        Targets::new().with_default(tracing::Level::WARN)
    });
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(|| SafeStderr)
                .with_ansi(false)
                // Each call and attempt, with its OpenTelemetry fields
                // (method, path, status, resend count, error type), as it
                // closes.
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE),
        )
        .with(targets)
        .init();
}

/// stderr, with control and bidi characters escaped in each line.
struct SafeStderr;

impl Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let mut stderr = std::io::stderr().lock();
        for line in text.split_inclusive('\n') {
            let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
            write!(stderr, "{}{end}", safe(body))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(conflict) = check_plan_args(&args) {
        conflict.exit();
    }
    init_logging(args.verbose);
    match run(args).await {
        Ok(status) => status,
        Err(lines) => {
            if std::io::stderr().is_terminal() {
                eprint!("\r\x1b[2K");
            }
            // Each line made safe on its own: the error, then what to do.
            for (n, line) in lines.split('\n').enumerate() {
                let lead = if n == 0 { "error: " } else { "" };
                eprintln!("{lead}{}", safe(line));
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    // Keeps the fake server alive for the whole run when there is one.
    let (client, _sandbox) = common::client()
        .await
        .map_err(|e| e.to_string().replace(['\n', '\r'], " "))?;

    let report = match args.droplet {
        Some(droplet) => {
            let mut list = client
                .list_droplet_snapshots(droplet)
                .page(args.page)
                .concurrency(args.concurrency as usize)
                .strict(!args.no_strict)
                .deadline(args.deadline);
            if let Some(n) = args.limit {
                list = list.limit(n);
            }
            let progress = progress_bar();
            walk(list.on_progress(move |p| progress(p)).pages(), &args)
                .await
                .map_err(|e| explain(e, &client, Some(droplet)))?
        }
        None => {
            let mut list = client
                .list_snapshots()
                .page(args.page)
                .concurrency(args.concurrency as usize)
                .strict(!args.no_strict)
                .deadline(args.deadline);
            if let Some(resource_type) = args.resource_type {
                list = list.resource_type(match resource_type {
                    ResourceTypeArg::Droplet => ResourceType::Droplet,
                    ResourceTypeArg::Volume => ResourceType::Volume,
                });
            }
            if let Some(n) = args.limit {
                list = list.limit(n);
            }
            let progress = progress_bar();
            walk(list.on_progress(move |p| progress(p)).pages(), &args)
                .await
                .map_err(|e| explain(e, &client, None))?
        }
    };
    if std::io::stderr().is_terminal() {
        // Whatever the progress line last said, the report is done.
        eprint!("\r\x1b[2K");
    }
    // The freshest any answer reported (the count and the second pass
    // come after the last page delivered), else the last page's.
    if let Some(rate) = client.rate_limit().or(report.rate) {
        eprintln!(
            "rate limit: {} of {} requests left this hour (refills at {})",
            rate.remaining, rate.limit, rate.reset
        );
    }
    Ok(exit_status(report))
}

/// 0, or 3 with a warning when the listing does not add up; a note when
/// it changed while it was read.
fn exit_status(report: Reported) -> ExitCode {
    let summary = report.summary;
    if let Some(error) = report.incomplete {
        let consequence = if report.planned {
            "no plan was made"
        } else {
            "the report above may be incomplete"
        };
        eprintln!("warning: {}; {consequence}", safe(&error.to_string()));
        return ExitCode::from(EXIT_INCOMPLETE);
    }
    if !summary.consistent {
        eprintln!(
            "warning: the listing does not add up ({} items read, latest total {}; read {} times): it may be incomplete",
            summary.items,
            summary.total_at_end.unwrap_or(0),
            summary.passes
        );
        return ExitCode::from(EXIT_INCOMPLETE);
    }
    if summary.changed {
        eprintln!(
            "note: the listing changed while it was read; read {} times, {} snapshots found by a later look; complete",
            summary.passes, summary.recovered
        );
    }
    ExitCode::SUCCESS
}

/// Clears the progress line on a terminal, before stdout writes under it.
fn clear_progress_line() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}

/// A one-line progress counter on stderr, only when stderr is a terminal.
fn progress_bar() -> impl Fn(&digitalocean_snapshots::Progress) + Send + Sync + 'static {
    let terminal = std::io::stderr().is_terminal();
    move |p| {
        if terminal {
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r\x1b[2Kfetched {}/{} snapshots (pass {}: page {} of {})",
                p.items, p.expected_items, p.pass, p.pages, p.page_count
            );
            let _ = err.flush();
        }
    }
}

/// One clear line for the errors a user can act on; when snapshots were
/// printed before it, how many and how to resume.
/// The error's lines: what happened (server text on it is kept to one
/// line), then, when snapshots were printed, how to resume.
fn explain(error: Error, client: &Client, droplet: Option<u64>) -> String {
    // On one line (the library bounds the server text in it).
    let what = explain_error(&error, client, droplet)
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match (error.items_delivered(), error.resume_page()) {
        (Some(printed), Some(page)) if printed > 0 => format!(
            "{what}\nthe listing above is incomplete: {printed} snapshots were read before this; to resume, run again with --page {page}"
        ),
        _ => what,
    }
}

/// Server text on one line of at most 300 characters, with what was cut
/// (the library's `Display` bounds its own the same way).
fn one_line(text: &str) -> String {
    const MAX: usize = 300;
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let line = words.join(" ");
    let count = line.chars().count();
    if count <= MAX {
        return line;
    }
    let cut: String = line.chars().take(MAX).collect();
    format!("{cut}… ({} more characters)", count - MAX)
}

fn explain_error(error: &Error, client: &Client, droplet: Option<u64>) -> String {
    if error.is_unauthorized() {
        return format!(
            "the token from {} was rejected ({}): check it is current and has the {} scope",
            client.token_source(),
            error.api().map_or_else(
                || "401".to_owned(),
                |api| one_line(api.message().unwrap_or("401"))
            ),
            if droplet.is_some() {
                "droplet:read"
            } else {
                "snapshot:read"
            }
        );
    }
    if let (true, Some(id)) = (error.is_not_found(), droplet) {
        return match (error.items_delivered(), error.resume_page()) {
            // Found, listed in part, then gone: destroyed during the
            // listing (the resume hint follows).
            (Some(read), Some(page)) if read > 0 => format!(
                "droplet {id} disappeared during the listing: it was found and {read} of its snapshots were read, then the request for page {page} said there is no droplet {id} (was it destroyed?)"
            ),
            _ => format!("there is no droplet {id} on this account"),
        };
    }
    error.to_string()
}

/// How a report ended.
struct Reported {
    /// A plan was asked for (and made, unless `incomplete`).
    planned: bool,
    /// The rate-limit state of the last page.
    rate: Option<RateLimit>,
    summary: WalkSummary,
    /// The listing did not add up; what was read was printed.
    incomplete: Option<Error>,
}

/// Prints the listing in the chosen format and the summary. A listing
/// that does not add up is still printed, and said so; any other error
/// ends the report (a JSON array is closed first).
async fn report<T: Row>(mut pages: Pages<T>, args: &Args) -> Result<Reported, Error> {
    let now = Utc::now();
    let keep = |item: &T| {
        args.older_than
            .is_none_or(|age| now - item.created_at() > age)
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut rows: Vec<T> = Vec::new();
    let mut rate = None;
    let mut summary = Summary::default();
    let mut first = true;
    if args.format == Format::Csv {
        let _ = writeln!(out, "{}", T::CSV_HEADER);
    }
    let mut incomplete = None;
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if e.kind() == ErrorKind::Inconsistent => {
                incomplete = Some(e);
                break;
            }
            Err(e) => {
                if args.format == Format::Json && !first {
                    let _ = writeln!(out, "\n]");
                    let _ = out.flush();
                }
                return Err(e);
            }
        };
        rate = page.rate_limit.or(rate);
        if args.format != Format::Table {
            clear_progress_line();
        }
        for item in page.items.into_iter().filter(|i| keep(i)) {
            summary.add(&item);
            if args.format == Format::Table {
                rows.push(item);
            } else {
                write_item(&mut out, &item, args.format, first);
                first = false;
            }
        }
        if args.format != Format::Table {
            let _ = out.flush();
        }
    }
    match args.format {
        Format::Json => {
            let _ = writeln!(out, "{}", if first { "[]" } else { "\n]" });
        }
        Format::Table => {
            clear_progress_line();
            print_table(&mut out, &rows, now);
            let _ = writeln!(out);
            summary.print(&mut out, now);
        }
        _ => {}
    }
    let _ = out.flush();
    if args.format != Format::Table {
        let mut err = std::io::stderr();
        summary.print(&mut err, now);
    }
    Ok(Reported {
        planned: false,
        rate,
        summary: pages.summary(),
        incomplete,
    })
}

/// The options a plan cannot be made with: it needs every snapshot of the
/// listing, read from its first page, by a walk that ends with an error
/// when it does not add up.
fn check_plan_args(args: &Args) -> Result<(), clap::Error> {
    use clap::CommandFactory;
    if !args.plan.wanted() {
        return match args.plan.stray() {
            Some(flag) => Err(Args::command().error(
                clap::error::ErrorKind::MissingRequiredArgument,
                format!("{flag} shapes a retention plan: give a --keep-* rule (or --only) with it"),
            )),
            None => Ok(()),
        };
    }
    if args.format == Format::Ids && !args.plan.only_given() {
        return Err(Args::command().error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "a plan's ids are those it deletes or those it keeps: say which with --only delete (or --only keep)",
        ));
    }
    let conflict = if args.limit.is_some() {
        Some("--limit")
    } else if args.older_than.is_some() {
        Some("--older-than (use --keep-within, or --min-age)")
    } else if args.page > 1 {
        Some("--page")
    } else if args.no_strict {
        Some("--no-strict")
    } else {
        None
    };
    match conflict {
        Some(option) => Err(Args::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("a retention plan needs the whole listing: {option} cannot be used with --keep-* or --only"),
        )),
        None => Ok(()),
    }
}

/// The report, or the plan when one was asked for.
async fn walk<T: Row + Retainable>(pages: Pages<T>, args: &Args) -> Result<Reported, Error> {
    if args.plan.wanted() {
        plan_report(pages, args).await
    } else {
        report(pages, args).await
    }
}

/// Reads the whole listing, then plans over it and prints the plan; a
/// listing that does not add up gives no plan (the warning and exit 3).
async fn plan_report<T: Row + Retainable>(
    mut pages: Pages<T>,
    args: &Args,
) -> Result<Reported, Error> {
    let mut items = Vec::new();
    let mut rate = None;
    let mut incomplete = None;
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                rate = page.rate_limit.or(rate);
                items.extend(page.items);
            }
            Err(e) if e.kind() == ErrorKind::Inconsistent => {
                incomplete = Some(e);
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let summary = pages.summary();
    if incomplete.is_none() {
        let now = Utc::now();
        // `--resource-type` narrowed the listing itself (the SDK checks
        // the server kept to it): the plan's scope need not repeat it.
        match args.plan.policy().plan(items, &summary, now) {
            Ok(plan) => {
                clear_progress_line();
                plan::print_plan(&plan, &args.plan, args.format, now);
            }
            // The listing was read, but no plan can be made from it.
            Err(e) => incomplete = Some(e),
        }
    }
    Ok(Reported {
        planned: true,
        rate,
        summary,
        incomplete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_is_off_unless_asked_and_rust_log_decides_when_set() {
        assert_eq!(log_filter(0, None), None);
        assert_eq!(log_filter(0, Some("  ")), None);
        assert_eq!(
            log_filter(1, None).as_deref(),
            Some("digitalocean_snapshots=info")
        );
        assert_eq!(
            log_filter(2, None).as_deref(),
            Some("digitalocean_snapshots=debug")
        );
        assert_eq!(
            log_filter(9, None).as_deref(),
            Some("digitalocean_snapshots=trace")
        );
        assert_eq!(log_filter(0, Some("warn")).as_deref(), Some("warn"));
        assert_eq!(log_filter(3, Some("warn")).as_deref(), Some("warn"));
        let args = Args::try_parse_from(["snapshots", "-vv"]).unwrap();
        assert_eq!(args.verbose, 2);
    }

    #[test]
    fn plan_flags_read_counts_and_ages_and_refuse_a_partial_listing() {
        let args = Args::try_parse_from([
            "snapshots",
            "--keep-last",
            "unlimited",
            "--keep-within",
            "2w",
        ])
        .unwrap();
        assert!(args.plan.wanted());
        assert!(check_plan_args(&args).is_ok());
        assert!(Args::try_parse_from(["snapshots", "--keep-daily", "-1"]).is_err());
        assert!(Args::try_parse_from(["snapshots", "--keep-daily", "4294967296"]).is_err());
        assert!(Args::try_parse_from(["snapshots", "--min-age", "0h"]).is_ok());
        for partial in [["--limit", "5"], ["--page", "3"], ["--older-than", "9d"]] {
            let args =
                Args::try_parse_from(["snapshots", "--keep-last", "1"].into_iter().chain(partial))
                    .unwrap();
            assert!(check_plan_args(&args).is_err(), "{partial:?}");
        }
        let listing = Args::try_parse_from(["snapshots", "--limit", "5"]).unwrap();
        assert!(!listing.plan.wanted() && check_plan_args(&listing).is_ok());
        for stray in [
            ["--name", "tmp-*"],
            ["--region", "nyc3"],
            ["--min-age", "2h"],
            ["--group-by", "all"],
        ] {
            let args = Args::try_parse_from(["snapshots"].into_iter().chain(stray)).unwrap();
            assert!(check_plan_args(&args).is_err(), "{stray:?} alone");
        }
        let ids =
            Args::try_parse_from(["snapshots", "--keep-last", "1", "--format", "ids"]).unwrap();
        assert!(check_plan_args(&ids).is_err(), "ids of a plan need --only");
        let ids = Args::try_parse_from(["snapshots", "--format", "ids"]).unwrap();
        assert!(check_plan_args(&ids).is_ok(), "a listing's ids");
        assert!(Args::try_parse_from(["snapshots", "--droplet", "7", "--keep-tag", "x"]).is_err());
    }

    #[test]
    fn ages_and_deadlines_read_a_number_and_a_unit() {
        assert_eq!(parse_age("90d"), Ok(Duration::days(90)));
        assert_eq!(parse_age("36h"), Ok(Duration::hours(36)));
        assert!(parse_age("-5d").is_err() && parse_age("5x").is_err());
        assert!(parse_age("99999999999999999y").is_err());
        assert_eq!(
            parse_deadline("10m"),
            Ok(std::time::Duration::from_secs(600))
        );
        assert!(parse_deadline("0s").is_err() && parse_deadline("m").is_err());
    }
}
