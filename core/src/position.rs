//! Manual order: a fractional key per task (and per list) that sorts as
//! text, so moving one item writes one row and never renumbers the rest. A
//! new item's key comes from its id (so it goes to the bottom); a move takes
//! a key between its new neighbours' keys. Keys use the digits `0-9A-Za-z`,
//! which sort by byte in both databases (PostgreSQL's column is `COLLATE
//! "C"`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The digits of a key, in byte order.
const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The key of a newly created item: `a`, its id in 19 decimal digits (so
/// later items sort after earlier ones; the migrations compute the same key
/// in SQL), then a middle digit, so no key ends in `0` (which would leave
/// no room before it).
pub fn of_id(id: i64) -> String {
    format!("a{id:019}V")
}

/// A key strictly between `low` and `high` (None: no bound on that side).
/// Both keys must be keys this module made; when they are equal or out of
/// order (two moves raced into one gap), the key sorts just after `low`.
pub fn between(low: Option<&str>, high: Option<&str>) -> String {
    let low = low.unwrap_or("");
    match high {
        Some(high) if high > low => midpoint(low.as_bytes(), Some(high.as_bytes())),
        _ => midpoint(low.as_bytes(), None),
    }
}

/// The shortest key after `low` and before `high`, digit by digit (as in
/// David Greenspan's "Implementing Fractional Indexing"). `low` may be empty
/// (the least key); `high` None is the end. Needs `low < high` and neither
/// ending in `0`.
fn midpoint(low: &[u8], high: Option<&[u8]>) -> String {
    let digit = |c: Option<&u8>| {
        c.and_then(|c| DIGITS.iter().position(|d| d == c))
            .unwrap_or(0)
    };
    if let Some(high) = high {
        let common = (0..high.len())
            .take_while(|&i| low.get(i).copied().unwrap_or(b'0') == high[i])
            .count();
        if common > 0 {
            let mut key: String = high[..common].iter().map(|&c| char::from(c)).collect();
            key.push_str(&midpoint(
                low.get(common..).unwrap_or_default(),
                Some(&high[common..]),
            ));
            return key;
        }
    }
    let a = digit(low.first());
    let b = high.map_or(DIGITS.len(), |h| digit(h.first()));
    if b - a > 1 {
        return char::from(DIGITS[(a + b).div_ceil(2)]).to_string();
    }
    match high {
        Some(high) if high.len() > 1 => char::from(high[0]).to_string(),
        _ => {
            let mut key = char::from(DIGITS[a]).to_string();
            key.push_str(&midpoint(low.get(1..).unwrap_or_default(), None));
            key
        }
    }
}

/// Where to put an item among its siblings, as a move request gives it:
/// before or after one of them, or at the top or bottom; at most one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Place {
    pub before_id: Option<i64>,
    pub after_id: Option<i64>,
    pub to: Option<Edge>,
}

/// One end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Edge {
    Top,
    Bottom,
}

/// A checked [`Place`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spot {
    Before(i64),
    After(i64),
    Top,
    Bottom,
}

impl Place {
    /// The one place given, or `default` when none is.
    pub fn spot(&self, default: Spot) -> Result<Spot, Invalid> {
        match (self.before_id, self.after_id, self.to) {
            (None, None, None) => Ok(default),
            (Some(id), None, None) => Ok(Spot::Before(id)),
            (None, Some(id), None) => Ok(Spot::After(id)),
            (None, None, Some(Edge::Top)) => Ok(Spot::Top),
            (None, None, Some(Edge::Bottom)) => Ok(Spot::Bottom),
            _ => Err(Invalid::new(
                "before_id",
                "give one of `before_id`, `after_id` or `to`, not several",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn id_keys_sort_as_their_ids() {
        let ids = [1_i64, 2, 9, 10, 61, 62, 63, 3843, 3844, 1 << 40, i64::MAX];
        for pair in ids.windows(2) {
            assert!(of_id(pair[0]) < of_id(pair[1]), "{pair:?}");
        }
        assert_eq!(of_id(1), "a0000000000000000001V");
    }

    #[test]
    fn the_ends_and_a_crowded_gap() {
        let a = of_id(1);
        let b = of_id(2);
        let mid = between(Some(&a), Some(&b));
        assert!(a < mid && mid < b, "{a} {mid} {b}");
        let top = between(None, Some(&a));
        assert!(top < a && !top.is_empty());
        let bottom = between(Some(&b), None);
        assert!(bottom > b);
        // Equal neighbours (a race): just after the low one.
        assert!(between(Some(&a), Some(&a)) > a);
    }

    proptest! {
        /// Any sequence of inserts keeps every key strictly between its
        /// neighbours, so the order is exactly the order of the inserts.
        #[test]
        fn inserts_land_where_asked(places in prop::collection::vec(0usize..1000, 1..200)) {
            let mut keys: Vec<String> = (1..=3).map(of_id).collect();
            for place in places {
                let at = place % (keys.len() + 1);
                let low = at.checked_sub(1).map(|i| keys[i].as_str());
                let high = keys.get(at).map(String::as_str);
                let key = between(low, high);
                prop_assert!(low.is_none_or(|l| l < key.as_str()), "{low:?} < {key}");
                prop_assert!(high.is_none_or(|h| key.as_str() < h), "{key} < {high:?}");
                prop_assert!(!key.ends_with('0'));
                keys.insert(at, key);
            }
        }
    }
}
