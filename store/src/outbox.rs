//! The outbox as the relay reads it: committed `task_events` rows not yet
//! handed to the transport, turned into the messages of `task-events` and
//! `task-updates`.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use taskflow_events::{
    CloudEvent, Message, Source, TASK_EVENTS, TASK_UPDATES, TaskEventBody, TaskEventMessage,
    TaskEventType, TaskUpdate, UpdateKind, trace::TraceContext,
};
use uuid::Uuid;

use crate::{Error, Result};

/// The CloudEvent `source` of every event Taskflow publishes.
pub const EVENT_SOURCE: &str = "taskflow";

/// One `task_events` row as the relay selects it.
#[derive(Debug, sqlx::FromRow)]
pub struct OutboxRow {
    sequence: i64,
    event_id: Uuid,
    user_id: String,
    task_id: i64,
    event_type: String,
    source: String,
    occurred_at: DateTime<Utc>,
    /// Decoded per row, so one unreadable row cannot fail a whole batch.
    data: Json<serde_json::Value>,
    traceparent: Option<String>,
}

impl OutboxRow {
    /// The row's owner (also for rows that do not decode).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The row's sequence number.
    pub fn sequence(&self) -> i64 {
        self.sequence
    }
}

/// A committed event waiting to be published.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub sequence: i64,
    pub event_id: Uuid,
    pub user_id: String,
    pub task_id: i64,
    pub event_type: TaskEventType,
    pub source: Source,
    pub occurred_at: DateTime<Utc>,
    pub body: TaskEventBody,
    /// The trace of the work that made the change, if it was traced.
    pub traceparent: Option<String>,
}

impl TryFrom<OutboxRow> for OutboxEvent {
    type Error = Error;

    fn try_from(row: OutboxRow) -> Result<Self> {
        let unknown =
            |what: &str| Error::Internal(format!("event {} has an unknown {what}", row.sequence));
        Ok(OutboxEvent {
            event_type: TaskEventType::parse(&row.event_type).ok_or_else(|| unknown("type"))?,
            source: Source::parse(&row.source).ok_or_else(|| unknown("source"))?,
            body: serde_json::from_value(row.data.0)?,
            sequence: row.sequence,
            event_id: row.event_id,
            user_id: row.user_id,
            task_id: row.task_id,
            occurred_at: row.occurred_at,
            traceparent: row.traceparent,
        })
    }
}

impl OutboxEvent {
    /// The `task-events` payload.
    pub fn task_event(&self) -> TaskEventMessage {
        TaskEventMessage {
            event_type: self.event_type,
            task_id: self.task_id,
            task_data: self.body.task_data.clone(),
            user_id: self.user_id.clone(),
            timestamp: self.occurred_at,
            changes: self.body.changes.clone(),
            sequence: self.sequence,
            source: self.source,
        }
    }

    /// The `task-updates` payload.
    pub fn task_update(&self) -> TaskUpdate {
        TaskUpdate {
            kind: UpdateKind::Task,
            user_id: self.user_id.clone(),
            task_id: Some(self.task_id),
            change: Some(self.event_type),
            fields: self.body.changes.keys().cloned().collect(),
            notification_id: None,
            sequence: self.sequence,
        }
    }

    /// The messages this event is published as: its `task-events` message
    /// (CloudEvent id = the outbox UUID) and its `task-updates` notice (an id
    /// derived from it), so a re-publish keeps both ids; both carry the
    /// change's `traceparent`.
    pub fn messages(&self) -> Result<[Message; 2]> {
        let subject = Some(format!("task/{}", self.task_id));
        // Both messages continue the change's trace (for a change made
        // before tracing, one derived from the event id, the same on every
        // re-publish).
        let traceparent = self
            .traceparent
            .clone()
            .unwrap_or_else(|| TraceContext::of_message(self.event_id.as_u128()).to_string());
        let full = CloudEvent::in_trace(
            self.event_id.to_string(),
            EVENT_SOURCE,
            self.event_type.cloud_event_type(),
            subject.clone(),
            self.occurred_at,
            serde_json::to_value(self.task_event())?,
            Some(traceparent.clone()),
        );
        let notice = CloudEvent::in_trace(
            Uuid::new_v5(&self.event_id, TASK_UPDATES.as_bytes()).to_string(),
            EVENT_SOURCE,
            "taskflow.task.update.v1",
            subject,
            self.occurred_at,
            serde_json::to_value(self.task_update())?,
            Some(traceparent),
        );
        Ok([
            Message {
                topic: TASK_EVENTS,
                key: self.user_id.clone(),
                event: full,
            },
            Message {
                topic: TASK_UPDATES,
                key: self.user_id.clone(),
                event: notice,
            },
        ])
    }
}

/// How far the relay is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RelayLag {
    /// Committed events not yet published.
    pub unpublished: i64,
    /// When the oldest of them was written.
    pub oldest: Option<DateTime<Utc>>,
}

impl RelayLag {
    /// Age of the oldest unpublished event at `now`, in seconds.
    pub fn age_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest
            .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    }
}
