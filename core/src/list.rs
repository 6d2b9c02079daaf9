//! Lists (projects): a title, an optional parent list (nesting at most
//! [`MAX_LIST_DEPTH`] deep), a manual position among its siblings, and an
//! archive state. Every user has one Inbox, made on first use, which holds
//! tasks given no list; it cannot be archived, moved or deleted.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ops::present;
use crate::position::{Edge, Place};
use crate::task::MAX_DESCRIPTION;
use crate::{Description, Invalid, Title};

/// How deep lists nest: a top-level list is at depth 1.
pub const MAX_LIST_DEPTH: usize = 5;
/// The title of every user's Inbox.
pub const INBOX_TITLE: &str = "Inbox";

/// A list as every surface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct List {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    /// A `#rrggbb` colour, if one was chosen.
    pub color: Option<String>,
    /// The list this one is nested in; null at the top.
    pub parent_id: Option<i64>,
    /// True for the user's Inbox, where tasks without a list go.
    pub inbox: bool,
    /// When it was archived; null while it is active. An archived list is
    /// read-only.
    pub archived_at: Option<DateTime<Utc>>,
    /// Increases with every change; send it back to update safely.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A list with how many tasks it holds, as list listings show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListSummary {
    #[serde(flatten)]
    pub list: List,
    /// Open tasks in this list (not counting nested lists).
    pub open_count: i64,
    /// All tasks in this list, open or done.
    pub task_count: i64,
    /// What the caller may do in it: owner, admin, editor or viewer.
    pub role: crate::Role,
}

/// A colour: `#` and six hex digits, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    /// Checks a colour; blank means none.
    pub fn parse(text: &str) -> Result<Option<Color>, Invalid> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let hex = text.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Invalid::new(
                "color",
                format!("`{text}` is not a colour; use `#` and six hex digits, such as #3b82f6"),
            ));
        }
        Ok(Some(Color(text.to_lowercase())))
    }

    /// The colour text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything about a list a person sets, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFields {
    pub title: Title,
    pub description: Option<Description>,
    pub color: Option<Color>,
}

/// Create a list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateList {
    /// Its name, 1–200 characters.
    #[schemars(length(min = 1, max = crate::task::MAX_TITLE))]
    pub title: String,
    /// Notes, up to 4000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_DESCRIPTION))]
    pub description: Option<String>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Nest it in this list (at most 5 levels deep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
}

impl CreateList {
    /// Parses the fields.
    pub fn parse(&self) -> Result<ListFields, Invalid> {
        Ok(ListFields {
            title: Title::parse(&self.title)?,
            description: Description::parse(self.description.as_deref().unwrap_or_default())?,
            color: Color::parse(self.color.as_deref().unwrap_or_default())?,
        })
    }
}

/// Change some fields of a list; `null` clears a field that can be empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateList {
    /// A new name, 1–200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = crate::task::MAX_TITLE))]
    pub title: Option<String>,
    /// New notes; null clears them.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub description: Option<Option<String>>,
    /// A new `#rrggbb`; null clears it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub color: Option<Option<String>>,
}

impl UpdateList {
    /// The list's fields after this patch.
    pub fn apply(&self, current: &ListFields) -> Result<ListFields, Invalid> {
        Ok(ListFields {
            title: match &self.title {
                Some(title) => Title::parse(title)?,
                None => current.title.clone(),
            },
            description: match &self.description {
                Some(text) => Description::parse(text.as_deref().unwrap_or_default())?,
                None => current.description.clone(),
            },
            color: match &self.color {
                Some(text) => Color::parse(text.as_deref().unwrap_or_default())?,
                None => current.color.clone(),
            },
        })
    }
}

/// Move a list: into another list (or to the top level) and among its
/// siblings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveList {
    /// The new parent list; null moves it to the top level; absent keeps
    /// its parent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub parent_id: Option<Option<i64>>,
    /// Put it just before this sibling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_id: Option<i64>,
    /// Put it just after this sibling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_id: Option<i64>,
    /// `top` or `bottom` among its siblings (default bottom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Edge>,
}

impl MoveList {
    /// Where among its siblings.
    pub fn place(&self) -> Place {
        Place {
            before_id: self.before_id,
            after_id: self.after_id,
            to: self.to,
        }
    }
}

/// Which lists a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListsQuery {
    /// true: archived lists too (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// What happens to the tasks of a deleted list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteList {
    /// `delete`: delete its tasks too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade: Option<Cascade>,
    /// Move its tasks to this list instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to: Option<i64>,
}

/// `cascade=delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Cascade {
    Delete,
}

/// What becomes of a deleted list's tasks, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftovers {
    /// It must hold none.
    Refuse,
    /// They are deleted with it.
    Delete,
    /// They move to this list.
    MoveTo(i64),
}

impl DeleteList {
    /// The one choice given.
    pub fn leftovers(&self) -> Result<Leftovers, Invalid> {
        match (self.cascade, self.move_to) {
            (None, None) => Ok(Leftovers::Refuse),
            (Some(Cascade::Delete), None) => Ok(Leftovers::Delete),
            (None, Some(to)) => Ok(Leftovers::MoveTo(to)),
            (Some(_), Some(_)) => Err(Invalid::new(
                "move_to",
                "give `cascade=delete` or `move_to`, not both",
            )),
        }
    }
}

// A list named by its id or by its exact title (in any case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ListRef {
    Id(i64),
    Title(String),
}

/// The schema of an optional [`ListRef`] field, written flat (an id or a
/// title) to keep every tool listing that takes one small.
pub fn list_ref_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": ["integer", "string", "null"]})
}
