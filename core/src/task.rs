//! A task and the values it is made of. Each value type has one fallible
//! constructor; a `TaskFields` holds only valid values, and `Task` is the
//! shape every surface (REST, MCP, chat, events) shows.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use strum::{IntoStaticStr, VariantArray};

use crate::{Due, Invalid, RecurrenceRule, Reminder, Zone};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 4000;
/// Most tags on one task.
pub const MAX_TAGS: usize = 10;
/// Longest tag, in characters.
pub const MAX_TAG: usize = 32;

/// A task title: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Trims and checks a title.
    pub fn parse(text: &str) -> Result<Title, Invalid> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Invalid::new("title", "the title must not be blank"));
        }
        if text.chars().count() > MAX_TITLE {
            return Err(Invalid::new(
                "title",
                format!("the title must be at most {MAX_TITLE} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(Invalid::new(
                "title",
                "the title must be one line without control characters",
            ));
        }
        Ok(Title(text.to_owned()))
    }

    /// The title text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task description: at most 4000 characters; blank means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Checks a description; a blank one is `None`.
    pub fn parse(text: &str) -> Result<Option<Description>, Invalid> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        if text.chars().any(is_forbidden_control) {
            return Err(Invalid::new(
                "description",
                "the description must not contain control characters other than newlines and tabs",
            ));
        }
        if text.chars().count() > MAX_DESCRIPTION {
            return Err(Invalid::new(
                "description",
                format!("the description must be at most {MAX_DESCRIPTION} characters"),
            ));
        }
        Ok(Some(Description(text.trim_end().to_owned())))
    }

    /// The description text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters other than newline, carriage return and tab (which
/// PostgreSQL refuses in text, `\0`, or which make no sense in a task).
pub(crate) fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

// strum's names (`as_str`, what `from_str` accepts) are the serde names,
// by the same rule. The doc comment is a schema description: a contract.
/// How important a task is.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
}

impl Priority {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The iCalendar `PRIORITY` (RFC 5545: 1 is the highest, 0 none):
    /// high 1, medium 5, low 9, none 0.
    pub fn to_ical(self) -> u8 {
        match self {
            Priority::None => 0,
            Priority::High => 1,
            Priority::Medium => 5,
            Priority::Low => 9,
        }
    }

    /// Reads an iCalendar `PRIORITY` by the bands RFC 5545 suggests: 1–4
    /// high, 5 medium, 6–9 low, anything else none.
    pub fn from_ical(value: u8) -> Priority {
        match value {
            1..=4 => Priority::High,
            5 => Priority::Medium,
            6..=9 => Priority::Low,
            _ => Priority::None,
        }
    }

    /// 0 (none) to 3 (high), for sorting.
    pub fn rank(self) -> i32 {
        match self {
            Priority::None => 0,
            Priority::Low => 1,
            Priority::Medium => 2,
            Priority::High => 3,
        }
    }
}

/// Reads a name in any case, with surrounding spaces.
impl FromStr for Priority {
    type Err = Invalid;

    fn from_str(text: &str) -> Result<Self, Invalid> {
        let name = text.trim();
        Priority::VARIANTS
            .iter()
            .copied()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                Invalid::new(
                    "priority",
                    format!("`{text}` is not a priority; use none, low, medium or high"),
                )
            })
    }
}

