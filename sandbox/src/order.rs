//! The order the listings are served in, and the key each snapshot
//! carries for it.

use crate::data::{Item, ResourceType};

/// The order the sandbox serves its listings in.
///
/// DigitalOcean documents no order for either listing; what public
/// evidence shows is [`Order::Realistic`], the default. The others are
/// there because a client must accept any order the server keeps stable
/// between queries.
///
/// Every order is a total order on a key each snapshot gets when it comes
/// to exist, so:
///
/// - a listing that does not change is served the same way on every query
///   (only [`Faults::unstable_batches`](crate::Faults::unstable_batches)
///   reorders, on purpose, snapshots that share a `created_at`);
/// - a snapshot made later (by rotation, drift or a late appearance)
///   lands where its key puts it, which is not necessarily last. Drift is
///   the exception: it places its new snapshots where
///   [`Faults::drift_insert_at`](crate::Faults::drift_insert_at) says,
///   whatever the order, to break it on purpose.
///
/// Snapshots with equal keys cannot happen: the last part of every key is
/// when the sandbox made the snapshot (for generated data, its rank oldest
/// first, batches in the order they were generated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Order {
    /// What public evidence shows (the default).
    ///
    /// - A droplet's listing, `GET /v2/droplets/{id}/snapshots`: oldest
    ///   first, as tools and users have relied on for years.
    /// - The account's listing, `GET /v2/snapshots`: the droplet snapshots
    ///   oldest first, **then** the volume snapshots in the order of their
    ///   ids as strings (their ids are shaped like version-1 UUIDs whose
    ///   first group is the low 32 bits of a 100 ns clock, so that order
    ///   has nothing to do with `created_at`, and a new volume snapshot
    ///   lands anywhere among them). Snapshots of a `resource_type` the API
    ///   may add later are listed with the droplet snapshots.
    ///
    /// Why the two kinds are combined this way: each kind's order is what
    /// the evidence shows for it (a 2025 bug report printed volume
    /// snapshots in id-string order; a droplet's snapshots are oldest
    /// first), and the two kinds come from different services (images
    /// with integer ids, block storage with UUIDs), so a listing that
    /// concatenates them is the simplest one true to both. Droplet
    /// snapshots come first because DigitalOcean's own example answer for
    /// `GET /v2/snapshots` lists a droplet snapshot from 2020 before a
    /// volume snapshot from 2019, which grouping does explain and oldest
    /// first does not. It is also the harder case for a client: the
    /// listing's `created_at` jumps back where the groups meet, a new
    /// droplet snapshot lands in the middle of the listing (at the end of
    /// its group) and shifts every page after it, and a new volume
    /// snapshot lands anywhere. For the other combinations, choose
    /// [`CreatedAt`](Self::CreatedAt) (one group, oldest first),
    /// [`IdString`](Self::IdString) (one group, by id) or
    /// [`Random`](Self::Random).
    #[default]
    Realistic,
    /// Oldest first everywhere; snapshots that share a `created_at` (see
    /// [`SandboxBuilder::batches`](crate::SandboxBuilder::batches)) in the
    /// order the sandbox made them. The sandbox's only order before
    /// [`Order`] existed: a new snapshot, stamped with the server's clock,
    /// is listed last.
    CreatedAt,
    /// Every listing by id as a string, byte by byte: `"10"` before
    /// `"9"`, and the account's numeric droplet ids among the volume
    /// snapshots' UUIDs that start with the same digit. A droplet's
    /// listing compares its integer ids as decimal strings.
    IdString,
    /// A fixed random permutation drawn from the seed: each snapshot gets
    /// a random key when it comes to exist, so the listing is the same on
    /// every query of unchanged data and a new snapshot lands at a random
    /// place that then stays fixed.
    Random,
}

/// Where a snapshot sits in a listing: compared field by field, the
/// fields an order does not use left at zero. Unique, since `seq` is.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    /// The group (under `Realistic`: droplet snapshots 0, volume
    /// snapshots 1).
    group: u8,
    /// `created_at`, in Unix seconds.
    created: i64,
    /// The id as the listing shows it.
    id: Box<str>,
    /// A draw of the order's own random generator.
    random: u64,
    /// When the sandbox made the snapshot (for generated data, its rank
    /// oldest first).
    seq: u64,
}

impl Order {
    /// The key of `item` in the account's listing.
    pub(crate) fn account_key(self, item: &Item, seq: u64, random: u64) -> Key {
        match self {
            Self::Realistic if item.resource_type == ResourceType::Volume => Key {
                group: 1,
                id: item.id.as_str().into(),
                seq,
                ..Key::default()
            },
            _ => self.droplet_key(item, seq, random),
        }
    }

    /// The key of `item` in a droplet's listing.
    pub(crate) fn droplet_key(self, item: &Item, seq: u64, random: u64) -> Key {
        match self {
            Self::Realistic | Self::CreatedAt => Key {
                created: item.created,
                seq,
                ..Key::default()
            },
            Self::IdString => Key {
                id: item.id.as_str().into(),
                seq,
                ..Key::default()
            },
            Self::Random => Key {
                random,
                seq,
                ..Key::default()
            },
        }
    }
}

/// Inserts `item` where its key puts it in `listed` (sorted by key, unless
/// drift broke it on purpose: then somewhere).
pub(crate) fn insert(listed: &mut Vec<Item>, item: Item) {
    let at = listed.partition_point(|i| i.key <= item.key);
    listed.insert(at, item);
}
