//! The parameters of every task operation, as the REST API, the MCP tools and
//! the chat agent receive them (serde + JSON Schema), and their parsing into
//! domain values. One definition, every surface.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::list::ListRef;
use crate::position::{Edge, Place};
use crate::task::{MAX_DESCRIPTION, MAX_TAGS, MAX_TITLE, Tag};
use crate::{Description, Due, Invalid, Priority, Reminder, Tags, TaskFields, Title, Zone};

/// The default page size of a task list.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page size of a task list.
pub const MAX_LIMIT: u32 = 200;
/// The longest search text, in characters.
pub const MAX_QUERY: usize = 200;
/// The longest snooze: 30 days.
pub const MAX_SNOOZE_MINUTES: u32 = 43_200;

/// Checks the paging of a newest-first list keyed by id: the page size
/// (`limits.0` by default, 1 to `limits.1`) and, from a `next_cursor` of an
/// earlier page, the id to continue below.
pub fn id_page(
    limit: Option<u32>,
    cursor: Option<&str>,
    limits: (u32, u32),
) -> Result<(u32, Option<i64>), Invalid> {
    let limit = limit.unwrap_or(limits.0);
    if !(1..=limits.1).contains(&limit) {
        return Err(Invalid::new(
            "limit",
            format!("limit must be between 1 and {}", limits.1),
        ));
    }
    let before = cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                Invalid::new(
                    "cursor",
                    "the cursor is not one this list returned; start again without it",
                )
            })
        })
        .transpose()?;
    Ok((limit, before))
}

/// Cuts `rows`, fetched one longer than `limit`, to a page: the rows and,
/// when there are more, the cursor (the last row's id) for the next page.
pub fn id_page_of<T>(
    mut rows: Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> i64,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|row| id(row).to_string())
    } else {
        None
    };
    (rows, next)
}

/// Create a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// What to do, 1–200 characters.
    #[schemars(length(min = 1, max = MAX_TITLE))]
    pub title: String,
    /// Longer notes, up to 4000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_DESCRIPTION))]
    pub description: Option<String>,
    /// none, low, medium or high (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Up to 10 tags such as `work`; lower-cased, repeats removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_TAGS))]
    pub tags: Vec<String>,
    /// A date (`2026-03-23`), a local date-time in `timezone`
    /// (`2026-03-23T10:00`), or an RFC 3339 instant (`2026-03-23T09:00:00Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// The IANA time zone of `due`, such as `Europe/Berlin` (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// An RRULE: FREQ=DAILY|WEEKLY|MONTHLY|YEARLY, optional INTERVAL, BYDAY
    /// (weekly only), COUNT or UNTIL. Example: `FREQ=WEEKLY;BYDAY=MO,WE`.
    /// Needs `due`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<String>,
    /// `{"minutes_before": 15}` (needs `due`) or `{"at": "<RFC 3339 instant>"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<Reminder>,
    /// The list's id or exact title.
    #[serde(default, alias = "list_id", skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::list::list_ref_schema")]
    pub list: Option<ListRef>,
    /// Make it a subtask of this task (in that task's list).
    #[serde(default, alias = "parent_id", skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
    /// User ids of list members to assign it to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = crate::task::MAX_ASSIGNEES))]
    pub assignees: Vec<String>,
}

impl CreateTask {
    /// Parses every field into domain values.
    pub fn parse(&self) -> Result<TaskFields, Invalid> {
        let zone = parse_zone(self.timezone.as_deref())?;
        TaskFields {
            title: Title::parse(&self.title)?,
            description: Description::parse(self.description.as_deref().unwrap_or_default())?,
            priority: self.priority.unwrap_or_default(),
            tags: Tags::parse(&self.tags)?,
            due: self
                .due
                .as_deref()
                .map(|d| Due::parse(d, zone.unwrap_or(Zone::UTC)))
                .transpose()?,
            recurrence: self.recurrence.as_deref().map(str::parse).transpose()?,
            reminder: self.reminder,
        }
        .check()
    }
}

/// Change some fields of a task. An absent field stays as it is; `null`
/// clears a field that can be empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    /// A new title, 1–200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_TITLE))]
    pub title: Option<String>,
    /// New notes; null clears them.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub description: Option<Option<String>>,
    /// none, low, medium or high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// The new full list of tags (replaces the old one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// A new due date or date-time; null clears it (and needs the recurrence
    /// and any relative reminder cleared too).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub due: Option<Option<String>>,
    /// A new IANA zone; without a new `due`, the task keeps its wall-clock
    /// due time in the new zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A new RRULE; null stops the task repeating.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub recurrence: Option<Option<String>>,
    /// A new reminder; null removes it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub reminder: Option<Option<Reminder>>,
    /// A new list (id or title).
    #[serde(default, alias = "list_id", skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::list::list_ref_schema")]
    pub list: Option<ListRef>,
    /// A new parent task; null makes it a top-level task.
    #[serde(
        default,
        alias = "parent_id",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub parent: Option<Option<i64>>,
    /// All assignees' user ids (replaces them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = crate::task::MAX_ASSIGNEES))]
    pub assignees: Option<Vec<String>>,
}

