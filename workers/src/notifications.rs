//! Notifications: each `reminders` message (a reminder time came, or a task
//! became overdue) becomes one notification row for the task's owner, once
//! however many times the message is delivered, announced by a
//! `notification_created` message on `task-updates` for open dashboards.

use std::sync::Arc;

use taskflow_core::{Notification, NotificationKind};
use taskflow_events::{
    CloudEvent, Delivery, Handler, Message, Outcome, Publisher, REMINDERS, ReminderKind,
    ReminderMessage, TASK_UPDATES, TaskUpdate, UpdateKind,
};
use taskflow_store::{EVENT_SOURCE, Error, TaskService};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Consumes `reminders`, records notifications and announces them.
#[derive(Debug, Clone)]
pub struct Notifications {
    tasks: TaskService,
    updates: Arc<dyn Publisher>,
}

impl Notifications {
    /// A notifications handler writing through `tasks` and announcing on
    /// `task-updates` through `updates`.
    pub fn new(tasks: TaskService, updates: Arc<dyn Publisher>) -> Self {
        Self { tasks, updates }
    }

    /// Announces a new notification. Live delivery only: the row is already
    /// committed, and a dashboard that missed this refetches on reconnect.
    async fn announce(&self, event_id: Uuid, user: &str, notification: &Notification) {
        let update = TaskUpdate {
            kind: UpdateKind::NotificationCreated,
            user_id: user.to_owned(),
            task_id: notification.task_id,
            change: None,
            fields: Vec::new(),
            notification_id: Some(notification.id),
            sequence: 0,
        };
        let Ok(data) = serde_json::to_value(&update) else {
            return;
        };
        let message = Message {
            topic: TASK_UPDATES,
            key: user.to_owned(),
            event: CloudEvent::new(
                Uuid::new_v5(&event_id, TASK_UPDATES.as_bytes()).to_string(),
                EVENT_SOURCE,
                "taskflow.notification.created.v1",
                notification.task_id.map(|id| format!("task/{id}")),
                notification.created_at,
                data,
            ),
        };
        // The publisher retries until the transport takes it.
        let _ = self
            .updates
            .publish(&message, &CancellationToken::new())
            .await;
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
            Ok(Some(notification)) => {
                self.announce(event_id, &message.user_id, &notification)
                    .await;
                Outcome::Success
            }
            Ok(None) => Outcome::Success,
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
