//! Black-box test of `taskflow-api` (= `taskflow api`), the cluster's API service, beside the
//! Dapr sidecar double: it publishes committed changes through the sidecar,
//! answers `/dapr/subscribe`, consumes deliveries (only with the app token),
//! and stops cleanly on SIGTERM. Runs on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use std::time::Duration;

use serde_json::json;
use taskflow_core::{CreateTask, ListQuery};
use taskflow_events::{Source, TASK_EVENTS};
use taskflow_store::Actor;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::process::{Listening, exit_status, sigterm, spawn_listening};
use taskflow_testkit::sidecar::Sidecar;
use taskflow_testkit::{eventually, on_both_databases};
use tokio::process::Command;

on_both_databases!(the_api_service_publishes_through_dapr_and_consumes_its_deliveries);

async fn the_api_service_publishes_through_dapr_and_consumes_its_deliveries(h: &Harness) {
    let sidecar = Sidecar::start("pubsub").await;
    sidecar.set_app_token("app-secret");
    sidecar.set_deliver_twice(true);
    let Listening {
        mut child,
        url: app_url,
        ..
    } = spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_taskflow-api"))
            .args(["--listen", "127.0.0.1:0"])
            .env("TASKFLOW_DATABASE_URL", &h.url)
            .env("TASKFLOW_JWT_SECRET", "jwt-secret")
            .env("DAPR_HTTP_PORT", sidecar.port().to_string())
            .env("APP_API_TOKEN", "app-secret")
            .env("RUST_LOG", "warn"),
    )
    .await;
    sidecar.subscribe(&app_url).await;

    // A stranger without the app token cannot deliver events.
    let forged = reqwest::Client::new()
        .post(format!("{app_url}/api/events/task-events"))
        .json(&json!({"id": "x", "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // A change committed by anyone is published by the service's relay, and
    // the completion comes back as a delivery that creates the next one.
    let alice = Actor::new("alice", Source::Api);
    let input: CreateTask = serde_json::from_value(
        json!({"title": "standup", "due": "2026-03-23T09:00", "recurrence": "FREQ=DAILY"}),
    )
    .unwrap();
    let task = h.svc.create(&alice, &input, None).await.unwrap();
    h.svc.complete(&alice, task.id, None).await.unwrap();
    let svc = &h.svc;
    let next_exists = || async {
        let page = svc.list("alice", &ListQuery::default()).await.unwrap();
        page.tasks.iter().any(|t| {
            t.previous_id == Some(task.id) && t.due.as_deref() == Some("2026-03-24T09:00:00")
        })
    };
    assert!(eventually(Duration::from_secs(30), next_exists).await);
    assert!(
        eventually(Duration::from_secs(30), || async {
            sidecar.count_on(TASK_EVENTS) >= 3
        })
        .await
    );
    let event = &sidecar.published_on(TASK_EVENTS)[0];
    assert_eq!(event.partition_key.as_deref(), Some("alice"));

    // A reminder published (here by hand, as the reminders worker will) is
    // delivered twice, like everything else, and becomes one notification.
    let reminder = json!({
        "specversion": "1.0", "id": "6f1d1c2e-8a4b-4c3d-9e2f-0123456789ab", "source": "taskflow",
        "type": "taskflow.reminder.due.v1", "time": "2026-03-23T08:45:00Z", "datacontenttype": "application/json",
        "data": {"kind": "reminder_due", "user_id": "alice", "task_id": task.id, "title": "standup",
                 "due_at": "2026-03-23T09:00:00Z", "fire_at": "2026-03-23T08:45:00Z"}
    });
    let published = reqwest::Client::new()
        .post(format!("{}/v1.0/publish/pubsub/reminders", sidecar.url()))
        .header("content-type", "application/cloudevents+json")
        .body(reminder.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 204);
    let delivered = sidecar.delivered();
    assert!(
        eventually(Duration::from_secs(30), || async {
            sidecar.delivered() >= delivered + 2
        })
        .await
    );
    let notifications = h
        .svc
        .notifications("alice", &Default::default())
        .await
        .unwrap();
    assert_eq!(notifications.notifications.len(), 1);
    assert_eq!(notifications.notifications[0].text, "Reminder: standup");

    sigterm(&child);
    let status = exit_status(&mut child).await;
    assert!(status.success(), "{status:?}");
}
