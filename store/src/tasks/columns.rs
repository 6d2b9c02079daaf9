//! A task as the `tasks` table holds it, defined once: [`task_columns!`]
//! lists every column with the Rust type it is read as, the PostgreSQL type
//! of its batch array, whether an update writes it, and how its value is
//! computed from a [`StoredTask`]. The insert and update statements, the
//! select list, the PostgreSQL batch's casts and the row type [`TaskRow`] all
//! come from that one list, so a new column is one line here (plus the
//! migrations and the domain type).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::types::Json;
use taskflow_core::{Due, Priority, RecurrenceRule, Reminder, SortKey, Task, TaskFields, Zone};

use crate::database::Param;
use crate::tasks::cursor::{Cursor, SortValue, undated};
use crate::{Error, Result};

/// One column of `tasks` (besides `id`).
#[derive(Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    /// The element type of its array parameter in PostgreSQL's batch insert.
    pub pg_type: &'static str,
    /// Whether an update writes it (`Fixed` columns are set once).
    pub write: Write,
    /// Read back into [`TaskRow`] (derived columns are only written).
    pub shown: bool,
    /// Its value for a task.
    pub value: for<'a> fn(&'a StoredTask, &'a Derived) -> Param<'a>,
}

/// Whether an update writes a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// Written by every update.
    Set,
    /// Written once, by the insert.
    Fixed,
}

