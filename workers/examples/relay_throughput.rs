//! Measures the outbox → Dapr HTTP path against the sidecar double: drain
//! throughput of a backlog (events/s) and commit-to-publish latency at a
//! steady rate. Run: `cargo run --release -p taskflow-workers --example
//! relay_throughput [EVENTS] [USERS]` (SQLite in a temp dir; set
//! TASKFLOW_TEST_DATABASE_URL to use PostgreSQL instead).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool, not a service

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskflow_core::CreateTask;
use taskflow_events::{DaprConfig, DaprPublisher, Source, TASK_EVENTS};
use taskflow_store::{Actor, RelayConfig};
use taskflow_testkit::eventually;
use taskflow_testkit::harness;
use taskflow_testkit::sidecar::Sidecar;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (events, users) = (
        args.first().copied().unwrap_or(20_000),
        args.get(1).copied().unwrap_or(50),
    );
    let h = match harness::postgres().await {
        Some(h) => h,
        None => harness::sqlite().await,
    };
    let kind = format!("{:?}", h.svc.database().kind());
    let sidecar = Sidecar::start("pubsub").await;
    let publisher = Arc::new(DaprPublisher::new(DaprConfig::new(sidecar.url(), "pubsub")));

    // Backlog: `events` creates by `users` users, then drain it.
    let per_user = events / users;
    let filling = Instant::now();
    let writers: Vec<_> = (0..users)
        .map(|u| {
            let svc = h.svc.clone();
            tokio::spawn(async move {
                let actor = Actor::new(format!("user{u}"), Source::Api);
                for i in 0..per_user {
                    let input = CreateTask {
                        title: format!("t{i}"),
                        ..Default::default()
                    };
                    svc.create(&actor, &input, None).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let total = per_user * users;
    println!(
        "{kind}: {total} creates through the TaskService by {users} concurrent users, no relay: {:.0} creates/s",
        total as f64 / filling.elapsed().as_secs_f64()
    );
    let stop = CancellationToken::new();
    let started = Instant::now();
    let relay = tokio::spawn(taskflow_store::relay::run(
        h.svc.database().clone(),
        publisher,
        RelayConfig::default(),
        stop.clone(),
    ));
    assert!(
        eventually(Duration::from_secs(300), || async {
            sidecar.count_on(TASK_EVENTS) >= total
        })
        .await
    );
    let drain = started.elapsed();
    println!(
        "{kind}: drained {total} events ({} HTTP publishes) from {users} users in {:.2}s: {:.0} events/s",
        total * 2,
        drain.as_secs_f64(),
        total as f64 / drain.as_secs_f64()
    );

    // Latency: one create per millisecond, from the create call to acceptance
    // by the sidecar.
    let before = sidecar.count_on(TASK_EVENTS);
    let mut committed: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let actor = Actor::new("latency", Source::Api);
    for i in 0..3000 {
        tick.tick().await;
        let title = format!("lat{i}");
        // Measured from before the create: an upper bound of commit-to-publish.
        let at = Instant::now();
        h.svc
            .create(
                &actor,
                &CreateTask {
                    title: title.clone(),
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap();
        committed.insert(title, at);
    }
    assert!(
        eventually(Duration::from_secs(60), || async {
            sidecar.count_on(TASK_EVENTS) >= before + 3000
        })
        .await
    );
    let mut latencies: Vec<f64> = sidecar
        .published_on(TASK_EVENTS)
        .iter()
        .filter_map(|p| {
            let title = p.event["data"]["task_data"]["title"].as_str()?;
            let at = committed.get(title)?;
            Some(p.received_at.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{kind}: commit-to-publish over {} events at 1000/s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    stop.cancel();
    let _ = relay.await;
    h.finish().await;
}
