//! The planning itself: the checks, the order, the rules of each group.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, TimeDelta, Timelike, Utc};

use super::{Action, Decision, GroupPlan, Period, Plan, Policy, Reason, Retainable};
use crate::{Error, Result, WalkSummary};

pub(super) fn plan<T: Retainable>(
    policy: &Policy,
    items: Vec<T>,
    summary: &WalkSummary,
    now: DateTime<Utc>,
) -> Result<Plan<T>> {
    check_listing(summary)?;
    check_unique(&items)?;
    if items.len() as u64 != summary.items {
        return Err(Error::invalid_input(
            "items",
            format!(
                "{} items were given, but the walk summarised delivered {}: plan over every item of the walk whose summary is given (to leave snapshots alone, use a Scope)",
                items.len(),
                summary.items
            ),
        ));
    }

    // One name per group, shared by its entries and decisions.
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    let mut entries: Vec<Entry<T>> = items
        .into_iter()
        .map(|item| Entry {
            group: Arc::clone(
                names
                    .entry(item.group(policy.group_by))
                    .or_insert_with_key(|name| Arc::from(name.as_str())),
            ),
            in_scope: policy.scope.admits(&item),
            item,
        })
        .collect();
    // `tags: null` is a real answer (no tags), but a token without the
    // tag:read scope gets no tags field at all, which decodes the same:
    // when no snapshot in scope has tags known, keep-tag cannot tell a
    // missing scope from a listing without tags.
    let in_scope = entries.iter().filter(|e| e.in_scope).count();
    if !policy.tags.is_empty()
        && in_scope > 0
        && entries
            .iter()
            .all(|e| !e.in_scope || e.item.tags().is_none())
    {
        return Err(Error::invalid_input(
            "keep_tag",
            format!(
                "none of the {in_scope} snapshots in scope has its tags listed (a droplet's listing has none; \
                 the account listing leaves them out for a token without the tag:read scope): \
                 keep-tag cannot tell which to keep, so no retention plan was made"
            ),
        ));
    }
    entries.sort_unstable_by(order);

    let cutoffs = Cutoffs {
        young: cutoff(now, policy.min_age),
        within: (!policy.within.is_zero()).then(|| cutoff(now, policy.within)),
    };
    let mut reasons = Vec::with_capacity(entries.len());
    let mut start = 0;
    while start < entries.len() {
        let end = group_end(&entries, start);
        decide_group(policy, &cutoffs, &entries[start..end], &mut reasons);
        start = end;
    }

    let mut decisions: Vec<Decision<T>> = Vec::with_capacity(entries.len());
    let mut groups: Vec<GroupPlan> = Vec::new();
    for (entry, reasons) in entries.into_iter().zip(reasons) {
        let action = if reasons.is_empty() {
            Action::Delete
        } else {
            Action::Keep
        };
        let out_of_scope = !entry.in_scope;
        if groups.last().is_none_or(|g| *g.group != *entry.group) {
            groups.push(GroupPlan {
                group: entry.group.to_string(),
                kept: 0,
                deleted: 0,
                out_of_scope: 0,
                gigabytes_freed: 0.0,
            });
        }
        if let Some(g) = groups.last_mut() {
            match action {
                Action::Keep => g.kept += 1,
                Action::Delete => {
                    g.deleted += 1;
                    g.gigabytes_freed =
                        add_gigabytes(g.gigabytes_freed, entry.item.size_gigabytes());
                }
            }
            g.out_of_scope += usize::from(out_of_scope);
        }
        decisions.push(Decision {
            item: entry.item,
            action,
            reasons,
            group: entry.group,
        });
    }

    Ok(Plan {
        kept: groups.iter().map(|g| g.kept).sum(),
        deleted: groups.iter().map(|g| g.deleted).sum(),
        out_of_scope: groups.iter().map(|g| g.out_of_scope).sum(),
        gigabytes_freed: groups
            .iter()
            .fold(0.0, |sum, g| add_gigabytes(sum, g.gigabytes_freed)),
        decisions,
        groups,
    })
}

