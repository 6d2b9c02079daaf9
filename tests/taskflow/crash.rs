//! kill -9 during writes, on SQLite and PostgreSQL: a real `taskflow serve`
//! takes creates, updates and completions of recurring tasks from eight
//! concurrent clients and is killed with SIGKILL at a random moment, then
//! started again, twenty times. Afterwards every change a client was told
//! about exists with its event, no event exists without its change, the
//! relay has published everything, and every completed recurring task has
//! exactly one next occurrence. And SIGTERM under the same load: every
//! request the server accepted is answered and committed with its event,
//! open SSE streams end cleanly, and the process exits 0 in time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;
use taskflow_testkit::process::{Listening, spawn_listening};
use taskflow_testkit::wait_for;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_taskflow");
const SECRET: &str = "crash test secret";
const ROUNDS: usize = 20;
const WRITERS: usize = 8;

on_both_databases!(
    kill_9_during_writes_loses_nothing_and_doubles_nothing,
    sigterm_under_load_finishes_what_it_accepted_and_exits_0,
);

/// What the clients were told succeeded.
#[derive(Debug, Default)]
struct Acknowledged {
    /// (task id, its title, whether an edit of it was acknowledged). An
    /// edit whose answer was lost to the kill may or may not have happened.
    tasks: Vec<(i64, String, bool)>,
    /// Recurring tasks whose completion was answered 200.
    completed: Vec<i64>,
}

async fn start(h: &Harness, data_dir: &std::path::Path) -> Listening {
    spawn_listening(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &h.url])
            .env("TASKFLOW_DATA_DIR", data_dir)
            .env("TASKFLOW_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error"),
    )
    .await
}

/// One client's writes until the server goes away.
async fn write(
    base: String,
    token: String,
    round: usize,
    writer: usize,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for n in 0.. {
        let title = format!("r{round}-w{writer}-{n}");
        let recurring = n % 3 == 0;
        let body = if recurring {
            json!({"title": title, "due": "2026-01-05", "recurrence": "FREQ=DAILY"})
        } else {
            json!({"title": title})
        };
        let Ok(created) = client
            .post(format!("{base}/api/tasks"))
            .bearer_auth(&token)
            .header("idempotency-key", uuid_like(round, writer, n))
            .json(&body)
            .send()
            .await
        else {
            return;
        };
        if created.status() != StatusCode::CREATED {
            return;
        }
        let Ok(task) = created.json::<Value>().await else {
            return;
        };
        let id = task["id"].as_i64().unwrap();
        acked.lock().unwrap().tasks.push((id, title.clone(), false));
        let (path, body) = if recurring {
            (format!("{base}/api/tasks/{id}/complete"), None)
        } else {
            (
                format!("{base}/api/tasks/{id}"),
                Some(json!({"title": format!("{title} (edited)")})),
            )
        };
        let request = match &body {
            Some(body) => client.patch(&path).json(body),
            None => client.post(&path),
        };
        let Ok(answer) = request.bearer_auth(&token).send().await else {
            return;
        };
        if answer.status() != StatusCode::OK {
            return;
        }
        let mut acked = acked.lock().unwrap();
        if recurring {
            acked.completed.push(id);
        } else if let Some(entry) = acked.tasks.iter_mut().find(|(t, ..)| *t == id) {
            entry.2 = true;
        }
    }
}

fn uuid_like(round: usize, writer: usize, n: usize) -> String {
    format!("crash-{round}-{writer}-{n}")
}

async fn kill_9_during_writes_loses_nothing_and_doubles_nothing(h: &Harness) {
    let data = tempfile::tempdir().unwrap();
    let token =
        taskflow_api::auth::mint(SECRET.as_bytes(), "alice", Duration::from_secs(3600)).unwrap();
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    for round in 0..ROUNDS {
        let mut server = start(h, data.path()).await;
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                tokio::spawn(write(
                    server.url.clone(),
                    token.clone(),
                    round,
                    writer,
                    acked.clone(),
                ))
            })
            .collect();
        let pause = rand::rng().random_range(20..250);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.child.start_kill().unwrap(); // SIGKILL
        server.child.wait().await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.tasks.len() > ROUNDS,
        "too few writes got through: {}",
        acked.tasks.len()
    );
    assert!(!acked.completed.is_empty());
    eprintln!(
        "{ROUNDS} kills: {} tasks and {} completions acknowledged",
        acked.tasks.len(),
        acked.completed.len()
    );

    // Start once more: the relay publishes what was left, and the
    // recurrence worker catches up on the completions.
    let server = start(h, data.path()).await;
    wait_for(
        "the relay to publish what was left and the recurrence worker to catch up on the completions",
        Duration::from_secs(30),
        || async {
            h.raw.scalar("SELECT COUNT(*) FROM task_events WHERE published_at IS NULL").await == 0
            && h.raw
                .scalar(
                    "SELECT COUNT(*) FROM tasks t WHERE t.completed AND t.recurrence IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM tasks n WHERE n.previous_id = t.id)",
                )
                .await
                == 0
        },
    )
    .await;

    for (id, title, edited) in &acked.tasks {
        let found = h
            .raw
            .pairs(&format!("SELECT id, title FROM tasks WHERE id = {id}"))
            .await;
        let now: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
        let edit = format!("{title} (edited)");
        let allowed: &[&str] = if *edited { &[&edit] } else { &[title, &edit] };
        assert!(
            now.len() == 1 && allowed.contains(&now[0]),
            "acknowledged task {id} ({title}, edit acknowledged: {edited}) is {now:?}"
        );
        assert_eq!(
            h.raw.scalar(&format!("SELECT COUNT(*) FROM task_events WHERE task_id = {id} AND event_type = 'created'")).await,
            1,
            "task {id} has no single created event"
        );
    }
    for id in &acked.completed {
        assert_eq!(
            h.raw
                .scalar(&format!(
                    "SELECT COUNT(*) FROM tasks WHERE id = {id} AND completed"
                ))
                .await,
            1,
            "acknowledged completion of {id} was lost"
        );
        assert_eq!(
            h.raw
                .scalar(&format!(
                    "SELECT COUNT(*) FROM tasks WHERE previous_id = {id}"
                ))
                .await,
            1,
            "task {id} has no single next occurrence"
        );
    }
    // No event without its change, and no change without its event.
    assert_eq!(
        h.raw.scalar("SELECT COUNT(*) FROM task_events e WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = e.task_id)").await,
        0
    );
    assert_eq!(
        h.raw
            .scalar(
                "SELECT COUNT(*) FROM tasks t WHERE t.version <> \
             (SELECT COUNT(*) FROM task_events e WHERE e.task_id = t.id \
             AND e.event_type IN ('updated', 'completed', 'reopened', 'deleted')) + 1"
            )
            .await,
        0,
        "a task's version and its events disagree"
    );
    assert_eq!(
        h.raw
            .scalar(
                "SELECT COUNT(*) FROM (SELECT previous_id FROM tasks WHERE previous_id IS NOT NULL \
             GROUP BY previous_id HAVING COUNT(*) > 1) doubled"
            )
            .await,
        0,
        "a next occurrence was created twice"
    );
    drop(server);
}

