//! Unit tests of the task operations that need the store's insides.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use std::time::Duration;

use taskflow_core::{CreateTask, UpdateTask};
use taskflow_events::Source;

use crate::{Actor, Database, TaskService};

/// Whether `write` wakes the relay: a wait registered before it runs is
/// woken within a second (nothing else commits here).
async fn wakes<T>(db: &Database, write: impl std::future::Future<Output = T>) -> bool {
    // Consume a wake-up left over from an earlier write, if any.
    let _ = tokio::time::timeout(Duration::ZERO, db.commits().notified()).await;
    let woken = db.commits().notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    write.await;
    tokio::time::timeout(Duration::from_secs(1), woken)
        .await
        .is_ok()
}

/// Every write path wakes the relay where it commits, so none can
/// leave its event waiting for the poll backstop.
#[tokio::test]
async fn every_write_path_wakes_the_relay_where_it_commits() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.migrate().await.unwrap();
    let svc = TaskService::new(db.clone());
    let alice = Actor::new("alice", Source::Api);
    let plain = CreateTask {
        title: "batched".into(),
        ..CreateTask::default()
    };
    let daily = CreateTask {
        title: "one transaction".into(),
        due: Some("2026-03-24".into()),
        recurrence: Some("FREQ=DAILY".into()),
        ..CreateTask::default()
    };
    let rename = UpdateTask {
        title: Some("renamed".into()),
        ..UpdateTask::default()
    };
    let (mut task, mut series) = (None, None);
    assert!(
        wakes(&db, async {
            task = svc.create(&alice, &plain, None).await.ok()
        })
        .await
    );
    let task = task.expect("created").id;
    assert!(
        wakes(&db, async {
            series = svc.create(&alice, &daily, None).await.ok()
        })
        .await
    );
    let series = series.expect("created").id;
    let keyed = svc.create(&alice, &plain, Some("key-1"));
    assert!(wakes(&db, keyed).await, "an idempotent create");
    assert!(
        wakes(&db, svc.update(&alice, task, &rename, None)).await,
        "an update"
    );
    assert!(
        wakes(&db, svc.complete(&alice, series, None, false)).await,
        "a completion"
    );
    let next = svc.next_occurrence("test", uuid::Uuid::now_v7(), "alice", series);
    assert!(wakes(&db, next).await, "a next occurrence");
    assert!(
        wakes(&db, svc.delete(&alice, task, None)).await,
        "a deletion"
    );
    // A write that appends no event does not wake it.
    assert!(!wakes(&db, svc.start_conversation("alice", "hello")).await);
}
