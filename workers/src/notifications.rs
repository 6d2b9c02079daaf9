//! Notifications: each `reminders` message (a reminder time came, or a task
//! became overdue) becomes one notification row for the task's owner, once
//! however many times the message is delivered. The row's
//! `notification_created` notice for open dashboards is committed to the
//! outbox with it, so a delivery never waits on the broker.

use taskflow_core::NotificationKind;
use taskflow_events::{Delivery, Handler, Outcome, REMINDERS, ReminderKind, ReminderMessage};
use taskflow_store::{Error, TaskService};
use uuid::Uuid;

/// Consumes `reminders` and records notifications.
#[derive(Debug, Clone)]
pub struct Notifications {
    tasks: TaskService,
}

impl Notifications {
    /// A notifications handler writing through `tasks`.
    pub fn new(tasks: TaskService) -> Self {
        Self { tasks }
    }
}

impl Handler for Notifications {
    type Payload = ReminderMessage;
    const TOPIC: &'static str = REMINDERS;
    const NAME: &'static str = "notifications";

    async fn handle(&self, delivery: Delivery<ReminderMessage>) -> Outcome {
        let message = &delivery.data;
        let Ok(event_id) = Uuid::parse_str(&delivery.id) else {
            tracing::warn!(id = %delivery.id, "reminder without a UUID id; dropping");
            return Outcome::Drop;
        };
        let (kind, text) = match message.kind {
            ReminderKind::ReminderDue => (
                NotificationKind::Reminder,
                format!("Reminder: {}", message.title),
            ),
            ReminderKind::TaskOverdue => (
                NotificationKind::Overdue,
                format!("Overdue: {}", message.title),
            ),
        };
        match self
            .tasks
            .record_notification(
                Self::NAME,
                event_id,
                &message.user_id,
                message.task_id,
                kind,
                &text,
            )
            .await
        {
            Ok(_) => Outcome::Success,
            Err(Error::Invalid(err)) => {
                tracing::warn!(task = message.task_id, error = %err, "cannot record the notification; dropping");
                Outcome::Drop
            }
            Err(err) => {
                tracing::warn!(task = message.task_id, error = %err, "recording the notification failed; will retry");
                Outcome::Retry
            }
        }
    }
}