/// Declares the columns: `shown` ones are read back into [`TaskRow`] (a
/// field each, of the given type); `derived` ones are computed on every
/// write for searching, sorting and scheduling, and never read back.
macro_rules! task_columns {
    (
        shown {
            $( $(#[doc = $sdoc:literal])* $s:ident: $sty:ty,
               $spg:literal, $sw:ident, |$st:pat_param, $sd:pat_param| $sv:expr; )*
        }
        derived {
            $( $(#[doc = $ddoc:literal])* $d:ident,
               $dpg:literal, |$dt:pat_param, $dd:pat_param| $dv:expr; )*
        }
    ) => {
        /// One row of `tasks` as read: its id and every shown column.
        #[derive(Debug, sqlx::FromRow)]
        pub(crate) struct TaskRow {
            pub id: i64,
            $( $(#[doc = $sdoc])* pub $s: $sty, )*
            /// Read from other rows: see [`RELATIONS`].
            #[sqlx(try_from = "Option<String>")]
            pub relations: Relations,
        }

        /// Every column but `id`, shown ones first.
        pub(crate) const COLUMNS: &[Column] = &[
            $( Column {
                name: stringify!($s),
                pg_type: $spg,
                write: Write::$sw,
                shown: true,
                value: |$st, $sd| Param::from($sv),
            }, )*
            $( Column {
                name: stringify!($d),
                pg_type: $dpg,
                write: Write::Set,
                shown: false,
                value: |$dt, $dd| Param::from($dv),
            }, )*
        ];
    };
}

task_columns! {
    shown {
        user_id: String, "text", Fixed, |t, _| t.user_id.as_str();
        list_id: i64, "int8", Set, |t, _| t.list_id;
        /// The task this one is a subtask of (a label, no reference).
        parent_id: Option<i64>, "int8", Set, |t, _| t.parent_id;
        /// The manual order in the list (`core::position`).
        position: String, "text", Set, |t, _| t.position.as_str();
        title: String, "text", Set, |t, _| t.fields.title.as_str();
        description: Option<String>, "text", Set,
            |t, _| t.fields.description.as_ref().map(|x| x.as_str());
        completed_at: Option<DateTime<Utc>>, "timestamptz", Set, |t, _| t.completed_at;
        priority: String, "text", Set, |_, d| d.priority.as_str();
        /// JSON array; `task_tags` indexes it.
        tags: Json<Vec<String>>, "jsonb", Set, |_, d| &*d.tags;
        /// JSON array of user ids, NULL for none; `task_assignees` indexes it.
        assignees: Option<Json<Vec<String>>>, "jsonb", Set, |_, d| d.assignees.as_deref();
        /// `2026-03-23` or `2026-03-23T10:00:00`, in `timezone`.
        due_local: Option<String>, "text", Set, |_, d| &d.due_local;
        timezone: Option<String>, "text", Set, |_, d| &d.timezone;
        recurrence: Option<String>, "text", Set, |_, d| &d.recurrence;
        /// The due of the series' first occurrence.
        anchor_local: Option<String>, "text", Set, |_, d| &d.anchor_local;
        reminder_minutes: Option<i32>, "int4", Set, |_, d| d.reminder_minutes;
        reminder_at: Option<DateTime<Utc>>, "timestamptz", Set, |_, d| d.reminder_at;
        snoozed_until: Option<DateTime<Utc>>, "timestamptz", Set, |t, _| t.snoozed_until;
        series_id: Option<i64>, "int8", Set, |t, _| t.series_id;
        previous_id: Option<i64>, "int8", Fixed, |t, _| t.previous_id;
        version: i64, "int8", Set, |t, _| t.version;
        created_at: DateTime<Utc>, "timestamptz", Fixed, |t, _| t.created_at;
        updated_at: DateTime<Utc>, "timestamptz", Set, |t, _| t.updated_at;
        /// The due instant (start of day for dates).
        due_at: Option<DateTime<Utc>>, "timestamptz", Set, |_, d| d.due_at;
        /// The lower-cased title, for sorting.
        title_key: String, "text", Set, |_, d| d.title_key.as_str();
        /// Who made it, when not its owner.
        created_by: Option<String>, "text", Fixed, |t, _| t.created_by.as_deref();
        /// Who changed it last, when not its owner.
        updated_by: Option<String>, "text", Set, |t, _| t.updated_by.as_deref();
    }
    derived {
        /// The lower-cased title and description, for search.
        search, "text", |_, d| d.search.as_str();
        completed, "bool", |t, _| t.completed_at.is_some();
        priority_rank, "int4", |_, d| d.priority.rank();
        /// Overdue from (end of day for dates).
        deadline_at, "timestamptz", |_, d| d.deadline_at;
        /// When the reminder fires: its instant, or the end of a snooze past it.
        remind_at, "timestamptz", |_, d| d.remind_at;
    }
}

/// What a task shows of other rows: its parent's title, its subtasks, and
/// whether an open task blocks it; and whether it has links or comments at
/// all. Each is an index probe (`tasks_parent`, `task_links_other`), made
/// only when the row's hint (`had_subtasks`, `had_links`: migration 0007;
/// `had_comments`: 0014) says there may be something to find, so a task
/// with no subtasks, links or comments costs none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Relations {
    pub parent_title: Option<String>,
    pub child_count: i64,
    pub open_child_count: i64,
    pub blocked: bool,
    /// The task may have links (false: it has none).
    pub had_links: bool,
    /// The task may have comments (false: it has none).
    pub had_comments: bool,
}

/// [`Relations`] as one column, for `FROM tasks t`: NULL for a task with no
/// parent, no subtasks and no links (almost every task), else
/// `child_count,open_child_count,blocked,had_links,had_comments,parent
/// title`. One column, not six: a listing pays for every column of every
/// row (the driver copies each value), and the six are nearly always
/// nothing.
const RELATIONS: &str = "\
    CASE WHEN t.parent_id IS NULL AND NOT t.had_subtasks AND NOT t.had_links \
              AND NOT t.had_comments THEN NULL ELSE \
    (CASE WHEN t.had_subtasks THEN (SELECT COUNT(*) FROM tasks c WHERE c.parent_id = t.id) \
          ELSE 0 END) || ',' || \
    (CASE WHEN t.had_subtasks THEN (SELECT COUNT(*) FROM tasks c \
                                    WHERE c.parent_id = t.id AND c.completed = FALSE) \
          ELSE 0 END) || ',' || \
    (CASE WHEN t.had_links THEN EXISTS (SELECT 1 FROM task_links k JOIN tasks b ON b.id = k.task_id \
                                        WHERE k.other_id = t.id AND k.kind = 'blocks' \
                                          AND b.completed = FALSE) \
          ELSE FALSE END) || ',' || \
    t.had_links || ',' || t.had_comments || ',' || \
    CASE WHEN t.parent_id IS NULL THEN '' \
         ELSE COALESCE((SELECT p.title FROM tasks p WHERE p.id = t.parent_id), '') END \
    END AS relations";

impl TryFrom<Option<String>> for Relations {
    type Error = Error;

    /// Reads [`RELATIONS`] (a flag is `1` or `true`, as each database
    /// writes one).
    fn try_from(packed: Option<String>) -> Result<Relations> {
        let Some(packed) = packed else {
            return Ok(Relations::default());
        };
        let unreadable = || Error::Internal(format!("unreadable task relations `{packed}`"));
        let mut parts = packed.splitn(6, ',');
        let mut next = || parts.next().ok_or_else(unreadable);
        let count = |text: &str| text.parse::<i64>().map_err(|_| unreadable());
        let flag = |text: &str| matches!(text, "1" | "true");
        let (child_count, open_child_count) = (count(next()?)?, count(next()?)?);
        let (blocked, had_links) = (flag(next()?), flag(next()?));
        let had_comments = flag(next()?);
        let title = next()?;
        Ok(Relations {
            parent_title: (!title.is_empty()).then(|| title.to_owned()),
            child_count,
            open_child_count,
            blocked,
            had_links,
            had_comments,
        })
    }
}

/// The select list of a [`TaskRow`], for `FROM tasks t`.
pub(crate) static SELECT: LazyLock<String> = LazyLock::new(|| {
    let columns = std::iter::once("id")
        .chain(COLUMNS.iter().filter(|c| c.shown).map(|c| c.name))
        .map(|name| format!("t.{name}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{columns}, {RELATIONS}")
});

/// The names of every column but `id`, in [`COLUMNS`] order.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    COLUMNS.iter().map(|c| c.name)
}

/// A task's values for every column, in [`COLUMNS`] order.
pub(crate) fn values<'a>(
    task: &'a StoredTask,
    derived: &'a Derived,
) -> impl Iterator<Item = Param<'a>> {
    COLUMNS.iter().map(move |c| (c.value)(task, derived))
}

/// A task's values for the columns an update writes, in [`COLUMNS`] order.
pub(crate) fn updated_values<'a>(
    task: &'a StoredTask,
    derived: &'a Derived,
) -> impl Iterator<Item = Param<'a>> {
    COLUMNS
        .iter()
        .filter(|c| c.write == Write::Set)
        .map(move |c| (c.value)(task, derived))
}

