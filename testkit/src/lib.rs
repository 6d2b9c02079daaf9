//! Test support shared by the crates' tests: test doubles of the Dapr
//! sidecar and of an OpenAI-compatible model endpoint, test databases, and
//! waiting on a condition with a deadline (never "sleep a bit").

// Test support: a broken double or environment must fail the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod harness;
pub mod model;
pub mod process;
pub mod sidecar;
pub mod sse;

use std::future::Future;
use std::time::{Duration, Instant};

/// Checks `condition` until it holds or `timeout` passes; true if it held.
pub async fn eventually<F, Fut>(timeout: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
