//! The live stream end to end, black-box against `taskflow serve`: changes
//! (including a next occurrence made by the recurrence worker) reach the
//! owner's SSE stream and nobody else's; a shared list's reach its members
//! of the moment, on both databases; a reconnect with `Last-Event-ID`
//! gets exactly what it missed; stream tickets work for browsers, and an
//! expired one is refused; SIGTERM ends open streams cleanly.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness;
use taskflow_testkit::process::{Listening, exit_status, sigterm, spawn_listening};
use taskflow_testkit::sse::Stream;
use tokio::process::{Child, Command};

const DEADLINE: Duration = Duration::from_secs(20);

struct Server {
    child: Child,
    base: String,
    /// A client of its API, signing tokens with its secret.
    app: TestApp,
    _dir: tempfile::TempDir,
}

/// The JWT secret every server here is started with.
const SECRET: &str = "stream-test-secret";

async fn serve() -> Server {
    serve_with(&[]).await
}

async fn serve_with(flags: &[&str]) -> Server {
    serve_on(None, flags).await
}

/// `taskflow serve` on `database` (embedded SQLite when None).
async fn serve_on(database: Option<&str>, flags: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskflow"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(flags)
        .env("TASKFLOW_DATA_DIR", dir.path())
        .env("TASKFLOW_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn");
    match database {
        Some(url) => command.env("TASKFLOW_DATABASE_URL", url),
        None => command.env_remove("TASKFLOW_DATABASE_URL"),
    };
    let Listening {
        child, url: base, ..
    } = spawn_listening(&mut command).await;
    Server {
        child,
        app: TestApp::new(&base, SECRET.as_bytes()),
        base,
        _dir: dir,
    }
}