/// A task's tags: at most 10, each 1 to 32 characters, lower-cased, without
/// repeats, in the order first given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Normalises and checks tags.
    pub fn parse<S: AsRef<str>>(tags: &[S]) -> Result<Tags, Invalid> {
        let mut out: Vec<String> = Vec::with_capacity(tags.len());
        for (i, tag) in tags.iter().enumerate() {
            let tag = Tag::parse(tag.as_ref())
                .map_err(|reason| Invalid::new(format!("tags[{i}]"), reason))?;
            if !out.contains(&tag.0) {
                if out.len() == MAX_TAGS {
                    return Err(Invalid::new(
                        "tags",
                        format!("a task can have at most {MAX_TAGS} tags"),
                    ));
                }
                out.push(tag.0);
            }
        }
        Ok(Tags(out))
    }

    /// The tags, in order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// One tag, normalised; used by tag filters too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    /// Trims, lower-cases and checks a tag; the error is the reason alone.
    pub fn parse(text: &str) -> Result<Tag, String> {
        let tag = text.trim().to_lowercase();
        if tag.is_empty() {
            return Err("a tag must not be blank".into());
        }
        if tag.chars().count() > MAX_TAG {
            return Err(format!("a tag must be at most {MAX_TAG} characters"));
        }
        if tag.chars().any(|c| c.is_control() || c == ',') {
            return Err("a tag must not contain commas or control characters".into());
        }
        Ok(Tag(tag))
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything about a task a person can set, valid together: a recurrence
/// rule or a relative reminder needs a due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields {
    pub title: Title,
    pub description: Option<Description>,
    pub priority: Priority,
    pub tags: Tags,
    pub due: Option<Due>,
    pub recurrence: Option<RecurrenceRule>,
    pub reminder: Option<Reminder>,
}

impl TaskFields {
    /// Checks the rules that span fields.
    pub fn check(mut self) -> Result<TaskFields, Invalid> {
        // Both databases keep microseconds; keep no more, so a value reads
        // back exactly as it was accepted.
        if let Some(Reminder::At { at }) = self.reminder {
            self.reminder = Some(Reminder::At {
                at: chrono::SubsecRound::trunc_subsecs(at, 6),
            });
        }
        if self.recurrence.is_some() && self.due.is_none() {
            return Err(Invalid::new(
                "recurrence",
                "a recurring task needs a due date for its first occurrence; set `due`",
            ));
        }
        if let Some(reminder) = &self.reminder {
            reminder.check(self.due.as_ref())?;
        }
        Ok(self)
    }
}

/// The task a subtask belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ParentRef {
    pub id: i64,
    pub title: String,
}

/// A task as every surface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    /// The task's number, shown to people ("task 3").
    pub id: i64,
    // The list it is in (undocumented in the schema: every tool's output
    // repeats it, and the name says it).
    #[serde(default)]
    pub list_id: i64,
    /// The task this one is a subtask of.
    #[serde(default)]
    pub parent: Option<ParentRef>,
    #[serde(default)]
    pub child_count: i64,
    #[serde(default)]
    pub open_child_count: i64,
    /// An open task blocks it.
    #[serde(default)]
    pub blocked: bool,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    pub tags: Vec<String>,
    /// User ids of the people it is assigned to.
    #[serde(default)]
    pub assignees: Vec<String>,
    /// A date (`2026-03-23`) or a local date-time (`2026-03-23T10:00:00`) in `timezone`.
    pub due: Option<String>,
    /// The IANA zone `due` is read in; null when there is no due date.
    pub timezone: Option<String>,
    /// An RRULE such as `FREQ=WEEKLY;BYDAY=MO`.
    pub recurrence: Option<String>,
    /// The recurrence in words, as every surface shows it, such as `every
    /// Monday at 10:00, 3 more times` (derived; not settable).
    #[serde(default)]
    pub recurrence_text: Option<String>,
    pub reminder: Option<Reminder>,
    pub snoozed_until: Option<DateTime<Utc>>,
    /// The id of the series' first task, for recurring tasks.
    pub series_id: Option<i64>,
    /// The occurrence this one follows, for recurring tasks.
    pub previous_id: Option<i64>,
    /// Increases with every change; send it back to update safely.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who made it (a user id).
    #[serde(default)]
    pub created_by: String,
    /// Who changed it last (a user id).
    #[serde(default)]
    pub updated_by: String,
}

/// The most people a task is assigned to.
pub const MAX_ASSIGNEES: usize = 20;

