//! Recurrence: when a recurring task is completed, create its next
//! occurrence. Exactly once per completion, however many times the event is
//! delivered (the store records the event id with the new task), and at most
//! once per occurrence.

use taskflow_events::{
    Delivery, Handler, Outcome, TASK_EVENT_PREFIX, TASK_EVENTS, TaskEventMessage, TaskEventType,
};
use taskflow_store::{Error, TaskService};
use uuid::Uuid;

/// Consumes `task-events` and creates next occurrences.
#[derive(Debug, Clone)]
pub struct Recurrence {
    tasks: TaskService,
}

impl Recurrence {
    /// A recurrence handler writing through `tasks`.
    pub fn new(tasks: TaskService) -> Self {
        Self { tasks }
    }
}

impl Handler for Recurrence {
    type Payload = TaskEventMessage;
    const TOPIC: &'static str = TASK_EVENTS;
    const NAME: &'static str = "recurrence";

    fn accepts(event_type: &str) -> bool {
        event_type.starts_with(TASK_EVENT_PREFIX)
    }

    async fn handle(&self, delivery: Delivery<TaskEventMessage>) -> Outcome {
        let event = &delivery.data;
        if event.event_type != TaskEventType::Completed || event.task_data.recurrence.is_none() {
            return Outcome::Success;
        }
        let Ok(event_id) = Uuid::parse_str(&delivery.id) else {
            tracing::warn!(id = %delivery.id, "completion event without a UUID id; dropping");
            return Outcome::Drop;
        };
        match self
            .tasks
            .next_occurrence(Self::NAME, event_id, &event.user_id, event.task_id)
            .await
        {
            Ok(Some(next)) => {
                tracing::info!(task = event.task_id, next = next.id, due = ?next.due, "created the next occurrence");
                Outcome::Success
            }
            Ok(None) => Outcome::Success,
            Err(Error::Invalid(err)) => {
                tracing::warn!(task = event.task_id, error = %err, "cannot create the next occurrence; dropping");
                Outcome::Drop
            }
            Err(err) => {
                tracing::warn!(task = event.task_id, error = %err, "next occurrence failed; will retry");
                Outcome::Retry
            }
        }
    }
}
