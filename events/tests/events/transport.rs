//! The publishing transports and the delivery plumbing: the in-process bus
//! and the Dapr publisher (against the sidecar double) honour the same
//! contract; delivery routes accept every shape Dapr sends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use taskflow_events::trace::{self, TraceContext};
use taskflow_events::{
    Backoff, CloudEvent, DaprConfig, DaprPublisher, Delivery, Handler, InProcessBus, Message,
    Outcome, Publisher, Subscriptions,
};
use taskflow_testkit::sidecar::Sidecar;
use taskflow_testkit::wait_for;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Ping {
    n: u32,
}

/// Answers from a script (then Success), and records what it saw.
#[derive(Clone, Default)]
struct Scripted {
    script: Arc<Mutex<Vec<Outcome>>>,
    seen: Arc<Mutex<Vec<(String, u32)>>>,
}

impl Scripted {
    /// The numbers of the events it saw, in order.
    fn numbers(&self) -> Vec<u32> {
        self.seen.lock().unwrap().iter().map(|(_, n)| *n).collect()
    }
}

impl Handler for Scripted {
    type Payload = Ping;
    const TOPIC: &'static str = "pings";
    const NAME: &'static str = "scripted";

    async fn handle(&self, delivery: Delivery<Ping>) -> Outcome {
        self.seen
            .lock()
            .unwrap()
            .push((delivery.id.clone(), delivery.data.n));
        let mut script = self.script.lock().unwrap();
        if script.is_empty() {
            Outcome::Success
        } else {
            script.remove(0)
        }
    }
}

fn message(id: &str, n: u32) -> Message {
    Message {
        topic: "pings",
        key: "alice".into(),
        event: CloudEvent::new(
            id,
            "test",
            "test.ping.v1",
            None,
            Utc::now(),
            json!({"n": n}),
        ),
    }
}

fn fast() -> Backoff {
    Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(5),
    }
}

fn bus(handler: &Scripted, attempts: u32) -> InProcessBus {
    InProcessBus::new(vec![Arc::new(handler.clone())], fast(), attempts)
}