/// A plan only from a listing the walk proved whole.
fn check_listing(summary: &WalkSummary) -> Result<()> {
    if !summary.consistent {
        return Err(Error::inconsistent(
            "the walk did not read it consistently, so it was not proven whole; \
             no retention plan was made",
        ));
    }
    if summary.first_page > 1 {
        return Err(Error::inconsistent(format!(
            "the walk started from page {}, so the snapshots on the pages before it were not read; no retention plan was made",
            summary.first_page
        )));
    }
    if summary.vanished > 0 {
        return Err(Error::inconsistent(format!(
            "{} of the snapshots listed were deleted while the walk read (another job is deleting): a plan could count one of them among those it keeps and delete one that should stay; no retention plan was made (list again when that job is done)",
            summary.vanished
        )));
    }
    if summary.proof.is_none() {
        return Err(Error::inconsistent(
            "the walk did not prove it whole (a walk stopped by a limit, one not \
             finished or one that did not add up proves nothing); no retention plan was made",
        ));
    }
    Ok(())
}

/// Every id once: a repeat would take a place of `keep_last`.
fn check_unique<T: Retainable>(items: &[T]) -> Result<()> {
    let mut ids: Vec<_> = items.iter().map(Retainable::id).collect();
    ids.sort_unstable();
    let mut repeated = ids.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]);
    let Some(first) = repeated.next() else {
        return Ok(());
    };
    let mut others: Vec<_> = repeated.filter(|id| *id != first).collect();
    others.dedup();
    let more = match others.len() {
        0 => String::new(),
        1 => " (and 1 other id)".to_owned(),
        n => format!(" (and {n} other ids)"),
    };
    Err(Error::invalid_input(
        "items",
        format!(
            "snapshot {} appears more than once in the listing{more}; a repeated snapshot \
             would take a place of keep-last, so no retention plan was made",
            shown(first)
        ),
    ))
}

/// An id as an error message shows it: quoted, escaped, at most 64
/// characters.
fn shown(id: &str) -> String {
    const MAX: usize = 64;
    match id.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", &id[..cut]),
        None => format!("{id:?}"),
    }
}

struct Entry<T> {
    group: Arc<str>,
    in_scope: bool,
    item: T,
}

/// By group, newest first, then the greater id first: a total order once
/// the ids are unique, so the plan does not depend on the items' order.
fn order<T: Retainable>(a: &Entry<T>, b: &Entry<T>) -> Ordering {
    a.group
        .cmp(&b.group)
        .then_with(|| b.item.created_at().cmp(&a.item.created_at()))
        .then_with(|| IdKey::of(&b.item.id()).cmp(&IdKey::of(&a.item.id())))
}

/// Ids in order: decimal ones as numbers (then by their text, for leading
/// zeros), before any other, which compare as strings.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum IdKey<'a> {
    Decimal {
        digits: usize,
        significant: &'a str,
        text: &'a str,
    },
    Other(&'a str),
}

impl<'a> IdKey<'a> {
    fn of(id: &'a str) -> Self {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            let significant = id.trim_start_matches('0');
            Self::Decimal {
                digits: significant.len(),
                significant,
                text: id,
            }
        } else {
            Self::Other(id)
        }
    }
}

fn group_end<T>(entries: &[Entry<T>], start: usize) -> usize {
    let group = &entries[start].group;
    entries[start..]
        .iter()
        .position(|e| e.group != *group)
        .map_or(entries.len(), |n| start + n)
}

/// The instants `now - min_age` and `now - keep_within`; `None` when the
/// duration reaches before chrono's earliest instant (every snapshot is
/// after it).
struct Cutoffs {
    young: Option<DateTime<Utc>>,
    /// `None`: no `keep_within`.
    within: Option<Option<DateTime<Utc>>>,
}

fn cutoff(now: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
}

fn after(t: DateTime<Utc>, cutoff: Option<DateTime<Utc>>) -> bool {
    cutoff.is_none_or(|c| t > c)
}

/// One bucket rule as restic evaluates it, newest first: a snapshot whose
/// bucket differs from the previous kept one's is kept while buckets are
/// left; the group's oldest is kept too while buckets are left.
struct BucketRule {
    period: Period,
    left: u32,
    previous: Option<i64>,
}

