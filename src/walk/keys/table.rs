//! A map of fixed-size keys to a one-byte mark that costs their size,
//! the mark, and a quarter more.
//!
//! `std`'s `HashSet` keeps a control byte per slot and rounds its slots up
//! to a power of two at a load of at most 7/8: a set sized for a million
//! 4-byte ids holds 2,097,152 slots of 5 bytes (10.5 MB). This table keeps
//! the keys alone, in as many slots as a load of 4/5 needs (a million:
//! 1,250,000 slots of 4 bytes, 5 MB), with linear probing. The zero key
//! marks an empty slot and is kept apart in a flag. Keys are hashed with
//! `std`'s randomly keyed SipHash, so a server cannot choose ids that all
//! land in one run of slots. Keys are only ever added: a walk never
//! forgets an id. Each key carries a byte (the stage of the walk it was
//! last seen in: `walk/proof.rs`), kept in a parallel array.

use std::hash::{BuildHasher, Hash, RandomState};

/// A key the table can hold: its zero value marks an empty slot.
pub(super) trait Slot: Copy + Eq + Hash + Default {}

impl Slot for u32 {}
impl Slot for i64 {}
impl Slot for u128 {}

/// Slots per key at most: a load of 4/5.
const LOAD_NUMERATOR: usize = 4;
const LOAD_DENOMINATOR: usize = 5;
/// The first table, when keys arrive before any reservation.
const MIN_SLOTS: usize = 16;

/// A map of `K` to a mark (see the module's documentation).
#[derive(Debug, Default)]
pub(super) struct Table<K> {
    slots: Vec<K>,
    /// The mark of the key in the slot of the same index.
    marks: Vec<u8>,
    /// Keys in `slots` (the zero key not counted).
    len: usize,
    /// The zero key's mark, when it is in the map.
    zero: Option<u8>,
    hasher: RandomState,
}

impl<K: Slot> Table<K> {
    /// The mark of `key`, if it is in the map.
    #[cfg(test)]
    pub(super) fn get(&self, key: K) -> Option<u8> {
        if key == K::default() {
            return self.zero;
        }
        self.find(key).ok().and_then(|i| self.marks.get(i).copied())
    }

    /// Puts `key` in the map with the mark `mark(previous)`, where
    /// `previous` is its mark before (`None`: it is new); returns
    /// `previous`.
    pub(super) fn sight(&mut self, key: K, mark: impl FnOnce(Option<u8>) -> u8) -> Option<u8> {
        if key == K::default() {
            let previous = self.zero;
            self.zero = Some(mark(previous));
            return previous;
        }
        if self.len.saturating_add(1) > self.capacity() {
            self.resize(self.slots.len().saturating_mul(2).max(MIN_SLOTS));
        }
        match self.find(key) {
            Ok(i) => {
                let slot = self.marks.get_mut(i);
                let previous = slot.as_deref().copied();
                if let Some(slot) = slot {
                    *slot = mark(previous);
                }
                // Found keys always have a mark; never report one as new.
                Some(previous.unwrap_or_default())
            }
            Err(free) => {
                if let (Some(slot), Some(m)) = (self.slots.get_mut(free), self.marks.get_mut(free))
                {
                    *slot = key;
                    *m = mark(None);
                    self.len += 1;
                }
                None
            }
        }
    }

    /// Keys whose mark is below `mark`.
    pub(super) fn count_below(&self, mark: u8) -> u64 {
        let zero = u64::from(self.zero.is_some_and(|m| m < mark));
        let held = self
            .slots
            .iter()
            .zip(&self.marks)
            .filter(|(slot, m)| **slot != K::default() && **m < mark)
            .count();
        zero + held as u64
    }

    /// Makes room for `additional` more keys without resizing.
    pub(super) fn reserve(&mut self, additional: usize) {
        let wanted = self.len.saturating_add(additional);
        if wanted > self.capacity() {
            let slots = wanted
                .saturating_mul(LOAD_DENOMINATOR)
                .div_ceil(LOAD_NUMERATOR)
                .saturating_add(1);
            self.resize(slots.max(MIN_SLOTS));
        }
    }

    /// The keys the slots hold before the table must grow: always fewer
    /// than the slots, so a probe always meets an empty one.
    fn capacity(&self) -> usize {
        self.slots.len().saturating_mul(LOAD_NUMERATOR) / LOAD_DENOMINATOR
    }

