//! The cluster end to end on PostgreSQL: `taskflow-api`, `taskflow-sse`,
//! `taskflow-recurrence`, `taskflow-reminders` and `taskflow-webhooks` as
//! separate processes, all
//! publishing through the Dapr sidecar double (which delivers every message
//! twice, as at-least-once delivery may). A reminder fires at its instant
//! and reaches the owner's browser stream as a notification; completing a
//! weekly task creates exactly one next occurrence, which the stream shows;
//! another user's stream sees none of it until a list is shared with him,
//! and then each one's changes in it reach the other, and bob's webhook
//! endpoint, once each, signed; every role stops cleanly.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness;
use taskflow_testkit::process::{Listening, exit_status, sigterm, spawn_listening};
use taskflow_testkit::receiver::Receiver;
use taskflow_testkit::sidecar::Sidecar;
use taskflow_testkit::sse::Stream;
use taskflow_testkit::{Lazy, wait_for};
use tokio::process::{Child, Command};

const SECRET: &str = "cluster-test-secret";
const APP_TOKEN: &str = "app-secret";

struct Role {
    child: Child,
    url: String,
}

async fn start(binary: &str, db_url: &str, sidecar: &Sidecar) -> Role {
    let Listening { child, url, .. } = spawn_listening(
        Command::new(binary)
            .args(["--listen", "127.0.0.1:0"])
            .env("TASKFLOW_DATABASE_URL", db_url)
            .env("TASKFLOW_JWT_SECRET", SECRET)
            .env("DAPR_HTTP_PORT", sidecar.port().to_string())
            .env("APP_API_TOKEN", APP_TOKEN)
            // Webhooks to the test's receiver on loopback.
            .env("TASKFLOW_WEBHOOKS_ALLOW_INSECURE", "true")
            .env("RUST_LOG", "warn"),
    )
    .await;
    sidecar.subscribe(&url).await;
    Role { child, url }
}

fn token(user: &str) -> String {
    TestApp::new("", SECRET.as_bytes()).token(user)
}

/// A call to a role's API (`url` its base and the path) that must succeed.
async fn call(method: reqwest::Method, url: String, user: &str, body: Option<Value>) -> Value {
    TestApp::new("", SECRET.as_bytes())
        .call(method, &url, user, body)
        .await
        .ok()
}