impl BucketRule {
    fn offer(&mut self, t: DateTime<Utc>, offset: FixedOffset, oldest: bool) -> Option<Reason> {
        if self.left == 0 {
            return None;
        }
        let bucket = bucket(self.period, t, offset);
        let reason = if self.previous != Some(bucket) {
            match self.period {
                Period::Hour => Reason::Hourly,
                Period::Day => Reason::Daily,
                Period::Week => Reason::Weekly,
                Period::Month => Reason::Monthly,
                Period::Year => Reason::Yearly,
            }
        } else if oldest {
            Reason::Oldest(self.period)
        } else {
            return None;
        };
        self.previous = Some(bucket);
        if self.left != u32::MAX {
            self.left -= 1;
        }
        Some(reason)
    }
}

/// The bucket of `t` at `offset`, as a number that grows with time: year,
/// then day of the year and hour; ISO year and week; year and month. An
/// instant the offset carries past chrono's range is bucketed in UTC.
fn bucket(period: Period, t: DateTime<Utc>, offset: FixedOffset) -> i64 {
    let utc = t.naive_utc();
    let local: NaiveDateTime = utc
        .checked_add_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))
        .unwrap_or(utc);
    let year = i64::from(local.year());
    match period {
        Period::Hour => (year * 1000 + i64::from(local.ordinal())) * 100 + i64::from(local.hour()),
        Period::Day => year * 1000 + i64::from(local.ordinal()),
        Period::Week => {
            let week = local.iso_week();
            i64::from(week.year()) * 100 + i64::from(week.week())
        }
        Period::Month => year * 100 + i64::from(local.month()),
        Period::Year => year,
    }
}

fn has_tag(tags: &[String], tag: &str) -> bool {
    if tag.is_empty() {
        tags.is_empty()
    } else {
        tags.iter().any(|t| t == tag)
    }
}

/// The reasons of each entry of one group (in its order, newest first);
/// an empty list is a deletion.
fn decide_group<T: Retainable>(
    policy: &Policy,
    cutoffs: &Cutoffs,
    group: &[Entry<T>],
    out: &mut Vec<Vec<Reason>>,
) {
    let empty = policy.is_empty();
    let newest = group.iter().position(|e| e.in_scope);
    let oldest = group.iter().rposition(|e| e.in_scope);
    let mut rules = [
        (Period::Hour, policy.hourly),
        (Period::Day, policy.daily),
        (Period::Week, policy.weekly),
        (Period::Month, policy.monthly),
        (Period::Year, policy.yearly),
    ]
    .map(|(period, left)| BucketRule {
        period,
        left,
        previous: None,
    });
    // In-scope snapshots seen so far, for keep-last.
    let mut rank: u64 = 0;
    for (i, entry) in group.iter().enumerate() {
        if !entry.in_scope {
            out.push(vec![Reason::OutOfScope]);
            continue;
        }
        if empty {
            out.push(vec![Reason::EmptyPolicy]);
            continue;
        }
        let t = entry.item.created_at();
        let mut reasons = Vec::new();
        if policy.last == u32::MAX || rank < u64::from(policy.last) {
            reasons.push(Reason::Last);
        }
        rank += 1;
        if let Some(within) = cutoffs.within
            && after(t, within)
        {
            reasons.push(Reason::Within);
        }
        let is_oldest = Some(i) == oldest;
        reasons.extend(
            rules
                .iter_mut()
                .filter_map(|rule| rule.offer(t, policy.offset, is_oldest)),
        );
        let tags = entry.item.tags().unwrap_or_default();
        reasons.extend(
            policy
                .tags
                .iter()
                .filter(|tag| has_tag(tags, tag))
                .map(|tag| Reason::Tag(tag.clone())),
        );
        if reasons.is_empty() {
            if Some(i) == newest {
                reasons.push(Reason::NewestOfGroup);
            }
            if after(t, cutoffs.young) {
                reasons.push(Reason::YoungerThanMinAge);
            }
        }
        // As long as it is, not the four a first push reserves: a million
        // kept snapshots hold their reasons to the end.
        reasons.shrink_to_fit();
        out.push(reasons);
    }
}

/// Adds a deleted snapshot's size: only a finite, positive one, and never
/// past `f64::MAX`.
fn add_gigabytes(sum: f64, size: f64) -> f64 {
    if size.is_finite() && size > 0.0 {
        (sum + size).min(f64::MAX)
    } else {
        sum
    }
}