impl TaskRow {
    /// Where a list continues after this row, under `sort`.
    /// How this row and `other` compare under `sort` (then by id), as the
    /// listing's `ORDER BY` compares them, without copying either.
    pub fn order(&self, other: &TaskRow, sort: SortKey) -> std::cmp::Ordering {
        let rank = |row: &TaskRow| row.priority.parse::<Priority>().map_or(0, Priority::rank);
        match sort {
            SortKey::Due => self
                .due_at
                .unwrap_or_else(undated)
                .cmp(&other.due_at.unwrap_or_else(undated)),
            SortKey::Created => self.created_at.cmp(&other.created_at),
            SortKey::Priority => rank(self).cmp(&rank(other)),
            SortKey::Title => self.title_key.cmp(&other.title_key),
            SortKey::Position => self.position.cmp(&other.position),
        }
        .then(self.id.cmp(&other.id))
    }

    pub fn cursor(&self, sort: SortKey) -> Cursor {
        let value = match sort {
            SortKey::Due => SortValue::Time(self.due_at.unwrap_or_else(undated)),
            SortKey::Created => SortValue::Time(self.created_at),
            SortKey::Priority => SortValue::Int(i64::from(
                self.priority.parse::<Priority>().map_or(0, Priority::rank),
            )),
            SortKey::Title => SortValue::Text(self.title_key.clone()),
            SortKey::Position => SortValue::Text(self.position.clone()),
        };
        Cursor { id: self.id, value }
    }

