//! The live stream end to end, black-box against `taskflow serve`: changes
//! (including a next occurrence made by the recurrence worker) reach the
//! owner's SSE stream and nobody else's; a reconnect with `Last-Event-ID`
//! gets exactly what it missed; stream tickets work for browsers; SIGTERM
//! ends open streams cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use std::time::Duration;

use serde_json::{Value, json};
use taskflow_testkit::process::{Listening, exit_status, sigterm, spawn_listening};
use taskflow_testkit::sse::Stream;
use tokio::process::{Child, Command};

const DEADLINE: Duration = Duration::from_secs(20);

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

async fn serve() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let Listening {
        child, url: base, ..
    } = spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_taskflow"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("TASKFLOW_DATA_DIR", dir.path())
            .env("TASKFLOW_JWT_SECRET", "stream-test-secret")
            .env_remove("TASKFLOW_DATABASE_URL")
            .env("RUST_LOG", "warn"),
    )
    .await;
    Server {
        child,
        base,
        _dir: dir,
    }
}

fn token(user: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taskflow"))
        .args(["token", "--user", user])
        .env("TASKFLOW_JWT_SECRET", "stream-test-secret")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn post(base: &str, token: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn changes_reach_only_their_owners_stream_and_reconnects_replay_what_was_missed() {
    let server = serve().await;
    let (alice, bob) = (token("alice"), token("bob"));
    let mut alices = Stream::open(&server.base, &alice, None).await;
    let mut bobs = Stream::open(&server.base, &bob, None).await;

    let weekly = post(&server.base, &alice, "/api/tasks", json!({"title": "standup", "due": "2036-03-24T09:00", "timezone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY"})).await;
    let id = weekly["id"].as_i64().unwrap();
    let created = alices.expect().await;
    assert_eq!(
        (created.name.as_str(), created.data["task_id"].as_i64()),
        ("task.created", Some(id))
    );
    post(
        &server.base,
        &alice,
        &format!("/api/tasks/{id}/complete"),
        json!({}),
    )
    .await;
    let completed = alices.expect().await;
    assert_eq!(completed.name, "task.completed");
    assert!(completed.id > created.id);
    // The recurrence worker's next occurrence arrives on the same stream.
    let next = alices.expect().await;
    assert_eq!(next.name, "task.created");
    let next_id = next.data["task_id"].as_i64().unwrap();
    let fetched: Value = reqwest::Client::new()
        .get(format!("{}/api/tasks/{next_id}", server.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["due"], "2036-03-31T09:00:00");

    // Bob saw none of it: his first event is his own task.
    let mine = post(&server.base, &bob, "/api/tasks", json!({"title": "bob's"})).await;
    let first = bobs.expect().await;
    assert_eq!(first.data["task_id"], mine["id"]);
    assert_eq!(first.data["user_id"], "bob");

    // Alice disconnects; two changes happen; a reconnect replays exactly them.
    let last_seen = next.id.unwrap();
    drop(alices);
    post(
        &server.base,
        &alice,
        "/api/tasks",
        json!({"title": "while away 1"}),
    )
    .await;
    post(
        &server.base,
        &alice,
        "/api/tasks",
        json!({"title": "while away 2"}),
    )
    .await;
    let mut again = Stream::open(&server.base, &alice, Some(last_seen)).await;
    let (a, b) = (again.expect().await, again.expect().await);
    assert_eq!(
        (a.name.as_str(), b.name.as_str()),
        ("task.created", "task.created")
    );
    assert!(a.id.unwrap() > last_seen && b.id.unwrap() > a.id.unwrap());
    // Then live again.
    post(&server.base, &alice, "/api/tasks", json!({"title": "live"})).await;
    assert!(again.expect().await.id > b.id);

    // SIGTERM ends open streams cleanly and the process exits 0.
    sigterm(&server.child);
    assert!(
        tokio::time::timeout(DEADLINE, again.next())
            .await
            .unwrap()
            .is_none()
    );
    let mut child = server.child;
    let status = exit_status(&mut child).await;
    assert!(status.success());
}

#[tokio::test]
async fn a_last_event_id_this_server_never_issued_asks_the_client_to_resync() {
    let server = serve().await;
    let alice = token("alice");
    let mut stream = Stream::open(&server.base, &alice, Some(1_000_000)).await;
    assert_eq!(stream.expect().await.name, "resync");
    // Then live updates follow as usual.
    post(
        &server.base,
        &alice,
        "/api/tasks",
        json!({"title": "after resync"}),
    )
    .await;
    assert_eq!(stream.expect().await.name, "task.created");
}

#[tokio::test]
async fn browsers_use_a_short_lived_stream_ticket() {
    let server = serve().await;
    let alice = token("alice");
    let ticket = post(&server.base, &alice, "/api/stream/ticket", json!({})).await;
    assert_eq!(ticket["expires_in"], 60);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    let mut stream = Stream::open(&server.base, &format!("ticket={ticket}"), None).await;
    post(
        &server.base,
        &alice,
        "/api/tasks",
        json!({"title": "seen by the browser"}),
    )
    .await;
    assert_eq!(stream.expect().await.data["user_id"], "alice");
    // A ticket is not a bearer token, and a bad ticket is refused.
    let as_bearer = reqwest::Client::new()
        .get(format!("{}/api/tasks", server.base))
        .bearer_auth(&ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), 401);
    let forged = reqwest::get(format!("{}/api/stream/tasks?ticket=forged", server.base))
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let anonymous = reqwest::get(format!("{}/api/stream/tasks", server.base))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
