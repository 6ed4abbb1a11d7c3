//! De-duplication keys: exact, and small.
//!
//! Two items get the same key exactly when their ids are equal: an integer
//! id is its value; a string id is the exact string. To keep the set of
//! ids a walk has seen small, a string that is the canonical form of a
//! number (`"6372321"`: digits, no sign, no leading zero) is kept as that
//! number, and a canonical lowercase hyphenated UUID as its 128 bits; any
//! other string (`"0123"`, `"+123"`, an uppercase UUID) is kept whole.
//! Each form maps back to exactly one string, so no two different ids meet.

mod table;

use std::collections::HashMap;

use crate::endpoints::ItemId;
use table::Table;

/// An item's identity, as kept in the set of ids a walk has seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum ItemKey {
    /// An integer id, or a string holding the canonical decimal form of a
    /// non-negative one.
    Number(i64),
    /// A canonical lowercase hyphenated UUID: its bits, as two halves (so
    /// the key is 8-byte aligned and small).
    Uuid(u64, u64),
    /// Any other string id, exactly.
    Text(Box<str>),
}

impl ItemKey {
    pub(super) fn of(id: ItemId<'_>) -> Self {
        match id {
            ItemId::Integer(n) => Self::Number(n),
            ItemId::Text(text) => Self::of_text(text),
        }
    }

    fn of_text(text: &str) -> Self {
        if let Some(n) = canonical_number(text) {
            return Self::Number(n);
        }
        if let Some(bits) = canonical_uuid(text) {
            // Truncation is the point: the two halves of the 128 bits.
            #[allow(clippy::cast_possible_truncation)]
            return Self::Uuid((bits >> 64) as u64, bits as u64);
        }
        Self::Text(text.into())
    }
}

/// The item keys a walk has seen, each with a one-byte mark (the stage
/// of the walk it was last seen in: `walk/proof.rs`); one table per form
/// so each holds only what it needs: 4 bytes a number up to `u32::MAX`,
/// 8 a larger one, 16 a UUID, and the mark (each a quarter more for the
/// table's free slots: `keys/table.rs`), other ids whole. Sized once from the listing's first total
/// ([`reserve`](Self::reserve)), it does not grow by doubling (and hold
/// two tables at once) as a walk goes.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Numbers from 0 to `u32::MAX` (every id DigitalOcean hands out
    /// today): 5 bytes each, free slots included.
    numbers: Table<u32>,
    /// Any other number.
    wide: Table<i64>,
    uuids: Table<u128>,
    texts: HashMap<Box<str>, u8>,
}

/// The most keys reserved ahead: 4 million (about 20 MB of numbers). A
/// total beyond it (a lying server) reserves no more; the tables still
/// grow if a listing really is that long.
const MAX_RESERVED: u64 = 4_000_000;

impl Seen {
    /// The mark of `key`, if the walk has seen it.
    #[cfg(test)]
    pub(super) fn get(&self, key: &ItemKey) -> Option<u8> {
        match key {
            ItemKey::Number(n) => match u32::try_from(*n) {
                Ok(small) => self.numbers.get(small),
                Err(_) => self.wide.get(*n),
            },
            ItemKey::Uuid(high, low) => self.uuids.get(join(*high, *low)),
            ItemKey::Text(text) => self.texts.get(text).copied(),
        }
    }

    /// Records a sighting of `key`: its mark becomes `mark(previous)`;
    /// returns `previous` (`None`: the walk had not seen it).
    pub(super) fn sight(
        &mut self,
        key: ItemKey,
        mark: impl FnOnce(Option<u8>) -> u8,
    ) -> Option<u8> {
        match key {
            ItemKey::Number(n) => match u32::try_from(n) {
                Ok(small) => self.numbers.sight(small, mark),
                Err(_) => self.wide.sight(n, mark),
            },
            ItemKey::Uuid(high, low) => self.uuids.sight(join(high, low), mark),
            ItemKey::Text(text) => {
                let slot = self.texts.entry(text);
                match slot {
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        let previous = *e.get();
                        e.insert(mark(Some(previous)));
                        Some(previous)
                    }
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(mark(None));
                        None
                    }
                }
            }
        }
    }

    /// Keys last seen before stage `stage` (their mark is below it).
    pub(super) fn count_below(&self, stage: u8) -> u64 {
        let texts = self.texts.values().filter(|m| **m < stage).count() as u64;
        self.numbers.count_below(stage)
            + self.wide.count_below(stage)
            + self.uuids.count_below(stage)
            + texts
    }

    /// Makes room for `total` keys in the proportions of `sample` (the
    /// first page's keys), so the tables never resize during the walk.
    pub(super) fn reserve<'a>(&mut self, total: u64, sample: impl Iterator<Item = &'a ItemKey>) {
        let (mut numbers, mut wide, mut uuids, mut texts) = (0u64, 0u64, 0u64, 0u64);
        for key in sample {
            match key {
                ItemKey::Number(n) if u32::try_from(*n).is_ok() => numbers += 1,
                ItemKey::Number(_) => wide += 1,
                ItemKey::Uuid(..) => uuids += 1,
                ItemKey::Text(_) => texts += 1,
            }
        }
        let sampled = numbers + wide + uuids + texts;
        if sampled == 0 {
            return;
        }
        let total = total.min(MAX_RESERVED);
        // Each form's share of the total, and a little more for the
        // sample's error.
        let share = |n: u64| {
            let want = total.saturating_mul(n).div_ceil(sampled);
            let want = if n == 0 { 0 } else { want + want / 16 + 16 };
            usize::try_from(want.min(total)).unwrap_or(usize::MAX)
        };
        self.numbers.reserve(share(numbers));
        self.wide.reserve(share(wide));
        self.uuids.reserve(share(uuids));
        self.texts.reserve(share(texts));
    }
}

