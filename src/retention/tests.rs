//! Retention plans: restic's documented examples, the safety rules, extreme
//! values, and properties over random listings and policies (among them,
//! that every plan is the one an independent reading of restic's rules
//! gives).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::scope::glob_match;
use super::*;
use crate::{DropletSnapshot, ErrorKind, ListingProof, ResourceType, Snapshot, SnapshotType};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// `Policy::plan` with the summary of a walk that delivered these items
/// (the count a plan checks).
trait PlanWalk {
    fn plan_walk<T: Retainable>(
        &self,
        items: Vec<T>,
        summary: &WalkSummary,
        now: DateTime<Utc>,
    ) -> crate::Result<Plan<T>>;
}

impl PlanWalk for Policy {
    fn plan_walk<T: Retainable>(
        &self,
        items: Vec<T>,
        summary: &WalkSummary,
        now: DateTime<Utc>,
    ) -> crate::Result<Plan<T>> {
        let mut summary = *summary;
        summary.items = items.len() as u64;
        self.plan(items, &summary, now)
    }
}

fn proven() -> WalkSummary {
    WalkSummary {
        consistent: true,
        complete: true,
        proof: Some(ListingProof::OnePage),
        ..WalkSummary::default()
    }
}

fn at(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .expect("a test time")
        .and_utc()
}

/// A snapshot of one volume, as the account listing gives it.
/// A volume snapshot whose tags are known (none).
fn snap(id: &str, time: &str) -> Snapshot {
    Snapshot::new(id, at(time))
        .with_resource(ResourceType::Volume, "vol-1")
        .with_tags(Vec::<String>::new())
}

fn kept(plan: &Plan<Snapshot>) -> BTreeSet<&str> {
    plan.to_keep().map(|s| s.id.as_str()).collect()
}

fn deleted(plan: &Plan<Snapshot>) -> BTreeSet<&str> {
    plan.to_delete().map(|s| s.id.as_str()).collect()
}

fn reasons<'p>(plan: &'p Plan<Snapshot>, id: &str) -> &'p [Reason] {
    &plan
        .decisions
        .iter()
        .find(|d| d.item.id == id)
        .expect("a decided id")
        .reasons
}

fn set<'a>(ids: &[&'a str]) -> BTreeSet<&'a str> {
    ids.iter().copied().collect()
}

// ---------------------------------------------------------------------
// restic's documented examples ("Removing snapshots according to a
// policy", doc/060_forget.rst), written from the text.
// ---------------------------------------------------------------------

/// The documentation's two weeks: a backup every weekday at 11:00, one
/// more on Fridays at 23:00, no backup on the second Wednesday.
fn two_weeks() -> Vec<Snapshot> {
    vec![
        snap("60e5c031", "2025-04-21 11:00:00"),
        snap("1dccffe9", "2025-04-22 11:00:00"),
        snap("90a5c949", "2025-04-23 11:00:00"),
        snap("79580708", "2025-04-24 11:00:00"),
        snap("8a603ddf", "2025-04-25 11:00:00"),
        snap("ae33bf10", "2025-04-25 23:00:00"),
        snap("fb8b1418", "2025-04-28 11:00:00"),
        snap("1db188b4", "2025-04-29 11:00:00"),
        snap("7baa4f28", "2025-05-01 11:00:00"),
        snap("05c48af3", "2025-05-02 11:00:00"),
        snap("ad72e262", "2025-05-02 23:00:00"),
    ]
}

/// `forget --keep-daily 5`: one snapshot per day for the last five days
/// that had one, reaching back to the previous Friday because Wednesday
/// is missing. The documentation's table shows the kept Friday snapshot
/// with the id of the 11:00 one (8a603ddf) and the time of the 23:00 one,
/// and removes 8a603ddf at 11:00: by its rule ("keep only the most recent
/// one for each day") and its listing, the kept one is ae33bf10.
#[test]
fn restic_keep_daily_5_over_two_weeks_with_a_missed_wednesday() {
    let policy = Policy::new().keep_daily(5);
    let plan = policy
        .plan_walk(two_weeks(), &proven(), at("2025-05-09 12:00:00"))
        .unwrap();
    assert_eq!(
        kept(&plan),
        set(&["ae33bf10", "fb8b1418", "1db188b4", "7baa4f28", "ad72e262"])
    );
    assert_eq!(
        deleted(&plan),
        set(&[
            "60e5c031", "1dccffe9", "90a5c949", "79580708", "8a603ddf", "05c48af3"
        ])
    );
    for d in plan.decisions.iter().filter(|d| d.action == Action::Keep) {
        assert_eq!(d.reasons, [Reason::Daily], "{}", d.item.id);
        assert_eq!(d.to_string(), "keep (daily)");
    }
    assert_eq!((plan.kept, plan.deleted, plan.out_of_scope), (5, 6, 0));
}

/// `--keep-within-daily 7d` has no equivalent here (a stated difference).
/// `--keep-within 7d` keeps every snapshot within seven days of the latest
/// one; here the duration counts from `now`, so with `now` at the latest
/// snapshot the documented rule reproduces ...
#[test]
fn restic_keep_within_7d_reproduces_when_now_is_the_latest_snapshot() {
    let policy = Policy::new().keep_within(7 * DAY);
    let plan = policy
        .plan_walk(two_weeks(), &proven(), at("2025-05-02 23:00:00"))
        .unwrap();
    // After 2025-04-25 23:00 (strictly, as restic's "after").
    assert_eq!(
        kept(&plan),
        set(&["fb8b1418", "1db188b4", "7baa4f28", "05c48af3", "ad72e262"])
    );
    assert!(
        plan.decisions
            .iter()
            .filter(|d| d.action == Action::Keep)
            .all(|d| d.reasons == [Reason::Within])
    );
}

/// ... and a week later (the difference): restic would keep the same five
/// (within 7 days of the latest); here nothing is within a week of now,
/// and only the newest is kept, by the safety rule.
#[test]
fn keep_within_counts_from_now_unlike_restic() {
    let policy = Policy::new().keep_within(7 * DAY);
    let plan = policy
        .plan_walk(two_weeks(), &proven(), at("2025-05-09 23:00:00"))
        .unwrap();
    assert_eq!(kept(&plan), set(&["ad72e262"]));
    assert_eq!(reasons(&plan, "ad72e262"), [Reason::NewestOfGroup]);
}

/// "Suppose you make one backup every day for 100 years. Then `forget
/// --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 75`
/// would keep the most recent 7 daily snapshots and 4 last-day-of-the-week
/// ones (since the 7 dailies already include 1 weekly). Additionally, 12 or
/// 11 last-day-of-the-month snapshots [...] And finally 75 or 74
/// last-day-of-the-year snapshots". The hundred years end on Sunday
/// 2023-12-31, so the seven dailies are one whole ISO week; the newest
/// snapshot is always the newest of its month and year as well, so the
/// "or" branch (11, 74) is the one taken.
#[test]
fn restic_a_backup_every_day_for_100_years() {
    let first = NaiveDate::from_ymd_opt(1924, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap();
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    assert_eq!(days.len(), 36_525);
    let items: Vec<Snapshot> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Snapshot::new(i.to_string(), d.and_hms_opt(12, 0, 0).unwrap().and_utc())
                .with_resource(ResourceType::Droplet, "3164444")
                .with_size_gigabytes(1.5)
        })
        .collect();
    let policy = Policy::new()
        .keep_daily(7)
        .keep_weekly(5)
        .keep_monthly(12)
        .keep_yearly(75);
    let plan = policy
        .plan_walk(items, &proven(), at("2024-01-01 12:00:00"))
        .unwrap();

    let date = |d: &Decision<Snapshot>| d.item.created_at.date_naive();
    let with = |r: Reason| -> BTreeSet<NaiveDate> {
        plan.decisions
            .iter()
            .filter(|d| d.reasons.contains(&r))
            .map(date)
            .collect()
    };
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let daily: BTreeSet<_> = (25..=31).map(|d| ymd(2023, 12, d)).collect();
    let weekly: BTreeSet<_> = [31, 24, 17, 10, 3].map(|d| ymd(2023, 12, d)).into();
    let monthly: BTreeSet<_> = (1..=12)
        .map(|m| {
            let next = if m == 12 {
                ymd(2024, 1, 1)
            } else {
                ymd(2023, m + 1, 1)
            };
            next.pred_opt().unwrap()
        })
        .collect();
    let yearly: BTreeSet<_> = (1949..=2023).map(|y| ymd(y, 12, 31)).collect();
    assert_eq!(with(Reason::Daily), daily);
    assert_eq!(with(Reason::Weekly), weekly);
    assert_eq!(with(Reason::Monthly), monthly);
    assert_eq!(with(Reason::Yearly), yearly);

    let weekly_more = weekly.difference(&daily).count();
    let so_far: BTreeSet<_> = daily.union(&weekly).copied().collect();
    let monthly_more = monthly.difference(&so_far).count();
    let so_far: BTreeSet<_> = so_far.union(&monthly).copied().collect();
    let yearly_more = yearly.difference(&so_far).count();
    assert_eq!((weekly_more, monthly_more, yearly_more), (4, 11, 74));
    assert_eq!(plan.kept, 7 + 4 + 11 + 74);
    assert_eq!(plan.deleted, 36_525 - 96);
    assert_eq!(plan.gigabytes_freed, 1.5 * (36_525 - 96) as f64);
    // Every count was spent before the oldest: no "oldest" keep.
    assert!(
        plan.decisions
            .iter()
            .all(|d| !d.reasons.iter().any(|r| matches!(r, Reason::Oldest(_))))
    );
    assert_eq!(
        plan.decisions[0].reasons,
        [
            Reason::Daily,
            Reason::Weekly,
            Reason::Monthly,
            Reason::Yearly
        ]
    );
}

