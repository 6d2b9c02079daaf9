//! A broker outage while a reminder is delivered: `taskflow-reminders`,
//! beside a sidecar double that refuses every publish, answers the
//! sidecar's delivery of a `reminders` message at once. The notification is
//! recorded and its notice committed to the outbox in one transaction; no
//! handler publishes from inside a delivery, so nothing holds the request
//! open. When the broker is back, the relay publishes the notice.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use taskflow_testkit::process::{Listening, exit_status, sigterm, spawn_listening};
use taskflow_testkit::sidecar::Sidecar;
use taskflow_testkit::wait_for;
use tokio::process::Command;

const APP_TOKEN: &str = "outage-token";

#[tokio::test]
async fn a_broker_outage_never_holds_a_reminder_delivery_open() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("taskflow.db").display()
    );
    let sidecar = Sidecar::start("pubsub").await;
    sidecar.set_app_token(APP_TOKEN);
    let Listening { mut child, url, .. } = spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_taskflow-reminders"))
            .args(["--listen", "127.0.0.1:0", "--migrate"])
            .env("TASKFLOW_DATABASE_URL", &database)
            .env("TASKFLOW_JWT_SECRET", "outage-secret")
            .env("DAPR_HTTP_PORT", sidecar.port().to_string())
            .env("APP_API_TOKEN", APP_TOKEN)
            .env("RUST_LOG", "error"),
    )
    .await;

    // The broker goes away; then the sidecar delivers a reminder.
    sidecar.set_refusing(true);
    let reminder = json!({
        "specversion": "1.0",
        "id": "0192f6c0-0000-7000-8000-000000000001",
        "source": "taskflow",
        "type": "taskflow.reminder.due.v1",
        "datacontenttype": "application/json",
        "time": Utc::now().to_rfc3339(),
        "data": {"kind": "reminder_due", "user_id": "alice", "task_id": 7,
                 "title": "water the plants", "due_at": null, "fire_at": Utc::now().to_rfc3339()},
    });
    let asked = Instant::now();
    let answer = reqwest::Client::new()
        .post(format!("{url}/api/events/reminders"))
        .header("dapr-api-token", APP_TOKEN)
        .json(&reminder)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the delivery is answered while the broker is down");
    let took = asked.elapsed();
    assert_eq!(answer.status(), 200);
    let outcome: Value = answer.json().await.unwrap();
    assert_eq!(outcome["status"], "SUCCESS");
    assert!(took < Duration::from_secs(2), "the delivery took {took:?}");

    // The relay keeps trying, and nothing has gone out.
    wait_for(
        "the relay to try to publish the notice",
        Duration::from_secs(10),
        || async { sidecar.publish_calls() > 0 },
    )
    .await;
    assert!(sidecar.published_on("task-updates").is_empty());

    // The broker is back: the notice goes out, once, with the row's id.
    sidecar.set_refusing(false);
    let notices = || sidecar.published_on("task-updates");
    wait_for(
        "the relay to publish the notification's notice",
        Duration::from_secs(30),
        || async { !notices().is_empty() },
    )
    .await;
    let notice = &notices()[0].event;
    assert_eq!(notice["type"], "taskflow.notification.created.v1");
    assert_eq!(notice["data"]["kind"], "notification_created");
    assert_eq!(notice["data"]["user_id"], "alice");
    assert_eq!(notice["data"]["task_id"], 7);
    assert!(notice["data"]["notification_id"].as_i64().unwrap() > 0);
    assert!(notice["data"]["sequence"].as_i64().unwrap() > 0);

    sigterm(&child);
    assert!(
        exit_status(&mut child).await.success(),
        "the role stops cleanly"
    );
}
