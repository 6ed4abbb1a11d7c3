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
//! itself): what was read is still printed, with a warning on stderr.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

mod common;

use chrono::{DateTime, Duration, Utc};
use clap::{Parser, ValueEnum};
use digitalocean_snapshots::{
    Client, DropletSnapshot, Error, ErrorKind, Pages, RateLimit, ResourceType, Snapshot,
    WalkSummary,
};
use futures_util::StreamExt;
use serde::Serialize;

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
    /// Stop after this many snapshots (fetches no more than needed).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Give up the whole listing after this long (waits and retries
    /// included), e.g. 90s, 10m, 1h: a stalled server ends the run with a
    /// clear error instead of holding it.
    #[arg(long, value_name = "TIME", default_value = "10m", value_parser = parse_deadline)]
    deadline: std::time::Duration,
    /// Pages fetched at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
    /// A listing that does not add up still prints what was read, with a
    /// warning, and exits 3 (the default).
    #[arg(long, overrides_with = "no_strict")]
    strict: bool,
    /// Let the SDK finish a listing that does not add up without an error;
    /// the warning and exit status 3 remain.
    #[arg(long)]
    no_strict: bool,
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
}

fn parse_deadline(value: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = value.split_at(value.trim_end_matches(char::is_alphabetic).len());
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{value}`: expected a number and a unit, e.g. 10m"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        _ => return Err(format!("`{value}`: the unit must be s, m or h")),
    };
    n.checked_mul(seconds)
        .filter(|s| *s > 0)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("`{value}` is out of range"))
}

fn parse_age(value: &str) -> Result<Duration, String> {
    let (number, unit) = value.split_at(value.trim_end_matches(char::is_alphabetic).len());
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{value}`: expected a number and a unit, e.g. 90d"))?;
    let hours = match unit {
        "h" => 1,
        "d" => 24,
        "w" => 24 * 7,
        "y" => 24 * 365,
        _ => return Err(format!("`{value}`: the unit must be h, d, w or y")),
    };
    n.checked_mul(hours)
        .filter(|h| *h >= 0)
        .map(Duration::hours)
        .ok_or_else(|| format!("`{value}` is out of range"))
}

/// What the report needs from either listing's item.
trait Row: Serialize {
    const CSV_HEADER: &'static str;
    fn name(&self) -> &str;
    /// The TYPE column: snapshot / backup (droplet listing), or droplet /
    /// volume (account listing).
    fn type_label(&self) -> String;
    fn resource(&self) -> String;
    fn regions(&self) -> &[String];
    fn size(&self) -> f64;
    fn created_at(&self) -> DateTime<Utc>;
    fn csv(&self) -> String;
}

impl Row for Snapshot {
    const CSV_HEADER: &'static str =
        "id,name,created_at,resource_type,resource_id,regions,min_disk_size,size_gigabytes,tags";
    fn name(&self) -> &str {
        &self.name
    }
    fn type_label(&self) -> String {
        self.resource_type.to_string()
    }
    fn resource(&self) -> String {
        format!("{} {}", self.resource_type, self.resource_id)
    }
    fn regions(&self) -> &[String] {
        &self.regions
    }
    fn size(&self) -> f64 {
        self.size_gigabytes
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn csv(&self) -> String {
        [
            csv_field(&self.id),
            csv_field(&self.name),
            self.created_at.to_rfc3339(),
            csv_field(self.resource_type.as_str()),
            csv_field(&self.resource_id),
            csv_list(&self.regions),
            self.min_disk_size.to_string(),
            self.size_gigabytes.to_string(),
            self.tags.as_deref().map(csv_list).unwrap_or_default(),
        ]
        .join(",")
    }
}

impl Row for DropletSnapshot {
    const CSV_HEADER: &'static str = "id,name,created_at,type,regions,min_disk_size,size_gigabytes";
    fn name(&self) -> &str {
        &self.name
    }
    fn type_label(&self) -> String {
        self.snapshot_type.to_string()
    }
    fn resource(&self) -> String {
        String::new()
    }
    fn regions(&self) -> &[String] {
        &self.regions
    }
    fn size(&self) -> f64 {
        self.size_gigabytes
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn csv(&self) -> String {
        [
            self.id.to_string(),
            csv_field(&self.name),
            self.created_at.to_rfc3339(),
            csv_field(self.snapshot_type.as_str()),
            csv_list(&self.regions),
            self.min_disk_size.to_string(),
            self.size_gigabytes.to_string(),
        ]
        .join(",")
    }
}

/// A CSV cell (RFC 4180: quoted when it holds a comma, a quote or a line
/// break). A value a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, a tab or a CR) gets a leading `'`, as
/// spreadsheet-safe exporters do.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.into_owned()
    }
}