/// "If there are not enough snapshots to keep one for each duration
/// related option, the oldest snapshot is kept additionally and marked as
/// oldest" (restic 0.17): `--keep-daily 5` over three days.
#[test]
fn restic_the_oldest_is_kept_when_a_rule_has_buckets_left() {
    let items = vec![
        snap("1", "2025-03-01 08:00:00"),
        snap("2", "2025-03-01 20:00:00"),
        snap("3", "2025-03-02 08:00:00"),
        snap("4", "2025-03-02 20:00:00"),
        snap("5", "2025-03-03 08:00:00"),
        snap("6", "2025-03-03 20:00:00"),
    ];
    let plan = Policy::new()
        .keep_daily(5)
        .plan_walk(items, &proven(), at("2025-03-10 00:00:00"))
        .unwrap();
    assert_eq!(kept(&plan), set(&["1", "2", "4", "6"]));
    assert_eq!(reasons(&plan, "1"), [Reason::Oldest(Period::Day)]);
    assert_eq!(reasons(&plan, "2"), [Reason::Daily]);
    assert_eq!(plan.decisions[5].to_string(), "keep (oldest daily)");
}

/// The restic forum's "Help with forget policy" (restic 0.17): four
/// snapshots in January 2024 and `--keep-monthly 4` keep two, the newest
/// and (the rule above) the oldest.
#[test]
fn restic_keep_monthly_4_over_one_month_keeps_the_newest_and_the_oldest() {
    let items = vec![
        snap("8910a903", "2024-01-02 13:42:44"),
        snap("ab49e6f7", "2024-01-03 01:04:38"),
        snap("209e47d4", "2024-01-04 20:09:54"),
        snap("acdde683", "2024-01-04 20:20:32"),
    ];
    let plan = Policy::new()
        .keep_monthly(4)
        .plan_walk(items, &proven(), at("2024-02-01 00:00:00"))
        .unwrap();
    assert_eq!(kept(&plan), set(&["8910a903", "acdde683"]));
    assert_eq!(reasons(&plan, "acdde683"), [Reason::Monthly]);
    assert_eq!(reasons(&plan, "8910a903"), [Reason::Oldest(Period::Month)]);
}