async fn topics(role: &Role) -> Vec<String> {
    let list: Value = reqwest::get(format!("{}/dapr/subscribe", role.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut topics: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["topic"].as_str().unwrap().to_owned())
        .collect();
    topics.sort();
    topics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_roles_work_together_through_the_sidecar() {
    // None only when skipping PostgreSQL was asked for.
    let Some(h) = harness::postgres().await else {
        return;
    };
    let sidecar = Sidecar::start("pubsub").await;
    sidecar.set_app_token(APP_TOKEN);
    sidecar.set_deliver_twice(true);
    let api = start(env!("CARGO_BIN_EXE_taskflow-api"), &h.url, &sidecar).await;
    let sse = start(env!("CARGO_BIN_EXE_taskflow-sse"), &h.url, &sidecar).await;
    let recurrence = start(env!("CARGO_BIN_EXE_taskflow-recurrence"), &h.url, &sidecar).await;
    let reminders = start(env!("CARGO_BIN_EXE_taskflow-reminders"), &h.url, &sidecar).await;
    let webhooks = start(env!("CARGO_BIN_EXE_taskflow-webhooks"), &h.url, &sidecar).await;

    // Each role subscribes to what it consumes, and serves only its routes.
    assert!(topics(&api).await.is_empty());
    assert_eq!(topics(&sse).await, ["task-updates"]);
    assert_eq!(topics(&recurrence).await, ["task-events"]);
    assert_eq!(topics(&reminders).await, ["reminders", "task-events"]);
    assert_eq!(topics(&webhooks).await, ["task-events"]);
    let client = reqwest::Client::new();
    let status = |url: String| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .bearer_auth(token("alice"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(status(format!("{}/api/tasks", recurrence.url)).await, 404);
    assert_eq!(status(format!("{}/api/stream/tasks", api.url)).await, 404);
    assert_eq!(status(format!("{}/api/webhooks", webhooks.url)).await, 404);
    for role in [&api, &sse, &recurrence, &reminders, &webhooks] {
        assert_eq!(status(format!("{}/readyz", role.url)).await, 200);
    }
    // Only the sidecar (with the app token) delivers events.
    let forged = client
        .post(format!("{}/api/events/task-events", recurrence.url))
        .json(&json!({"id": "x", "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // Dapr's cron binding gets exactly 200.
    let swept = client
        .post(format!("{}/reminder-sweep", reminders.url))
        .send()
        .await
        .unwrap();
    assert_eq!(swept.status(), 200);

    let mut alice = Stream::open(&sse.url, &token("alice"), None).await;
    let mut bob = Stream::open(&sse.url, &token("bob"), None).await;

    // A weekly task due tomorrow, with a reminder two seconds from now.
    let now = Utc::now();
    let due = (now + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let remind_at = (now + chrono::Duration::seconds(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let task = call(
        reqwest::Method::POST,
        format!("{}/api/tasks", api.url),
        "alice",
        Some(
            json!({"title": "standup", "due": due, "timezone": "UTC", "recurrence": "FREQ=WEEKLY",
                    "reminder": {"at": remind_at}}),
        ),
    )
    .await;
    let created = alice.expect().await;
    assert_eq!(created.name, "task.created");
    assert_eq!(created.data["task_id"], task["id"]);

    // The reminder fires at its instant and arrives as a notification.
    let notified = alice.expect().await;
    assert_eq!(notified.name, "notification.created", "{notified:?}");
    // A notice is an outbox row like a change: its id is its sequence.
    assert!(notified.id > created.id, "{notified:?} after {created:?}");
    assert!(Utc::now() - now < chrono::Duration::seconds(10));
    let page = call(
        reqwest::Method::GET,
        format!("{}/api/notifications", api.url),
        "alice",
        None,
    )
    .await;
    let notifications = page["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1, "{page}");
    assert_eq!(notifications[0]["text"], "Reminder: standup");
    assert_eq!(notifications[0]["id"], notified.data["notification_id"]);

    // Completing it (in the caller's trace) creates the next occurrence
    // once, a week later, in the same trace.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let completed = client
        .post(format!("{}/api/tasks/{}/complete", api.url, task["id"]))
        .bearer_auth(token("alice"))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(completed.status(), 200);
    assert_eq!(alice.expect().await.name, "task.completed");
    let next = alice.expect().await;
    assert_eq!(next.name, "task.created");
    // The trace went API → outbox → sidecar → recurrence worker → outbox.
    let traces = h
        .raw
        .pairs(&format!(
            "SELECT task_id, traceparent FROM task_events WHERE task_id = {} AND event_type = 'created'",
            next.data["task_id"]
        ))
        .await;
    assert_eq!(traces.len(), 1);
    assert!(
        traces[0].1.starts_with(&format!("00-{trace}-")),
        "{traces:?}"
    );
    let next_task = call(
        reqwest::Method::GET,
        format!("{}/api/tasks/{}", api.url, next.data["task_id"]),
        "alice",
        None,
    )
    .await;
    let next_due = (now + chrono::Duration::days(8))
        .format("%Y-%m-%dT%H:%M:00")
        .to_string();
    assert_eq!(next_task["due"], next_due.as_str());
    assert_eq!(next_task["previous_id"], task["id"]);
    let all = call(
        reqwest::Method::GET,
        format!("{}/api/tasks", api.url),
        "alice",
        None,
    )
    .await;
    assert_eq!(all["tasks"].as_array().unwrap().len(), 2, "{all}");

    // A list and a move travel the same way: api → outbox → sidecar → the
    // sse role (and every task-events role passes the list event by).
    let list = call(
        reqwest::Method::POST,
        format!("{}/api/lists", api.url),
        "alice",
        Some(json!({"title": "Team"})),
    )
    .await;
    let made = alice.expect().await;
    assert_eq!(
        (made.name.as_str(), &made.data["list_id"]),
        ("list.created", &list["id"])
    );
    call(
        reqwest::Method::POST,
        format!("{}/api/tasks/{}/move", api.url, next.data["task_id"]),
        "alice",
        Some(json!({"list_id": list["id"]})),
    )
    .await;
    let moved = alice.expect().await;
    assert_eq!(
        (moved.name.as_str(), &moved.data["list_id"]),
        ("task.moved", &list["id"])
    );

    // Bob's webhook endpoint, made on the api role, sent by the webhooks role.
    let receiver = Receiver::start().await;
    let endpoint = call(
        reqwest::Method::POST,
        format!("{}/api/webhooks", api.url),
        "bob",
        Some(json!({"url": receiver.url()})),
    )
    .await;

    // Bob's stream saw none of it: his first event is his own.
    let mine = call(
        reqwest::Method::POST,
        format!("{}/api/tasks", api.url),
        "bob",
        Some(json!({"title": "bob's"})),
    )
    .await;
    let first = bob.expect().await;
    assert_eq!(first.data["task_id"], mine["id"]);
    assert_eq!(first.data["user_id"], "bob");

    // Alice shares Team with bob: he hears that he is invited and that he
    // joined, his change in
    // it reaches her stream and hers his, each once, through the sidecar.
    call(
        reqwest::Method::GET,
        format!("{}/api/users/me", api.url),
        "bob",
        None,
    )
    .await;
    let invitation = call(
        reqwest::Method::POST,
        format!("{}/api/lists/{}/invitations", api.url, list["id"]),
        "alice",
        Some(json!({"username": "bob", "role": "editor"})),
    )
    .await;
    // He is told of the invitation at once, on his stream.
    assert_eq!(bob.expect().await.name, "notification.created");
    call(
        reqwest::Method::POST,
        format!("{}/api/invitations/{}/accept", api.url, invitation["id"]),
        "bob",
        None,
    )
    .await;
    let joined = bob.expect().await;
    assert_eq!(
        (joined.name.as_str(), &joined.data["member"]),
        ("list.member_added", &json!("bob"))
    );
    assert_eq!(alice.expect().await.name, "list.member_added");
    let bobs_change = call(
        reqwest::Method::POST,
        format!("{}/api/tasks", api.url),
        "bob",
        Some(json!({"title": "agenda", "list_id": list["id"]})),
    )
    .await;
    for stream in [&mut alice, &mut bob] {
        let created = stream.expect().await;
        assert_eq!(
            (created.name.as_str(), &created.data["task_id"]),
            ("task.created", &bobs_change["id"])
        );
        assert_eq!(created.data["user_id"], "alice", "in alice's list");
    }
    call(
        reqwest::Method::POST,
        format!("{}/api/tasks/{}/complete", api.url, bobs_change["id"]),
        "alice",
        Some(json!({})),
    )
    .await;
    for stream in [&mut alice, &mut bob] {
        let completed = stream.expect().await;
        assert_eq!(
            (completed.name.as_str(), &completed.data["task_id"]),
            ("task.completed", &bobs_change["id"])
        );
    }

    // Bob's endpoint got his task and what he saw of Team, each once (the
    // sidecar delivered every event twice), in order, signed.
    wait_for(
        Lazy(|| {
            format!(
                "bob's four deliveries: {:?}",
                receiver
                    .received()
                    .iter()
                    .map(|r| r.json()["type"].clone())
                    .collect::<Vec<_>>()
            )
        }),
        Duration::from_secs(20),
        || async { receiver.accepted().len() >= 4 },
    )
    .await;
    let got = receiver.accepted();
    let types: Vec<_> = got.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [
            "taskflow.task.created.v1",
            "taskflow.list.member_added.v1",
            "taskflow.task.created.v1",
            "taskflow.task.completed.v1"
        ]
    );
    let secret = endpoint["secret"].as_str().unwrap();
    assert!(got.iter().all(|r| r.verifies_with(secret)));
    assert_eq!(got[0].json()["data"]["task"]["title"], "bob's");
    assert_eq!(got[2].json()["data"]["task"]["title"], "agenda");

    // Bob's calendar feed, made and served by the api role, shows what he
    // sees of Team.
    let feed = call(
        reqwest::Method::POST,
        format!("{}/api/calendar-feeds", api.url),
        "bob",
        Some(json!({"lists": "all", "include_completed": true})),
    )
    .await;
    let url = feed["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/feeds/cal_", api.url)),
        "{feed}"
    );
    let ics = client.get(url).send().await.unwrap().text().await.unwrap();
    assert!(ics.contains("SUMMARY:agenda\r\n"), "{ics}");
    assert!(ics.contains("STATUS:COMPLETED\r\n"), "{ics}");

    // CalDAV on the api role: bob's phone signs in with an app password,
    // lists Team as a calendar, and a to-do it PUTs is an ordinary task.
    let made = call(
        reqwest::Method::POST,
        format!("{}/api/app-passwords", api.url),
        "bob",
        Some(json!({"name": "phone", "scopes": ["caldav"]})),
    )
    .await;
    let (user, password) = (
        made["username"].as_str().unwrap(),
        made["password"].as_str().unwrap(),
    );
    let dav = |method: &str, path: String| {
        client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", api.url),
            )
            .basic_auth(user, Some(password))
    };
    let home = dav("PROPFIND", format!("/dav/calendars/{user}/"))
        .header("depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 207);
    let listing = home.text().await.unwrap();
    assert!(
        listing.contains("<d:displayname>Team</d:displayname>"),
        "{listing}"
    );
    let team_id = list["id"].as_i64().unwrap();
    assert!(
        listing.contains(&format!("/dav/calendars/{user}/{team_id}/")),
        "{listing}"
    );
    let todo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VTODO\r\n\
                UID:bobs-phone-1\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:from the phone\r\n\
                END:VTODO\r\nEND:VCALENDAR\r\n";
    let put = dav(
        "PUT",
        format!("/dav/calendars/{user}/{team_id}/phone-1.ics"),
    )
    .body(todo)
    .send()
    .await
    .unwrap();
    assert_eq!(put.status(), 201);
    let listed = call(
        reqwest::Method::GET,
        format!("{}/api/tasks?list_id={team_id}", api.url),
        "alice",
        None,
    )
    .await;
    assert!(listed.to_string().contains("from the phone"), "{listed}");

    for mut role in [api, sse, recurrence, reminders, webhooks] {
        sigterm(&role.child);
        let status = exit_status(&mut role.child).await;
        assert!(status.success(), "{status:?}");
    }
    h.finish().await;
}

/// A broker outage of 60 s under a steady load against `taskflow-api`:
/// every request succeeds meanwhile (nothing waits on the broker),
/// `/readyz` reports the growing relay lag, and once the broker is back the
/// lag drains with every event published exactly once, in each user's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixty_second_broker_outage_under_load_loses_nothing() {
    const OUTAGE: Duration = Duration::from_secs(60);
    // None only when skipping PostgreSQL was asked for.
    let Some(h) = harness::postgres().await else {
        return;
    };
    let sidecar = Sidecar::start("pubsub").await;
    sidecar.set_app_token(APP_TOKEN);
    let api = start(env!("CARGO_BIN_EXE_taskflow-api"), &h.url, &sidecar).await;
    let stop = tokio_util::sync::CancellationToken::new();
    // Four users, ten creates a second each, until told to stop.
    let load: Vec<_> = (0..4)
        .map(|u| {
            let (url, stop) = (api.url.clone(), stop.clone());
            tokio::spawn(async move {
                let mut made = 0;
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                while !stop.is_cancelled() {
                    tick.tick().await;
                    let body = json!({"title": format!("steady {made}")});
                    call(
                        reqwest::Method::POST,
                        format!("{url}/api/tasks"),
                        &format!("user{u}"),
                        Some(body),
                    )
                    .await;
                    made += 1;
                }
                made
            })
        })
        .collect();
    let readyz = || async {
        let body: Value = reqwest::get(format!("{}/readyz", api.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            body["relay"]["unpublished"].as_i64().unwrap(),
            body["relay"]["oldest_unpublished_age_seconds"]
                .as_f64()
                .unwrap(),
        )
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    sidecar.set_refusing(true);
    let outage = std::time::Instant::now();
    let mut lags = Vec::new();
    while outage.elapsed() < OUTAGE {
        tokio::time::sleep(Duration::from_secs(10)).await;
        lags.push(readyz().await);
    }
    sidecar.set_refusing(false);
    // The lag grew through the outage, in count and in age.
    assert!(lags.windows(2).all(|w| w[1].0 > w[0].0), "{lags:?}");
    let (backlog, age) = *lags.last().unwrap();
    assert!(backlog > 1500 && age > 50.0, "{lags:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let mut made = 0;
    for writer in load {
        made += writer.await.unwrap();
    }
    taskflow_testkit::wait_for(
        "the relay lag to drain (an empty backlog in /readyz)",
        Duration::from_secs(60),
        || async { readyz().await.0 == 0 },
    )
    .await;

    let events = sidecar.published_on("task-events");
    assert_eq!(events.len(), made, "every create published exactly once");
    let ids: std::collections::HashSet<&str> = events
        .iter()
        .map(|p| p.event["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), made);
    let mut last: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for p in &events {
        let user = p.event["data"]["user_id"].as_str().unwrap().to_owned();
        let sequence = p.event["data"]["sequence"].as_i64().unwrap();
        let before = last.insert(user.clone(), sequence).unwrap_or(0);
        assert!(sequence > before, "{user}'s events arrived out of order");
    }
    // The retries show in /metrics.
    let metrics = reqwest::get(format!("{}/metrics", api.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let retries: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("taskflow_publish_retries_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(retries > 0.0, "{metrics}");
    let mut child = api.child;
    sigterm(&child);
    assert!(exit_status(&mut child).await.success());
}
