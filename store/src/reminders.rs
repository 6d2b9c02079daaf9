//! The reminder operations of the TaskService: claiming the reminders and
//! overdue notices whose instant has come (each (task, kind, instant) once,
//! whatever the number of schedulers) and the next instant to wake at. A
//! claim appends the `reminders` message to the outbox in its transaction;
//! the relay publishes it like every other message.

use chrono::{DateTime, Utc};
use taskflow_events::trace::TraceContext;
use taskflow_events::{ReminderKind, ReminderMessage, Source};

use crate::database::query;
use crate::outbox::{self, Body, NewEvent};
use crate::tasks::sql::claim_due;
use crate::{Result, TaskService};

/// The `reminder_dispatches.kind` of a reminder kind.
fn dispatch_kind(kind: ReminderKind) -> &'static str {
    match kind {
        ReminderKind::ReminderDue => "reminder",
        ReminderKind::TaskOverdue => "overdue",
    }
}

/// A reminder or overdue notice that has fired: its message is in the
/// outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub task_id: i64,
    pub kind: ReminderKind,
    /// The instant that came.
    pub instant: DateTime<Utc>,
}

impl Fired {
    /// `reminder` or `overdue`, for metrics.
    pub fn label(&self) -> &'static str {
        dispatch_kind(self.kind)
    }
}

impl TaskService {
    /// Claims the reminders and overdue notices due now (up to `limit` of
    /// each) and returns those firing for the first time, their messages
    /// appended to the outbox in the same transaction.
    ///
    /// Each (task, kind, instant) fires once, however many schedulers claim:
    /// an instant moved away and back has already fired.
    pub async fn claim_due_reminders(&self, limit: u32) -> Result<Vec<Fired>> {
        let now = self.now();
        let mut tx = self.database().begin().await?;
        let mut fired = Vec::new();
        for kind in [ReminderKind::ReminderDue, ReminderKind::TaskOverdue] {
            for task in claim_due(&mut tx, kind, now, limit).await? {
                let first = query(
                    "INSERT INTO reminder_dispatches (task_id, kind, due_at, fired_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(task.id)
                .bind(dispatch_kind(kind))
                .bind(task.instant)
                .bind(now)
                .execute(&mut tx)
                .await?;
                if first == 0 {
                    continue;
                }
                let event_id = kind.event_id(task.id, task.instant);
                let event = NewEvent {
                    event_id,
                    user_id: &task.user_id,
                    actor_id: &task.user_id,
                    agent_id: None,
                    task_id: task.id,
                    list_id: Some(task.list_id),
                    from_list_id: None,
                    source: Source::Worker,
                    occurred_at: now,
                    body: Body::Reminder(ReminderMessage {
                        kind,
                        user_id: task.user_id.clone(),
                        task_id: task.id,
                        title: task.title.clone(),
                        due_at: task.due_at,
                        fire_at: task.instant,
                    }),
                    // Each fired reminder is a trace of its own.
                    traceparent: Some(TraceContext::of_message(event_id.as_u128()).to_string()),
                };
                outbox::append(&mut tx, &event)?;
                fired.push(Fired {
                    task_id: task.id,
                    kind,
                    instant: task.instant,
                });
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
}