async fn sigterm_under_load_finishes_what_it_accepted_and_exits_0(h: &Harness) {
    let data = tempfile::tempdir().unwrap();
    let token =
        taskflow_api::auth::mint(SECRET.as_bytes(), "alice", Duration::from_secs(3600)).unwrap();
    let mut server = start(h, data.path()).await;
    let mut stream = taskflow_testkit::sse::Stream::open(&server.url, &token, None).await;
    // No keep-alive: a request either reaches the server on a connection of
    // its own or is refused at connect once the listener has closed.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let outcomes = Arc::new(Mutex::new((
        Vec::<i64>::new(),
        0usize,
        Vec::<String>::new(),
    )));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (client, base, token, outcomes) = (
                client.clone(),
                server.url.clone(),
                token.clone(),
                outcomes.clone(),
            );
            tokio::spawn(async move {
                for n in 0.. {
                    let sent = client
                        .post(format!("{base}/api/tasks"))
                        .bearer_auth(&token)
                        .json(&json!({"title": format!("w{writer}-{n}")}))
                        .send()
                        .await;
                    let outcome = match sent {
                        Ok(answer) if answer.status() == StatusCode::CREATED => answer
                            .json::<Value>()
                            .await
                            .map(|t| t["id"].as_i64().unwrap_or(0))
                            .map_err(|e| format!("{e:?}")),
                        Ok(answer) => Err(format!("status {}", answer.status())),
                        Err(err) if err.is_connect() => Err(String::new()),
                        // A connection the kernel had queued but the
                        // server never accepted is reset when the listener
                        // closes: the request was never seen (checked below).
                        Err(err) if format!("{err:?}").contains("ConnectionReset") => {
                            Err(format!("reset:w{writer}-{n}"))
                        }
                        Err(err) => Err(format!("{err:?}")),
                    };
                    let mut outcomes = outcomes.lock().unwrap();
                    match outcome {
                        Ok(id) => {
                            outcomes.0.push(id);
                            continue;
                        }
                        Err(refused) if refused.is_empty() => outcomes.1 += 1,
                        Err(broken) => outcomes.2.push(broken),
                    }
                    return;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = std::time::Instant::now();
    taskflow_testkit::process::sigterm(&server.child);
    let status = taskflow_testkit::process::exit_status(&mut server.child).await;
    assert!(status.success(), "serve exited with {status}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        asked.elapsed()
    );
    // The stream delivers what it had, then ends.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while stream.next().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the SSE stream did not end");
    for writer in writers {
        writer.await.unwrap();
    }
    let (answered, refused, broken) = std::mem::take(&mut *outcomes.lock().unwrap());
    let (reset, broken): (Vec<String>, Vec<String>) =
        broken.into_iter().partition(|b| b.starts_with("reset:"));
    assert!(
        broken.is_empty(),
        "requests broken by the shutdown: {broken:?}"
    );
    assert_eq!(
        refused + reset.len(),
        WRITERS,
        "each writer ends on a refused connection"
    );
    for title in reset.iter().map(|r| r.trim_start_matches("reset:")) {
        assert_eq!(
            h.raw
                .scalar(&format!(
                    "SELECT COUNT(*) FROM tasks WHERE title = '{title}'"
                ))
                .await,
            0,
            "{title} was applied but never answered"
        );
    }
    assert!(!answered.is_empty());
    for id in &answered {
        assert_eq!(
            h.raw.scalar(&format!("SELECT COUNT(*) FROM task_events WHERE task_id = {id} AND event_type = 'created'")).await,
            1,
            "answered create {id} is not committed with its event"
        );
    }
    // Every answered create is committed with its event.
    assert_eq!(
        h.raw.scalar("SELECT COUNT(*) FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = t.id)").await,
        0
    );
}