/// "The most recent snapshot would match both hourly, daily and weekly
/// `--keep-*` options": every rule that keeps it is listed.
#[test]
fn restic_the_most_recent_snapshot_matches_every_rule() {
    let items = vec![
        snap("a", "2025-04-28 10:00:00"),
        snap("b", "2025-04-28 11:00:00"),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .keep_hourly(1)
        .keep_daily(1)
        .keep_weekly(1)
        .keep_tag("none")
        .plan_walk(items, &proven(), at("2025-05-01 00:00:00"))
        .unwrap();
    assert_eq!(
        reasons(&plan, "b"),
        [Reason::Last, Reason::Hourly, Reason::Daily, Reason::Weekly]
    );
    assert_eq!(
        plan.decisions[0].to_string(),
        "keep (keep-last, hourly, daily, weekly)"
    );
    assert_eq!(deleted(&plan), set(&["a"]));
}

/// "Weeks are Monday 00:00 to Sunday 23:59, days 00:00 to 23:59, hours
/// :00 to :59", natural boundaries, not relative to now; ISO weeks.
#[test]
fn restic_calendar_boundaries() {
    let items = vec![
        snap("sat", "2025-04-26 12:00:00"),
        snap("sun", "2025-04-27 23:59:59"),
        snap("mon", "2025-04-28 00:00:00"),
    ];
    let plan = Policy::new()
        .keep_weekly(2)
        .plan_walk(items.clone(), &proven(), at("2025-05-30 00:00:00"))
        .unwrap();
    assert_eq!(kept(&plan), set(&["sun", "mon"]));
    let plan = Policy::new()
        .keep_daily(3)
        .plan_walk(items.clone(), &proven(), at("2025-05-30 00:00:00"))
        .unwrap();
    assert_eq!(kept(&plan), set(&["sat", "sun", "mon"]));
    let plan = Policy::new()
        .keep_hourly(1)
        .keep_yearly(1)
        .plan_walk(items, &proven(), at("2025-05-30 00:00:00"))
        .unwrap();
    assert_eq!(kept(&plan), set(&["mon"]));
    // ISO weeks: 2024-12-30 (Monday) is in week 1 of 2025, with
    // 2025-01-05; 2024-12-29 (Sunday) is in week 52 of 2024.
    let items = vec![
        snap("w52", "2024-12-29 12:00:00"),
        snap("w1a", "2024-12-30 12:00:00"),
        snap("w1b", "2025-01-05 12:00:00"),
    ];
    let plan = Policy::new()
        .keep_weekly(2)
        .plan_walk(items, &proven(), at("2025-05-30 00:00:00"))
        .unwrap();
    assert_eq!(kept(&plan), set(&["w52", "w1b"]));
}

/// "A value of `unlimited` will be interpreted as forever, i.e. keep
/// all": `u32::MAX`.
#[test]
fn restic_unlimited_is_u32_max() {
    let items = vec![
        snap("1", "2025-03-01 08:00:00"),
        snap("2", "2025-03-01 20:00:00"),
        snap("3", "2025-03-02 08:00:00"),
        snap("4", "2025-03-02 20:00:00"),
        snap("5", "2025-03-03 08:00:00"),
    ];
    let now = at("2025-04-01 00:00:00");
    let plan = Policy::new()
        .keep_daily(u32::MAX)
        .plan_walk(items.clone(), &proven(), now)
        .unwrap();
    // The newest of every day, and the oldest (buckets are always left).
    assert_eq!(kept(&plan), set(&["1", "2", "4", "5"]));
    let plan = Policy::new()
        .keep_last(u32::MAX)
        .plan_walk(items, &proven(), now)
        .unwrap();
    assert_eq!(plan.deleted, 0);
}

/// "If one were to specify `--keep-last 0` to forget all snapshots in the
/// repository, restic will respond that no snapshots will be removed": an
/// empty policy keeps everything.
#[test]
fn restic_keep_last_0_removes_nothing() {
    let policy = Policy::new()
        .keep_last(0)
        .keep_daily(0)
        .keep_within(Duration::ZERO);
    assert!(policy.is_empty());
    let plan = policy
        .plan_walk(two_weeks(), &proven(), at("2025-06-01 00:00:00"))
        .unwrap();
    assert_eq!(plan.deleted, 0);
    assert!(
        plan.decisions
            .iter()
            .all(|d| d.reasons == [Reason::EmptyPolicy])
    );
    assert_eq!(plan.decisions[0].to_string(), "keep (empty policy)");
}

/// `--keep-tag` keeps every snapshot carrying a tag; "`--keep-tag ''`
/// will match untagged snapshots only". Restic exits with an error when
/// the tag rule would remove a whole group; here the group's newest is
/// kept (a stated difference).
#[test]
fn restic_keep_tag() {
    let items = vec![
        snap("1", "2025-03-01 08:00:00").with_tags(["keep", "env:prod"]),
        snap("2", "2025-03-02 08:00:00").with_tags(["env:prod"]),
        snap("3", "2025-03-03 08:00:00"),
        snap("4", "2025-03-04 08:00:00").with_tags(Vec::<String>::new()),
        snap("5", "2025-03-05 08:00:00").with_tags(["other"]),
    ];
    let now = at("2025-04-01 00:00:00");
    let plan = Policy::new()
        .keep_tag("keep")
        .keep_tag("env:prod")
        .keep_tag("keep")
        .plan_walk(items.clone(), &proven(), now)
        .unwrap();
    assert_eq!(kept(&plan), set(&["1", "2", "5"]));
    assert_eq!(
        reasons(&plan, "1"),
        [Reason::Tag("keep".into()), Reason::Tag("env:prod".into())]
    );
    assert_eq!(reasons(&plan, "5"), [Reason::NewestOfGroup]);
    assert_eq!(
        plan.decisions[4].to_string(),
        "keep (tag keep, tag env:prod)"
    );

    let plan = Policy::new()
        .keep_tag("")
        .plan_walk(items.clone(), &proven(), now)
        .unwrap();
    assert_eq!(kept(&plan), set(&["3", "4", "5"]));
    assert_eq!(plan.decisions[1].to_string(), "keep (untagged)");

    // No snapshot carries the tag: restic refuses; here the newest stays.
    let plan = Policy::new()
        .keep_tag("absent")
        .plan_walk(items, &proven(), now)
        .unwrap();
    assert_eq!(kept(&plan), set(&["5"]));
}

/// `forget --tag foo --keep-last 1` "removes all but the latest snapshot
/// of all snapshots that have the tag foo". The selection here is a
/// `Scope` (by name, not by tag): the others are kept, out of scope.
#[test]
fn restic_a_selection_and_keep_last_1_as_a_scope() {
    let items = vec![
        snap("1", "2025-03-01 08:00:00").with_name("nightly-1"),
        snap("2", "2025-03-02 08:00:00").with_name("manual"),
        snap("3", "2025-03-03 08:00:00").with_name("nightly-3"),
        snap("4", "2025-03-04 08:00:00").with_name("nightly-4"),
        snap("5", "2025-03-05 08:00:00").with_name("before-upgrade"),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .scope(Scope::all().name("nightly-*"))
        .plan_walk(items, &proven(), at("2025-04-01 00:00:00"))
        .unwrap();
    assert_eq!(deleted(&plan), set(&["1", "3"]));
    assert_eq!(reasons(&plan, "4"), [Reason::Last]);
    assert_eq!(reasons(&plan, "5"), [Reason::OutOfScope]);
    assert_eq!(reasons(&plan, "2"), [Reason::OutOfScope]);
    assert_eq!((plan.kept, plan.deleted, plan.out_of_scope), (3, 2, 2));
}

/// "All duration related options ignore snapshots with a timestamp in the
/// future [...] and these snapshots will hence not be removed": here every
/// snapshot dated after `now` is kept, even with a minimum age of zero.
#[test]
fn restic_snapshots_in_the_future_are_not_removed() {
    let items = vec![
        snap("past", "2025-03-01 08:00:00"),
        snap("older", "2025-02-01 08:00:00"),
        snap("future", "2025-03-09 00:00:00"),
    ];
    let plan = Policy::new()
        .keep_within(HOUR)
        .min_age(Duration::ZERO)
        .plan_walk(items, &proven(), at("2025-03-08 00:00:00"))
        .unwrap();
    assert_eq!(reasons(&plan, "future"), [Reason::Within]);
    assert_eq!(kept(&plan), set(&["future"]));
    let items = vec![
        snap("future", "2025-03-09 00:00:00"),
        snap("past", "2025-03-01 00:00:00"),
    ];
    let plan = Policy::new()
        .keep_tag("x")
        .min_age(Duration::ZERO)
        .plan_walk(items, &proven(), at("2025-03-08 00:00:00"))
        .unwrap();
    assert_eq!(
        reasons(&plan, "future"),
        [Reason::NewestOfGroup, Reason::YoungerThanMinAge]
    );
    assert_eq!(deleted(&plan), set(&["past"]));
}

// ---------------------------------------------------------------------
// Safety, refusals, and the edges.
// ---------------------------------------------------------------------

#[test]
fn a_listing_not_proven_whole_gives_no_plan() {
    let policy = Policy::new().keep_last(1);
    let now = at("2025-06-01 00:00:00");

    // A walk stopped by its limit: complete, consistent, no proof.
    let mut limited = proven();
    limited.proof = None;
    // A walk under strict(false) that did not add up.
    let mut inconsistent = proven();
    inconsistent.consistent = false;
    inconsistent.proof = None;
    // Inconsistent even with a proof (never produced; still refused).
    let mut contradictory = proven();
    contradictory.consistent = false;

    for summary in [limited, inconsistent, contradictory, WalkSummary::default()] {
        let error = policy.plan_walk(two_weeks(), &summary, now).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Inconsistent, "{summary:?}");
        let text = error.to_string();
        assert!(text.contains("no retention plan was made"), "{text}");
        assert!(text.starts_with("the listing does not add up: "), "{text}");
        // An empty listing too: the proof is what is missing.
        let error = policy
            .plan_walk(Vec::<Snapshot>::new(), &summary, now)
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Inconsistent);
    }
    let mut counted = proven();
    counted.proof = Some(ListingProof::Counted {
        counted: 11,
        after_pass: 1,
    });
    assert!(policy.plan_walk(two_weeks(), &counted, now).is_ok());
}

#[test]
fn a_repeated_id_gives_no_plan() {
    let now = at("2025-06-01 00:00:00");
    let mut items = two_weeks();
    items.push(snap("7baa4f28", "2025-05-01 11:00:00"));
    let error = Policy::new()
        .keep_last(3)
        .plan_walk(items, &proven(), now)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(error.invalid_field(), Some("items"));
    let text = error.to_string();
    assert!(text.contains("\"7baa4f28\""), "{text}");
    assert!(text.contains("no retention plan was made"), "{text}");

    // Even in different groups, and even for an empty policy; several
    // repeats name the first by id and count the others.
    let items = vec![
        snap("b", "2025-05-01 11:00:00"),
        snap("a", "2025-05-01 11:00:00"),
        snap("a", "2025-05-02 11:00:00").with_resource(ResourceType::Droplet, "9"),
        snap("b", "2025-05-03 11:00:00"),
        snap("b", "2025-05-04 11:00:00"),
        snap("c", "2025-05-04 11:00:00"),
    ];
    let error = Policy::new().plan_walk(items, &proven(), now).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("\"a\" appears more than once in the listing (and 1 other id)"),
        "{text}"
    );

    let droplets = vec![
        DropletSnapshot::new(5, at("2025-05-01 11:00:00")),
        DropletSnapshot::new(5, at("2025-05-01 11:00:00")).with_type(SnapshotType::Backup),
    ];
    let error = Policy::new()
        .plan_walk(droplets, &proven(), now)
        .unwrap_err();
    assert!(error.to_string().contains("\"5\""));

    // A long or hostile id is cut and escaped.
    let long = format!("{}\n\u{1b}[31m", "x".repeat(200));
    let items = vec![
        snap(&long, "2025-05-01 11:00:00"),
        snap(&long, "2025-05-01 11:00:00"),
    ];
    let text = Policy::new()
        .plan_walk(items, &proven(), now)
        .unwrap_err()
        .to_string();
    assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
    assert!(text.len() < 400, "{text}");
}

#[test]
fn an_empty_listing_gives_an_empty_plan() {
    let plan = Policy::new()
        .keep_last(3)
        .plan_walk(Vec::<Snapshot>::new(), &proven(), at("2025-06-01 00:00:00"))
        .unwrap();
    assert!(plan.decisions.is_empty() && plan.groups.is_empty());
    assert_eq!((plan.kept, plan.deleted, plan.out_of_scope), (0, 0, 0));
    assert_eq!(plan.gigabytes_freed, 0.0);
    assert_eq!(plan.to_delete().count(), 0);
}