/// A list in one CSV cell, unambiguously: a JSON array (`["a b","c"]`).
fn csv_list(values: &[String]) -> String {
    csv_field(&serde_json::to_string(values).unwrap_or_default())
}

/// Text from the server, safe to print on a terminal: control characters
/// (ESC, CR, NUL, ...), bidirectional overrides and line separators are
/// shown escaped (`\u{1b}`), so a name cannot move the cursor, forge a
/// line or reverse the text around it.
fn safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn age(created: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (now - created).num_days();
    match days {
        ..=0 => format!("{}h", (now - created).num_hours().max(0)),
        1..=59 => format!("{days}d"),
        60..=729 => format!("{}mo", days / 30),
        _ => format!("{}y", days / 365),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(status) => status,
        Err(message) => {
            if std::io::stderr().is_terminal() {
                eprint!("\r\x1b[2K");
            }
            eprintln!("error: {}", safe(&message));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    // Keeps the fake server alive for the whole run when there is one.
    let (client, _sandbox) = common::client().await.map_err(|e| e.to_string())?;

    let report = match args.droplet {
        Some(droplet) => {
            let mut list = client
                .list_droplet_snapshots(droplet)
                .concurrency(args.concurrency as usize)
                .strict(!args.no_strict)
                .deadline(args.deadline);
            if let Some(n) = args.limit {
                list = list.limit(n);
            }
            let progress = progress_bar();
            report(list.on_progress(move |p| progress(p)).pages(), &args)
                .await
                .map_err(|e| explain(e, &client, Some(droplet)))?
        }
        None => {
            let mut list = client
                .list_snapshots()
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
            report(list.on_progress(move |p| progress(p)).pages(), &args)
                .await
                .map_err(|e| explain(e, &client, None))?
        }
    };
    if std::io::stderr().is_terminal() {
        // Whatever the progress line last said, the report is done.
        eprint!("\r\x1b[2K");
    }
    if let Some(rate) = report.rate {
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
        eprintln!(
            "warning: {}; the report above may be incomplete",
            safe(&error.to_string())
        );
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
            "note: the listing changed while it was read; read {} times, {} snapshots found on a re-read; complete",
            summary.passes, summary.recovered
        );
    }
    ExitCode::SUCCESS
}

/// A one-line progress counter on stderr, only when stderr is a terminal.
fn progress_bar() -> impl Fn(&digitalocean_snapshots::Progress) + Send + Sync + 'static {
    let terminal = std::io::stderr().is_terminal();
    move |p| {
        if terminal {
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\rfetched {}/{} snapshots ({} of {} pages)",
                p.items, p.total, p.pages, p.page_count
            );
            if p.pages >= p.page_count {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = err.flush();
        }
    }
}

/// One clear line for the errors a user can act on.
fn explain(error: Error, client: &Client, droplet: Option<u64>) -> String {
    if error.is_unauthorized() {
        return format!(
            "the token from {} was rejected ({}): check it is current and has the {} scope",
            client.token_source(),
            error.message().unwrap_or("401"),
            if droplet.is_some() {
                "droplet:read"
            } else {
                "snapshot:read"
            }
        );
    }
    if let (true, Some(id)) = (error.is_not_found(), droplet) {
        return format!("there is no droplet {id} on this account");
    }
    error.to_string()
}

/// How a report ended.
struct Reported {
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
        rate,
        summary: pages.summary(),
        incomplete,
    })
}

