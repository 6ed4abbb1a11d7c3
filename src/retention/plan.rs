//! The plan: a decision for every snapshot, and the counts.

use std::fmt;

/// A plan: what a [`Policy`](super::Policy) keeps and deletes of a listing.
///
/// Every item of the listing has exactly one [`Decision`]. `kept +
/// deleted` is the number of items; `out_of_scope` counts the kept items
/// that were out of scope (they are in `kept`). The totals are the sums of
/// [`groups`](Self::groups).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Plan<T> {
    /// One decision per item: by group (ascending), newest first, snapshots
    /// of the same instant by id (see the [module docs](crate::retention)).
    pub decisions: Vec<Decision<T>>,
    /// One entry per group, in the order of `decisions`.
    pub groups: Vec<GroupPlan>,
    /// Items kept, out-of-scope ones included.
    pub kept: usize,
    /// Items the plan would delete.
    pub deleted: usize,
    /// Items kept because the scope left them out.
    pub out_of_scope: usize,
    /// The gigabytes the deletions would free: the sum of the groups'
    /// (finite; see the [module docs](crate::retention)).
    pub gigabytes_freed: f64,
}

impl<T> Plan<T> {
    /// The items the plan would delete, in the order of `decisions`.
    pub fn to_delete(&self) -> impl Iterator<Item = &T> {
        self.decisions
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| &d.item)
    }

    /// The items the plan keeps (out-of-scope ones included), in the order
    /// of `decisions`.
    pub fn to_keep(&self) -> impl Iterator<Item = &T> {
        self.decisions
            .iter()
            .filter(|d| d.action == Action::Keep)
            .map(|d| &d.item)
    }
}

/// What the plan does with one item, and why.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Decision<T> {
    /// The snapshot.
    pub item: T,
    /// Keep or delete.
    pub action: Action,
    /// Why it is kept: every rule that kept it, or when none did, the
    /// safety rules that did. Empty for [`Action::Delete`].
    pub reasons: Vec<Reason>,
    /// The name of its group (see
    /// [`Retainable::group`](super::Retainable::group)), shared by the
    /// group's decisions.
    pub group: std::sync::Arc<str>,
}

/// `keep (keep-last, daily)`, `keep (out of scope)`, `delete (no rule kept it)`.
impl<T> fmt::Display for Decision<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (", self.action)?;
        if self.reasons.is_empty() {
            f.write_str("no rule kept it")?;
        }
        for (i, reason) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            fmt::Display::fmt(reason, f)?;
        }
        f.write_str(")")
    }
}

/// Keep or delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// The plan keeps the snapshot.
    Keep,
    /// The plan would delete the snapshot.
    Delete,
}

/// `keep`, `delete`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Keep => "keep",
            Self::Delete => "delete",
        })
    }
}

/// A calendar bucket of the bucket rules (for [`Reason::Oldest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Period {
    /// An hour, `:00` to `:59`.
    Hour,
    /// A day, `00:00` to `23:59`.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar year.
    Year,
}

/// `hourly`, `daily`, `weekly`, `monthly`, `yearly`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Hour => "hourly",
            Self::Day => "daily",
            Self::Week => "weekly",
            Self::Month => "monthly",
            Self::Year => "yearly",
        })
    }
}

/// Why a snapshot is kept. `Display` gives the short form the report
/// shows (`keep-last`, `daily`, `tag env:prod`, `newest of its group`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// One of the `n` newest of its group (`keep-last`).
    Last,
    /// Created within `keep_within` of now (`keep-within`).
    Within,
    /// The newest of one of the last `n` hours with a snapshot (`hourly`).
    Hourly,
    /// The newest of one of the last `n` days with a snapshot (`daily`).
    Daily,
    /// The newest of one of the last `n` ISO weeks with a snapshot
    /// (`weekly`).
    Weekly,
    /// The newest of one of the last `n` months with a snapshot
    /// (`monthly`).
    Monthly,
    /// The newest of one of the last `n` years with a snapshot (`yearly`).
    Yearly,
    /// The oldest of its group, kept because the rule of this period had
    /// buckets left (restic 0.17's rule; `oldest daily`).
    Oldest(Period),
    /// It carries this tag of `keep_tag` (`tag env:prod`; the empty tag:
    /// `untagged`).
    Tag(String),
    /// Safety: the newest of its group, which no rule kept
    /// (`newest of its group`).
    NewestOfGroup,
    /// Safety: younger than `min_age`, or dated in the future, and no rule
    /// kept it (`younger than min-age`).
    YoungerThanMinAge,
    /// Out of the policy's scope (`out of scope`).
    OutOfScope,
    /// The policy has no rule, so it keeps everything (`empty policy`).
    EmptyPolicy,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Last => f.write_str("keep-last"),
            Self::Within => f.write_str("keep-within"),
            Self::Hourly => f.write_str("hourly"),
            Self::Daily => f.write_str("daily"),
            Self::Weekly => f.write_str("weekly"),
            Self::Monthly => f.write_str("monthly"),
            Self::Yearly => f.write_str("yearly"),
            Self::Oldest(period) => write!(f, "oldest {period}"),
            Self::Tag(tag) if tag.is_empty() => f.write_str("untagged"),
            Self::Tag(tag) => write!(f, "tag {tag}"),
            Self::NewestOfGroup => f.write_str("newest of its group"),
            Self::YoungerThanMinAge => f.write_str("younger than min-age"),
            Self::OutOfScope => f.write_str("out of scope"),
            Self::EmptyPolicy => f.write_str("empty policy"),
        }
    }
}

/// One group's counts.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GroupPlan {
    /// The group's name.
    pub group: String,
    /// Its items kept, out-of-scope ones included.
    pub kept: usize,
    /// Its items the plan would delete.
    pub deleted: usize,
    /// Its items kept because the scope left them out.
    pub out_of_scope: usize,
    /// The gigabytes its deletions would free (finite).
    pub gigabytes_freed: f64,
}
