//! A small Server-Sent Events client for black-box tests of
//! `/api/stream/tasks`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test client panics on purpose

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

/// How long `expect` waits for an event.
const DEADLINE: Duration = Duration::from_secs(20);

/// One SSE event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// `id:`, when the event has one.
    pub id: Option<i64>,
    pub name: String,
    pub data: Value,
}

/// An open SSE stream.
#[allow(missing_debug_implementations)] // holds a body stream
pub struct Stream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Stream {
    /// Opens `/api/stream/tasks` on `base` with a bearer token, or with
    /// `ticket=…`, optionally resuming after `last_event_id`.
    pub async fn open(base: &str, auth: &str, last_event_id: Option<i64>) -> Stream {
        let mut request = reqwest::Client::new().get(format!("{base}/api/stream/tasks"));
        if auth.starts_with("ticket=") {
            request = reqwest::Client::new().get(format!("{base}/api/stream/tasks?{auth}"));
        } else {
            request = request.bearer_auth(auth);
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Stream {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event, skipping heartbeats; None when the stream ends.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut name, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if name.is_empty() {
                    continue; // a comment (heartbeat)
                }
                return Some(SseEvent {
                    id,
                    name,
                    data: serde_json::from_str(&data).unwrap_or(Value::Null),
                });
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// The next event within the deadline.
    pub async fn expect(&mut self) -> SseEvent {
        tokio::time::timeout(DEADLINE, self.next())
            .await
            .expect("no event in time")
            .expect("stream ended")
    }

    /// The next event that `wanted` accepts within the deadline, passing
    /// over the others.
    pub async fn expect_where(&mut self, wanted: impl Fn(&SseEvent) -> bool) -> SseEvent {
        tokio::time::timeout(DEADLINE, async {
            loop {
                let event = self.next().await.expect("stream ended");
                if wanted(&event) {
                    return event;
                }
            }
        })
        .await
        .expect("no such event in time")
    }
}
