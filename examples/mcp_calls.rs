//! MCP tool-call latency and throughput with 10,000 tasks in the embedded
//! database: over stdio (`taskflow mcp`, one client calling in sequence:
//! p50/p99 of `get_task` and `list_tasks`), and over streamable HTTP
//! (`taskflow serve`'s `/mcp`, CLIENTS sessions calling `get_task` for
//! SECONDS: calls per second). Also times the same `get_task` over REST.
//!
//! Run: `cargo build --release --bins && cargo run --release --example
//! mcp_calls -- [TASKS=10000] [CALLS=2000] [CLIENTS=16] [SECONDS=5]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;
use taskflow_core::CreateTask;
use taskflow_events::Source;
use taskflow_store::{Actor, Database, TaskService};

const SECRET: &str = "mcp-calls-secret";
const USER: &str = "bench";

async fn get_task(client: &RunningService<RoleClient, ()>, id: i64) {
    let args = json!({"id": id}).as_object().unwrap().clone();
    let result = client
        .call_tool(CallToolRequestParams::new("get_task").with_arguments(args))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
}

#[tokio::main]
async fn main() {
    let args = common::numeric_args();
    let tasks = args.first().copied().unwrap_or(10_000);
    let calls = args.get(1).copied().unwrap_or(2000);
    let clients = args.get(2).copied().unwrap_or(16);
    let seconds = args.get(3).copied().unwrap_or(5) as u64;
    let dir = tempfile::tempdir().unwrap();

    // Seed the embedded database as `serve` would find it.
    let db = Database::open_sqlite(&dir.path().join("taskflow.db"))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let svc = TaskService::new(db.clone());
    let actor = Actor::new(USER, Source::Cli);
    let seeded = Instant::now();
    for chunk in (0..tasks).collect::<Vec<_>>().chunks(500) {
        futures::future::join_all(chunk.iter().map(|n| {
            let input = CreateTask {
                title: format!("task {n}"),
                due: Some(format!("2027-01-{:02}", n % 28 + 1)),
                ..Default::default()
            };
            let (svc, actor) = (svc.clone(), actor.clone());
            async move { svc.create(&actor, &input, None).await.unwrap() }
        }))
        .await;
    }
    db.close().await;
    println!(
        "seeded {tasks} tasks in {:.1}s",
        seeded.elapsed().as_secs_f64()
    );
    let ids = move |i: usize| (i * 7919 % tasks) as i64 + 1;

    // stdio: one client, calls in sequence.
    let mut command = tokio::process::Command::new(common::taskflow_binary());
    command
        .args(["mcp", "--user", USER])
        .env("TASKFLOW_DATA_DIR", dir.path())
        .env("RUST_LOG", "error");
    let stdio = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    for i in 0..100 {
        get_task(&stdio, ids(i)).await; // warm-up
    }
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        let at = Instant::now();
        get_task(&stdio, ids(i)).await;
        samples.push(at.elapsed());
    }
    println!("stdio get_task: {}", common::percentiles(&mut samples));
    let mut samples = Vec::with_capacity(calls / 2);
    for i in 0..calls / 2 {
        let q =
            json!({"limit": 20, "sort": "due", "cursor": null, "q": format!("task {}", i % 100)});
        let at = Instant::now();
        let result = stdio
            .call_tool(
                CallToolRequestParams::new("list_tasks")
                    .with_arguments(q.as_object().unwrap().clone()),
            )
            .await
            .unwrap();
        samples.push(at.elapsed());
        assert_ne!(result.is_error, Some(true), "{result:?}");
    }
    println!(
        "stdio list_tasks (search, 20 per page): {}",
        common::percentiles(&mut samples)
    );
    stdio.cancel().await.unwrap();

    // HTTP: CLIENTS sessions for SECONDS.
    let (server, base) = common::serve(dir.path(), SECRET).await;
    let token =
        taskflow_api::auth::mint(SECRET.as_bytes(), USER, Duration::from_secs(3600)).unwrap();
    let mut sessions = Vec::new();
    for _ in 0..clients {
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"))
            .auth_header(token.clone());
        let transport = StreamableHttpClientTransport::from_config(config);
        sessions.push(Arc::new(().serve(transport).await.unwrap()));
    }
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = sessions
        .iter()
        .enumerate()
        .map(|(c, session)| {
            let (session, done) = (session.clone(), done.clone());
            tokio::spawn(async move {
                let mut i = c * 1000;
                while Instant::now() < until {
                    get_task(&session, ids(i)).await;
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    futures::future::join_all(workers).await;
    let elapsed = started.elapsed().as_secs_f64();
    let total = done.load(Ordering::Relaxed);
    println!(
        "HTTP get_task, {clients} sessions: {total} calls in {elapsed:.1}s = {:.0} calls/s",
        total as f64 / elapsed
    );

    // The same read over REST, for scale.
    let http = reqwest::Client::new();
    let rest = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (http, base, token, rest) =
                (http.clone(), base.clone(), token.clone(), rest.clone());
            tokio::spawn(async move {
                let mut i = c * 1000;
                while Instant::now() < until {
                    let response = http
                        .get(format!("{base}/api/tasks/{}", ids(i)))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                    let _ = response.bytes().await;
                    rest.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    futures::future::join_all(workers).await;
    let total = rest.load(Ordering::Relaxed);
    println!(
        "REST GET /api/tasks/{{id}}, {clients} connections: {:.0} requests/s",
        total as f64 / started.elapsed().as_secs_f64()
    );
    drop(server);
}