/// Young snapshots count toward the rules; `min_age` only protects what
/// they would delete, and is listed only then.
#[test]
fn min_age_protects_only_what_the_rules_would_delete() {
    let items = vec![
        snap("old", "2025-05-01 00:00:00"),
        snap("young-1", "2025-05-31 23:10:00"),
        snap("young-2", "2025-05-31 23:20:00"),
        snap("new", "2025-05-31 23:30:00"),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .plan_walk(items.clone(), &proven(), at("2025-06-01 00:00:00"))
        .unwrap();
    assert_eq!(reasons(&plan, "new"), [Reason::Last]);
    assert_eq!(reasons(&plan, "young-2"), [Reason::YoungerThanMinAge]);
    assert_eq!(reasons(&plan, "young-1"), [Reason::YoungerThanMinAge]);
    assert_eq!(deleted(&plan), set(&["old"]));
    assert_eq!(plan.decisions[1].to_string(), "keep (younger than min-age)");

    // A shorter min_age protects fewer.
    let plan = Policy::new()
        .keep_last(1)
        .min_age(Duration::from_secs(45 * 60))
        .plan_walk(items.clone(), &proven(), at("2025-06-01 00:00:00"))
        .unwrap();
    assert_eq!(deleted(&plan), set(&["old", "young-1"]));

    // Duration::MAX protects everything; zero protects only the future.
    let plan = Policy::new()
        .keep_last(1)
        .min_age(Duration::MAX)
        .plan_walk(items.clone(), &proven(), at("2025-06-01 00:00:00"))
        .unwrap();
    assert_eq!(plan.deleted, 0);
    let plan = Policy::new()
        .keep_last(1)
        .min_age(Duration::ZERO)
        .plan_walk(items, &proven(), at("2025-05-31 23:30:00"))
        .unwrap();
    assert_eq!(deleted(&plan), set(&["old", "young-1", "young-2"]));
}

#[test]
fn keep_within_at_the_edges() {
    let items = vec![
        snap("edge", "2025-05-31 00:00:00"),
        snap("inside", "2025-05-31 00:00:01"),
        snap("ancient", "1970-01-01 00:00:00"),
    ];
    let now = at("2025-06-01 00:00:00");
    let plan = Policy::new()
        .keep_within(DAY)
        .plan_walk(items.clone(), &proven(), now)
        .unwrap();
    // `created_at > now - d`: the snapshot exactly a day old is not within.
    assert_eq!(kept(&plan), set(&["inside"]));
    for forever in [
        Duration::MAX,
        Duration::from_secs(u64::MAX / 2),
        400_000 * 365 * DAY,
    ] {
        let plan = Policy::new()
            .keep_within(forever)
            .plan_walk(items.clone(), &proven(), now)
            .unwrap();
        assert_eq!(plan.deleted, 0, "{forever:?}");
    }
}

#[test]
fn buckets_at_a_fixed_offset() {
    let items = vec![
        snap("a", "2025-04-24 12:00:00"),
        snap("b", "2025-04-25 23:30:00"),
        snap("c", "2025-04-26 00:30:00"),
    ];
    let now = at("2025-05-30 00:00:00");
    let plan = Policy::new()
        .keep_daily(2)
        .plan_walk(items.clone(), &proven(), now)
        .unwrap();
    assert_eq!(deleted(&plan), set(&["a"]));
    // At UTC-01:00, b and c fall on the same day (2025-04-25).
    let plan = Policy::new()
        .keep_daily(2)
        .utc_offset(FixedOffset::west_opt(3600).unwrap())
        .plan_walk(items, &proven(), now)
        .unwrap();
    assert_eq!(deleted(&plan), set(&["b"]));
}

#[test]
fn groups_by_resource_or_all() {
    let items = vec![
        snap("1", "2025-03-01 08:00:00"),
        snap("2", "2025-03-02 08:00:00"),
        snap("3", "2025-03-01 08:00:00").with_resource(ResourceType::Droplet, "7"),
        snap("4", "2025-03-02 08:00:00").with_resource(ResourceType::Droplet, "7"),
        snap("5", "2025-03-03 08:00:00")
            .with_resource(ResourceType::Droplet, "7")
            .with_size_gigabytes(2.5),
    ];
    let now = at("2025-04-01 00:00:00");
    let plan = Policy::new()
        .keep_last(1)
        .plan_walk(items.clone(), &proven(), now)
        .unwrap();
    let groups: Vec<_> = plan
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.kept, g.deleted))
        .collect();
    assert_eq!(groups, [("droplet:7", 1, 2), ("volume:vol-1", 1, 1)]);
    assert_eq!(kept(&plan), set(&["5", "2"]));
    assert_eq!(&*plan.decisions[0].group, "droplet:7");

    let plan = Policy::new()
        .keep_last(1)
        .group_by(GroupBy::All)
        .plan_walk(items, &proven(), now)
        .unwrap();
    assert_eq!(kept(&plan), set(&["5"]));
    assert_eq!(plan.groups.len(), 1);
    assert_eq!(plan.groups[0].group, "all");

    // A droplet's listing: by type.
    let droplets = vec![
        DropletSnapshot::new(1, at("2025-03-01 08:00:00")).with_type(SnapshotType::Backup),
        DropletSnapshot::new(2, at("2025-03-02 08:00:00")).with_type(SnapshotType::Backup),
        DropletSnapshot::new(3, at("2025-03-01 09:00:00")),
        DropletSnapshot::new(4, at("2025-03-01 10:00:00")),
        DropletSnapshot::new(5, at("2025-03-01 11:00:00")).with_type("replica".into()),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .plan_walk(droplets, &proven(), now)
        .unwrap();
    let groups: Vec<_> = plan.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(groups, ["backup", "replica", "snapshot"]);
    let deleted: Vec<i64> = plan.to_delete().map(|d| d.id).collect();
    assert_eq!(deleted, [3], "backups are never in scope");
    assert_eq!(plan.groups[0].out_of_scope, 2);
}

/// Snapshots of one instant: the greater id counts as the newer; decimal
/// ids compare as numbers and are less than any other id.
#[test]
fn ties_are_ordered_by_id() {
    let t = "2025-03-01 08:00:00";
    let items = vec![
        snap("999", t),
        snap("1000", t),
        snap("0999", t),
        snap("abc", t),
        snap("", t),
        snap("10000000000000000000000000000", t),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .plan_walk(items, &proven(), at("2025-04-01 00:00:00"))
        .unwrap();
    let order: Vec<&str> = plan.decisions.iter().map(|d| d.item.id.as_str()).collect();
    assert_eq!(
        order,
        [
            "abc",
            "",
            "10000000000000000000000000000",
            "1000",
            "999",
            "0999"
        ]
    );
    assert_eq!(kept(&plan), set(&["abc"]));
}

#[test]
fn gigabytes_freed_stay_finite() {
    let sizes = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -3.0,
        0.0,
        -0.0,
        f64::MAX,
        f64::MAX,
        1.25,
        f64::MIN_POSITIVE,
    ];
    let items: Vec<Snapshot> = sizes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Snapshot::new(
                i.to_string(),
                at("2025-03-01 08:00:00") - chrono::Duration::days(i as i64),
            )
            .with_resource(ResourceType::Volume, format!("v{}", i % 2))
            .with_size_gigabytes(*s)
            .with_tags(Vec::<String>::new())
        })
        .collect();
    let plan = Policy::new()
        .keep_tag("none")
        .plan_walk(items.clone(), &proven(), at("2025-04-01 00:00:00"))
        .unwrap();
    assert_eq!(plan.deleted, 8);
    assert!(plan.gigabytes_freed.is_finite());
    assert_eq!(plan.gigabytes_freed, f64::MAX);
    assert!(plan.groups.iter().all(|g| g.gigabytes_freed.is_finite()));

    let small: Vec<Snapshot> = items
        .into_iter()
        .filter(|s| s.size_gigabytes != f64::MAX)
        .collect();
    let plan = Policy::new()
        .keep_tag("none")
        .plan_walk(small, &proven(), at("2025-04-01 00:00:00"))
        .unwrap();
    // The newest of each group is kept: 0 (NaN) and 1 (inf).
    assert_eq!(plan.gigabytes_freed, 1.25 + f64::MIN_POSITIVE);
}

