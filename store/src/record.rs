//! A task as the `tasks` table holds it: the settable fields as domain values
//! plus bookkeeping, and the columns derived from them for searching, sorting
//! and scheduling. Shared by both databases.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use taskflow_core::{Due, Priority, Reminder, SortKey, Task, TaskFields, Zone};

use crate::cursor::{Cursor, SortValue, undated};

use crate::{Error, Result};

/// The columns every task query selects, in `TaskRow` order.
pub const TASK_COLUMNS: &str = "t.id, t.user_id, t.title, t.description, t.completed_at, \
    t.priority, t.tags, t.due_local, t.timezone, t.recurrence, t.anchor_local, \
    t.reminder_minutes, t.reminder_at, t.snoozed_until, t.series_id, t.previous_id, \
    t.version, t.created_at, t.updated_at, t.due_at, t.title_key";

/// One row of `tasks`, as selected by [`TASK_COLUMNS`].
#[derive(Debug, sqlx::FromRow)]
pub struct TaskRow {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed_at: Option<DateTime<Utc>>,
    priority: String,
    tags: Json<Vec<String>>,
    due_local: Option<String>,
    timezone: Option<String>,
    recurrence: Option<String>,
    anchor_local: Option<String>,
    reminder_minutes: Option<i32>,
    reminder_at: Option<DateTime<Utc>>,
    snoozed_until: Option<DateTime<Utc>>,
    series_id: Option<i64>,
    previous_id: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    due_at: Option<DateTime<Utc>>,
    title_key: String,
}

impl TaskRow {
    /// Where a list continues after this row, under `sort`.
    pub fn cursor(&self, sort: SortKey) -> Cursor {
        let value = match sort {
            SortKey::Due => SortValue::Time(self.due_at.unwrap_or_else(undated)),
            SortKey::Created => SortValue::Time(self.created_at),
            SortKey::Priority => SortValue::Int(i64::from(
                self.priority.parse::<Priority>().map_or(0, Priority::rank),
            )),
            SortKey::Title => SortValue::Text(self.title_key.clone()),
        };
        Cursor { id: self.id, value }
    }

    /// The task as shown, straight from the row (no re-validation: every
    /// row was written from parsed values). Read paths that only show tasks
    /// use this; writes parse the row into a [`Stored`].
    pub fn into_task(self) -> Result<Task> {
        let priority = self.priority.parse::<Priority>().map_err(|e| {
            Error::Internal(format!("task {} has an unreadable priority: {e}", self.id))
        })?;
        let reminder = reminder_of(self.reminder_minutes, self.reminder_at);
        let timezone = self
            .due_local
            .as_ref()
            .map(|_| self.timezone.unwrap_or_else(|| "UTC".into()));
        Ok(Task {
            id: self.id,
            title: self.title,
            description: self.description,
            completed: self.completed_at.is_some(),
            completed_at: self.completed_at,
            priority,
            tags: self.tags.0,
            due: self.due_local,
            timezone,
            recurrence: self.recurrence,
            reminder,
            snoozed_until: self.snoozed_until,
            series_id: self.series_id,
            previous_id: self.previous_id,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The reminder the two reminder columns describe.
fn reminder_of(minutes: Option<i32>, at: Option<DateTime<Utc>>) -> Option<Reminder> {
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
pub struct Stored {
    pub id: i64,
    pub user_id: String,
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
}

impl TryFrom<TaskRow> for Stored {
    type Error = Error;

    fn try_from(row: TaskRow) -> Result<Stored> {
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
        Ok(Stored {
            anchor: due_at(&row.anchor_local, "anchor")?,
            id: row.id,
            user_id: row.user_id,
            fields,
            completed_at: row.completed_at,
            snoozed_until: row.snoozed_until,
            series_id: row.series_id,
            previous_id: row.previous_id,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Stored {
    /// The task as every surface shows it.
    pub fn task(&self) -> Task {
        let f = &self.fields;
        Task {
            id: self.id,
            title: f.title.as_str().to_owned(),
            description: f.description.as_ref().map(|d| d.as_str().to_owned()),
            completed: self.completed_at.is_some(),
            completed_at: self.completed_at,
            priority: f.priority,
            tags: f.tags.as_slice().to_vec(),
            due: f.due.map(|d| d.local_text()),
            timezone: f.due.map(|d| d.zone().name().to_owned()),
            recurrence: f.recurrence.as_ref().map(ToString::to_string),
            reminder: f.reminder,
            snoozed_until: self.snoozed_until,
            series_id: self.series_id,
            previous_id: self.previous_id,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The values written to the derived columns.
    pub fn derived(&self) -> Derived {
        let f = &self.fields;
        let mut search = f.title.as_str().to_lowercase();
        if let Some(description) = &f.description {
            search.push('\n');
            search.push_str(&description.as_str().to_lowercase());
        }
        Derived {
            title_key: f.title.as_str().to_lowercase(),
            search,
            priority: f.priority,
            tags: Json(f.tags.as_slice().to_vec()),
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
        }
    }
}

/// Column values computed from a task's fields.
#[derive(Debug)]
pub struct Derived {
    pub title_key: String,
    pub search: String,
    pub priority: Priority,
    pub tags: Json<Vec<String>>,
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

/// One `notifications` row.
#[derive(Debug, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub task_id: Option<i64>,
    pub kind: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A dispatch whose message the transport has not confirmed.
#[derive(Debug, sqlx::FromRow)]
pub struct DispatchRow {
    pub task_id: i64,
    pub kind: String,
    /// The instant that came (the key with task and kind).
    pub due_at: DateTime<Utc>,
    pub fired_at: DateTime<Utc>,
    pub user_id: String,
    pub message: Json<serde_json::Value>,
}

/// A chat conversation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: i64,
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One message of a conversation; `data` is the surface's own JSON
/// (for chat: the actions taken and what the reply asked).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub role: String,
    pub content: String,
    pub data: Option<sqlx::types::Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
}
