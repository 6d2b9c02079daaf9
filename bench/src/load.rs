//! Servers the harness starts (and stops by process id) and the load it
//! puts on them: closed-loop HTTP from N connections, latency samples.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use taskflow_testkit::process::{sigterm, try_spawn_listening};
use tokio::process::{Child, Command};

use crate::record;

/// A binary built beside this one (`target/<profile>/`).
pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let binary = exe.with_file_name(name);
    if !binary.exists() {
        bail!(
            "{} is missing: build it first (cargo build --release --bins)",
            binary.display()
        );
    }
    Ok(binary)
}

/// A server started by the harness.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub pid: u32,
    pub url: String,
}

impl Server {
    /// Spawns `command` and waits (at most 30 s) for its "… listening on URL" line.
    pub async fn start(mut command: Command) -> anyhow::Result<Server> {
        let listening = try_spawn_listening(command.stderr(Stdio::null()))
            .await
            .map_err(anyhow::Error::msg)?;
        let pid = listening.child.id().context("the server has no pid")?;
        Ok(Server {
            child: listening.child,
            pid,
            url: listening.url,
        })
    }

    pub fn cpu(&self) -> Duration {
        record::cpu_time(self.pid)
    }

    pub fn rss_kib(&self) -> f64 {
        record::rss_kib(self.pid)
    }

    /// Stops it by process id: SIGTERM, then SIGKILL after 10 s.
    pub async fn stop(mut self) {
        sigterm(&self.child);
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// What a load run measured.
#[derive(Debug, Default)]
pub struct Load {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latency of each successful request, in microseconds.
    pub samples: Vec<u32>,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.samples, q)
    }
}

/// The `q` quantile of microsecond samples, in milliseconds.
pub fn quantile_ms(samples: &[u32], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// Microseconds of a duration, saturated.
pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Closed loop: `connections` workers, each with its own connection, send
/// `request(worker, n)` back to back; the first `warmup` is not counted.
pub async fn closed_loop<F>(
    connections: usize,
    warmup: Duration,
    duration: Duration,
    request: F,
) -> Load
where
    F: Fn(&reqwest::Client, usize, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let start = Instant::now() + warmup;
    let end = start + duration;
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let request = request.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap_or_default();
                let mut load = Load::default();
                let mut n = 0u64;
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let answer = request(&client, worker, n).send().await;
                    n += 1;
                    let ok = match answer {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            let _ = response.bytes().await;
                            ok
                        }
                        Err(_) => false,
                    };
                    if sent < start {
                        continue;
                    }
                    if ok {
                        load.ok += 1;
                        load.samples.push(micros(sent.elapsed()));
                    } else {
                        load.errors += 1;
                    }
                }
                load
            })
        })
        .collect();
    let mut total = Load {
        elapsed: duration,
        ..Load::default()
    };
    for worker in futures::future::join_all(workers).await {
        let load = worker.unwrap_or_default();
        total.ok += load.ok;
        total.errors += load.errors;
        total.samples.extend(load.samples);
    }
    total
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