fn join(high: u64, low: u64) -> u128 {
    u128::from(high) << 64 | u128::from(low)
}

/// The number a string is the canonical decimal form of: ASCII digits, no
/// sign, no leading zero (but `"0"` itself), within `i64`.
fn canonical_number(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let canonical = !bytes.is_empty()
        && bytes.iter().all(u8::is_ascii_digit)
        && (bytes[0] != b'0' || bytes.len() == 1);
    if canonical { text.parse().ok() } else { None }
}

/// The bits of a UUID written as 8-4-4-4-12 lowercase hex digits.
fn canonical_uuid(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut bits = 0u128;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        bits = bits << 4 | u128::from(digit);
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    fn key(text: &str) -> ItemKey {
        ItemKey::of(ItemId::Text(text))
    }

    #[test]
    fn canonical_forms_are_compacted_and_look_alikes_stay_apart() {
        assert_eq!(key("6372321"), ItemKey::Number(6_372_321));
        assert_eq!(key("0"), ItemKey::Number(0));
        assert_eq!(ItemKey::of(ItemId::Integer(42)), ItemKey::Number(42));
        let uuid = "fbe805e8-866b-11e6-96bf-000f53315a41";
        assert!(matches!(key(uuid), ItemKey::Uuid(..)));
        let look_alikes = [
            "123",
            "0123",
            "00123",
            "+123",
            "123 ",
            "１２３",
            "18446744073709551616",
            "9223372036854775808",
            uuid,
            "FBE805E8-866B-11E6-96BF-000F53315A41",
            "fbe805e8866b11e696bf000f53315a41",
        ];
        let keys: HashSet<ItemKey> = look_alikes.iter().map(|t| key(t)).collect();
        assert_eq!(keys.len(), look_alikes.len(), "{keys:?}");
    }

    #[test]
    fn numbers_on_either_side_of_u32_stay_apart_and_are_found() {
        let mut seen = Seen::default();
        let numbers: [i64; 7] = [
            0,
            1,
            i64::from(u32::MAX),
            i64::from(u32::MAX) + 1,
            -1,
            i64::MIN,
            i64::MAX,
        ];
        for (i, n) in numbers.into_iter().enumerate() {
            assert_eq!(
                seen.sight(ItemKey::Number(n), |_| i as u8),
                None,
                "{n} is new"
            );
        }
        for (i, n) in numbers.into_iter().enumerate() {
            assert_eq!(seen.get(&ItemKey::Number(n)), Some(i as u8), "{n} is found");
            assert_eq!(
                seen.sight(ItemKey::Number(n), |m| m.unwrap_or(0) + 1),
                Some(i as u8),
                "{n} is not new twice"
            );
        }
        assert_eq!(seen.get(&ItemKey::Number(2)), None);
    }

    #[test]
    fn a_key_is_small() {
        assert!(std::mem::size_of::<ItemKey>() <= 24);
    }

    proptest! {
        /// Keys are equal exactly when the strings are.
        #[test]
        fn keys_are_exact(a in "[0-9a-fA-F+-]{0,40}", b in "[0-9a-fA-F+-]{0,40}") {
            prop_assert_eq!(key(&a) == key(&b), a == b);
        }

        #[test]
        fn numeric_strings_are_exact(a in 0u64..1000, zeros in 0usize..3, plus: bool) {
            let text = format!("{}{}{a}", if plus { "+" } else { "" }, "0".repeat(zeros));
            prop_assert_eq!(key(&text) == key(&a.to_string()), text == a.to_string());
        }
    }
}
