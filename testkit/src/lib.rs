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

/// The text a model read (framed by `taskflow_agent::framing`) without its
/// frames, checking on the way that each holds: every frame of the text
/// has one key, none opens inside another, and no piece of `written` is
/// found outside one.
pub fn unframe(text: &str, written: &[&str]) -> String {
    const OPEN: &str = "<<user-text ";
    let Some(at) = text.find(OPEN) else {
        return text.to_owned();
    };
    let key = &text[at + OPEN.len()..at + OPEN.len() + 16];
    let (open, close) = (
        format!("<<user-text {key}>>"),
        format!("<</user-text {key}>>"),
    );
    let (mut outside, mut plain, mut rest) = (String::new(), String::new(), text);
    while let Some(start) = rest.find(&open) {
        outside.push_str(&rest[..start]);
        plain.push_str(&rest[..start]);
        let inner = &rest[start + open.len()..];
        let end = inner
            .find(&close)
            .unwrap_or_else(|| panic!("a frame is never closed: {text}"));
        assert!(
            !inner[..end].contains(&open),
            "a frame opens inside another: {text}"
        );
        plain.push_str(&inner[..end]);
        rest = &inner[end + close.len()..];
    }
    outside.push_str(rest);
    plain.push_str(rest);
    assert!(!outside.contains(&close), "a frame closes unopened: {text}");
    for piece in written {
        assert!(
            !outside.contains(piece),
            "{piece:?} is outside every frame: {text}"
        );
    }
    plain
}
