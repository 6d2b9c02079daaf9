//! Agent context: which of a user's resources changed. Fed by `task-events`
//! (the in-process bus under `serve`, a Dapr subscription in a cluster, or a
//! tail of the outbox table where another process writes the same SQLite
//! file); read by subscribed MCP sessions.

use std::time::Duration;

use taskflow_events::{
    Delivery, Handler, Outcome, PerUser, TASK_EVENT_PREFIX, TASK_EVENTS, TaskEventMessage,
};
use taskflow_store::Database;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Changes buffered per user before a slow session misses some (it then
/// re-reads everything it watches).
const BUFFER: usize = 256;

/// A change to one of a user's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Task(i64),
    /// Changes were missed: everything may have changed.
    Unknown,
}

impl Change {
    /// The resource URIs this change may have updated.
    pub fn uris(self) -> Vec<String> {
        let mut uris = vec![
            crate::resources::TODAY.to_owned(),
            crate::resources::OVERDUE.to_owned(),
            crate::resources::ACTIVITY.to_owned(),
        ];
        if let Change::Task(id) = self {
            uris.push(crate::resources::task_uri(id));
        }
        uris
    }
}

/// Per-user fan-out of task changes to MCP sessions. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Watch(PerUser<Change>);

impl Default for Watch {
    fn default() -> Self {
        Watch(PerUser::new(BUFFER))
    }
}

impl Watch {
    /// Announces a change of `user`'s task.
    pub fn changed(&self, user: &str, task_id: i64) {
        self.0.send(user, Change::Task(task_id));
    }

    /// The user's changes from now on.
    pub fn subscribe(&self, user: &str) -> broadcast::Receiver<Change> {
        self.0.subscribe(user)
    }

    /// Follows the outbox table from its end until `stop`, announcing each
    /// new event: for processes that share a SQLite file with the one whose
    /// relay publishes (SQLite commits in sequence order, so nothing is
    /// skipped). Polls four times a second.
    pub async fn tail(self, db: Database, stop: CancellationToken) {
        let mut after = match db.last_sequence().await {
            Ok(last) => last,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the outbox; MCP resource updates are off");
                return;
            }
        };
        loop {
            match db.events_since(after, 500).await {
                Ok(events) => {
                    for (sequence, user, task_id) in &events {
                        self.changed(user, *task_id);
                        after = after.max(*sequence);
                    }
                    if events.len() == 500 {
                        continue;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "reading the outbox for MCP updates failed")
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }
}

impl Handler for Watch {
    type Payload = TaskEventMessage;
    const TOPIC: &'static str = TASK_EVENTS;
    const NAME: &'static str = "mcp";

    fn accepts(event_type: &str) -> bool {
        event_type.starts_with(TASK_EVENT_PREFIX)
    }

    async fn handle(&self, delivery: Delivery<TaskEventMessage>) -> Outcome {
        self.changed(&delivery.data.user_id, delivery.data.task_id);
        Outcome::Success
    }
}