/// Nothing panics: chrono's extreme instants (for snapshots and for now),
/// extreme offsets, counts and durations, empty strings.
#[test]
fn extreme_values_are_planned() {
    let instants = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + chrono::Duration::seconds(1),
        DateTime::<Utc>::UNIX_EPOCH,
        DateTime::<Utc>::MAX_UTC - chrono::Duration::seconds(1),
        DateTime::<Utc>::MAX_UTC,
    ];
    let items: Vec<Snapshot> = instants
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            [
                Snapshot::new(format!("{i}"), *t)
                    .with_size_gigabytes(f64::NAN)
                    .with_tags(Vec::<String>::new()),
                Snapshot::new(format!("{i}b"), *t)
                    .with_name("")
                    .with_tags([""])
                    .with_regions([""])
                    .with_resource(ResourceType::Unknown(String::new()), "")
                    .with_size_gigabytes(-1.0),
            ]
        })
        .chain([Snapshot::new("", DateTime::<Utc>::UNIX_EPOCH).with_tags(Vec::<String>::new())])
        .collect();
    let offsets = [
        FixedOffset::east_opt(86_399).unwrap(),
        FixedOffset::west_opt(86_399).unwrap(),
        FixedOffset::east_opt(0).unwrap(),
    ];
    let policies = [
        Policy::new()
            .keep_last(u32::MAX)
            .keep_hourly(u32::MAX)
            .keep_daily(u32::MAX)
            .keep_weekly(u32::MAX)
            .keep_monthly(u32::MAX)
            .keep_yearly(u32::MAX),
        Policy::new()
            .keep_last(1)
            .keep_hourly(1)
            .keep_daily(2)
            .keep_weekly(3)
            .keep_monthly(4)
            .keep_yearly(5)
            .keep_tag(""),
        Policy::new()
            .keep_within(Duration::MAX)
            .min_age(Duration::MAX),
        Policy::new()
            .keep_within(Duration::from_nanos(1))
            .min_age(Duration::ZERO),
        Policy::new()
            .keep_tag("")
            .scope(Scope::all().name("").region("").resource_id(""))
            .group_by(GroupBy::All),
        Policy::new(),
    ];
    for policy in policies {
        for offset in offsets {
            for now in instants {
                let policy = policy.clone().utc_offset(offset);
                let plan = policy.plan_walk(items.clone(), &proven(), now).unwrap();
                assert_eq!(plan.decisions.len(), items.len());
                assert_eq!(plan.kept + plan.deleted, items.len());
                assert!(plan.gigabytes_freed.is_finite());
                assert_eq!(plan.gigabytes_freed, 0.0);
            }
        }
    }
}

#[test]
fn scopes() {
    let t = at("2025-03-01 08:00:00");
    let s = Snapshot::new("1", t)
        .with_name("nightly-2025")
        .with_regions(["nyc3", "ams3"])
        .with_resource(ResourceType::Volume, "vol-1");
    assert!(Scope::all().admits(&s) && Scope::all().is_all());
    assert!(Scope::all().region("ams3").region("sfo2").admits(&s));
    assert!(!Scope::all().region("sfo2").admits(&s));
    assert!(Scope::all().resource_type(ResourceType::Volume).admits(&s));
    assert!(!Scope::all().resource_type(ResourceType::Droplet).admits(&s));
    assert!(
        Scope::all()
            .resource_id("vol-2")
            .resource_id("vol-1")
            .admits(&s)
    );
    assert!(!Scope::all().resource_id("vol").admits(&s));
    assert!(!Scope::all().name("nightly-*").region("sfo2").admits(&s));
    assert!(!Scope::all().name("Nightly-*").admits(&s));
    assert!(!Scope::all().name("nightly").is_all());
    assert_eq!(Scope::all().name("a").name("a"), Scope::all().name("a"));

    let d = DropletSnapshot::new(1, t).with_name("nightly-2025");
    assert!(Scope::all().resource_type(ResourceType::Droplet).admits(&d));
    assert!(!Scope::all().resource_type(ResourceType::Volume).admits(&d));
    assert!(!Scope::all().resource_id("1").admits(&d));
    assert!(Scope::all().name("*-2025").admits(&d));
    assert!(!Scope::all().region("nyc3").admits(&d));
}

#[test]
fn globs() {
    let cases = [
        ("nightly-*", "nightly-2025-11-30", true),
        ("nightly-*", "nightly-", true),
        ("nightly-*", "nightly", false),
        ("nightly-*", "x-nightly-1", false),
        ("*", "", true),
        ("*", "anything", true),
        ("", "", true),
        ("", "a", false),
        ("?", "", false),
        ("?", "é", true),
        ("??", "é", false),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYYcZ", false),
        (
            "*a*a*a*a*b",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            false,
        ),
        ("*-??", "hourly-07", true),
        ("*-??", "hourly-7", false),
        ("N*", "nightly", false),
        ("**", "x", true),
        ("*?", "", false),
    ];
    for (pattern, name, expected) in cases {
        assert_eq!(glob_match(pattern, name), expected, "{pattern:?} {name:?}");
    }
}

#[test]
fn policies_and_displays() {
    assert_eq!(Policy::default(), Policy::new());
    assert!(Policy::new().is_empty());
    assert!(
        Policy::new()
            .min_age(DAY)
            .scope(Scope::all().name("x"))
            .is_empty()
    );
    for policy in [
        Policy::new().keep_last(1),
        Policy::new().keep_hourly(1),
        Policy::new().keep_daily(1),
        Policy::new().keep_weekly(1),
        Policy::new().keep_monthly(1),
        Policy::new().keep_yearly(1),
        Policy::new().keep_within(Duration::from_nanos(1)),
        Policy::new().keep_tag(""),
    ] {
        assert!(!policy.is_empty(), "{policy:?}");
    }
    assert_eq!(
        Policy::new().keep_tag("a").keep_tag("a"),
        Policy::new().keep_tag("a")
    );
    assert_eq!(GroupBy::default(), GroupBy::Resource);

    let shown: Vec<String> = [
        Reason::Last,
        Reason::Within,
        Reason::Hourly,
        Reason::Daily,
        Reason::Weekly,
        Reason::Monthly,
        Reason::Yearly,
        Reason::Oldest(Period::Hour),
        Reason::Oldest(Period::Week),
        Reason::Oldest(Period::Month),
        Reason::Oldest(Period::Year),
        Reason::Tag("env:prod".into()),
        Reason::Tag(String::new()),
        Reason::NewestOfGroup,
        Reason::YoungerThanMinAge,
        Reason::OutOfScope,
        Reason::EmptyPolicy,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        shown,
        [
            "keep-last",
            "keep-within",
            "hourly",
            "daily",
            "weekly",
            "monthly",
            "yearly",
            "oldest hourly",
            "oldest weekly",
            "oldest monthly",
            "oldest yearly",
            "tag env:prod",
            "untagged",
            "newest of its group",
            "younger than min-age",
            "out of scope",
            "empty policy",
        ]
    );
    assert_eq!(format!("{:>6}|", Action::Keep), "  keep|");
    assert_eq!(Action::Delete.to_string(), "delete");
}

// ---------------------------------------------------------------------
// Properties over random listings and policies.
// ---------------------------------------------------------------------

/// 2025-01-01T00:00:00Z.
const BASE: i64 = 1_735_689_600;
const NAMES: [&str; 6] = [
    "nightly-01",
    "nightly-02",
    "manual",
    "hourly-7",
    "",
    "nightly-",
];
const REGIONS: [&str; 3] = ["nyc1", "nyc3", "ams3"];
const TAGS: [&str; 3] = ["env:prod", "keep", "nightly"];
const GLOBS: [&str; 5] = ["nightly-*", "*-7", "manual", "?", ""];

fn pick<const N: usize>(values: [&str; N], bits: u8) -> Vec<String> {
    values
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, v)| (*v).to_owned())
        .collect()
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        // A few instants, shared by several snapshots.
        (0i64..4).prop_map(|k| k * 3600),
        // Hours apart over two weeks: several snapshots per bucket.
        (0i64..(14 * 24)).prop_map(|h| h * 3600 + 1800),
        // Anywhere in three years, to the second.
        0i64..(3 * 365 * 86_400),
    ]
    .prop_map(|s| Utc.timestamp_opt(BASE + s, 0).unwrap())
}

fn size() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => 0.0f64..500.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-2.5),
    ]
}

/// Unique ids: decimal ones of several lengths, and others.
fn id_for(i: usize, decimal: bool) -> String {
    if decimal {
        (i * 37 + 5).to_string()
    } else {
        format!("v-{i:03}")
    }
}

