//! Opaque keyset-pagination cursors: the sort, the last row's sort value and
//! its id, as base64url JSON. A page never skips or repeats a row when tasks
//! are added or removed between requests (unlike OFFSET).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use taskflow_core::{Invalid, SortKey, TaskFilter};

/// The due value that sorts undated tasks after every dated one:
/// 9999-12-31T23:59:59Z.
pub fn undated() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A row's value under the list's sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Time(DateTime<Utc>),
    Int(i64),
    Text(String),
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub value: SortValue,
    pub id: i64,
}

fn sort_name(filter: &TaskFilter) -> String {
    let name = match filter.sort {
        SortKey::Due => "due",
        SortKey::Created => "created",
        SortKey::Priority => "priority",
        SortKey::Title => "title",
        SortKey::Position => "position",
    };
    if filter.reverse {
        format!("-{name}")
    } else {
        name.to_owned()
    }
}

impl Cursor {
    /// The cursor text for `filter`'s sort.
    pub fn encode(&self, filter: &TaskFilter) -> String {
        let value = match &self.value {
            SortValue::Time(t) => json!(t.to_rfc3339()),
            SortValue::Int(n) => json!(n),
            SortValue::Text(s) => json!(s),
        };
        URL_SAFE_NO_PAD.encode(json!([sort_name(filter), value, self.id]).to_string())
    }

    /// Reads the filter's cursor, if it has one.
    pub fn decode(filter: &TaskFilter) -> Result<Option<Cursor>, Invalid> {
        let Some(text) = &filter.cursor else {
            return Ok(None);
        };
        let bad = || {
            Invalid::new(
                "cursor",
                "the cursor is not one this list returned; start again without it",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let (sort, value, id): (String, Value, i64) =
            serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if sort != sort_name(filter) {
            return Err(Invalid::new(
                "cursor",
                "the cursor belongs to a list with another sort; start again without it",
            ));
        }
        let value = match filter.sort {
            SortKey::Due | SortKey::Created => SortValue::Time(
                value
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .ok_or_else(bad)?
                    .with_timezone(&Utc),
            ),
            SortKey::Priority => SortValue::Int(value.as_i64().ok_or_else(bad)?),
            SortKey::Title | SortKey::Position => {
                SortValue::Text(value.as_str().ok_or_else(bad)?.to_owned())
            }
        };
        Ok(Some(Cursor { value, id }))
    }
}