/// Tells `null` (Some(None)) from an absent field (None, by `default`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl UpdateTask {
    /// True when the patch names no field at all.
    pub fn is_empty(&self) -> bool {
        self == &UpdateTask::default()
    }

    /// The task's fields after this patch, checked together.
    pub fn apply(&self, current: &TaskFields) -> Result<TaskFields, Invalid> {
        let new_zone = parse_zone(self.timezone.as_deref())?;
        let zone = new_zone
            .or(current.due.map(|d| d.zone()))
            .unwrap_or(Zone::UTC);
        let due = match &self.due {
            Some(Some(text)) => Some(Due::parse(text, zone)?),
            Some(None) => None,
            None => current.due.map(|d| new_zone.map_or(d, |z| d.in_zone(z))),
        };
        let description = match &self.description {
            Some(text) => Description::parse(text.as_deref().unwrap_or_default())?,
            None => current.description.clone(),
        };
        let recurrence = match &self.recurrence {
            Some(text) => text.as_deref().map(str::parse).transpose()?,
            None => current.recurrence.clone(),
        };
        TaskFields {
            title: self
                .title
                .as_deref()
                .map(Title::parse)
                .transpose()?
                .unwrap_or_else(|| current.title.clone()),
            description,
            priority: self.priority.unwrap_or(current.priority),
            tags: self
                .tags
                .as_deref()
                .map(Tags::parse)
                .transpose()?
                .unwrap_or_else(|| current.tags.clone()),
            due,
            recurrence,
            reminder: self.reminder.unwrap_or(current.reminder),
        }
        .check()
    }
}

fn parse_zone(name: Option<&str>) -> Result<Option<Zone>, Invalid> {
    name.map(|n| Zone::parse(n, "timezone")).transpose()
}

/// Move a task: to another list and among its siblings. Its subtasks go
/// with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveTask {
    /// The list to move it to: id or exact title (default: where it is).
    #[serde(default, alias = "list_id", skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::list::list_ref_schema")]
    pub list: Option<ListRef>,
    /// A new parent task; null makes it a top-level task.
    #[serde(
        default,
        alias = "parent_id",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub parent: Option<Option<i64>>,
    /// Put it just before this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_id: Option<i64>,
    /// Put it just after this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_id: Option<i64>,
    /// `top` or `bottom` (default bottom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Edge>,
}

impl MoveTask {
    /// Where among its siblings.
    pub fn place(&self) -> Place {
        Place {
            before_id: self.before_id,
            after_id: self.after_id,
            to: self.to,
        }
    }
}

/// Snooze a task: hold its reminders until a later time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeTask {
    /// Snooze for this many minutes (1 to 43200). Give this or `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 43200))]
    pub minutes: Option<u32>,
    /// Snooze until this RFC 3339 instant (at most 30 days ahead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl SnoozeTask {
    /// The instant the snooze ends, which must lie in the future.
    pub fn until(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
        let latest = now + Duration::minutes(i64::from(MAX_SNOOZE_MINUTES));
        let until = match (self.minutes, self.until) {
            (Some(_), Some(_)) => {
                return Err(Invalid::new(
                    "minutes",
                    "give `minutes` or `until`, not both",
                ));
            }
            (None, None) => {
                return Err(Invalid::new(
                    "minutes",
                    "give `minutes` (such as 15) or `until`",
                ));
            }
            (Some(minutes), None) => {
                if minutes == 0 || minutes > MAX_SNOOZE_MINUTES {
                    return Err(Invalid::new(
                        "minutes",
                        format!("minutes must be between 1 and {MAX_SNOOZE_MINUTES}"),
                    ));
                }
                now + Duration::minutes(i64::from(minutes))
            }
            (None, Some(until)) => until,
        };
        let until = chrono::SubsecRound::trunc_subsecs(until, 6);
        if until <= now {
            return Err(Invalid::new("until", "the snooze must end in the future"));
        }
        if until > latest {
            return Err(Invalid::new(
                "until",
                "a task can be snoozed for at most 30 days",
            ));
        }
        Ok(until)
    }
}

/// Which tasks a list shows by completion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// Open tasks only.
    Open,
    /// Completed tasks only.
    Completed,
    /// Both (the default).
    #[default]
    All,
}

/// The order of a task list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    /// By due instant; tasks without one come last.
    Due,
    /// By creation time, oldest first.
    #[default]
    Created,
    /// By priority, highest first.
    Priority,
    /// By title, alphabetically (case-insensitive).
    Title,
    /// The manual order (within each list and parent).
    Position,
}

