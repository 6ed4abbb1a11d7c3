//! Retention plans in the report: the `--keep-*` flags, the plan made
//! only from a listing the walk proved whole, and how it is printed.

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::ValueEnum;
use digitalocean_snapshots::retention::Retainable;
use digitalocean_snapshots::retention::{Action, Decision, GroupBy, Plan, Policy, Scope};

use super::Format;
use super::output::{HEADER, Row, cells, csv_field, safe, write_table};

/// Which snapshots can go: a plan with restic's `forget` rules, per
/// resource (or per type on a droplet's listing). Any of these flags
/// turns the report into a plan; nothing is deleted.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct PlanArgs {
    /// Keep the N newest snapshots of each group ("unlimited": all).
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Retention plan")]
    keep_last: Option<u32>,
    /// Keep every snapshot younger than this (36h, 7d, 4w, 1y) at the
    /// time of the run.
    #[arg(long, value_name = "AGE", value_parser = parse_duration, help_heading = "Retention plan")]
    keep_within: Option<std::time::Duration>,
    /// Keep the newest snapshot of each of the last N hours that have one.
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Retention plan")]
    keep_hourly: Option<u32>,
    /// Keep the newest snapshot of each of the last N days (UTC) that have one.
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Retention plan")]
    keep_daily: Option<u32>,
    /// Keep the newest snapshot of each of the last N ISO weeks that have one.
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Retention plan")]
    keep_weekly: Option<u32>,
    /// Keep the newest snapshot of each of the last N months that have one.
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Retention plan")]
    keep_monthly: Option<u32>,
    /// Keep the newest snapshot of each of the last N years that have one.
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Retention plan")]
    keep_yearly: Option<u32>,
    /// Keep every snapshot carrying this tag (repeatable: any of them;
    /// account listing only, with a token that can read tags).
    #[arg(
        long,
        value_name = "TAG",
        conflicts_with = "droplet",
        help_heading = "Retention plan"
    )]
    keep_tag: Vec<String>,
    /// What a group is: each resource (a droplet's listing: snapshots and
    /// backups apart), or all snapshots together.
    /// [default: resource]
    #[arg(long, value_enum, value_name = "BY", help_heading = "Retention plan")]
    group_by: Option<GroupByArg>,
    /// Never delete a snapshot younger than this (the newest of each
    /// group is never deleted either). [default: 1h]
    #[arg(long, value_name = "AGE", value_parser = parse_duration, help_heading = "Retention plan")]
    min_age: Option<std::time::Duration>,
    /// Plan only snapshots whose name matches (`*`, `?`; repeatable: any
    /// of them); the others are kept, out of scope.
    #[arg(long, value_name = "GLOB", help_heading = "Retention plan")]
    name: Vec<String>,
    /// Plan only snapshots available in this region (repeatable); the
    /// others are kept, out of scope.
    #[arg(long, value_name = "SLUG", help_heading = "Retention plan")]
    region: Vec<String>,
    /// Print only the snapshots the plan keeps, or only those it would
    /// delete (with `--format ids`: one id per line, to pipe into a
    /// deleting tool).
    #[arg(
        long,
        value_enum,
        value_name = "ACTION",
        help_heading = "Retention plan"
    )]
    only: Option<OnlyArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GroupByArg {
    Resource,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OnlyArg {
    Keep,
    Delete,
}

/// A count, or `unlimited` (restic's word for all).
fn parse_count(value: &str) -> Result<u32, String> {
    if value == "unlimited" {
        return Ok(u32::MAX);
    }
    value.parse().map_err(|_| {
        format!(
            "`{value}`: expected a number (0 to {}) or `unlimited`",
            u32::MAX
        )
    })
}

/// An age such as `--older-than` takes, as a duration.
fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    super::parse_age(value)?
        .to_std()
        .map_err(|_| format!("`{value}` is out of range"))
}

impl PlanArgs {
    /// Whether a plan was asked for.
    pub(crate) fn wanted(&self) -> bool {
        self.keep_last.is_some()
            || self.keep_within.is_some()
            || self.keep_hourly.is_some()
            || self.keep_daily.is_some()
            || self.keep_weekly.is_some()
            || self.keep_monthly.is_some()
            || self.keep_yearly.is_some()
            || !self.keep_tag.is_empty()
            || self.only.is_some()
    }

