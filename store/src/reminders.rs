//! The reminder operations of the TaskService: claiming the reminders and
//! overdue notices whose instant has come (each (task, kind, instant) once,
//! whatever the number of schedulers), the next instant to wake at, and the
//! dispatches' own small outbox.

use chrono::{DateTime, Duration, Utc};
use sqlx::types::Json;
use taskflow_events::trace::TraceContext;
use taskflow_events::{CloudEvent, Message, REMINDERS, ReminderKind, ReminderMessage};
use uuid::Uuid;

use crate::database::{Param, query};
use crate::outbox::EVENT_SOURCE;
use crate::tasks::sql::claim_due;
use crate::{Result, TaskService};

/// The columns of a [`DispatchRow`].
const COLUMNS: &str = "task_id, kind, due_at, fired_at, user_id, message";

/// A dispatch whose message the transport may not have confirmed.
#[derive(Debug, sqlx::FromRow)]
struct DispatchRow {
    task_id: i64,
    kind: String,
    /// The instant that came (the key with task and kind).
    due_at: DateTime<Utc>,
    fired_at: DateTime<Utc>,
    user_id: String,
    message: Json<serde_json::Value>,
}

/// The `reminder_dispatches.kind` of a reminder kind.
fn dispatch_kind(kind: ReminderKind) -> &'static str {
    match kind {
        ReminderKind::ReminderDue => "reminder",
        ReminderKind::TaskOverdue => "overdue",
    }
}

/// A reminder or overdue notice that has fired: its `reminders` message and
/// the key of its `reminder_dispatches` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    pub task_id: i64,
    /// `reminder` or `overdue`.
    pub kind: String,
    /// The instant that came.
    pub instant: DateTime<Utc>,
    pub message: Message,
}

impl Dispatch {
    fn from_row(row: DispatchRow) -> Self {
        let id = Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!(
                "taskflow-reminder/{}/{}/{}",
                row.task_id,
                row.kind,
                row.due_at.timestamp_micros()
            )
            .as_bytes(),
        );
        let event_type = match row.kind.as_str() {
            "overdue" => "taskflow.task.overdue.v1",
            _ => "taskflow.reminder.due.v1",
        };
        // Each fired reminder is a trace of its own, the same on a re-publish.
        let event = CloudEvent::in_trace(
            id.to_string(),
            EVENT_SOURCE,
            event_type,
            Some(format!("task/{}", row.task_id)),
            row.fired_at,
            row.message.0,
            Some(TraceContext::of_message(id.as_u128()).to_string()),
        );
        Dispatch {
            task_id: row.task_id,
            kind: row.kind,
            instant: row.due_at,
            message: Message {
                topic: REMINDERS,
                key: row.user_id,
                event,
            },
        }
    }
}

impl TaskService {
    /// Claims the reminders and overdue notices due now (up to `limit` of
    /// each) and returns those firing for the first time, recorded but not
    /// yet published: publish each, then [`TaskService::mark_dispatched`].
    ///
    /// Each (task, kind, instant) fires once, however many schedulers claim:
    /// the claim and the dispatch row with its message are one transaction.
    pub async fn claim_due_reminders(&self, limit: u32) -> Result<Vec<Dispatch>> {
        let now = self.now();
        let mut tx = self.database().begin().await?;
        let mut fired = Vec::new();
        for kind in [ReminderKind::ReminderDue, ReminderKind::TaskOverdue] {
            for task in claim_due(&mut tx, kind, now, limit).await? {
                let message = ReminderMessage {
                    kind,
                    user_id: task.user_id.clone(),
                    task_id: task.id,
                    title: task.title,
                    due_at: task.due_at,
                    fire_at: task.instant,
                };
                // Once per (task, kind, instant): an instant moved away and
                // back has already fired.
                let first: Option<DispatchRow> = query(&format!(
                    "INSERT INTO reminder_dispatches ({COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
                ))
                .bind(task.id)
                .bind(dispatch_kind(kind))
                .bind(task.instant)
                .bind(now)
                .bind(task.user_id.as_str())
                .bind(Param::json(&message)?)
                .fetch_optional(&mut tx)
                .await?;
                fired.extend(first.map(Dispatch::from_row));
            }
        }
        tx.commit().await?;
        Ok(fired)
    }

    /// The earliest instant a reminder or overdue notice will be due (it may
    /// have passed already), if any.
    pub async fn next_reminder_instant(&self) -> Result<Option<DateTime<Utc>>> {
        let mut conn = self.database().read().await?;
        let reminder: Option<DateTime<Utc>> = query(
            "SELECT MIN(remind_at) FROM tasks WHERE NOT completed AND remind_at IS NOT NULL \
             AND reminded_for IS DISTINCT FROM remind_at",
        )
        .scalar(&mut conn)
        .await?;
        // A snoozed past deadline waits for the snooze's end, which is the
        // task's remind_at.
        let overdue: Option<DateTime<Utc>> = query(
            "SELECT MIN(deadline_at) FROM tasks WHERE NOT completed AND deadline_at IS NOT NULL \
             AND overdue_for IS DISTINCT FROM deadline_at AND deadline_at > $1",
        )
        .bind(self.now())
        .scalar(&mut conn)
        .await?;
        Ok(reminder.into_iter().chain(overdue).min())
    }

    /// Dispatches recorded more than `grace` ago whose publication was never
    /// confirmed (their scheduler stopped in between): publish them again.
    pub async fn unpublished_dispatches(
        &self,
        grace: Duration,
        limit: u32,
    ) -> Result<Vec<Dispatch>> {
        let rows: Vec<DispatchRow> = query(&format!(
            "SELECT {COLUMNS} FROM reminder_dispatches \
             WHERE published_at IS NULL AND fired_at <= $1 ORDER BY fired_at LIMIT $2"
        ))
        .bind(self.now() - grace)
        .bind(i64::from(limit))
        .fetch_all(&mut self.database().read().await?)
        .await?;
        Ok(rows.into_iter().map(Dispatch::from_row).collect())
    }

    /// Records that the transport accepted a dispatch's message.
    pub async fn mark_dispatched(&self, dispatch: &Dispatch) -> Result<()> {
        query(
            "UPDATE reminder_dispatches SET published_at = $1 \
             WHERE task_id = $2 AND kind = $3 AND due_at = $4",
        )
        .bind(self.now())
        .bind(dispatch.task_id)
        .bind(dispatch.kind.as_str())
        .bind(dispatch.instant)
        .execute(&mut self.database().write().await?)
        .await?;
        Ok(())
    }
}
