//! Test support shared by the crates' tests: test doubles of the Dapr
//! sidecar and of an OpenAI-compatible model endpoint, test databases, and
//! waiting on a condition with a deadline (never "sleep a bit").

// Test support: a broken double or environment must fail the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod app;
pub mod harness;
pub mod model;
pub mod process;
pub mod receiver;
pub mod sidecar;
pub mod sse;

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

/// Waits until `condition` holds, checking it every 5 ms; if `timeout`
/// passes first, panics saying what it waited for and for how long.
/// `what` ends the sentence "gave up after 9.9s waiting for …", as in
/// `wait_for("the relay to publish 3 events", DEADLINE, || async { … })`;
/// it is formatted only when the wait gives up.
pub async fn wait_for<F, Fut>(what: impl Display, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if condition().await {
            return;
        }
        if started.elapsed() >= timeout {
            panic!("gave up after {:.1?} waiting for {what}", started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A [`wait_for`] description written only if the wait gives up, so it can
/// show the state the wait ended in:
/// `wait_for(Lazy(|| format!("… (the log: {})", read_log())), …)`.
#[derive(Debug, Clone, Copy)]
pub struct Lazy<F>(pub F);

impl<F: Fn() -> String> Display for Lazy<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.0)())
    }
}