    /// The task as shown, straight from the row (no re-validation: every
    /// row was written from parsed values). Read paths that only show tasks
    /// use this; writes parse the row into a [`StoredTask`].
    pub fn into_task(self) -> Result<Task> {
        let priority = self.priority.parse::<Priority>().map_err(|e| {
            Error::Internal(format!("task {} has an unreadable priority: {e}", self.id))
        })?;
        let reminder = reminder_of(self.reminder_minutes, self.reminder_at);
        let timezone = self
            .due_local
            .as_ref()
            .map(|_| self.timezone.unwrap_or_else(|| "UTC".into()));
        let recurrence_text = recurrence_text(
            self.recurrence.as_deref(),
            self.due_local.as_deref(),
            self.anchor_local.as_deref(),
            timezone.as_deref(),
        );
        let relations = self.relations;
        Ok(Task {
            id: self.id,
            list_id: self.list_id,
            parent: parent_of(self.parent_id, relations.parent_title),
            child_count: relations.child_count,
            open_child_count: relations.open_child_count,
            blocked: relations.blocked,
            title: self.title,
            description: self.description,
            completed: self.completed_at.is_some(),
            completed_at: self.completed_at,
            priority,
            tags: self.tags.0,
            assignees: self.assignees.map(|a| a.0).unwrap_or_default(),
            due: self.due_local,
            timezone,
            recurrence: self.recurrence,
            recurrence_text,
            reminder,
            snoozed_until: self.snoozed_until,
            series_id: self.series_id,
            previous_id: self.previous_id,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: self.created_by.unwrap_or_else(|| self.user_id.clone()),
            updated_by: self.updated_by.unwrap_or(self.user_id),
        })
    }
}

/// The parent a task shows.
fn parent_of(id: Option<i64>, title: Option<String>) -> Option<taskflow_core::ParentRef> {
    Some(taskflow_core::ParentRef {
        id: id?,
        title: title.unwrap_or_default(),
    })
}

/// A stored rule in words (see `RecurrenceRule::describe`); rows were
/// written from parsed values, so an unreadable one shows no text.
fn recurrence_text(
    rule: Option<&str>,
    due: Option<&str>,
    anchor: Option<&str>,
    zone: Option<&str>,
) -> Option<String> {
    let rule: RecurrenceRule = rule?.parse().ok()?;
    let zone = Zone::parse(zone?, "timezone").ok()?;
    let due = Due::parse(due?, zone).ok()?;
    let anchor = anchor.and_then(|a| Due::parse(a, zone).ok()).unwrap_or(due);
    Some(rule.describe(&anchor, &due))
}

