//! The payloads of the three topics and the CloudEvents 1.0 envelope they
//! travel in. Field names of `task-events` keep those the seeds' consumers
//! read (`event_type`, `task_id`, `task_data`, `user_id`, `timestamp`) and add
//! `changes`, `sequence` and `source`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};
use taskflow_core::{FieldChange, List, Task};
use uuid::Uuid;

use crate::{EventActor, ListEventType, Source, TaskEventType};

/// A CloudEvents 1.0 envelope (structured mode, JSON data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudEvent<T> {
    /// Always `1.0`.
    pub specversion: String,
    /// The event id: the outbox row's UUID, so a re-publish keeps it.
    pub id: String,
    /// The producer, such as `taskflow/api`.
    pub source: String,
    /// Versioned type, such as `taskflow.task.created.v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The task or notification the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub time: DateTime<Utc>,
    /// Always `application/json`.
    pub datacontenttype: String,
    /// The W3C `traceparent` of the work that produced the event (the
    /// CloudEvents distributed-tracing extension); consumers continue it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    pub data: T,
}

impl<T> CloudEvent<T> {
    /// Wraps `data` in an envelope stamped with the current trace context
    /// (a new trace when the work runs outside any).
    pub fn new(
        id: impl Into<String>,
        source: impl Into<String>,
        event_type: impl Into<String>,
        subject: Option<String>,
        time: DateTime<Utc>,
        data: T,
    ) -> Self {
        let trace = crate::trace::current().unwrap_or_else(crate::trace::TraceContext::root);
        Self::in_trace(
            id,
            source,
            event_type,
            subject,
            time,
            data,
            Some(trace.to_string()),
        )
    }

    /// The trace id of the event's `traceparent`, as logged.
    pub fn trace_id(&self) -> Option<String> {
        self.traceparent
            .as_deref()
            .and_then(crate::trace::TraceContext::parse)
            .map(|trace| trace.trace_id_hex())
    }

    /// Wraps `data` in an envelope in the trace given (or none).
    pub fn in_trace(
        id: impl Into<String>,
        source: impl Into<String>,
        event_type: impl Into<String>,
        subject: Option<String>,
        time: DateTime<Utc>,
        data: T,
        traceparent: Option<String>,
    ) -> Self {
        Self {
            specversion: "1.0".into(),
            id: id.into(),
            source: source.into(),
            event_type: event_type.into(),
            subject,
            time,
            datacontenttype: "application/json".into(),
            traceparent,
            data,
        }
    }
}

/// A `task-events` message: one change to one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskEventMessage {
    pub event_type: TaskEventType,
    pub task_id: i64,
    /// The task after the change; for `deleted`, the task as it was.
    pub task_data: Task,
    /// The owner of the task's list (JWT `sub`); also the partition key.
    pub user_id: String,
    /// Who made the change (the owner, or a member of a shared list).
    #[serde(default)]
    pub actor: EventActor,
    /// When the change committed.
    pub timestamp: DateTime<Utc>,
    /// Changed fields with old and new values.
    pub changes: BTreeMap<String, FieldChange>,
    /// The outbox sequence number: global order, and the SSE event id.
    pub sequence: i64,
    /// The surface the change came through.
    pub source: Source,
    /// For `moved` to another list: the list it left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_list_id: Option<i64>,
    /// For `moved` to another list: the list it is in now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_list_id: Option<i64>,
    /// False when, as the event was published, neither its owner nor a
    /// member of its list had an enabled webhook endpoint: the webhook
    /// consumer need not look. Absent: not known (look).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<bool>,
}

/// A `task-events` message about a list (CloudEvents type
/// `taskflow.list.*.v1`): one change to one list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListEventMessage {
    pub event_type: ListEventType,
    pub list_id: i64,
    /// The list after the change; for `deleted`, the list as it was.
    pub list_data: List,
    /// The owner; also the partition key.
    pub user_id: String,
    /// Who made the change.
    #[serde(default)]
    pub actor: EventActor,
    pub timestamp: DateTime<Utc>,
    pub changes: BTreeMap<String, FieldChange>,
    /// The outbox sequence number.
    pub sequence: i64,
    pub source: Source,
}

/// What a `task-updates` notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// A task changed.
    Task,
    /// A notification was created.
    NotificationCreated,
    /// A list changed.
    List,
}

/// A `task-updates` message: a lightweight notice for live views, which fetch
/// what they need. It reaches the owner (`user_id`) and, for a task or a
/// list, the list's members at that moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskUpdate {
    pub kind: UpdateKind,
    pub user_id: String,
    pub task_id: Option<i64>,
    /// The list of the task, or the list changed.
    #[serde(default)]
    pub list_id: Option<i64>,
    /// For a task moved to another list: the list it left (whose members
    /// hear of it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_list_id: Option<i64>,
    /// For a membership notice (`member_added`, `member_changed`,
    /// `member_removed`): the member concerned, who hears of it even when it
    /// ends their access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// For task notices: created, updated, completed, reopened, deleted or
    /// moved.
    pub change: Option<TaskEventType>,
    /// For list notices: created, updated, moved, archived, unarchived or
    /// deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_change: Option<ListEventType>,
    /// Names of the changed fields.
    #[serde(default)]
    pub fields: Vec<String>,
    /// For notification notices: the notification's id.
    pub notification_id: Option<i64>,
    /// Who made a task or list change: a person, or an agent acting for
    /// one (so a live view can say "Claude for Alice").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<EventActor>,
    /// The outbox sequence number (the SSE event id).
    pub sequence: i64,
}

/// Which instant a `reminders` message announces.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReminderKind {
    /// The task's reminder time has come.
    ReminderDue,
    /// The task's due time has passed and it is still open.
    TaskOverdue,
}

impl ReminderKind {
    /// The snake-case name (the serde name).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The versioned CloudEvents type.
    pub fn cloud_event_type(self) -> &'static str {
        match self {
            ReminderKind::ReminderDue => "taskflow.reminder.due.v1",
            ReminderKind::TaskOverdue => "taskflow.task.overdue.v1",
        }
    }

    /// The id of the `reminders` message of `task`'s `instant`: the same
    /// whoever fires it and however often it is published.
    pub fn event_id(self, task: i64, instant: DateTime<Utc>) -> Uuid {
        let kind = match self {
            ReminderKind::ReminderDue => "reminder",
            ReminderKind::TaskOverdue => "overdue",
        };
        Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!(
                "taskflow-reminder/{task}/{kind}/{}",
                instant.timestamp_micros()
            )
            .as_bytes(),
        )
    }
}

/// The CloudEvents type of a task's `task-updates` notice.
pub const TASK_UPDATE_TYPE: &str = "taskflow.task.update.v1";
/// The CloudEvents type of a new notification's `task-updates` notice.
pub const NOTIFICATION_CREATED_TYPE: &str = "taskflow.notification.created.v1";

/// The id of a message derived from event `event_id` under `salt` (a
/// change's `task-updates` notice: the topic; the outbox row of a
/// reminder's notification: `notification`): the same every time.
pub fn derived_id(event_id: Uuid, salt: &str) -> Uuid {
    Uuid::new_v5(&event_id, salt.as_bytes())
}

/// A `reminders` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReminderMessage {
    pub kind: ReminderKind,
    pub user_id: String,
    pub task_id: i64,
    pub title: String,
    /// The task's due instant, if it has one.
    pub due_at: Option<DateTime<Utc>>,
    /// The instant that was reached (the reminder or due instant).
    pub fire_at: DateTime<Utc>,
}