/// One item in a streamed format (`first`: the first of a JSON array).
fn write_item<T: Row>(out: &mut impl Write, item: &T, format: Format, first: bool) {
    let json = || serde_json::to_string(item).unwrap_or_default();
    let _ = match format {
        Format::Jsonl => writeln!(out, "{}", json()),
        Format::Csv => writeln!(out, "{}", item.csv()),
        Format::Json => write!(out, "{}{}", if first { "[\n  " } else { ",\n  " }, json()),
        Format::Table => Ok(()),
    };
}

fn print_table<T: Row>(out: &mut impl Write, rows: &[T], now: DateTime<Utc>) {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                safe(r.name()).into_owned(),
                safe(&r.type_label()).into_owned(),
                safe(&r.resource()).into_owned(),
                safe(&r.regions().join(",")).into_owned(),
                format!("{:.2}", r.size()),
                age(r.created_at(), now),
            ]
        })
        .collect();
    let header = ["NAME", "TYPE", "RESOURCE", "REGIONS", "SIZE GB", "AGE"];
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, row: [&str; 6]| {
        let _ = writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:>w4$}  {:>w5$}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5]
        );
    };
    line(out, header);
    for row in &cells {
        line(out, [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
    }
}

/// Counts, sizes and extremes of what was listed.
#[derive(Default)]
struct Summary {
    count: u64,
    gigabytes: f64,
    by_type: BTreeMap<String, (u64, f64)>,
    by_region: BTreeMap<String, u64>,
    oldest: Option<(DateTime<Utc>, String)>,
    largest: Option<(f64, String)>,
}

impl Summary {
    fn add<T: Row>(&mut self, item: &T) {
        self.count += 1;
        self.gigabytes += item.size();
        let by_type = self.by_type.entry(item.type_label()).or_default();
        by_type.0 += 1;
        by_type.1 += item.size();
        if item.regions().is_empty() {
            *self.by_region.entry("(none)".into()).or_default() += 1;
        }
        for region in item.regions() {
            *self.by_region.entry(region.clone()).or_default() += 1;
        }
        if self
            .oldest
            .as_ref()
            .is_none_or(|(t, _)| item.created_at() < *t)
        {
            self.oldest = Some((item.created_at(), item.name().to_owned()));
        }
        if self.largest.as_ref().is_none_or(|(s, _)| item.size() > *s) {
            self.largest = Some((item.size(), item.name().to_owned()));
        }
    }

    fn print(&self, out: &mut impl Write, now: DateTime<Utc>) {
        let _ = writeln!(
            out,
            "{} snapshots, {:.2} GB billable",
            self.count, self.gigabytes
        );
        for (label, (n, gb)) in &self.by_type {
            let label = safe(label);
            let _ = writeln!(out, "  {label:<12} {n:>6}  {gb:>12.2} GB");
        }
        let regions: Vec<String> = self
            .by_region
            .iter()
            .map(|(r, n)| format!("{} {n}", safe(r)))
            .collect();
        if !regions.is_empty() {
            let _ = writeln!(out, "by region: {}", regions.join(", "));
        }
        if let Some((t, name)) = &self.oldest {
            let _ = writeln!(
                out,
                "oldest:  {} ({}, {} old)",
                safe(name),
                t.format("%Y-%m-%d"),
                age(*t, now)
            );
        }
        if let Some((size, name)) = &self.largest {
            let _ = writeln!(out, "largest: {} ({size:.2} GB)", safe(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_escapes_what_could_move_the_cursor_or_forge_a_line() {
        assert_eq!(safe("web-01"), "web-01");
        let forged = "x\u{1b}[2K\r42 snapshots, 0.00 GB billable\u{202e}gnp.exe\u{2028}\0";
        let shown = safe(forged);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert!(
            !shown.contains('\u{202e}') && !shown.contains('\u{2028}'),
            "{shown}"
        );
        assert!(
            shown.contains("\\u{1b}") && shown.contains("\\u{202e}"),
            "{shown}"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas_and_lists_are_unambiguous() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(
                csv_field(formula).trim_start_matches('"').starts_with('\''),
                "{formula}"
            );
        }
        let one = csv_list(&["a b".to_owned(), "c".to_owned()]);
        let other = csv_list(&["a".to_owned(), "b c".to_owned()]);
        assert_ne!(one, other);
        assert_eq!(one, "\"[\"\"a b\"\",\"\"c\"\"]\"");
    }
}