/// Assignees as given (user ids), checked: at most [`MAX_ASSIGNEES`],
/// each 1–255 bytes without control characters; sorted, repeats removed.
pub fn parse_assignees(ids: &[String]) -> Result<Vec<String>, Invalid> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.trim().to_owned()).collect();
    if let Some(bad) = ids
        .iter()
        .find(|id| id.is_empty() || id.len() > 255 || id.chars().any(char::is_control))
    {
        return Err(Invalid::new(
            "assignees",
            format!("`{bad}` is not a user id; give the ids of the list's members"),
        ));
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_ASSIGNEES {
        return Err(Invalid::new(
            "assignees",
            format!("a task has at most {MAX_ASSIGNEES} assignees"),
        ));
    }
    Ok(ids)
}

impl Task {
    /// The settable fields, parsed back into domain values.
    pub fn fields(&self) -> Result<TaskFields, Invalid> {
        let zone = match &self.timezone {
            Some(name) => Zone::parse(name, "timezone")?,
            None => Zone::UTC,
        };
        Ok(TaskFields {
            title: Title::parse(&self.title)?,
            description: Description::parse(self.description.as_deref().unwrap_or_default())?,
            priority: self.priority,
            tags: Tags::parse(&self.tags)?,
            due: self
                .due
                .as_deref()
                .map(|d| Due::parse(d, zone))
                .transpose()?,
            recurrence: self.recurrence.as_deref().map(str::parse).transpose()?,
            reminder: self.reminder,
        })
    }
}

/// The old and new value of one changed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FieldChange {
    pub old: serde_json::Value,
    pub new: serde_json::Value,
}

/// The fields that differ between two snapshots of a task, by API name,
/// leaving out the bookkeeping fields `version` and `updated_at`, the
/// derived `recurrence_text` (a change of `recurrence` or `due` says it) and
/// the subtask counts (each subtask's own event says what changed).
pub fn field_changes(old: Option<&Task>, new: Option<&Task>) -> BTreeMap<String, FieldChange> {
    changes_of(
        old,
        new,
        &[
            "version",
            "updated_at",
            "updated_by",
            "recurrence_text",
            "child_count",
            "open_child_count",
        ],
    )
}

/// The fields that differ between two snapshots of anything shown, by API
/// name, leaving out `ignored`.
pub fn changes_of<T: Serialize>(
    old: Option<&T>,
    new: Option<&T>,
    ignored: &[&str],
) -> BTreeMap<String, FieldChange> {
    let as_map = |value: Option<&T>| match value.map(serde_json::to_value) {
        Some(Ok(serde_json::Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old), as_map(new));
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|key| !ignored.contains(&key.as_str()))
        .filter_map(|key| {
            let before = old.get(key).cloned().unwrap_or_default();
            let after = new.get(key).cloned().unwrap_or_default();
            (before != after).then(|| {
                (
                    key.clone(),
                    FieldChange {
                        old: before,
                        new: after,
                    },
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn priorities_map_to_ical_and_back_by_bands() {
        for p in Priority::VARIANTS.iter().copied() {
            assert_eq!(Priority::from_ical(p.to_ical()), p);
        }
        let read: Vec<Priority> = (0..=10).map(Priority::from_ical).collect();
        use Priority::*;
        assert_eq!(
            read,
            [
                None, High, High, High, High, Medium, Low, Low, Low, Low, None
            ]
        );
    }

    #[test]
    fn priority_names_are_the_serde_names_and_parse_in_any_case() {
        for p in Priority::VARIANTS.iter().copied() {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
            assert_eq!(p.as_str().parse::<Priority>().unwrap(), p);
        }
        assert_eq!(" HIGH ".parse::<Priority>().unwrap(), Priority::High);
        let err = "urgent".parse::<Priority>().unwrap_err();
        assert_eq!(err.field, "priority");
        assert_eq!(
            err.reason,
            "`urgent` is not a priority; use none, low, medium or high"
        );
    }
}