fn listing() -> impl Strategy<Value = Vec<Snapshot>> {
    let one = (
        instant(),
        (0usize..3, 0usize..3),
        0usize..NAMES.len(),
        any::<u8>(),
        proptest::option::weighted(0.8, any::<u8>()),
        size(),
        any::<bool>(),
    );
    proptest::collection::vec(one, 0..40).prop_map(|fields| {
        fields
            .into_iter()
            .enumerate()
            .map(|(i, (t, (rt, rid), name, regions, tags, size, decimal))| {
                let resource_type = [
                    ResourceType::Droplet,
                    ResourceType::Volume,
                    ResourceType::Unknown("kubernetes".into()),
                ][rt]
                    .clone();
                let s = Snapshot::new(id_for(i, decimal), t)
                    .with_name(NAMES[name])
                    .with_regions(pick(REGIONS, regions))
                    .with_resource(resource_type, ["1", "2", "3"][rid])
                    .with_size_gigabytes(size);
                // Tags unknown (`None`) only where no keep-tag asks:
                // `unknown_tags_give_no_plan_with_keep_tag` covers them.
                s.with_tags(tags.map(|bits| pick(TAGS, bits)).unwrap_or_default())
            })
            .collect()
    })
}

fn droplet_listing() -> impl Strategy<Value = Vec<DropletSnapshot>> {
    let one = (
        instant(),
        0usize..3,
        0usize..NAMES.len(),
        any::<u8>(),
        size(),
    );
    proptest::collection::vec(one, 0..40).prop_map(|fields| {
        fields
            .into_iter()
            .enumerate()
            .map(|(i, (t, ty, name, regions, size))| {
                let ty = ["snapshot", "backup", "replica"][ty];
                DropletSnapshot::new(i as i64 * 13 - 60, t)
                    .with_name(NAMES[name])
                    .with_regions(pick(REGIONS, regions))
                    .with_size_gigabytes(size)
                    .with_type(ty.into())
            })
            .collect()
    })
}

/// A policy, and what it was built from (for the reading of restic's rules
/// below).
#[derive(Clone, Debug)]
struct Spec {
    counts: [u32; 6],
    within_hours: Option<u64>,
    tags: Vec<String>,
    min_age: Duration,
    all: bool,
    names: Vec<String>,
    regions: Vec<String>,
    types: Vec<ResourceType>,
    ids: Vec<String>,
    offset: i32,
}

impl Spec {
    fn policy(&self) -> Policy {
        let [last, hourly, daily, weekly, monthly, yearly] = self.counts;
        let mut p = Policy::new()
            .keep_last(last)
            .keep_hourly(hourly)
            .keep_daily(daily)
            .keep_weekly(weekly)
            .keep_monthly(monthly)
            .keep_yearly(yearly)
            .min_age(self.min_age)
            .group_by(if self.all {
                GroupBy::All
            } else {
                GroupBy::Resource
            })
            .utc_offset(FixedOffset::east_opt(self.offset).unwrap());
        if let Some(h) = self.within_hours {
            p = p.keep_within(Duration::from_secs(h * 3600));
        }
        for tag in &self.tags {
            p = p.keep_tag(tag.clone());
        }
        let mut scope = Scope::all();
        for n in &self.names {
            scope = scope.name(n.clone());
        }
        for r in &self.regions {
            scope = scope.region(r.clone());
        }
        for t in &self.types {
            scope = scope.resource_type(t.clone());
        }
        for i in &self.ids {
            scope = scope.resource_id(i.clone());
        }
        p.scope(scope)
    }

    fn empty(&self) -> bool {
        self.counts == [0; 6] && self.within_hours.is_none() && self.tags.is_empty()
    }
}

fn count() -> impl Strategy<Value = u32> {
    prop_oneof![3 => Just(0u32), 4 => 1u32..6, 1 => Just(u32::MAX)]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        [count(), count(), count(), count(), count(), count()],
        proptest::option::weighted(0.3, 1u64..3000),
        proptest::bool::weighted(0.3).prop_flat_map(|on| {
            if on {
                (0u8..8)
                    .prop_map(|b| pick(["env:prod", "keep", ""], b))
                    .boxed()
            } else {
                Just(Vec::new()).boxed()
            }
        }),
        prop_oneof![Just(0u64), Just(3600), Just(3 * 86_400)].prop_map(Duration::from_secs),
        any::<bool>(),
        (
            proptest::option::weighted(0.3, 1u8..32).prop_map(|b| pick(GLOBS, b.unwrap_or(0))),
            proptest::option::weighted(0.2, 1u8..4)
                .prop_map(|b| pick(["nyc3", "ams3"], b.unwrap_or(0))),
            proptest::option::weighted(0.2, 1u8..4).prop_map(|b| {
                let all = [ResourceType::Droplet, ResourceType::Volume];
                (0..2)
                    .filter(|i| b.unwrap_or(0) & (1 << i) != 0)
                    .map(|i| all[i].clone())
                    .collect::<Vec<_>>()
            }),
            proptest::option::weighted(0.2, 1u8..4).prop_map(|b| pick(["1", "2"], b.unwrap_or(0))),
        ),
        prop_oneof![
            Just(0),
            Just(19_800),
            Just(-8 * 3600),
            Just(86_399),
            Just(-86_399)
        ],
    )
        .prop_map(
            |(counts, within_hours, tags, min_age, all, (names, regions, types, ids), offset)| {
                Spec {
                    counts,
                    within_hours,
                    tags,
                    min_age,
                    all,
                    names,
                    regions,
                    types,
                    ids,
                    offset,
                }
            },
        )
}

fn moment() -> impl Strategy<Value = DateTime<Utc>> {
    // From before the first snapshot to a month after the last one.
    (-86_400i64..(3 * 365 * 86_400 + 30 * 86_400))
        .prop_map(|s| Utc.timestamp_opt(BASE + s, 0).unwrap())
}

/// A listing, the same listing in another order.
fn shuffled<T: Clone + std::fmt::Debug>(
    items: impl Strategy<Value = Vec<T>>,
) -> impl Strategy<Value = (Vec<T>, Vec<T>)> {
    items.prop_flat_map(|items| (Just(items.clone()), Just(items).prop_shuffle()))
}

/// What a plan says, comparable even with NaN sizes.
fn digest<T: Retainable>(plan: &Plan<T>) -> Vec<(String, Action, Vec<Reason>, String)> {
    plan.decisions
        .iter()
        .map(|d| {
            (
                d.item.id().into_owned(),
                d.action,
                d.reasons.clone(),
                d.group.to_string(),
            )
        })
        .collect()
}

fn glob_reference(p: &[char], n: &[char]) -> bool {
    match (p.first(), n.first()) {
        (None, _) => n.is_empty(),
        (Some('*'), _) => {
            glob_reference(&p[1..], n) || (!n.is_empty() && glob_reference(p, &n[1..]))
        }
        (Some('?'), Some(_)) => glob_reference(&p[1..], &n[1..]),
        (Some(c), Some(d)) if c == d => glob_reference(&p[1..], &n[1..]),
        _ => false,
    }
}