/// The reminder the two reminder columns describe.
pub(crate) fn reminder_of(minutes: Option<i32>, at: Option<DateTime<Utc>>) -> Option<Reminder> {
    match (minutes, at) {
        (Some(minutes), _) => Some(Reminder::Before {
            minutes_before: u32::try_from(minutes).unwrap_or_default(),
        }),
        (None, Some(at)) => Some(Reminder::At { at }),
        (None, None) => None,
    }
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredTask {
    pub id: i64,
    pub user_id: String,
    pub list_id: i64,
    pub parent_id: Option<i64>,
    /// The manual order key; empty until the id is known (see `new`).
    pub position: String,
    /// What it shows of other rows, as last read (a new task: none).
    pub relations: Relations,
    pub fields: TaskFields,
    pub completed_at: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub series_id: Option<i64>,
    pub previous_id: Option<i64>,
    /// The due of the series' first occurrence; every next occurrence is
    /// computed from it. Set while the task has a recurrence rule.
    pub anchor: Option<Due>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// User ids, sorted (see `taskflow_core::parse_assignees`).
    pub assignees: Vec<String>,
    /// Who made it and who changed it last, when not the owner.
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

impl TryFrom<TaskRow> for StoredTask {
    type Error = Error;

    fn try_from(row: TaskRow) -> Result<StoredTask> {
        let corrupt = |what: &str, err: taskflow_core::Invalid| {
            Error::Internal(format!("task {} has an unreadable {what}: {err}", row.id))
        };
        let zone = match row.timezone.as_deref() {
            Some(name) => Zone::parse(name, "timezone").map_err(|e| corrupt("timezone", e))?,
            None => Zone::UTC,
        };
        let due_at = |text: &Option<String>, what| {
            text.as_deref()
                .map(|t| Due::parse(t, zone))
                .transpose()
                .map_err(|e| corrupt(what, e))
        };
        let reminder = reminder_of(row.reminder_minutes, row.reminder_at);
        let fields = TaskFields {
            title: taskflow_core::Title::parse(&row.title).map_err(|e| corrupt("title", e))?,
            description: taskflow_core::Description::parse(
                row.description.as_deref().unwrap_or_default(),
            )
            .map_err(|e| corrupt("description", e))?,
            priority: row.priority.parse().map_err(|e| corrupt("priority", e))?,
            tags: taskflow_core::Tags::parse(&row.tags.0).map_err(|e| corrupt("tags", e))?,
            due: due_at(&row.due_local, "due")?,
            recurrence: row
                .recurrence
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| corrupt("recurrence", e))?,
            reminder,
        };
        Ok(StoredTask {
            anchor: due_at(&row.anchor_local, "anchor")?,
            id: row.id,
            user_id: row.user_id,
            list_id: row.list_id,
            parent_id: row.parent_id,
            position: row.position,
            relations: row.relations,
            fields,
            completed_at: row.completed_at,
            snoozed_until: row.snoozed_until,
            series_id: row.series_id,
            previous_id: row.previous_id,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            assignees: row.assignees.map(|a| a.0).unwrap_or_default(),
            created_by: row.created_by,
            updated_by: row.updated_by,
        })
    }
}

impl StoredTask {
    /// A new open task of `user` in `list_id` with `fields`, as a create
    /// makes it (not yet stored: id 0, version 1, its position to come
    /// from its id: see [`StoredTask::with_id`]); a recurring one is
    /// anchored at its due.
    pub fn new(user_id: &str, list_id: i64, fields: TaskFields, now: DateTime<Utc>) -> Self {
        StoredTask {
            id: 0,
            user_id: user_id.to_owned(),
            list_id,
            parent_id: None,
            position: String::new(),
            relations: Relations::default(),
            anchor: fields.recurrence.as_ref().and(fields.due),
            fields,
            completed_at: None,
            snoozed_until: None,
            series_id: None,
            previous_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
            assignees: Vec::new(),
            created_by: None,
            updated_by: None,
        }
    }

    /// Records `by` as who made (when new) or last changed the task: None
    /// when that is its owner.
    pub fn made_by(&mut self, by: &str) {
        let by = (by != self.user_id).then(|| by.to_owned());
        if self.id == 0 {
            self.created_by = by.clone();
        }
        self.updated_by = by;
    }

    /// Gives a new task its id and, unless placed already, the position
    /// that id makes (the bottom of its list).
    pub fn with_id(&mut self, id: i64) {
        self.id = id;
        if self.position.is_empty() {
            self.position = taskflow_core::position::of_id(id);
        }
    }

    /// The task as every surface shows it.
    pub fn task(&self) -> Task {
        let f = &self.fields;
        Task {
            id: self.id,
            list_id: self.list_id,
            parent: parent_of(self.parent_id, self.relations.parent_title.clone()),
            child_count: self.relations.child_count,
            open_child_count: self.relations.open_child_count,
            blocked: self.relations.blocked,
            title: f.title.as_str().to_owned(),
            description: f.description.as_ref().map(|d| d.as_str().to_owned()),
            completed: self.completed_at.is_some(),
            completed_at: self.completed_at,
            priority: f.priority,
            tags: f.tags.as_slice().to_vec(),
            assignees: self.assignees.clone(),
            due: f.due.map(|d| d.local_text()),
            timezone: f.due.map(|d| d.zone().name().to_owned()),
            recurrence: f.recurrence.as_ref().map(ToString::to_string),
            recurrence_text: f
                .recurrence
                .as_ref()
                .zip(f.due)
                .map(|(rule, due)| rule.describe(self.anchor.as_ref().unwrap_or(&due), &due)),
            reminder: f.reminder,
            snoozed_until: self.snoozed_until,
            series_id: self.series_id,
            previous_id: self.previous_id,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: self.created_by.as_ref().unwrap_or(&self.user_id).clone(),
            updated_by: self.updated_by.as_ref().unwrap_or(&self.user_id).clone(),
        }
    }

    /// The values written to the derived columns.
    pub fn derived(&self) -> Result<Derived> {
        let f = &self.fields;
        let mut search = f.title.as_str().to_lowercase();
        if let Some(description) = &f.description {
            search.push('\n');
            search.push_str(&description.as_str().to_lowercase());
        }
        Ok(Derived {
            title_key: f.title.as_str().to_lowercase(),
            search,
            priority: f.priority,
            tags: serde_json::value::to_raw_value(f.tags.as_slice())?,
            assignees: match self.assignees.is_empty() {
                true => None,
                false => Some(serde_json::value::to_raw_value(&self.assignees)?),
            },
            due_local: f.due.map(|d| d.local_text()),
            timezone: f.due.map(|d| d.zone().name().to_owned()),
            due_at: f.due.map(|d| d.instant()),
            deadline_at: f.due.map(|d| d.deadline()),
            recurrence: f.recurrence.as_ref().map(ToString::to_string),
            anchor_local: self.anchor.map(|d| d.local_text()),
            reminder_minutes: f
                .reminder
                .and_then(|r| r.minutes_before())
                .map(|m| i32::try_from(m).unwrap_or(i32::MAX)),
            reminder_at: f.reminder.and_then(|r| r.at()),
            // A snooze holds the reminder until it ends; snoozing a task
            // without one asks to be reminded then.
            remind_at: f
                .reminder
                .and_then(|r| r.instant(f.due.as_ref()))
                .max(self.snoozed_until),
        })
    }
}

/// Column values computed from a task's fields.
#[derive(Debug)]
pub(crate) struct Derived {
    pub title_key: String,
    pub search: String,
    pub priority: Priority,
    /// The tags as a JSON array.
    pub tags: Box<RawValue>,
    /// The assignees as a JSON array, if any.
    pub assignees: Option<Box<RawValue>>,
    pub due_local: Option<String>,
    pub timezone: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub anchor_local: Option<String>,
    pub reminder_minutes: Option<i32>,
    pub reminder_at: Option<DateTime<Utc>>,
    /// When the reminder fires: its instant, or the end of a snooze past it.
    pub remind_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_relations_read_both_databases_flags_and_a_title_with_commas() {
        let read = |packed: Option<&str>| Relations::try_from(packed.map(str::to_owned));
        assert_eq!(read(None).unwrap(), Relations::default());
        assert_eq!(
            read(Some("2,1,1,1,0,Pack, then go")).unwrap(),
            Relations {
                parent_title: Some("Pack, then go".into()),
                child_count: 2,
                open_child_count: 1,
                blocked: true,
                had_links: true,
                had_comments: false,
            }
        );
        assert_eq!(
            read(Some("0,0,true,false,true,")).unwrap(),
            Relations {
                blocked: true,
                had_comments: true,
                ..Relations::default()
            }
        );
        assert!(read(Some("0,0,1")).is_err());
        assert!(read(Some("0,0,1,1,")).is_err());
        assert!(read(Some("x,0,1,1,0,")).is_err());
    }
}
