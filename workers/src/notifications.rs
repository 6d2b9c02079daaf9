//! Notifications: each `reminders` message (a reminder time came, or a task
//! became overdue) becomes one notification row for the task's owner, once
//! however many times the message is delivered. The row's
//! `notification_created` notice for open dashboards is committed to the
//! outbox with it, so a delivery never waits on the broker. A run of
//! messages (200 reminders on one instant) is recorded in one transaction
//! per user.

use taskflow_core::NotificationKind;
use taskflow_events::{Delivery, Handler, Outcome, REMINDERS, ReminderKind, ReminderMessage};
use taskflow_store::{Error, NewNotification, TaskService};
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

    /// Records one user's run; one outcome for the whole run.
    async fn record(&self, user: &str, run: &[NewNotification]) -> Outcome {
        match self.tasks.record_notifications(Self::NAME, user, run).await {
            Ok(_) => Outcome::Success,
            Err(Error::Invalid(err)) => {
                tracing::warn!(user, error = %err, "cannot record the notification; dropping");
                Outcome::Drop
            }
            Err(err) => {
                tracing::warn!(user, error = %err, "recording notifications failed; will retry");
                Outcome::Retry
            }
        }
    }
}

/// The notification a delivered message asks for (None: not one of ours).
fn notification(delivery: &Delivery<ReminderMessage>) -> Option<NewNotification> {
    let message = &delivery.data;
    let Ok(event_id) = Uuid::parse_str(&delivery.id) else {
        tracing::warn!(id = %delivery.id, "reminder without a UUID id; dropping");
        return None;
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
    Some(NewNotification {
        event_id,
        task_id: message.task_id,
        kind,
        text,
        traceparent: Some(delivery.trace.to_string()),
    })
}

impl Handler for Notifications {
    type Payload = ReminderMessage;
    const TOPIC: &'static str = REMINDERS;
    const NAME: &'static str = "notifications";

    async fn handle(&self, delivery: Delivery<ReminderMessage>) -> Outcome {
        match notification(&delivery) {
            Some(one) => self.record(&delivery.data.user_id, &[one]).await,
            None => Outcome::Drop,
        }
    }

    /// Each user's consecutive messages in one transaction (a message
    /// that is not one of ours is dropped alone); after a run that must be
    /// retried, the rest are retried too, so none overtakes it.
    async fn handle_batch(&self, deliveries: Vec<Delivery<ReminderMessage>>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(deliveries.len());
        for run in deliveries.chunk_by(|a, b| a.data.user_id == b.data.user_id) {
            if outcomes.last() == Some(&Outcome::Retry) {
                outcomes.extend(run.iter().map(|_| Outcome::Retry));
                continue;
            }
            let wanted: Vec<_> = run.iter().map(notification).collect();
            let ours: Vec<bool> = wanted.iter().map(Option::is_some).collect();
            let batch: Vec<_> = wanted.into_iter().flatten().collect();
            let together = if batch.is_empty() {
                Outcome::Drop
            } else {
                self.record(&run[0].data.user_id, &batch).await
            };
            outcomes.extend(
                ours.into_iter()
                    .map(|ours| if ours { together } else { Outcome::Drop }),
            );
            tracing::debug!(
                consumer = Self::NAME,
                user = %run[0].data.user_id,
                events = run.len(),
                outcome = together.dapr_status(),
                "handled a run"
            );
        }
        outcomes
    }
}
