//! Event handlers: a typed job per topic with an explicit outcome (Dapr's
//! three answers). A handler is written once and runs under both transports:
//! the in-process bus calls it directly, the Dapr delivery route calls it for
//! each message the sidecar posts.

use std::fmt;
use std::future::Future;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::CloudEvent;
use crate::trace::{self, TraceContext};

/// What a handler made of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or done before: a repeat delivery is a success).
    Success,
    /// Failed for now; deliver again later.
    Retry,
    /// Can never succeed (malformed, or about something gone); do not retry.
    Drop,
}

impl Outcome {
    /// The `status` Dapr expects in the delivery response.
    pub fn dapr_status(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Retry => "RETRY",
            Outcome::Drop => "DROP",
        }
    }
}

/// One delivered event with its payload decoded.
#[derive(Debug, Clone)]
pub struct Delivery<T> {
    /// The CloudEvent id (stable across re-deliveries and re-publishes).
    pub id: String,
    /// The CloudEvent type, such as `taskflow.task.completed.v1`.
    pub event_type: String,
    pub data: T,
    /// Cancelled when the process shuts down. A delivery that arrives after
    /// is answered `Retry` before its handler runs; a handler with long work
    /// can watch it, stop, and answer `Retry` too, so the broker delivers
    /// the event again (here or elsewhere).
    pub stop: CancellationToken,
}

/// A typed consumer of one topic.
pub trait Handler: Send + Sync + 'static {
    /// The payload type of the topic.
    type Payload: DeserializeOwned + Send;
    /// The topic it consumes.
    const TOPIC: &'static str;
    /// Its consumer name: the key of its `processed_events` rows and the
    /// last segment of its delivery route.
    const NAME: &'static str;

    /// Handles one delivery; may be called more than once for the same event.
    fn handle(&self, delivery: Delivery<Self::Payload>) -> impl Future<Output = Outcome> + Send;
}

/// A handler behind a pointer, whatever its payload type.
pub trait ErasedHandler: Send + Sync {
    fn topic(&self) -> &'static str;
    fn name(&self) -> &'static str;
    /// Decodes the event's data and handles it; an undecodable event is
    /// dropped with a log line, and an event that arrives while the process
    /// stops (`stop` cancelled) is left for a redelivery.
    fn deliver<'a>(
        &'a self,
        event: &'a CloudEvent<Value>,
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Outcome>;
}

/// `taskflow_handler_outcomes_total{consumer, topic, outcome}`.
fn count(consumer: &'static str, topic: &'static str, outcome: Outcome) {
    metrics::counter!(
        "taskflow_handler_outcomes_total",
        "consumer" => consumer,
        "topic" => topic,
        "outcome" => outcome.dapr_status()
    )
    .increment(1);
}

impl fmt::Debug for dyn ErasedHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.topic())
    }
}

impl<H: Handler> ErasedHandler for H {
    fn topic(&self) -> &'static str {
        H::TOPIC
    }

    fn name(&self) -> &'static str {
        H::NAME
    }

    fn deliver<'a>(
        &'a self,
        event: &'a CloudEvent<Value>,
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Outcome> {
        let context = TraceContext::continue_from(event.traceparent.as_deref());
        let span = tracing::error_span!(
            "consume",
            consumer = H::NAME,
            event_id = %event.id,
            trace_id = %context.trace_id_hex(),
            span_id = %context.span_id_hex(),
        );
        let work = async move {
            if stop.is_cancelled() {
                tracing::debug!("stopping; the event is left for a redelivery");
                count(H::NAME, H::TOPIC, Outcome::Retry);
                return Outcome::Retry;
            }
            let data = match decode::<H::Payload>(&event.data) {
                Ok(data) => data,
                Err(err) => {
                    tracing::warn!(error = %err, "dropping an event whose data does not parse");
                    count(H::NAME, H::TOPIC, Outcome::Drop);
                    return Outcome::Drop;
                }
            };
            let outcome = self
                .handle(Delivery {
                    id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    data,
                    stop: stop.clone(),
                })
                .await;
            tracing::debug!(outcome = outcome.dapr_status(), "handled");
            count(H::NAME, H::TOPIC, outcome);
            outcome
        };
        trace::scope(context, work.instrument(span)).boxed()
    }
}

/// Decodes event data given as a JSON value or as a JSON document in a
/// string (what Dapr makes of a body published without a JSON content type).
pub fn decode<T: DeserializeOwned>(data: &Value) -> Result<T, serde_json::Error> {
    match data {
        Value::String(text) => serde_json::from_str(text).or_else(|_| T::deserialize(data)),
        other => T::deserialize(other),
    }
}
