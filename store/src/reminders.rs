//! The reminder operations of the TaskService: claiming the reminders and
//! overdue notices whose instant has come (each (task, kind, instant) once,
//! whatever the number of schedulers), the next instant to wake at, and the
//! dispatches' own small outbox.

use chrono::{DateTime, Duration, Utc};
use taskflow_events::trace::TraceContext;
use taskflow_events::{CloudEvent, Message, REMINDERS};
use uuid::Uuid;

use crate::database::dispatch;
use crate::outbox::EVENT_SOURCE;
use crate::record::DispatchRow;
use crate::{Result, TaskService};

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
    pub async fn claim_due_reminders(&self, limit: u32) -> Result<Vec<Dispatch>> {
        let now = self.now();
        let rows =
            dispatch!(self.database(), pools => sql::claim_due_reminders(pools, now, limit).await)?;
        Ok(rows.into_iter().map(Dispatch::from_row).collect())
    }

    /// The earliest instant a reminder or overdue notice will be due (it may
    /// have passed already), if any.
    pub async fn next_reminder_instant(&self) -> Result<Option<DateTime<Utc>>> {
        let now = self.now();
        dispatch!(self.database(), pools => sql::next_reminder_instant(pools, now).await)
    }

    /// Dispatches recorded more than `grace` ago whose publication was never
    /// confirmed (their scheduler stopped in between): publish them again.
    pub async fn unpublished_dispatches(
        &self,
        grace: Duration,
        limit: u32,
    ) -> Result<Vec<Dispatch>> {
        let before = self.now() - grace;
        let rows = dispatch!(self.database(), pools => sql::unpublished_dispatches(pools, before, limit).await)?;
        Ok(rows.into_iter().map(Dispatch::from_row).collect())
    }

    /// Records that the transport accepted a dispatch's message.
    pub async fn mark_dispatched(&self, dispatch: &Dispatch) -> Result<()> {
        let now = self.now();
        dispatch!(self.database(), pools => {
            sql::mark_dispatch_published(pools, dispatch.task_id, &dispatch.kind, dispatch.instant, now).await
        })
    }
}