/// restic's rules read from its documentation, written independently of
/// the engine (labels instead of numbers for the buckets, sets instead of
/// a single pass): the reasons of every id.
fn reference(spec: &Spec, items: &[Snapshot], now: DateTime<Utc>) -> BTreeMap<String, Vec<Reason>> {
    let admitted = |s: &Snapshot| {
        let chars = |t: &str| t.chars().collect::<Vec<_>>();
        // A snapshot of a resource type the crate does not know is never
        // admitted by these scopes (they name known types only).
        s.resource_type.is_known()
            && (spec.names.is_empty()
                || spec
                    .names
                    .iter()
                    .any(|g| glob_reference(&chars(g), &chars(&s.name))))
            && (spec.regions.is_empty() || s.regions.iter().any(|r| spec.regions.contains(r)))
            && (spec.types.is_empty() || spec.types.contains(&s.resource_type))
            && (spec.ids.is_empty() || spec.ids.contains(&s.resource_id))
    };
    let mut out = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<&Snapshot>> = BTreeMap::new();
    for s in items {
        if !admitted(s) {
            out.insert(s.id.clone(), vec![Reason::OutOfScope]);
            continue;
        }
        let group = if spec.all {
            "all".to_owned()
        } else {
            format!("{}:{}", s.resource_type, s.resource_id)
        };
        groups.entry(group).or_default().push(s);
    }
    let offset = FixedOffset::east_opt(spec.offset).unwrap();
    let label = |period: usize, t: DateTime<Utc>| {
        let local = t.with_timezone(&offset);
        match period {
            0 => local.format("%Y-%m-%d %H").to_string(),
            1 => local.format("%Y-%m-%d").to_string(),
            2 => format!("{}-W{}", local.iso_week().year(), local.iso_week().week()),
            3 => local.format("%Y-%m").to_string(),
            _ => local.format("%Y").to_string(),
        }
    };
    let id_rank = |id: &str| match id.parse::<u64>() {
        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => (0, n, String::new()),
        _ => (1, 0, id.to_owned()),
    };
    let periods = [
        (Period::Hour, Reason::Hourly),
        (Period::Day, Reason::Daily),
        (Period::Week, Reason::Weekly),
        (Period::Month, Reason::Monthly),
        (Period::Year, Reason::Yearly),
    ];
    for (_, mut group) in groups {
        group.sort_by_key(|s| std::cmp::Reverse((s.created_at, id_rank(&s.id))));
        let n = group.len();
        for (i, s) in group.iter().enumerate() {
            if spec.empty() {
                out.insert(s.id.clone(), vec![Reason::EmptyPolicy]);
                continue;
            }
            let mut reasons = Vec::new();
            let last = spec.counts[0];
            if last == u32::MAX || (i as u64) < u64::from(last) {
                reasons.push(Reason::Last);
            }
            if let Some(h) = spec.within_hours
                && s.created_at > now - chrono::Duration::hours(h as i64)
            {
                reasons.push(Reason::Within);
            }
            for (p, (period, reason)) in periods.iter().enumerate() {
                let c = spec.counts[p + 1];
                if c == 0 {
                    continue;
                }
                let mut labels: Vec<String> = Vec::new();
                for t in group.iter().map(|s| label(p, s.created_at)) {
                    if !labels.contains(&t) {
                        labels.push(t);
                    }
                }
                let mine = label(p, s.created_at);
                let first_of_bucket = !group[..i].iter().any(|o| label(p, o.created_at) == mine);
                let index = labels.iter().position(|l| *l == mine).unwrap();
                if first_of_bucket && (c == u32::MAX || index < c as usize) {
                    reasons.push(reason.clone());
                } else if i == n - 1
                    && !first_of_bucket
                    && (c == u32::MAX || labels.len() < c as usize)
                {
                    reasons.push(Reason::Oldest(*period));
                }
            }
            let tags = s.tags.clone().unwrap_or_default();
            for tag in &spec.tags {
                if (tag.is_empty() && tags.is_empty()) || (!tag.is_empty() && tags.contains(tag)) {
                    reasons.push(Reason::Tag(tag.clone()));
                }
            }
            if reasons.is_empty() {
                if i == 0 {
                    reasons.push(Reason::NewestOfGroup);
                }
                if s.created_at > now - chrono::Duration::from_std(spec.min_age).unwrap() {
                    reasons.push(Reason::YoungerThanMinAge);
                }
            }
            out.insert(s.id.clone(), reasons);
        }
    }
    out
}

/// What every plan must satisfy, for either listing.
fn check_plan<T: Retainable + std::fmt::Debug>(
    policy: &Policy,
    items: &[T],
    now: DateTime<Utc>,
) -> std::result::Result<Plan<T>, TestCaseError> {
    let plan = policy.plan_walk(items.to_vec(), &proven(), now).unwrap();

    // Every item decided exactly once; keep iff a reason.
    prop_assert_eq!(plan.decisions.len(), items.len());
    let ids: BTreeSet<String> = items.iter().map(|i| i.id().into_owned()).collect();
    let decided: BTreeSet<String> = plan
        .decisions
        .iter()
        .map(|d| d.item.id().into_owned())
        .collect();
    prop_assert_eq!(&ids, &decided);
    for d in &plan.decisions {
        prop_assert_eq!(d.action == Action::Keep, !d.reasons.is_empty(), "{:?}", d);
        let group = d.item.group(policy.group_by);
        prop_assert_eq!(&*d.group, group.as_str());
        let admitted = policy.scope.admits(&d.item);
        // Out of scope: kept, for that reason alone.
        prop_assert_eq!(!admitted, d.reasons == [Reason::OutOfScope]);
        // Nothing younger than min_age (or in the future) is deleted.
        if d.item.created_at() + chrono::Duration::from_std(policy.min_age).unwrap() > now {
            prop_assert_eq!(d.action, Action::Keep);
        }
        if policy.is_empty() {
            prop_assert_eq!(d.action, Action::Keep);
        }
    }
    prop_assert_eq!(
        plan.to_keep().count() + plan.to_delete().count(),
        items.len()
    );

    // The order: by group, newest first.
    for w in plan.decisions.windows(2) {
        prop_assert!(
            w[0].group < w[1].group
                || (w[0].group == w[1].group && w[0].item.created_at() >= w[1].item.created_at())
        );
    }

    // Counts and gigabytes add up.
    let mut groups: Vec<(String, usize, usize, usize, f64)> = Vec::new();
    for d in &plan.decisions {
        if groups.last().is_none_or(|g| *g.0 != *d.group) {
            groups.push((d.group.to_string(), 0, 0, 0, 0.0));
        }
        let g = groups.last_mut().unwrap();
        match d.action {
            Action::Keep => g.1 += 1,
            _ => {
                g.2 += 1;
                let s = d.item.size_gigabytes();
                if s.is_finite() && s > 0.0 {
                    g.4 += s;
                }
            }
        }
        g.3 += usize::from(d.reasons == [Reason::OutOfScope]);
    }
    prop_assert_eq!(plan.groups.len(), groups.len());
    for (g, (name, kept, deleted, out, gb)) in plan.groups.iter().zip(&groups) {
        prop_assert_eq!(
            (&g.group, g.kept, g.deleted, g.out_of_scope),
            (name, *kept, *deleted, *out)
        );
        prop_assert!(g.gigabytes_freed.is_finite());
        prop_assert!((g.gigabytes_freed - gb).abs() <= 1e-9 * gb.max(1.0));
    }
    prop_assert_eq!(plan.kept, plan.groups.iter().map(|g| g.kept).sum::<usize>());
    prop_assert_eq!(
        plan.deleted,
        plan.groups.iter().map(|g| g.deleted).sum::<usize>()
    );
    prop_assert_eq!(
        plan.out_of_scope,
        plan.groups.iter().map(|g| g.out_of_scope).sum::<usize>()
    );
    prop_assert_eq!(plan.kept + plan.deleted, items.len());
    let total = plan.groups.iter().fold(0.0, |s, g| s + g.gigabytes_freed);
    prop_assert_eq!(plan.gigabytes_freed, total);
    prop_assert!(plan.gigabytes_freed.is_finite());

    // The newest of each in-scope group is kept, and keep-last n keeps at
    // least min(n, the group's size).
    let mut in_scope: BTreeMap<&str, Vec<&Decision<T>>> = BTreeMap::new();
    for d in plan
        .decisions
        .iter()
        .filter(|d| d.reasons != [Reason::OutOfScope])
    {
        in_scope.entry(&*d.group).or_default().push(d);
    }
    for group in in_scope.values() {
        prop_assert_eq!(group[0].action, Action::Keep);
        let newest = group.iter().map(|d| d.item.created_at()).max().unwrap();
        prop_assert_eq!(group[0].item.created_at(), newest);
        let kept = group.iter().filter(|d| d.action == Action::Keep).count();
        let n = policy.last as usize;
        prop_assert!(kept >= n.min(group.len()));
        if !policy.is_empty() {
            let by_last = group
                .iter()
                .filter(|d| d.reasons.contains(&Reason::Last))
                .count();
            prop_assert_eq!(by_last, n.min(group.len()));
        }
    }

    // Planning again over the kept snapshots deletes nothing.
    let again = policy
        .plan_walk(plan.to_keep().cloned().collect(), &proven(), now)
        .unwrap();
    prop_assert_eq!(again.deleted, 0);
    prop_assert_eq!(again.kept, plan.kept);
    Ok(plan)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every decision is the one restic's rules give, read independently.
    #[test]
    fn plans_follow_restics_rules(spec in spec(), items in listing(), now in moment()) {
        let plan = spec.policy().plan_walk(items.clone(), &proven(), now).unwrap();
        let expected = reference(&spec, &items, now);
        for d in &plan.decisions {
            prop_assert_eq!(Some(&d.reasons), expected.get(&d.item.id), "{}", d.item.id);
        }
    }

    /// Every item decided once, never both kept and deleted; counts and
    /// gigabytes add up; the newest of each in-scope group kept; keep-last
    /// n keeps at least min(n, group size); out of scope and young never
    /// deleted; planning again over the kept deletes nothing.
    #[test]
    fn every_plan_keeps_its_promises(spec in spec(), items in listing(), now in moment()) {
        check_plan(&spec.policy(), &items, now)?;
    }

    /// The same for a droplet's listing (grouped by type).
    #[test]
    fn every_plan_of_a_droplet_listing_keeps_its_promises(
        spec in spec(),
        items in droplet_listing(),
        now in moment(),
    ) {
        // A droplet's listing has no tags: keep-tag gives no plan there.
        let spec = Spec { tags: Vec::new(), ..spec };
        check_plan(&spec.policy(), &items, now)?;
    }

    /// The plan does not depend on the order of the items.
    #[test]
    fn the_plan_does_not_depend_on_the_order_of_items(
        spec in spec(),
        (items, shuffled) in shuffled(listing()),
        (droplets, shuffled_droplets) in shuffled(droplet_listing()),
        now in moment(),
    ) {
        let policy = spec.policy();
        let a = policy.plan_walk(items, &proven(), now).unwrap();
        let b = policy.plan_walk(shuffled, &proven(), now).unwrap();
        prop_assert_eq!(digest(&a), digest(&b));
        prop_assert_eq!(&a.groups, &b.groups);
        prop_assert_eq!(a.gigabytes_freed.to_bits(), b.gigabytes_freed.to_bits());
        let policy = Spec { tags: Vec::new(), ..spec }.policy();
        let a = policy.plan_walk(droplets, &proven(), now).unwrap();
        let b = policy.plan_walk(shuffled_droplets, &proven(), now).unwrap();
        prop_assert_eq!(digest(&a), digest(&b));
    }

    /// An empty policy deletes nothing, whatever its other settings.
    #[test]
    fn an_empty_policy_deletes_nothing(spec in spec(), items in listing(), now in moment()) {
        let spec = Spec { counts: [0; 6], within_hours: None, tags: Vec::new(), ..spec };
        let plan = spec.policy().plan_walk(items, &proven(), now).unwrap();
        prop_assert_eq!(plan.deleted, 0);
        prop_assert_eq!(plan.gigabytes_freed, 0.0);
        prop_assert!(plan.decisions.iter().all(|d| d.reasons == [Reason::EmptyPolicy] || d.reasons == [Reason::OutOfScope]));
    }

    /// The glob is the textbook one.
    #[test]
    fn globs_match_as_the_reference(pattern in "[ab*?é]{0,8}", name in "[abé]{0,10}") {
        let chars = |t: &str| t.chars().collect::<Vec<_>>();
        prop_assert_eq!(glob_match(&pattern, &name), glob_reference(&chars(&pattern), &chars(&name)));
    }
}

