//! What the benchmark examples share: starting a release `taskflow`
//! binary beside the example, reading its address, percentiles, RSS.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // measurement tools

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `taskflow` binary built beside this example (`target/<profile>/`).
pub fn taskflow_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let binary = dir.join("taskflow");
    assert!(
        binary.exists(),
        "build it first: cargo build --release --bins"
    );
    binary
}

/// `taskflow serve` on a free port over `data_dir`; returns the child and
/// its base URL.
pub async fn serve(data_dir: &Path, secret: &str) -> (Child, String) {
    let mut child = Command::new(taskflow_binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TASKFLOW_DATA_DIR", data_dir)
        .env("TASKFLOW_JWT_SECRET", secret)
        .env_remove("TASKFLOW_DATABASE_URL")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("Taskflow listening on ") {
                return url.to_owned();
            }
        }
        panic!("serve exited before listening")
    })
    .await
    .unwrap();
    (child, url)
}

/// The command line's numeric arguments, in order.
pub fn numeric_args() -> Vec<usize> {
    std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The resident set of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// p50, p90, p99 and max of `samples`, in milliseconds.
pub fn percentiles(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    format!(
        "n={} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    )
}