/// List tasks: search, filters, order and page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Words to find in the title or description (plain text, case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// open, completed or all (default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusFilter>,
    /// Only tasks of this priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Only tasks with this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Only tasks due before this instant or date (`2026-03-23` = its start, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_before: Option<String>,
    /// Only tasks due at or after this instant or date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_after: Option<String>,
    /// true: only open tasks whose due time has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    /// Only this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<i64>,
    /// With nested lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_sublists: Option<bool>,
    /// Only subtasks of this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// true: only subtasks; false: only top-level tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_parent: Option<bool>,
    /// true: only open tasks nothing open blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// Only tasks assigned to this user id, or to `me`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// due (soonest first, undated last), created (oldest first), priority
    /// (highest first), title (A to Z) or position (manual); a leading `-`
    /// reverses the order.
    /// Default `-created`: newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A parsed task list query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Lower-cased search text.
    pub q: Option<String>,
    pub status: StatusFilter,
    pub priority: Option<Priority>,
    pub tag: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub list_id: Option<i64>,
    pub include_sublists: bool,
    pub parent_id: Option<i64>,
    pub has_parent: Option<bool>,
    pub ready: bool,
    /// A user id, or `me` (the store reads it as the caller).
    pub assignee: Option<String>,
    pub sort: SortKey,
    /// Reverse of the key's natural order (the `-` prefix).
    pub reverse: bool,
    pub limit: u32,
    /// Opaque; the store decodes it.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// Parses the query into a filter.
    pub fn parse(&self) -> Result<TaskFilter, Invalid> {
        let q = match self.q.as_deref().map(str::trim) {
            Some(q) if q.chars().count() > MAX_QUERY => {
                return Err(Invalid::new(
                    "q",
                    format!("the search text must be at most {MAX_QUERY} characters"),
                ));
            }
            Some(q) if q.chars().any(crate::task::is_forbidden_control) => {
                return Err(Invalid::new(
                    "q",
                    "the search text must not contain control characters",
                ));
            }
            Some("") | None => None,
            Some(q) => Some(q.to_lowercase()),
        };
        let tag = self
            .tag
            .as_deref()
            .map(|t| Tag::parse(t).map_err(|reason| Invalid::new("tag", reason)))
            .transpose()?
            .map(|t| t.as_str().to_owned());
        let raw_sort = self.sort.as_deref().unwrap_or("-created").trim();
        let (reverse, name) = match raw_sort.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw_sort),
        };
        let sort = match name {
            "due" => SortKey::Due,
            "created" => SortKey::Created,
            "priority" => SortKey::Priority,
            "title" => SortKey::Title,
            "position" => SortKey::Position,
            _ => {
                return Err(Invalid::new(
                    "sort",
                    format!(
                        "`{raw_sort}` is not a sort; use due, created, priority, title or position, with `-` in front to reverse"
                    ),
                ));
            }
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Invalid::new(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(TaskFilter {
            q,
            status: self.status.unwrap_or_default(),
            priority: self.priority,
            tag,
            due_before: self
                .due_before
                .as_deref()
                .map(|t| parse_bound(t, "due_before"))
                .transpose()?,
            due_after: self
                .due_after
                .as_deref()
                .map(|t| parse_bound(t, "due_after"))
                .transpose()?,
            overdue: self.overdue.unwrap_or(false),
            list_id: self.list_id,
            include_sublists: self.include_sublists.unwrap_or(false),
            parent_id: self.parent_id,
            has_parent: self.has_parent,
            ready: self.ready.unwrap_or(false),
            assignee: match self.assignee.as_deref().map(str::trim) {
                Some(who) => {
                    let mut checked = crate::task::parse_assignees(&[who.to_owned()])
                        .map_err(|e| Invalid::new("assignee", e.reason))?;
                    checked.pop()
                }
                None => None,
            },
            sort,
            reverse,
            limit,
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
        })
    }
}

fn parse_bound(text: &str, field: &str) -> Result<DateTime<Utc>, Invalid> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(Invalid::new(
        field,
        format!(
            "`{text}` is not a date (`2026-03-23`) or an RFC 3339 instant (`2026-03-23T09:00:00Z`)"
        ),
    ))
}

/// One page of a task list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskPage {
    /// The tasks on this page, in the requested order.
    pub tasks: Vec<crate::Task>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A tag and how many of the user's tasks carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// A page of the changes feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The `next` of the previous page (or the last `sequence` seen): only
    /// later changes. 0 or absent: from the oldest change still held.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub since: Option<i64>,
    /// Page size, 1 to 1000 (default 200).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
}

/// A page of a task's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// The `next_before` of the previous page: only older entries.
    #[serde(default)]
    pub before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
}
