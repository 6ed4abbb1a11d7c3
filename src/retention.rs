//! Retention plans: which snapshots a keep-policy keeps and which it would
//! delete, computed from a listing the walk proved whole.
//!
//! A [`Policy`] says what to keep; [`Policy::plan`] turns it and a complete
//! listing into a [`Plan`]: every snapshot with [`Action::Keep`] or
//! [`Action::Delete`] and the [`Reason`]s that kept it, and per group
//! ([`GroupPlan`]) and in all the counts and the gigabytes a deletion would
//! free. Planning is a pure function: it makes no request, reads no clock
//! (the time "now" is an argument), and deletes nothing. The crate stays
//! read-only; [how to apply a plan](#applying-a-plan) is below.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use digitalocean_snapshots::retention::{Action, Policy, Reason};
//! use digitalocean_snapshots::{ListingProof, ResourceType, Snapshot, WalkSummary};
//!
//! # fn main() -> digitalocean_snapshots::Result<()> {
//! let day = |d| Utc.with_ymd_and_hms(2026, 11, d, 3, 0, 0).unwrap();
//! let snapshots = vec![
//!     Snapshot::new("101", day(28)).with_resource(ResourceType::Volume, "vol-1"),
//!     Snapshot::new("102", day(29)).with_resource(ResourceType::Volume, "vol-1"),
//!     Snapshot::new("103", day(30)).with_resource(ResourceType::Volume, "vol-1"),
//! ];
//! // In a program the summary comes with the listing:
//! // `let (snapshots, summary) = client.list_snapshots().collect_with_summary().await?;`
//! let mut summary = WalkSummary::default();
//! summary.consistent = true;
//! summary.complete = true;
//! summary.proof = Some(ListingProof::OnePage);
//! summary.items = snapshots.len() as u64;
//!
//! let policy = Policy::new().keep_last(2);
//! let plan = policy.plan(snapshots, &summary, day(30) + chrono::Duration::hours(6))?;
//!
//! let deleted: Vec<&str> = plan.to_delete().map(|s| s.id.as_str()).collect();
//! assert_eq!(deleted, ["101"]);
//! assert_eq!(plan.decisions[0].item.id, "103"); // newest first
//! assert_eq!(plan.decisions[0].reasons, [Reason::Last]);
//! assert_eq!(plan.decisions[2].action, Action::Delete);
//! assert_eq!((plan.kept, plan.deleted), (2, 1));
//! assert_eq!(plan.decisions[2].to_string(), "delete (no rule kept it)");
//! # Ok(()) }
//! ```
//!
//! # The rules
//!
//! The rules are those of restic's `forget` (its documentation, "Removing
//! snapshots according to a policy"), applied to each group on its own:
//! snapshots are first divided into groups ([`GroupBy`]), then each group's
//! snapshots are taken newest first and every rule is evaluated over them.
//! A snapshot is kept when any rule keeps it (the rules are ORed), and its
//! decision lists every rule that did.
//!
//! - [`keep_last(n)`](Policy::keep_last): the `n` newest snapshots
//!   ([`Reason::Last`]).
//! - [`keep_hourly(n)`](Policy::keep_hourly),
//!   [`keep_daily(n)`](Policy::keep_daily),
//!   [`keep_weekly(n)`](Policy::keep_weekly),
//!   [`keep_monthly(n)`](Policy::keep_monthly),
//!   [`keep_yearly(n)`](Policy::keep_yearly): for the last `n` hours (days,
//!   weeks, months, years) that have one or more snapshots, the newest
//!   snapshot of each ([`Reason::Hourly`] ... [`Reason::Yearly`]). The
//!   buckets are calendar boundaries, not distances from now: an hour is
//!   `:00` to `:59`, a day `00:00` to `23:59`, a week an ISO week (Monday
//!   00:00 to Sunday 23:59, numbered by ISO year), a month and a year the
//!   calendar's. Hours, days ... without a snapshot are not counted.
//! - Restic 0.17's rule for short histories is adopted: when a bucket rule
//!   still has buckets left after the group's oldest snapshot (the group
//!   has fewer hours, days ... than `n`), that oldest snapshot is kept too,
//!   even where it is not the newest of its bucket
//!   ([`Reason::Oldest`], shown as `oldest daily`). So a `keep_daily(7)`
//!   over three days of snapshots keeps the newest of each of the three days
//!   and the first snapshot ever taken.
//! - [`keep_within(d)`](Policy::keep_within): every snapshot created less
//!   than `d` before `now` (`created_at > now - d`;
//!   [`Reason::Within`]).
//! - [`keep_tag(tag)`](Policy::keep_tag): every snapshot carrying the tag
//!   ([`Reason::Tag`]); repeated, a snapshot carrying any of the tags. The
//!   empty tag `""` keeps the snapshots without tags, as restic's
//!   `--keep-tag ''`.
//!
//! `n = 0` and a zero `keep_within` set no rule, as in restic;
//! `u32::MAX` is restic's `unlimited`: every snapshot for `keep_last`, the
//! newest of every hour (day ...) for the bucket rules.
//!
//! Tags: `tags: null` is DigitalOcean's answer for a snapshot without
//! tags, but a token without the `tag:read` scope gets no tags field at
//! all, and both decode to `None` ([`Snapshot::tags`](crate::Snapshot::tags));
//! a droplet's listing has no tags. So a policy with a
//! [`keep_tag`](Policy::keep_tag) gives no plan when no snapshot in scope
//! has its tags listed (an
//! [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error,
//! field `keep_tag`): it cannot tell a missing scope, which would delete
//! what the tag was meant to keep, from a listing without tags. When some
//! have them, `None` is no tags.
//!
//! # Safety, always on
//!
//! - **A listing that did not add up gives no plan.** The `summary` must be
//!   the one the walk returned with the listing: a summary without a
//!   [`proof`](crate::WalkSummary::proof) (a walk stopped by a limit, one not
//!   finished, one that did not add up) or not
//!   [`consistent`](crate::WalkSummary::consistent) (a walk under
//!   `strict(false)` that did not add up) is refused with an
//!   [`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent) error that
//!   says no plan was made. A listing that holds one id twice is refused
//!   with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) (field
//!   `items`, naming the id): with a repeat, `keep_last(12)` would keep 11.
//! - **The newest snapshot of every group is kept** ([`Reason::NewestOfGroup`]),
//!   whatever the rules say (of the group's snapshots in scope).
//! - **Young snapshots are kept**: every snapshot created less than
//!   [`min_age`](Policy::min_age) before `now` (default one hour;
//!   `created_at > now - min_age`), including one dated in the future by a
//!   skewed clock, even with a `min_age` of zero
//!   ([`Reason::YoungerThanMinAge`]). The rules are evaluated over every
//!   snapshot first (a young snapshot counts toward `keep_last` and takes
//!   its hour, day ...); `min_age` only protects what they would delete.
//! - **An empty policy keeps everything** ([`Reason::EmptyPolicy`]): one
//!   with no rule set, or only `n = 0` and a zero `keep_within`
//!   ([`Policy::is_empty`]).
//! - **Only known kinds are deleted**: a droplet's backups are
//!   DigitalOcean's (its backup service makes and rotates them), and an
//!   image of a `type` or a snapshot of a `resource_type` this crate does
//!   not know may be anything: no scope admits them (kept, out of scope),
//!   except a snapshot of an unknown resource type that the scope names
//!   ([`Scope::resource_type`]).
//! - **Out of scope is kept**: a [`Scope`] (name glob, region, resource
//!   type, resource id) says which snapshots a plan may touch; every other
//!   snapshot is kept ([`Reason::OutOfScope`]), counted in
//!   [`Plan::out_of_scope`], and takes no part in the rules: a group's
//!   rules and its newest are those of its snapshots in scope. A nightly job
//!   prunes what it made, never the manual snapshot beside it.
//!
//! The safety reasons are listed only on a snapshot no rule kept (then
//! every safety rule that applies is listed: both `newest of its group` and
//! `younger than min-age`, say). A snapshot kept has at least one reason; a
//! snapshot deleted has none ([`Decision`]'s `Display` reads "no rule kept
//! it").
//!
//! # Time, order and determinism
//!
//! - Buckets are computed in UTC, or at the fixed offset of
//!   [`utc_offset`](Policy::utc_offset) (a fixed offset: no daylight saving
//!   time, no time zone database). An instant at chrono's extremes that
//!   the offset would carry past chrono's range is bucketed in UTC.
//! - Durations are exact ([`std::time::Duration`]): a day is 86,400 seconds,
//!   there are no months. A `keep_within` or `min_age` too large for chrono,
//!   or reaching before chrono's earliest instant (e.g. `Duration::MAX`),
//!   reaches every snapshot: `keep_within(Duration::MAX)` keeps all, a
//!   `min_age` of `Duration::MAX` protects all.
//! - The plan does not depend on the order of `items` (the order is the
//!   server's, which nothing documents). Snapshots are sorted by group
//!   (ascending, by the group's name), then newest first by `created_at`;
//!   two snapshots of a group created at the same instant are ordered by id,
//!   the greater id counting as the newer. Ids are compared as numbers when
//!   both are decimal digits (`"1000"` > `"999"`), as strings otherwise, and
//!   a decimal id is less than any other (`"07"` and `"7"`, equal as
//!   numbers, by their text). [`Plan::decisions`] is in that
//!   order, and [`Plan::groups`] in the order of the groups.
//! - Gigabytes freed count each deleted snapshot's `size_gigabytes` when it
//!   is finite and positive (a NaN, infinite or negative size counts 0) and
//!   saturate at `f64::MAX`: the sums are always finite. The plan's total is
//!   the sum of its groups' totals, in the order of the groups.
//! - No input panics: an empty listing gives an empty plan; empty names,
//!   ids and tags, extreme dates and sizes are all planned.
//!
//! # Differences from restic
//!
//! - `keep_within` counts from `now`, not from the newest snapshot. Restic's
//!   `--keep-within` keeps what was made within the duration *of the latest
//!   snapshot*, so that a repository whose backups stopped keeps its last
//!   ones; here the newest of each group is kept anyway, and "within a week
//!   of now" is what a snapshot schedule means. Durations are exact, where
//!   restic's `1y5m7d2h` is calendar arithmetic.
//! - No `--keep-within-hourly` (daily, weekly, monthly, yearly).
//! - `keep_tag` takes one tag; repeated, the tags are ORed. Restic's
//!   `--keep-tag a,b` (a snapshot carrying both) has no equivalent.
//! - The newest of every group, snapshots younger than `min_age` and
//!   snapshots dated in the future are always kept. Restic has no minimum
//!   age and never removes a future snapshot through a duration rule; a
//!   policy that would remove every snapshot of a group stops it with an
//!   error ("refusing to delete last snapshot of snapshot group"; its
//!   documentation says so for `--keep-tag`), where here the group's
//!   newest is kept and the plan is made.
//! - Grouping is by what the snapshot is of ([`GroupBy::Resource`]: the
//!   resource on the account listing, snapshot or backup on a droplet's),
//!   or one group ([`GroupBy::All`], restic's `--group-by ''`), instead of
//!   host, paths and tags.
//! - The selection is a [`Scope`] (name glob, region, resource type and
//!   id) instead of `--host`, `--tag` and `--path`; what it leaves out is in
//!   the plan, kept and counted, not left out of it.
//! - Buckets are in UTC or one fixed offset; restic uses each snapshot's
//!   own recorded time zone.
//! - Snapshots created at the same instant are ordered by id; restic keeps
//!   them in the order it read them, so its choice depends on that order.
//! - A listing not proven whole, or with a repeated id, is refused.
//! - An empty policy keeps everything and says so in the plan; restic
//!   refuses to run with one. There is no `--unsafe-allow-remove-all`.
//! - Restic's documented example of `--keep-daily 5` lists the kept Friday
//!   snapshot under the id of the 11:00 one with the time of the 23:00 one;
//!   by its rule and its listing the 23:00 one is kept, as here (the tests
//!   reproduce the example with that reading).
//!
//! An attacker who can create snapshots could, as restic's documentation
//! warns for append-only repositories, fill the newest buckets: on
//! DigitalOcean `created_at` is the platform's time of the snapshot, not a
//! date the client chooses, but a snapshot made in the right hour still
//! takes that hour. `keep_within` keeps everything recent regardless.
//!
//! # A plan is as fresh as its listing
//!
//! A proven listing holds every snapshot that existed for the whole walk,
//! and may hold snapshots created or deleted while it was read. One
//! deleted meanwhile (by another job) would be planned as if it were
//! there: counted among the newest, it would keep the place of one the
//! plan deletes, and a `keep_last(n)` applied then would leave fewer than
//! `n`. So a listing whose walk saw snapshots disappear
//! ([`WalkSummary::vanished`](crate::WalkSummary::vanished)) gives no plan
//! ([`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent)): list
//! again when the other job is done. That catches the deletions before
//! the walk's count; one behind its last look (after that look read the
//! snapshot's page) or after the walk is seen by no walk over numbered
//! pages, and can still empty a group: plan when no other job deletes
//! snapshots of the same resources, and apply a plan soon after making it.
//! (`tests/adversary_retention.rs` shows both, ignored as this documented
//! limit.)
//!
//! # Applying a plan
//!
//! The crate never deletes. DigitalOcean's CLI does, one or more ids at a
//! time: for each snapshot of [`Plan::to_delete`],
//!
//! ```text
//! doctl compute snapshot delete <id> --force
//! ```
//!
//! (the ids of a droplet's listing are the same snapshots' ids, as
//! integers). Review the plan first (its [`Display`](Decision) per
//! decision, the counts and gigabytes), and plan again right before
//! applying: a plan is only as fresh as its listing.

