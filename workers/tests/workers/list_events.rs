//! `task-events` carries list changes beside task changes: every consumer
//! of task changes passes them by as handled — never dropped as unreadable,
//! never retried.

use std::sync::Arc;

use serde_json::json;
use taskflow_events::{CloudEvent, ErasedHandler, Outcome};
use taskflow_testkit::harness;
use taskflow_workers::{recurrence::Recurrence, reminders::Reminders};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn task_change_consumers_pass_list_events_by() {
    let h = harness::sqlite().await;
    let handlers: Vec<Arc<dyn ErasedHandler>> = vec![
        Arc::new(Recurrence::new(h.svc.clone())),
        Arc::new(Reminders::new(h.svc.clone())),
    ];
    let event = CloudEvent::new(
        uuid::Uuid::now_v7().to_string(),
        "taskflow",
        "taskflow.list.archived.v1",
        Some("list/3".into()),
        chrono::Utc::now(),
        json!({"event_type": "archived", "list_id": 3, "user_id": "alice", "sequence": 9}),
    );
    let stop = CancellationToken::new();
    for handler in handlers {
        let outcome = handler.deliver(&event, &stop).await;
        assert_eq!(outcome, Outcome::Success, "{handler:?}");
    }
    h.finish().await;
}
