//! De-duplication keys: one `u128` per item id, so the set of ids a walk
//! has seen stays small.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::endpoints::ItemId;

/// A key that is equal for two items exactly when their ids are.
pub(super) fn item_key(id: ItemId<'_>) -> u128 {
    match id {
        ItemId::Integer(n) => u128::from(n),
        ItemId::Text(text) => string_key(text),
    }
}

/// Exact keys for the two id forms the API uses, a hash for anything else:
/// numeric ids map to themselves (below 2^64); UUIDs to their 128 bits (at
/// or above 2^76, as the version nibble of a UUID is never 0); any other id
/// to a 127-bit hash with the top bit set.
fn string_key(id: &str) -> u128 {
    if let Ok(n) = id.parse::<u64>() {
        return u128::from(n);
    }
    if let Some(uuid) = uuid_bits(id).filter(|bits| *bits >= 1 << 76) {
        return uuid;
    }
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        id.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(1)) << 64 | u128::from(half(2))) | 1 << 127
}

/// The 128 bits of a hyphenated UUID (`8-4-4-4-12` hex digits).
fn uuid_bits(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
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
        let digit = (b as char).to_digit(16)?;
        bits = bits << 4 | u128::from(digit);
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_keys_are_exact_for_numbers_and_uuids_and_never_meet() {
        assert_eq!(string_key("6372321"), 6_372_321);
        let uuid = "fbe805e8-866b-11e6-96bf-000f53315a41";
        assert_eq!(string_key(uuid), 0xfbe805e8_866b_11e6_96bf_000f53315a41);
        assert_eq!(string_key(&uuid.to_uppercase()), string_key(uuid));
        assert!(string_key("snap-1") >= 1 << 127);
        assert_ne!(string_key("snap-1"), string_key("snap-2"));
        // Not UUIDs: wrong length, misplaced hyphen, non-hex digit.
        for other in [
            "fbe805e8-866b-11e6-96bf-000f53315a4",
            "fbe805e8866b-11e6-96bf-000f53315a41-",
            "gbe805e8-866b-11e6-96bf-000f53315a41",
        ] {
            assert!(string_key(other) >= 1 << 127, "{other}");
        }
        assert!(
            string_key("00000000-0000-0000-0000-000000000001") >= 1 << 127,
            "a nil-like UUID is hashed"
        );
    }
}
