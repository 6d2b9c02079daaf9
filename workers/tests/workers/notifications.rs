//! The notifications worker on SQLite and PostgreSQL: a run of reminder
//! messages becomes one notification per message and user, once however
//! often each is delivered, with each notice in the outbox in its
//! delivery's trace; a message that is not ours is dropped alone.

use chrono::Utc;
use taskflow_core::{NotificationQuery, UnreadCount};
use taskflow_events::trace::TraceContext;
use taskflow_events::{Delivery, Handler, Outcome, ReminderKind, ReminderMessage};
use taskflow_store::Body;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;
use taskflow_workers::notifications::Notifications;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn delivery(id: &str, user: &str, task_id: i64) -> Delivery<ReminderMessage> {
    Delivery {
        id: id.into(),
        event_type: ReminderKind::ReminderDue.cloud_event_type().into(),
        data: ReminderMessage {
            kind: ReminderKind::ReminderDue,
            user_id: user.into(),
            task_id,
            title: format!("task {task_id}"),
            due_at: None,
            fire_at: Utc::now(),
        },
        stop: CancellationToken::new(),
        trace: TraceContext::root(),
    }
}

on_both_databases!(a_run_of_reminders_becomes_one_notification_each_per_user);

async fn a_run_of_reminders_becomes_one_notification_each_per_user(h: &Harness) {
    let worker = Notifications::new(h.svc.clone());
    let before = Uuid::new_v4().to_string();
    assert_eq!(
        worker.handle(delivery(&before, "alice", 1)).await,
        Outcome::Success
    );
    let run = vec![
        delivery(&Uuid::new_v4().to_string(), "alice", 2),
        // Delivered again: recorded once.
        delivery(&before, "alice", 1),
        delivery("not-a-uuid", "alice", 3),
        delivery(&Uuid::new_v4().to_string(), "bob", 4),
        delivery(&Uuid::new_v4().to_string(), "bob", 5),
    ];
    let traces: Vec<_> = run.iter().map(|d| d.trace).collect();
    assert_eq!(
        worker.handle_batch(run).await,
        [
            Outcome::Success,
            Outcome::Success,
            Outcome::Drop,
            Outcome::Success,
            Outcome::Success
        ]
    );
    for (user, tasks) in [("alice", vec![2, 1]), ("bob", vec![5, 4])] {
        let page = h
            .svc
            .notifications(user, &NotificationQuery::default())
            .await
            .unwrap();
        let got: Vec<_> = page
            .notifications
            .iter()
            .filter_map(|n| n.task_id)
            .collect();
        assert_eq!(got, tasks, "{user}'s notifications, newest first");
        assert_eq!(
            h.svc.unread_count(user).await.unwrap(),
            UnreadCount { unread: 2 }
        );
    }
    // Each notice continues its own delivery's trace.
    let bob = h.svc.database().events_after("bob", 0, 100).await.unwrap();
    let noticed: Vec<_> = bob
        .iter()
        .filter(|e| matches!(e.body, Body::NotificationCreated { .. }))
        .map(|e| (e.task_id, e.traceparent.clone().unwrap()))
        .collect();
    assert_eq!(noticed.len(), 2);
    for ((task, traceparent), trace) in noticed.iter().zip(&traces[3..]) {
        let parsed = TraceContext::parse(traceparent).unwrap();
        assert_eq!(parsed.trace_id, trace.trace_id, "task {task}");
    }
}