    /// `Ok(slot)` holding `key`, or `Err(slot)`: the empty slot where it
    /// would go. An empty table answers `Err(0)` before any slot exists
    /// (only `insert` uses it, after making room).
    fn find(&self, key: K) -> Result<usize, usize> {
        let n = self.slots.len();
        if n == 0 {
            return Err(0);
        }
        let mut i = self.home(key, n);
        // Terminates: the load keeps at least one slot empty.
        loop {
            match self.slots.get(i) {
                Some(k) if *k == key => return Ok(i),
                Some(k) if *k == K::default() => return Err(i),
                Some(_) => i = if i + 1 == n { 0 } else { i + 1 },
                None => return Err(i),
            }
        }
    }

    /// The slot a probe for `key` starts at, in `0..n`: the hash scaled to
    /// the table (no power-of-two size needed).
    fn home(&self, key: K, n: usize) -> usize {
        let hash = u128::from(self.hasher.hash_one(key));
        let n = n as u128;
        // Below n, so within usize.
        usize::try_from((hash * n) >> 64).unwrap_or(0)
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![K::default(); slots]);
        let old_marks = std::mem::replace(&mut self.marks, vec![0; slots]);
        self.len = 0;
        for (key, mark) in old
            .into_iter()
            .zip(old_marks)
            .filter(|(k, _)| *k != K::default())
        {
            if let Err(free) = self.find(key)
                && let (Some(slot), Some(m)) = (self.slots.get_mut(free), self.marks.get_mut(free))
            {
                *slot = key;
                *m = mark;
                self.len += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    impl<K: Slot> Table<K> {
        fn insert(&mut self, key: K) -> bool {
            self.sight(key, |_| 0).is_none()
        }

        fn contains(&self, key: K) -> bool {
            self.get(key).is_some()
        }
    }

    #[test]
    fn a_reserved_million_costs_six_and_a_quarter_megabytes_and_never_resizes() {
        let mut table = Table::<u32>::default();
        table.reserve(1_000_000);
        let slots = table.slots.len();
        assert!(slots * 5 <= 6_250_020, "{slots} slots");
        for key in 1..=1_000_000u32 {
            assert!(table.insert(key.wrapping_mul(2_654_435_761)));
        }
        assert_eq!(table.slots.len(), slots, "no resize within the reservation");
        assert_eq!(table.len, 1_000_000);
    }

    #[test]
    fn keys_are_counted_by_their_mark() {
        let mut table = Table::<u32>::default();
        for (key, mark) in [(0, 1), (5, 3), (6, 1), (7, 2), (9, 3)] {
            table.sight(key, |_| mark);
        }
        assert_eq!(table.count_below(1), 0);
        assert_eq!(table.count_below(2), 2, "0 and 6");
        assert_eq!(table.count_below(3), 3);
        assert_eq!(table.count_below(u8::MAX), 5);
    }

    #[test]
    fn zero_and_the_largest_keys_are_keys_like_any_other() {
        let mut table = Table::<i64>::default();
        for key in [0, -1, i64::MIN, i64::MAX, 1] {
            assert!(!table.contains(key));
            assert!(table.insert(key), "{key} is new");
            assert!(!table.insert(key), "{key} is not new twice");
            assert!(table.contains(key));
        }
        let mut wide = Table::<u128>::default();
        assert!(wide.insert(u128::MAX) && wide.insert(0) && !wide.insert(u128::MAX));
    }

    proptest! {
        /// The table answers as `HashSet` does, through growth from empty
        /// and from any reservation.
        #[test]
        fn behaves_as_a_set(
            reserve in 0usize..64,
            keys in prop::collection::vec(prop_oneof![0u32..40, any::<u32>()], 0..400),
        ) {
            let mut table = Table::<u32>::default();
            table.reserve(reserve);
            let mut model = HashSet::new();
            for key in keys {
                prop_assert_eq!(table.contains(key), model.contains(&key));
                prop_assert_eq!(table.insert(key), model.insert(key));
                prop_assert!(table.len <= table.capacity());
            }
            prop_assert_eq!(table.len + usize::from(table.zero.is_some()), model.len());
        }

        /// Marks are kept per key, through growth: the map answers as
        /// `HashMap` does.
        #[test]
        fn keeps_each_keys_mark(
            keys in prop::collection::vec((0u32..60, any::<u8>()), 0..400),
        ) {
            let mut table = Table::<u32>::default();
            let mut model = std::collections::HashMap::new();
            for (key, mark) in keys {
                prop_assert_eq!(table.sight(key, |_| mark), model.insert(key, mark));
                prop_assert_eq!(table.get(key), Some(mark));
            }
            for (key, mark) in &model {
                prop_assert_eq!(table.get(*key), Some(*mark));
            }
        }
    }
}
