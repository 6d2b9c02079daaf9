//! The one publishing interface. A [`Publisher`] hands a message to its
//! transport and retries until the transport accepts it: it never drops an
//! event. The relay decides what to publish and when an event counts as
//! published; transports decide how.

use std::fmt;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use rand::Rng;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::CloudEvent;

/// A message ready for a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The topic, such as `task-events`.
    pub topic: &'static str,
    /// The partition key: the user id, so each user's events stay in order.
    pub key: String,
    /// The CloudEvent to send.
    pub event: CloudEvent<Value>,
}

impl Message {
    /// The span of its publishing, in the event's trace.
    pub fn span(&self) -> tracing::Span {
        tracing::error_span!(
            "publish",
            topic = self.topic,
            event_id = %self.event.id,
            trace_id = self.event.trace_id(),
        )
    }
}

/// Publishing stopped because shutdown was requested; the message was not
/// (or not knowingly) accepted and stays in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("publishing stopped by shutdown")
    }
}

impl std::error::Error for Stopped {}

/// Hands messages to a transport (Dapr's sidecar, or in-process handlers).
pub trait Publisher: Send + Sync + fmt::Debug {
    /// Publishes one message, retrying until the transport accepts it.
    /// Returns `Err(Stopped)` only when `stop` is cancelled first.
    fn publish<'a>(
        &'a self,
        message: &'a Message,
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), Stopped>>;

    /// Publishes a run of messages in order, each retried until accepted.
    /// A transport that can take a run at once (the in-process bus hands it
    /// to each handler as one batch) overrides this; the default publishes
    /// them one after another. On `Err(Stopped)` any part of the run may
    /// have been accepted: the caller publishes all of it again later
    /// (delivery is at least once).
    fn publish_all<'a>(
        &'a self,
        messages: &'a [Message],
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), Stopped>> {
        async move {
            for message in messages {
                self.publish(message, stop)
                    .instrument(message.span())
                    .await?;
            }
            Ok(())
        }
        .boxed()
    }
}

/// Exponential backoff with jitter: `initial`, twice that, four times, …,
/// capped at `max`, each delay scaled by a random factor in [0.8, 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// 1 s, 2 s, 4 s, … up to 30 s.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0 = the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max);
        base.mul_f64(rand::rng().random_range(0.8..1.2))
    }
}

/// Sleeps for `delay` unless `stop` is cancelled first.
pub async fn pause(stop: &CancellationToken, delay: Duration) -> Result<(), Stopped> {
    tokio::select! {
        _ = stop.cancelled() => Err(Stopped),
        _ = tokio::time::sleep(delay) => Ok(()),
    }
}