fn token(user: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taskflow"))
        .args(["token", "--user", user])
        .env("TASKFLOW_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn changes_reach_only_their_owners_stream_and_reconnects_replay_what_was_missed() {
    let server = serve().await;
    let (alice, bob) = (token("alice"), token("bob"));
    let mut alices = Stream::open(&server.base, &alice, None).await;
    let mut bobs = Stream::open(&server.base, &bob, None).await;

    let weekly = server.app.create_task("alice", json!({"title": "standup", "due": "2036-03-24T09:00", "timezone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY"})).await.ok();
    let id = weekly["id"].as_i64().unwrap();
    let created = alices.expect().await;
    assert_eq!(
        (created.name.as_str(), created.data["task_id"].as_i64()),
        ("task.created", Some(id))
    );
    server.app.complete_task("alice", id).await.ok();
    let completed = alices.expect().await;
    assert_eq!(completed.name, "task.completed");
    assert!(completed.id > created.id);
    // The recurrence worker's next occurrence arrives on the same stream.
    let next = alices.expect().await;
    assert_eq!(next.name, "task.created");
    let next_id = next.data["task_id"].as_i64().unwrap();
    let fetched: Value = server.app.get_task("alice", next_id).await.ok();
    assert_eq!(fetched["due"], "2036-03-31T09:00:00");

    // Bob saw none of it: his first event is his own task.
    let mine = server
        .app
        .create_task("bob", json!({"title": "bob's"}))
        .await
        .ok();
    let first = bobs.expect().await;
    assert_eq!(first.data["task_id"], mine["id"]);
    assert_eq!(first.data["user_id"], "bob");

    // Alice disconnects; two changes happen; a reconnect replays exactly them.
    let last_seen = next.id.unwrap();
    drop(alices);
    server
        .app
        .create_task("alice", json!({"title": "while away 1"}))
        .await
        .ok();
    server
        .app
        .create_task("alice", json!({"title": "while away 2"}))
        .await
        .ok();
    let mut again = Stream::open(&server.base, &alice, Some(last_seen)).await;
    let (a, b) = (again.expect().await, again.expect().await);
    assert_eq!(
        (a.name.as_str(), b.name.as_str()),
        ("task.created", "task.created")
    );
    assert!(a.id.unwrap() > last_seen && b.id.unwrap() > a.id.unwrap());
    // Then live again.
    server
        .app
        .create_task("alice", json!({"title": "live"}))
        .await
        .ok();
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
async fn list_changes_and_moves_reach_the_stream_with_their_lists() {
    let server = serve().await;
    let alice = token("alice");
    let mut stream = Stream::open(&server.base, &alice, None).await;
    let app = &server.app;
    let list: Value = app
        .call(
            Method::POST,
            "/api/lists",
            "alice",
            Some(json!({"title": "Health"})),
        )
        .await
        .ok();
    let created = stream.expect().await;
    assert_eq!(created.name, "list.created");
    assert_eq!(created.data["list_id"], list["id"]);
    assert_eq!(created.data["kind"], "list");
    let task: Value = app
        .create_task("alice", json!({"title": "dentist"}))
        .await
        .ok();
    assert_eq!(stream.expect().await.name, "task.created");
    let path = format!("/api/tasks/{}/move", task["id"]);
    app.call(
        Method::POST,
        &path,
        "alice",
        Some(json!({"list_id": list["id"]})),
    )
    .await
    .ok();
    let moved = stream.expect().await;
    assert_eq!(moved.name, "task.moved");
    assert_eq!(moved.data["list_id"], list["id"]);
    assert!(
        moved.data["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("list_id"))
    );
    let archive = format!("/api/lists/{}/archive", list["id"]);
    app.call(Method::POST, &archive, "alice", None).await.ok();
    assert_eq!(stream.expect().await.name, "list.archived");
}

#[tokio::test]
async fn a_last_event_id_this_server_never_issued_asks_the_client_to_resync() {
    let server = serve().await;
    let alice = token("alice");
    let mut stream = Stream::open(&server.base, &alice, Some(1_000_000)).await;
    assert_eq!(stream.expect().await.name, "resync");
    // Then live updates follow as usual.
    server
        .app
        .create_task("alice", json!({"title": "after resync"}))
        .await
        .ok();
    assert_eq!(stream.expect().await.name, "task.created");
}

#[tokio::test]
async fn browsers_use_a_short_lived_stream_ticket() {
    let server = serve().await;
    let ticket = server.app.stream_ticket("alice").await.ok();
    assert_eq!(ticket["expires_in"], 60);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    let mut stream = Stream::open(&server.base, &format!("ticket={ticket}"), None).await;
    server
        .app
        .create_task("alice", json!({"title": "seen by the browser"}))
        .await
        .ok();
    let seen = stream.expect().await;
    assert_eq!(seen.data["user_id"], "alice");
    // A page that opens a new EventSource (with a fresh ticket) passes the
    // last id it saw in the query, and gets what it missed first.
    drop(stream);
    server
        .app
        .create_task("alice", json!({"title": "missed"}))
        .await
        .ok();
    let fresh = server.app.stream_ticket("alice").await.ok();
    let resume = format!(
        "ticket={}&last_event_id={}",
        fresh["ticket"].as_str().unwrap(),
        seen.id.unwrap()
    );
    let mut resumed = Stream::open(&server.base, &resume, None).await;
    let missed = resumed.expect().await;
    assert!(missed.id.unwrap() > seen.id.unwrap());
    assert_eq!(missed.name, "task.created");
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

#[tokio::test]
async fn an_expired_stream_ticket_is_refused() {
    let server = serve().await;
    // Tickets minted here with the key the server derives from its secret;
    // the two differ only in `exp`.
    let key = taskflow::serve::stream_ticket_key(b"stream-test-secret");
    let ticket = |exp: u64| {
        let claims = json!({"sub": "alice", "aud": "taskflow-stream", "exp": exp});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&key),
        )
        .unwrap()
    };
    let open =
        |ticket: String| reqwest::get(format!("{}/api/stream/tasks?ticket={ticket}", server.base));
    let now = jsonwebtoken::get_current_timestamp();
    let live = open(ticket(now + 60)).await.unwrap();
    assert_eq!(live.status(), 200, "a live ticket minted here is accepted");
    drop(live);
    // A minute past its expiry (well beyond the 5 s leeway for clock skew).
    let expired = open(ticket(now - 60)).await.unwrap();
    assert_eq!(expired.status(), 401);
    let problem: Value = expired.json().await.unwrap();
    assert_eq!(problem["code"], "unauthorized");
}

#[tokio::test]
async fn a_reminder_fires_at_its_instant_and_reaches_the_owners_stream() {
    let server = serve().await;
    let alice = token("alice");
    let mut stream = Stream::open(&server.base, &alice, None).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(1);
    let task = server
        .app
        .create_task(
            "alice",
            json!({"title": "call mum", "reminder": {"at": at.to_rfc3339()}}),
        )
        .await
        .ok();
    let created = stream.expect().await;
    assert_eq!(created.name, "task.created");
    let rang = stream.expect().await;
    assert_eq!(rang.name, "notification.created");
    assert_eq!(rang.data["task_id"], task["id"]);
    assert!(chrono::Utc::now() >= at, "not before its instant");
    let count: Value = server.app.unread_count("alice").await.ok();
    assert_eq!(count["unread"], 1);
    // The notice is an outbox row: a client that missed it gets it replayed,
    // with the id it had live.
    drop(stream);
    let mut again = Stream::open(&server.base, &alice, created.id).await;
    let replayed = again.expect().await;
    assert_eq!(replayed.name, "notification.created");
    assert_eq!(replayed.id, rang.id);
    assert_eq!(
        replayed.data["notification_id"],
        rang.data["notification_id"]
    );
}

/// Two hundred reminders on one instant: their notices reach the relay as a
/// burst larger than a user's live buffer (64). The stream catches up from
/// the outbox in place and delivers every one, in order, without closing.
#[tokio::test]
async fn a_burst_beyond_the_live_buffer_arrives_whole_on_the_open_stream() {
    let server = serve().await;
    let alice = token("alice");
    let mut stream = Stream::open(&server.base, &alice, None).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let client = reqwest::Client::new();
    let creates = futures::stream::iter(0..200).map(|n| {
        let (client, base, alice) = (client.clone(), server.base.clone(), alice.clone());
        async move {
            let response = client
                .post(format!("{base}/api/tasks"))
                .bearer_auth(alice)
                .json(&json!({"title": format!("remind {n}"), "reminder": {"at": at.to_rfc3339()}}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
    });
    creates.buffer_unordered(16).collect::<Vec<()>>().await;
    let (mut notices, mut last) = (0, 0);
    while notices < 200 {
        let event = stream.expect().await;
        let id = event.id.unwrap();
        assert!(id > last, "in order: {id} after {last}");
        last = id;
        if event.name == "notification.created" {
            notices += 1;
        }
    }
    let count: Value = server.app.unread_count("alice").await.ok();
    assert_eq!(count["unread"], 200);
}

/// The number of open SSE streams the server reports.
async fn open_streams(base: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("taskflow_sse_streams "))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_without_delaying_the_others() {
    use tokio::io::AsyncWriteExt;
    let server = serve_with(&["--write-timeout", "1s", "--send-buffer", "16384"]).await;
    let alice = token("alice");
    // A client with a tiny receive window that never reads what it asked for.
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(addr).await.unwrap();
    stalled
        .write_all(
            format!("GET /api/stream/tasks HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {alice}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut reader = Stream::open(&server.base, &alice, None).await;
    taskflow_testkit::wait_for("both streams to be open", DEADLINE, || async {
        open_streams(&server.base).await == 2.0
    })
    .await;

    // Far more updates than the stalled connection's buffers hold: the
    // reading client gets every one, in order.
    let client = reqwest::Client::new();
    let total = 1500;
    let (base, owner) = (server.base.clone(), alice.clone());
    let creates = futures::stream::iter(0..total).map(move |n| {
        let (client, base, alice) = (client.clone(), base.clone(), owner.clone());
        async move {
            let response = client
                .post(format!("{base}/api/tasks"))
                .bearer_auth(alice)
                .json(&json!({"title": format!("task {n}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
    });
    let writer = tokio::spawn(creates.buffer_unordered(16).collect::<Vec<()>>());
    let mut last = 0;
    for _ in 0..total {
        let event = reader.expect().await;
        assert_eq!(event.name, "task.created");
        let id = event.id.unwrap();
        assert!(id > last);
        last = id;
    }
    writer.await.unwrap();
    // The stalled connection is closed by the server, not kept forever.
    taskflow_testkit::wait_for(
        "the server to close the stalled stream",
        DEADLINE,
        || async { open_streams(&server.base).await == 1.0 },
    )
    .await;
    drop(stalled);
}

#[tokio::test]
async fn streams_beyond_the_limit_are_refused_clearly_and_a_freed_place_is_reused() {
    let server = serve_with(&["--max-streams", "2"]).await;
    let alice = token("alice");
    let first = Stream::open(&server.base, &alice, None).await;
    let _second = Stream::open(&server.base, &token("bob"), None).await;
    let refused = reqwest::Client::new()
        .get(format!("{}/api/stream/tasks", server.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "too_many_streams");
    // The rest of the API is unaffected.
    server
        .app
        .create_task("alice", json!({"title": "still fine"}))
        .await
        .ok();
    // A client that leaves frees its place.
    drop(first);
    taskflow_testkit::wait_for(
        "the closed stream's place to be free again",
        Duration::from_secs(10),
        || async {
            reqwest::Client::new()
                .get(format!("{}/api/stream/tasks", server.base))
                .bearer_auth(&alice)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        },
    )
    .await;
}

#[tokio::test]
async fn one_user_cannot_take_every_place() {
    let server = serve().await;
    let alice = token("alice");
    let mut held = Vec::new();
    for _ in 0..taskflow_api::stream::MAX_STREAMS_PER_USER {
        held.push(Stream::open(&server.base, &alice, None).await);
    }
    let refused = reqwest::Client::new()
        .get(format!("{}/api/stream/tasks", server.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "too_many_streams");
    assert!(problem["detail"].as_str().unwrap().contains("one user"));
    // Others are not affected.
    let _bobs = Stream::open(&server.base, &token("bob"), None).await;
}

#[tokio::test]
async fn a_shared_lists_changes_reach_its_members_of_the_moment_on_sqlite() {
    shared_list_streams(None).await;
}

#[tokio::test]
async fn a_shared_lists_changes_reach_its_members_of_the_moment_on_postgres() {
    let Some(h) = harness::postgres().await else {
        return;
    };
    shared_list_streams(Some(&h.url)).await;
    h.finish().await;
}

/// Alice shares Groceries with bob (editor), carol and erin (viewers);
/// dave is a stranger. Each has a stream open.
async fn shared_list_streams(database: Option<&str>) {
    let server = serve_on(database, &[]).await;
    let app = &server.app;
    let people = ["alice", "bob", "carol", "dave", "erin"];
    for who in people {
        app.call(Method::GET, "/api/users/me", who, None).await.ok();
    }
    let list: Value = app
        .call(
            Method::POST,
            "/api/lists",
            "alice",
            Some(json!({"title": "Groceries"})),
        )
        .await
        .ok();
    let list = list["id"].as_i64().unwrap();
    for (who, role) in [("bob", "editor"), ("carol", "viewer"), ("erin", "viewer")] {
        let invitation: Value = app
            .call(
                Method::POST,
                &format!("/api/lists/{list}/invitations"),
                "alice",
                Some(json!({"username": who, "role": role})),
            )
            .await
            .ok();
        let accept = format!("/api/invitations/{}/accept", invitation["id"]);
        app.call(Method::POST, &accept, who, None).await.ok();
    }
    let mut streams = std::collections::HashMap::new();
    for who in people {
        streams.insert(who, Stream::open(&server.base, &app.token(who), None).await);
    }
    let task_event = |name: &'static str, task: i64| {
        move |e: &taskflow_testkit::sse::SseEvent| e.name == name && e.data["task_id"] == task
    };

    // An editor's change reaches the owner and every member; the owner's
    // private task reaches only her.
    let milk: Value = app
        .create_task("bob", json!({"title": "milk", "list_id": list}))
        .await
        .ok();
    let milk = milk["id"].as_i64().unwrap();
    let mut first_seen = std::collections::HashMap::new();
    for who in ["alice", "bob", "carol", "erin"] {
        let stream = streams.get_mut(who).unwrap();
        let created = stream.expect_where(task_event("task.created", milk)).await;
        assert_eq!(created.data["user_id"], "alice", "the owner's change");
        first_seen.insert(who, created.id.unwrap());
    }
    let secret: Value = app
        .create_task("alice", json!({"title": "secret"}))
        .await
        .ok();
    let secret = secret["id"].as_i64().unwrap();
    let alices = streams.get_mut("alice").unwrap();
    alices
        .expect_where(task_event("task.created", secret))
        .await;
    // The stranger's first event is his own: nothing of alice reached him.
    let daves: Value = app
        .create_task("dave", json!({"title": "dave's"}))
        .await
        .ok();
    let first = streams.get_mut("dave").unwrap().expect().await;
    assert_eq!(first.data["task_id"], daves["id"], "{first:?}");

    // Erin is removed: she hears of it, and of nothing in the list after.
    let remove = format!("/api/lists/{list}/members/erin");
    app.call(Method::DELETE, &remove, "alice", None).await;
    for who in ["alice", "bob", "carol", "erin"] {
        let stream = streams.get_mut(who).unwrap();
        let removed = stream
            .expect_where(|e| e.name == "list.member_removed")
            .await;
        assert_eq!(removed.data["member"], "erin");
        assert_eq!(removed.data["list_id"], list);
    }
    app.update_task("alice", milk, json!({"title": "oat milk"}))
        .await
        .ok();
    for who in ["alice", "bob", "carol"] {
        let stream = streams.get_mut(who).unwrap();
        stream.expect_where(task_event("task.updated", milk)).await;
    }
    let erins: Value = app
        .create_task("erin", json!({"title": "erin's"}))
        .await
        .ok();
    let next = streams.get_mut("erin").unwrap().expect().await;
    assert_eq!(next.data["task_id"], erins["id"], "{next:?}");

    // A reconnect replays what each may see now: carol, a member, the
    // list's changes but not alice's private task; erin, removed, only
    // her own.
    let mut carols = Stream::open(
        &server.base,
        &app.token("carol"),
        Some(first_seen["carol"] - 1),
    )
    .await;
    let replayed: Vec<(String, Value)> = [
        carols.expect().await,
        carols.expect().await,
        carols.expect().await,
    ]
    .into_iter()
    .map(|e| (e.name, e.data["task_id"].clone()))
    .collect();
    assert_eq!(
        replayed,
        [
            ("task.created".to_owned(), json!(milk)),
            ("list.member_removed".to_owned(), Value::Null),
            ("task.updated".to_owned(), json!(milk)),
        ]
    );
    let mut erins_again = Stream::open(
        &server.base,
        &app.token("erin"),
        Some(first_seen["erin"] - 1),
    )
    .await;
    let only = erins_again.expect().await;
    assert_eq!(only.data["task_id"], erins["id"], "{only:?}");
    // Nothing more was replayed to either: their next events are new ones.
    for (who, stream) in [("carol", &mut carols), ("erin", &mut erins_again)] {
        let mark: Value = app.create_task(who, json!({"title": "mark"})).await.ok();
        let next = stream.expect().await;
        assert_eq!(next.data["task_id"], mark["id"], "{who}: {next:?}");
    }
}