#[tokio::test]
async fn the_bus_retries_a_handler_until_it_succeeds() {
    let handler = Scripted::default();
    *handler.script.lock().unwrap() = vec![Outcome::Retry, Outcome::Retry];
    bus(&handler, 5)
        .publish(&message("e1", 1), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(handler.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_poison_event_does_not_block_the_events_behind_it() {
    let handler = Scripted::default();
    *handler.script.lock().unwrap() = vec![Outcome::Drop];
    let bus = bus(&handler, 5);
    let stop = CancellationToken::new();
    bus.publish(&message("poison", 1), &stop).await.unwrap();
    bus.publish(&message("next", 2), &stop).await.unwrap();
    assert_eq!(handler.numbers(), [1, 2]);
}

#[tokio::test]
async fn a_handler_that_always_fails_is_given_up_on_after_its_attempts() {
    let handler = Scripted::default();
    *handler.script.lock().unwrap() = vec![Outcome::Retry; 100];
    let bus = bus(&handler, 4);
    bus.publish(&message("stuck", 1), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(handler.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn undecodable_data_is_dropped_not_retried() {
    let handler = Scripted::default();
    let mut bad = message("bad", 0);
    bad.event.data = json!({"n": "not a number"});
    bus(&handler, 5)
        .publish(&bad, &CancellationToken::new())
        .await
        .unwrap();
    assert!(handler.seen.lock().unwrap().is_empty());
}

/// A run goes to a handler in one call; one that does not batch handles it
/// in order and, at its first retry, leaves the rest for the bus to deliver
/// again one by one in order — nothing overtakes a retried event.
#[tokio::test]
async fn a_run_is_handled_in_order_and_a_retry_holds_back_the_rest() {
    let handler = Scripted::default();
    *handler.script.lock().unwrap() = vec![Outcome::Success, Outcome::Retry];
    let run = [message("a", 1), message("b", 2), message("c", 3)];
    bus(&handler, 5)
        .publish_all(&run, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(handler.numbers(), [1, 2, 2, 3]);
}

/// Takes each run whole and answers from a script of runs.
#[derive(Clone, Default)]
struct Batching {
    script: Arc<Mutex<Vec<Vec<Outcome>>>>,
    runs: Arc<Mutex<Vec<Vec<u32>>>>,
}

impl Handler for Batching {
    type Payload = Ping;
    const TOPIC: &'static str = "pings";
    const NAME: &'static str = "batching";

    async fn handle(&self, delivery: Delivery<Ping>) -> Outcome {
        self.handle_batch(vec![delivery]).await[0]
    }

    async fn handle_batch(&self, deliveries: Vec<Delivery<Ping>>) -> Vec<Outcome> {
        self.runs
            .lock()
            .unwrap()
            .push(deliveries.iter().map(|d| d.data.n).collect());
        let mut script = self.script.lock().unwrap();
        if script.is_empty() {
            vec![Outcome::Success; deliveries.len()]
        } else {
            script.remove(0)
        }
    }
}

#[tokio::test]
async fn a_batching_handler_takes_a_run_in_one_call_and_retries_from_its_first_retry() {
    let handler = Batching::default();
    *handler.script.lock().unwrap() = vec![vec![
        Outcome::Success,
        Outcome::Drop,
        Outcome::Retry,
        Outcome::Retry,
    ]];
    let mut run = vec![
        message("a", 1),
        message("b", 2),
        message("bad", 0),
        message("c", 3),
        message("d", 4),
    ];
    run[2].event.data = json!({"n": "not a number"});
    // Another topic's message is not this handler's.
    run.push(Message {
        topic: "other",
        ..message("x", 9)
    });
    InProcessBus::new(vec![Arc::new(handler.clone())], fast(), 5)
        .publish_all(&run, &CancellationToken::new())
        .await
        .unwrap();
    // The undecodable event never reaches it; the retried one and the one
    // behind it come again, each alone, in order.
    assert_eq!(
        *handler.runs.lock().unwrap(),
        [vec![1, 2, 3, 4], vec![3], vec![4]]
    );
}

#[tokio::test]
async fn shutdown_interrupts_a_retrying_publish() {
    let handler = Scripted::default();
    *handler.script.lock().unwrap() = vec![Outcome::Retry; 100];
    let slow = InProcessBus::new(
        vec![Arc::new(handler.clone())],
        Backoff {
            initial: Duration::from_secs(60),
            max: Duration::from_secs(60),
        },
        100,
    );
    let stop = CancellationToken::new();
    stop.cancel();
    assert!(slow.publish(&message("e", 1), &stop).await.is_err());
}

fn dapr(sidecar: &Sidecar) -> DaprPublisher {
    let mut config = DaprConfig::new(sidecar.url(), "pubsub");
    config.retry = fast();
    config.slow_retry = Duration::from_millis(20);
    DaprPublisher::new(config)
}

#[tokio::test]
async fn dapr_publishes_our_cloud_event_with_the_partition_key() {
    let sidecar = Sidecar::start("pubsub").await;
    dapr(&sidecar)
        .publish(&message("e-1", 7), &CancellationToken::new())
        .await
        .unwrap();
    let published = sidecar.published();
    assert_eq!(published.len(), 1);
    let p = &published[0];
    assert_eq!(p.topic, "pings");
    assert_eq!(p.partition_key.as_deref(), Some("alice"));
    assert_eq!(
        p.content_type.as_deref(),
        Some("application/cloudevents+json")
    );
    assert_eq!(p.event["id"], "e-1");
    assert_eq!(p.event["type"], "test.ping.v1");
    assert_eq!(p.event["data"], json!({"n": 7}));
    // Published outside any traced work, the event starts a trace.
    let traceparent = p.event["traceparent"].as_str().unwrap();
    assert!(TraceContext::parse(traceparent).is_some(), "{traceparent}");
}

#[tokio::test]
async fn dapr_waits_for_a_sidecar_that_is_not_ready_and_for_a_broker_that_refuses() {
    let sidecar = Sidecar::start("pubsub").await;
    sidecar.set_ready(false);
    sidecar.set_refusing(true);
    let publisher = Arc::new(dapr(&sidecar));
    let stop = CancellationToken::new();
    let task = {
        let (publisher, stop) = (publisher.clone(), stop.clone());
        tokio::spawn(async move { publisher.publish(&message("e-1", 1), &stop).await })
    };
    assert!(!publisher.is_ready());
    sidecar.set_ready(true);
    wait_for(
        "the publisher to try the sidecar 3 times",
        Duration::from_secs(5),
        || async { sidecar.publish_calls() >= 3 },
    )
    .await;
    assert!(sidecar.published().is_empty());
    sidecar.set_refusing(false);
    task.await.unwrap().unwrap();
    assert_eq!(sidecar.published().len(), 1);
}

#[tokio::test]
async fn dapr_never_drops_an_event_the_sidecar_refuses_as_misconfigured() {
    let sidecar = Sidecar::start("pubsub").await;
    let mut config = DaprConfig::new(sidecar.url(), "no-such-pubsub");
    config.retry = fast();
    config.slow_retry = Duration::from_millis(10);
    let publisher = DaprPublisher::new(config);
    let stop = CancellationToken::new();
    let attempt = tokio::time::timeout(
        Duration::from_millis(300),
        publisher.publish(&message("e", 1), &stop),
    )
    .await;
    assert!(
        attempt.is_err(),
        "the publish must keep retrying, not give up"
    );
    assert!(sidecar.publish_calls() >= 2);
}

#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Handler for Counter {
    type Payload = Ping;
    const TOPIC: &'static str = "pings";
    const NAME: &'static str = "counter";

    async fn handle(&self, delivery: Delivery<Ping>) -> Outcome {
        self.0.fetch_add(delivery.data.n as usize, Ordering::SeqCst);
        Outcome::Success
    }
}

async fn post(router: &axum::Router, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut request =
        Request::post("/events/pings").header("content-type", "application/cloudevents+json");
    if let Some(token) = token {
        request = request.header("dapr-api-token", token);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn delivery_routes_accept_object_string_and_base64_data() {
    let counter = Counter::default();
    let router = Subscriptions::new("pubsub", None, CancellationToken::new())
        .route("/events/pings", Arc::new(counter.clone()))
        .router();
    let b64 = base64::engine::general_purpose::STANDARD.encode(r#"{"n": 100}"#);
    for body in [
        json!({"id": "1", "type": "t", "data": {"n": 1}}).to_string(),
        json!({"id": "2", "type": "t", "data": "{\"n\": 10}"}).to_string(),
        json!({"id": "3", "type": "t", "data_base64": b64}).to_string(),
    ] {
        assert_eq!(
            post(&router, None, &body).await,
            (StatusCode::OK, json!({"status": "SUCCESS"}))
        );
    }
    assert_eq!(counter.0.load(Ordering::SeqCst), 111);
    assert_eq!(
        post(&router, None, "not json").await.1,
        json!({"status": "DROP"})
    );
    assert_eq!(
        post(&router, None, r#"{"id": "4", "data": {"n": "x"}}"#)
            .await
            .1,
        json!({"status": "DROP"})
    );
}

#[tokio::test]
async fn a_delivery_while_the_process_stops_is_left_for_a_redelivery() {
    let counter = Counter::default();
    let stop = CancellationToken::new();
    let router = Subscriptions::new("pubsub", None, stop.clone())
        .route("/events/pings", Arc::new(counter.clone()))
        .router();
    let ping = json!({"id": "1", "type": "t", "data": {"n": 1}}).to_string();
    assert_eq!(
        post(&router, None, &ping).await.1,
        json!({"status": "SUCCESS"})
    );
    stop.cancel();
    assert_eq!(
        post(&router, None, &ping).await.1,
        json!({"status": "RETRY"})
    );
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "the handler did not run"
    );
}

#[tokio::test]
async fn the_subscription_list_names_every_route_and_dead_letter_topic() {
    let router = Subscriptions::new("pubsub", None, CancellationToken::new())
        .route("/events/pings", Arc::new(Counter::default()))
        .router();
    let response = router
        .oneshot(Request::get("/dapr/subscribe").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let list: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        list,
        json!([{"pubsubname": "pubsub", "topic": "pings", "route": "/events/pings", "deadLetterTopic": "pings-dlq"}])
    );
}

#[tokio::test]
async fn deliveries_need_the_app_token_when_one_is_set() {
    let counter = Counter::default();
    let router = Subscriptions::new("pubsub", Some("s3cret".into()), CancellationToken::new())
        .route("/events/pings", Arc::new(counter.clone()))
        .router();
    let body = json!({"id": "1", "data": {"n": 1}}).to_string();
    assert_eq!(post(&router, None, &body).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        post(&router, Some("wrong"), &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(post(&router, Some("s3cret"), &body).await.0, StatusCode::OK);
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
}

/// Records the trace context each delivery was handled in.
#[derive(Clone, Default)]
struct Traces(Arc<Mutex<Vec<Option<TraceContext>>>>);

impl Handler for Traces {
    type Payload = Ping;
    const TOPIC: &'static str = "pings";
    const NAME: &'static str = "traces";

    async fn handle(&self, _: Delivery<Ping>) -> Outcome {
        self.0.lock().unwrap().push(trace::current());
        Outcome::Success
    }
}

#[tokio::test]
async fn a_delivery_continues_the_trace_of_its_event_from_the_envelope_or_the_header() {
    let traces = Traces::default();
    let router = Subscriptions::new("pubsub", None, CancellationToken::new())
        .route("/events/pings", Arc::new(traces.clone()))
        .router();
    let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let in_envelope = json!({"id": "1", "type": "t", "traceparent": parent, "data": {"n": 1}});
    assert_eq!(post(&router, None, &in_envelope.to_string()).await.0, 200);
    let only_header = Request::post("/events/pings")
        .header("content-type", "application/cloudevents+json")
        .header("traceparent", parent)
        .body(Body::from(json!({"id": "2", "data": {"n": 1}}).to_string()))
        .unwrap();
    assert_eq!(
        router.clone().oneshot(only_header).await.unwrap().status(),
        200
    );
    let garbage = json!({"id": "3", "traceparent": "00-zz", "data": {"n": 1}});
    assert_eq!(post(&router, None, &garbage.to_string()).await.0, 200);

    let seen = traces.0.lock().unwrap().clone();
    let parent = TraceContext::parse(parent).unwrap();
    for continued in &seen[..2] {
        let continued = continued.unwrap();
        assert_eq!(continued.trace_id, parent.trace_id);
        assert_ne!(continued.span_id, parent.span_id);
    }
    // An invalid parent starts a new trace rather than failing the delivery.
    assert_ne!(seen[2].unwrap().trace_id, parent.trace_id);

    // What the handler publishes in turn carries its trace on.
    let inner = TraceContext::root();
    let event = trace::scope(inner, async { message("e-9", 1).event }).await;
    assert_eq!(event.traceparent, Some(inner.to_string()));
}
