//! Write-to-browser latency and SSE memory, against a release `taskflow
//! serve` (embedded SQLite): CLIENTS users each hold an open
//! `/api/stream/tasks`; WRITES creates at RATE per second, each by one of
//! them, are timed from the start of `POST /api/tasks` to the moment the
//! writer's own stream delivers its `task.created`. Also reports the
//! server's RSS before and after the clients connect.
//!
//! Run: `cargo build --release --bins && cargo run --release --example
//! sse_latency -- [CLIENTS=1000] [WRITES=2000] [RATE=200]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

const SECRET: &str = "sse-latency-secret";

#[tokio::main]
async fn main() {
    let args = common::numeric_args();
    let clients = args.first().copied().unwrap_or(1000);
    let writes = args.get(1).copied().unwrap_or(2000);
    let rate = args.get(2).copied().unwrap_or(200).max(1);
    let dir = tempfile::tempdir().unwrap();
    let (server, base) = common::serve(dir.path(), SECRET).await;
    let pid = server.id().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = common::rss_kib(pid);

    // task id → when its event reached its owner's stream.
    let seen: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let tokens: Vec<String> = (0..clients)
        .map(|i| {
            taskflow_api::auth::mint(
                SECRET.as_bytes(),
                &format!("user{i}"),
                Duration::from_secs(3600),
            )
            .unwrap()
        })
        .collect();
    let mut opened = 0;
    for chunk in tokens.chunks(200) {
        let streams = futures::future::join_all(chunk.iter().map(|token| {
            let (client, base, token) = (reqwest::Client::new(), base.clone(), token.clone());
            async move {
                client
                    .get(format!("{base}/api/stream/tasks"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
            }
        }))
        .await;
        for response in streams {
            assert_eq!(response.status(), 200);
            opened += 1;
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut body = response.bytes_stream();
                let mut buffer = String::new();
                while let Some(Ok(chunk)) = body.next().await {
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                            let update: Value =
                                serde_json::from_str(data.trim()).unwrap_or(Value::Null);
                            if let Some(id) = update["task_id"].as_i64() {
                                seen.lock().unwrap().insert(id, Instant::now());
                            }
                        }
                    }
                }
            });
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let connected = common::rss_kib(pid);
    println!(
        "{opened} SSE clients: server RSS idle {} MiB, with clients {} MiB ({:.1} KiB per connection)",
        idle / 1024,
        connected / 1024,
        (connected.saturating_sub(idle)) as f64 / opened.max(1) as f64
    );
    if writes == 0 {
        return;
    }

    let started: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(interval);
    let mut jobs = Vec::new();
    for n in 0..writes {
        ticker.tick().await;
        let (http, base, token, started) = (
            http.clone(),
            base.clone(),
            tokens[n % clients].clone(),
            started.clone(),
        );
        jobs.push(tokio::spawn(async move {
            let at = Instant::now();
            let response = http
                .post(format!("{base}/api/tasks"))
                .bearer_auth(token)
                .json(&json!({"title": format!("write {n}")}))
                .send()
                .await
                .unwrap();
            let task: Value = response.json().await.unwrap();
            started
                .lock()
                .unwrap()
                .insert(task["id"].as_i64().unwrap(), at);
        }));
    }
    futures::future::join_all(jobs).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < writes && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (started, seen) = (started.lock().unwrap(), seen.lock().unwrap());
    let mut latencies: Vec<Duration> = started
        .iter()
        .filter_map(|(id, at)| seen.get(id).map(|got| got.duration_since(*at)))
        .collect();
    let lost = writes - latencies.len();
    println!(
        "write → own stream, {writes} creates at {rate}/s over {clients} clients: {} (undelivered {lost})",
        common::percentiles(&mut latencies)
    );
}