mod engine;
mod item;
mod plan;
mod scope;
#[cfg(test)]
mod tests;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Offset, Utc};

pub use item::Retainable;
pub use plan::{Action, Decision, GroupPlan, Period, Plan, Reason};
pub use scope::Scope;

use crate::{Result, WalkSummary};

/// How snapshots are divided into groups, each planned on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupBy {
    /// By what the snapshot is of: on the account listing by
    /// `resource_type` and `resource_id` (the group `volume:<id>`,
    /// `droplet:<id>`); on a droplet's listing by `type` (the groups
    /// `snapshot` and `backup`). The default.
    #[default]
    Resource,
    /// One group for every snapshot (the group `all`).
    All,
}

/// A keep-policy: the rules of restic's `forget`, the safety settings, the
/// grouping and the scope. `Policy::new()` is empty: it keeps everything.
///
/// The [module documentation](crate::retention) gives the semantics of
/// each rule.
///
/// ```
/// use std::time::Duration;
/// use digitalocean_snapshots::retention::{GroupBy, Policy, Scope};
///
/// let policy = Policy::new()
///     .keep_last(3)
///     .keep_daily(7)
///     .keep_weekly(4)
///     .keep_tag("env:prod")
///     .min_age(Duration::from_secs(2 * 3600))
///     .group_by(GroupBy::Resource)
///     .scope(Scope::all().name("nightly-*").region("nyc3"));
/// assert!(!policy.is_empty());
/// assert!(Policy::new().keep_last(0).is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    last: u32,
    hourly: u32,
    daily: u32,
    weekly: u32,
    monthly: u32,
    yearly: u32,
    within: Duration,
    tags: Vec<String>,
    min_age: Duration,
    group_by: GroupBy,
    scope: Scope,
    offset: FixedOffset,
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy {
    /// An empty policy (it keeps everything): no rule, a minimum age of one
    /// hour, [`GroupBy::Resource`], [`Scope::all`], buckets in UTC.
    pub fn new() -> Self {
        Self {
            last: 0,
            hourly: 0,
            daily: 0,
            weekly: 0,
            monthly: 0,
            yearly: 0,
            within: Duration::ZERO,
            tags: Vec::new(),
            min_age: Duration::from_secs(3600),
            group_by: GroupBy::Resource,
            scope: Scope::all(),
            offset: Utc.fix(),
        }
    }

    /// Keep the `n` newest snapshots of each group (`0`: no such rule;
    /// `u32::MAX`: all of them).
    #[must_use]
    pub fn keep_last(mut self, n: u32) -> Self {
        self.last = n;
        self
    }

    /// Keep every snapshot created less than `d` before `now`
    /// (`created_at > now - d`; zero: no such rule; a duration beyond
    /// chrono's range: all).
    #[must_use]
    pub fn keep_within(mut self, d: Duration) -> Self {
        self.within = d;
        self
    }

    /// Keep the newest snapshot of each of the last `n` hours that have one
    /// (`0`: no such rule; `u32::MAX`: of every hour).
    #[must_use]
    pub fn keep_hourly(mut self, n: u32) -> Self {
        self.hourly = n;
        self
    }

    /// Keep the newest snapshot of each of the last `n` days that have one
    /// (`0`: no such rule; `u32::MAX`: of every day).
    #[must_use]
    pub fn keep_daily(mut self, n: u32) -> Self {
        self.daily = n;
        self
    }

    /// Keep the newest snapshot of each of the last `n` ISO weeks (Monday
    /// to Sunday) that have one (`0`: no such rule; `u32::MAX`: of every
    /// week).
    #[must_use]
    pub fn keep_weekly(mut self, n: u32) -> Self {
        self.weekly = n;
        self
    }

    /// Keep the newest snapshot of each of the last `n` calendar months
    /// that have one (`0`: no such rule; `u32::MAX`: of every month).
    #[must_use]
    pub fn keep_monthly(mut self, n: u32) -> Self {
        self.monthly = n;
        self
    }

    /// Keep the newest snapshot of each of the last `n` calendar years
    /// that have one (`0`: no such rule; `u32::MAX`: of every year).
    #[must_use]
    pub fn keep_yearly(mut self, n: u32) -> Self {
        self.yearly = n;
        self
    }

    /// Keep every snapshot carrying `tag` (exactly, case-sensitive).
    /// Repeatable: a snapshot carrying any of the tags is kept (a tag
    /// given twice counts once). The empty tag keeps the snapshots without
    /// tags.
    #[must_use]
    pub fn keep_tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
        self
    }

    /// Never delete a snapshot created less than `d` before `now`
    /// (`created_at > now - d`), nor one dated after `now`. Default: one
    /// hour. A duration beyond chrono's range protects every snapshot.
    #[must_use]
    pub fn min_age(mut self, d: Duration) -> Self {
        self.min_age = d;
        self
    }

    /// How snapshots are grouped. Default: [`GroupBy::Resource`].
    #[must_use]
    pub fn group_by(mut self, g: GroupBy) -> Self {
        self.group_by = g;
        self
    }

    /// Which snapshots the plan may touch. Default: [`Scope::all`].
    #[must_use]
    pub fn scope(mut self, s: Scope) -> Self {
        self.scope = s;
        self
    }

    /// Compute the hour, day, week, month and year of a snapshot at this
    /// fixed offset from UTC instead of in UTC (the default).
    #[must_use]
    pub fn utc_offset(mut self, offset: FixedOffset) -> Self {
        self.offset = offset;
        self
    }

    /// Whether no rule is set (all counts 0, no `keep_within`, no tag):
    /// such a policy keeps everything. The safety settings, the grouping
    /// and the scope do not count.
    pub fn is_empty(&self) -> bool {
        self.last == 0
            && self.hourly == 0
            && self.daily == 0
            && self.weekly == 0
            && self.monthly == 0
            && self.yearly == 0
            && self.within.is_zero()
            && self.tags.is_empty()
    }

    /// The plan of this policy over `items`, the whole listing a walk
    /// returned with `summary`, as of `now`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent) when
    /// `summary` has no [`proof`](WalkSummary::proof), is not
    /// [`consistent`](WalkSummary::consistent), is of a walk resumed
    /// from a later page ([`first_page`](WalkSummary::first_page) above
    /// 1), or says snapshots were deleted while the walk read
    /// ([`vanished`](WalkSummary::vanished)): no plan is made from a
    /// listing that was not proven whole, or that another job was
    /// deleting from.
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) (field
    /// `items`) when two items have the same id, or when there are not as
    /// many items as the walk delivered ([`WalkSummary::items`]: plan over
    /// all of them, and leave snapshots alone with a [`Scope`]).
    pub fn plan<T: Retainable>(
        &self,
        items: Vec<T>,
        summary: &WalkSummary,
        now: DateTime<Utc>,
    ) -> Result<Plan<T>> {
        engine::plan(self, items, summary, now)
    }
}
