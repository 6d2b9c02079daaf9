//! Event handlers: a typed job per topic with an explicit outcome (Dapr's
//! three answers). A handler is written once and runs under both transports:
//! the in-process bus calls it directly, the Dapr delivery route calls it for
//! each message the sidecar posts. The in-process bus hands a handler a run
//! of messages at once; a handler that can do a run's work together (one
//! transaction instead of one each) overrides [`Handler::handle_batch`].

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
    /// This delivery's place in the event's trace: stamp it on what the
    /// handling writes or sends.
    pub trace: TraceContext,
}

impl<T> Delivery<T> {
    /// The span of this delivery's work, in the event's trace.
    fn span(&self, consumer: &'static str) -> tracing::Span {
        consume_span(consumer, &self.id, &self.trace)
    }
}

/// The span of a consumer's work on one event, in the event's trace.
fn consume_span(consumer: &'static str, event_id: &str, trace: &TraceContext) -> tracing::Span {
    tracing::error_span!(
        "consume",
        consumer,
        event_id,
        trace_id = %trace.trace_id_hex(),
        span_id = %trace.span_id_hex(),
    )
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

    /// Whether it takes events of CloudEvents type `event_type` (a topic can
    /// carry several kinds: `task-events` has task and list changes). One
    /// it does not take is answered `Success` without being decoded.
    fn accepts(event_type: &str) -> bool {
        let _ = event_type;
        true
    }

    /// Handles one delivery; may be called more than once for the same event.
    fn handle(&self, delivery: Delivery<Self::Payload>) -> impl Future<Output = Outcome> + Send;

    /// Handles a run of deliveries of this topic, in order, and answers one
    /// outcome for each. The default handles them one after another, each in
    /// its own trace scope, and stops at the first `Retry` (the rest answer
    /// `Retry` unhandled, so nothing overtakes it). An override that does
    /// the run's work together must keep that rule: a later delivery never
    /// succeeds where an earlier one is retried.
    fn handle_batch(
        &self,
        deliveries: Vec<Delivery<Self::Payload>>,
    ) -> impl Future<Output = Vec<Outcome>> + Send {
        async move {
            let mut outcomes = Vec::with_capacity(deliveries.len());
            for delivery in deliveries {
                if outcomes.last() == Some(&Outcome::Retry) {
                    outcomes.push(Outcome::Retry);
                    continue;
                }
                let (context, span) = (delivery.trace, delivery.span(Self::NAME));
                let handled = async {
                    let outcome = self.handle(delivery).await;
                    tracing::debug!(outcome = outcome.dapr_status(), "handled");
                    outcome
                };
                outcomes.push(trace::scope(context, handled.instrument(span)).await);
            }
            outcomes
        }
    }
}

/// A handler behind a pointer, whatever its payload type.
pub trait ErasedHandler: Send + Sync {
    fn topic(&self) -> &'static str;
    fn name(&self) -> &'static str;
    /// Decodes each event's data and handles the run (see
    /// [`Handler::handle_batch`]), one outcome per event, in order. An
    /// undecodable event is dropped with a log line, and events that arrive
    /// while the process stops (`stop` cancelled) are left for a redelivery.
    fn deliver_all<'a>(
        &'a self,
        events: &'a [&'a CloudEvent<Value>],
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Vec<Outcome>>;

    /// Delivers one event: a run of one.
    fn deliver<'a>(
        &'a self,
        event: &'a CloudEvent<Value>,
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Outcome> {
        async move {
            let outcomes = self.deliver_all(&[event], stop).await;
            outcomes.first().copied().unwrap_or(Outcome::Retry)
        }
        .boxed()
    }
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

    fn deliver_all<'a>(
        &'a self,
        events: &'a [&'a CloudEvent<Value>],
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Vec<Outcome>> {
        async move {
            if stop.is_cancelled() {
                tracing::debug!(
                    consumer = H::NAME,
                    events = events.len(),
                    "stopping; the events are left for a redelivery"
                );
                for _ in events {
                    count(H::NAME, H::TOPIC, Outcome::Retry);
                }
                return vec![Outcome::Retry; events.len()];
            }
            let mut outcomes = vec![Outcome::Drop; events.len()];
            let mut deliveries = Vec::with_capacity(events.len());
            // Where each delivery's outcome goes.
            let mut places = Vec::with_capacity(events.len());
            for (place, event) in events.iter().enumerate() {
                if !H::accepts(&event.event_type) {
                    outcomes[place] = Outcome::Success;
                    continue;
                }
                let trace = TraceContext::continue_from(event.traceparent.as_deref());
                match decode::<H::Payload>(&event.data) {
                    Ok(data) => {
                        deliveries.push(Delivery {
                            id: event.id.clone(),
                            event_type: event.event_type.clone(),
                            data,
                            stop: stop.clone(),
                            trace,
                        });
                        places.push(place);
                        // Until the handler answers (an answer missing is
                        // a retry, never a loss).
                        outcomes[place] = Outcome::Retry;
                    }
                    Err(err) => consume_span(H::NAME, &event.id, &trace).in_scope(|| {
                        tracing::warn!(error = %err, "dropping an event whose data does not parse");
                    }),
                }
            }
            let answers = self.handle_batch(deliveries).await;
            for (place, outcome) in places.into_iter().zip(answers) {
                outcomes[place] = outcome;
            }
            for outcome in &outcomes {
                count(H::NAME, H::TOPIC, *outcome);
            }
            outcomes
        }
        .boxed()
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