    /// The policy of the flags.
    pub(crate) fn policy(&self) -> Policy {
        let mut policy = Policy::new().group_by(match self.group_by {
            Some(GroupByArg::All) => GroupBy::All,
            Some(GroupByArg::Resource) | None => GroupBy::Resource,
        });
        if let Some(min_age) = self.min_age {
            policy = policy.min_age(min_age);
        }
        let counts = [
            (
                self.keep_last,
                Policy::keep_last as fn(Policy, u32) -> Policy,
            ),
            (self.keep_hourly, Policy::keep_hourly),
            (self.keep_daily, Policy::keep_daily),
            (self.keep_weekly, Policy::keep_weekly),
            (self.keep_monthly, Policy::keep_monthly),
            (self.keep_yearly, Policy::keep_yearly),
        ];
        for (count, rule) in counts {
            if let Some(n) = count {
                policy = rule(policy, n);
            }
        }
        if let Some(within) = self.keep_within {
            policy = policy.keep_within(within);
        }
        for tag in &self.keep_tag {
            policy = policy.keep_tag(tag.clone());
        }
        let mut scope = Scope::all();
        for glob in &self.name {
            scope = scope.name(glob.clone());
        }
        for region in &self.region {
            scope = scope.region(region.clone());
        }
        policy.scope(scope)
    }

    /// A flag that only shapes a plan, given without one.
    pub(crate) fn stray(&self) -> Option<&'static str> {
        [
            (!self.name.is_empty(), "--name"),
            (!self.region.is_empty(), "--region"),
            (self.group_by.is_some(), "--group-by"),
            (self.min_age.is_some(), "--min-age"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// Whether `--only` was given.
    pub(crate) fn only_given(&self) -> bool {
        self.only.is_some()
    }

    /// Whether a decision is printed (`--only`).
    fn shows(&self, action: Action) -> bool {
        match self.only {
            None => true,
            Some(OnlyArg::Keep) => action == Action::Keep,
            Some(OnlyArg::Delete) => action == Action::Delete,
        }
    }
}

/// The decision's rules, as the table and the files show them.
fn why<T>(decision: &Decision<T>) -> String {
    if decision.reasons.is_empty() {
        return "no rule kept it".to_owned();
    }
    decision
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn action_label(action: Action) -> &'static str {
    if action == Action::Keep {
        "KEEP"
    } else {
        "DELETE"
    }
}

/// Prints the plan in `format`: the decisions `--only` admits, then (on
/// stdout for the table, on stderr otherwise) the plan's counts and how
/// to apply it.
pub(crate) fn print_plan<T: Row + Retainable>(
    plan: &Plan<T>,
    args: &PlanArgs,
    format: Format,
    now: DateTime<Utc>,
) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let shown: Vec<&Decision<T>> = plan
        .decisions
        .iter()
        .filter(|d| args.shows(d.action))
        .collect();
    match format {
        Format::Table => {
            let mut header = vec!["ACTION"];
            header.extend(HEADER);
            header.push("WHY");
            let rows: Vec<Vec<String>> = shown
                .iter()
                .map(|d| {
                    let mut row = vec![action_label(d.action).to_owned()];
                    row.extend(cells(&d.item, now));
                    row.push(safe(&why(d)).into_owned());
                    row
                })
                .collect();
            write_table(&mut out, &header, &[5, 6], &rows);
            let _ = writeln!(out);
        }
        Format::Ids => {
            for d in &shown {
                let _ = writeln!(out, "{}", safe(&Row::id(&d.item)));
            }
        }
        Format::Csv => {
            let _ = writeln!(out, "action,why,{}", T::CSV_HEADER);
            for d in &shown {
                let _ = writeln!(out, "{},{},{}", d.action, csv_field(&why(d)), d.item.csv());
            }
        }
        Format::Json | Format::Jsonl => {
            let lines: Vec<String> = shown.iter().map(|d| decision_json(d)).collect();
            if format == Format::Jsonl {
                for line in &lines {
                    let _ = writeln!(out, "{line}");
                }
            } else if lines.is_empty() {
                let _ = writeln!(out, "[]");
            } else {
                let _ = writeln!(out, "[\n  {}\n]", lines.join(",\n  "));
            }
        }
    }
    let _ = out.flush();
    if format == Format::Table {
        print_counts(&mut out, plan);
        let _ = out.flush();
    } else {
        print_counts(&mut std::io::stderr(), plan);
    }
}

/// The item as the API gave it, with `action`, `reasons` and `group`.
fn decision_json<T: Row>(decision: &Decision<T>) -> String {
    let mut value = serde_json::to_value(&decision.item).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("action".into(), decision.action.to_string().into());
        let reasons: Vec<String> = decision.reasons.iter().map(ToString::to_string).collect();
        object.insert("reasons".into(), reasons.into());
        object.insert("group".into(), (*decision.group).into());
    }
    value.to_string()
}

/// The plan's totals, and how to apply it.
fn print_counts<T>(out: &mut impl Write, plan: &Plan<T>) {
    let _ = writeln!(
        out,
        "plan: keep {}, delete {} ({:.2} GB freed), {} out of scope, {} groups",
        plan.kept,
        plan.deleted,
        plan.gigabytes_freed,
        plan.out_of_scope,
        plan.groups.len()
    );
    if plan.deleted > 0 {
        let _ = writeln!(
            out,
            "nothing was deleted; to apply: --only delete --format ids | xargs -n 20 doctl compute snapshot delete --force"
        );
    }
}