#[test]
fn a_plan_needs_every_item_of_the_walk_and_a_walk_from_page_one() {
    let now = at("2025-05-09 12:00:00");
    let items = two_weeks();
    let mut summary = proven();
    summary.items = items.len() as u64 + 1;
    let error = Policy::new()
        .keep_last(1)
        .plan(items.clone(), &summary, now)
        .unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().contains("delivered"), "{error}");
    summary.items = items.len() as u64;
    summary.first_page = 3;
    let error = Policy::new()
        .keep_last(1)
        .plan(items.clone(), &summary, now)
        .unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::Inconsistent, "{error}");
    assert!(error.to_string().contains("page 3"), "{error}");
    summary.first_page = 1;
    summary.vanished = 1;
    let error = Policy::new()
        .keep_last(1)
        .plan(items.clone(), &summary, now)
        .unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::Inconsistent, "{error}");
    assert!(
        error.to_string().contains("deleted while the walk read"),
        "{error}"
    );
    summary.vanished = 0;
    assert!(
        Policy::new()
            .keep_last(1)
            .plan(items, &summary, now)
            .is_ok()
    );
}

/// Review, then the adversary: keep-tag cannot tell a token without
/// `tag:read` (no tags field anywhere) from `tags: null` (no tags, a real
/// answer): no plan when no snapshot in scope has its tags listed; with
/// some listed, `null` is no tags. Backups, images of an unknown type and
/// snapshots of an unknown resource type are never in scope unless the
/// scope names that type.
#[test]
fn unlisted_tags_and_unknown_kinds_are_never_deleted_blindly() {
    let now = at("2025-05-09 12:00:00");
    let unlisted = |id: &str, time: &str| {
        Snapshot::new(id, at(time)).with_resource(ResourceType::Volume, "vol-1")
    };
    // No tags listed anywhere: a token without tag:read, as far as the
    // listing can tell.
    let blind = vec![
        unlisted("1", "2025-03-01 08:00:00"),
        unlisted("2", "2025-03-02 08:00:00"),
    ];
    let error = Policy::new()
        .keep_last(1)
        .keep_tag("env:prod")
        .plan_walk(blind.clone(), &proven(), now)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert_eq!(error.invalid_field(), Some("keep_tag"));
    assert!(error.to_string().contains("tag:read"), "{error}");
    // Without keep-tag, tags do not matter.
    let plan = Policy::new()
        .keep_last(1)
        .plan_walk(blind, &proven(), now)
        .unwrap();
    assert_eq!(deleted(&plan), set(&["1"]));
    // Some listed: `null` is no tags.
    let mixed = vec![
        snap("1", "2025-03-01 08:00:00").with_tags(["env:prod"]),
        unlisted("2", "2025-03-02 08:00:00"),
        snap("3", "2025-03-03 08:00:00"),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .keep_tag("env:prod")
        .plan_walk(mixed, &proven(), now)
        .unwrap();
    assert_eq!(deleted(&plan), set(&["2"]));

    let droplets = vec![
        DropletSnapshot::new(1, at("2025-03-01 08:00:00")),
        DropletSnapshot::new(2, at("2025-03-02 08:00:00")).with_type(SnapshotType::Backup),
        DropletSnapshot::new(3, at("2025-03-03 08:00:00")).with_type(SnapshotType::Backup),
        DropletSnapshot::new(4, at("2025-03-04 08:00:00")),
        DropletSnapshot::new(5, at("2025-03-05 08:00:00")),
        DropletSnapshot::new(6, at("2025-03-06 08:00:00")).with_type("replica".into()),
    ];
    let error = Policy::new()
        .keep_tag("env:prod")
        .plan_walk(droplets.clone(), &proven(), now)
        .unwrap_err();
    assert_eq!(error.invalid_field(), Some("keep_tag"));
    let plan = Policy::new()
        .keep_last(1)
        .group_by(GroupBy::All)
        .plan_walk(droplets, &proven(), now)
        .unwrap();
    let gone: BTreeSet<i64> = plan.to_delete().map(|d| d.id).collect();
    assert_eq!(gone, BTreeSet::from([1, 4]), "backups and the replica kept");
    assert_eq!(plan.out_of_scope, 3);

    let kinds = vec![
        snap("1", "2025-03-01 08:00:00")
            .with_resource(ResourceType::Unknown("kubernetes_node".into()), "n1"),
        snap("2", "2025-03-02 08:00:00")
            .with_resource(ResourceType::Unknown("kubernetes_node".into()), "n1"),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .plan_walk(kinds.clone(), &proven(), now)
        .unwrap();
    assert_eq!(
        (plan.deleted, plan.out_of_scope),
        (0, 2),
        "an unknown kind: left alone"
    );
    let plan = Policy::new()
        .keep_last(1)
        .scope(Scope::all().resource_type(ResourceType::Unknown("kubernetes_node".into())))
        .plan_walk(kinds, &proven(), now)
        .unwrap();
    assert_eq!(deleted(&plan), set(&["1"]), "unless the scope names it");
}

/// Review: a resource type the crate does not know, holding a `:`, never
/// shares a group's name with another resource.
#[test]
fn two_resources_never_share_a_group() {
    let items = vec![
        snap("1", "2025-03-01 08:00:00")
            .with_resource(ResourceType::Unknown("volume:a".into()), "b"),
        snap("2", "2025-03-02 08:00:00").with_resource(ResourceType::Volume, "a:b"),
    ];
    let plan = Policy::new()
        .keep_last(1)
        .plan_walk(items, &proven(), at("2025-04-01 00:00:00"))
        .unwrap();
    assert_eq!(plan.groups.len(), 2, "{:?}", plan.groups);
    assert_eq!(plan.deleted, 0, "each is the newest of its own");
}
