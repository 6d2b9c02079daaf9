//! TEST DOUBLE of the Dapr sidecar's HTTP API, implementing the documented contract in `shared/reference/dapr-contract.md` §1.14 (rows 1, 3, 4, 12); no real daprd can run on these machines.
//!
//! Implemented: `GET /v1.0/healthz/outbound` (204, or 500
//! `ERR_HEALTH_NOT_READY` while not ready); `POST /v1.0/publish/{pubsub}/{topic}`
//! (204; 400 `ERR_PUBSUB_NOT_CONFIGURED` while not ready; 404
//! `ERR_PUBSUB_NOT_FOUND` for another pub/sub name; 500
//! `ERR_PUBSUB_PUBLISH_MESSAGE` while the broker "refuses"), keeping the
//! app's own CloudEvent for `application/cloudevents+json` and adding `topic`
//! and `pubsubname`; and delivery to each subscribed app: it reads the app's
//! `GET /dapr/subscribe` once, then POSTs each accepted message to its route
//! as `application/cloudevents+json` in publish order, re-delivering on
//! `RETRY` or a non-2xx answer (not 404), and — as fault injection — every
//! message twice when asked.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// How many times a delivery the app keeps refusing is retried.
const DELIVERY_ATTEMPTS: usize = 20;

/// A message the double accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub topic: String,
    pub partition_key: Option<String>,
    pub content_type: Option<String>,
    /// The CloudEvent as the broker would store it.
    pub event: Value,
    /// When the double accepted it.
    pub received_at: std::time::Instant,
}

#[derive(Debug, Default)]
struct Shared {
    pubsub: String,
    ready: AtomicBool,
    refusing: AtomicBool,
    twice: AtomicBool,
    /// Added latency of each publish, in microseconds.
    delay_us: AtomicU64,
    app_token: Mutex<Option<String>>,
    publish_calls: AtomicUsize,
    delivered: AtomicUsize,
    published: Mutex<Vec<Published>>,
    /// One delivery queue per subscribed app (each app's own sidecar, all
    /// on one broker).
    deliveries: Mutex<Vec<mpsc::UnboundedSender<Published>>>,
}

/// A running sidecar double on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Sidecar {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Sidecar {
    /// Starts a ready sidecar with pub/sub component `pubsub`.
    pub async fn start(pubsub: &str) -> Sidecar {
        let shared = Arc::new(Shared {
            pubsub: pubsub.to_owned(),
            ready: AtomicBool::new(true),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/v1.0/healthz/outbound", get(health))
            .route("/v1.0/publish/{pubsub}/{topic}", post(publish))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the sidecar double");
        let addr = listener.local_addr().expect("sidecar address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Sidecar { addr, shared }
    }

    /// The base URL of its HTTP API.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Not ready: health answers 500, publish 400 `ERR_PUBSUB_NOT_CONFIGURED`.
    pub fn set_ready(&self, ready: bool) {
        self.shared.ready.store(ready, Ordering::SeqCst);
    }

    /// The broker refuses publishes (500) while set.
    pub fn set_refusing(&self, refusing: bool) {
        self.shared.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Sends `dapr-api-token` with every delivery (Dapr's `APP_API_TOKEN`).
    pub fn set_app_token(&self, token: &str) {
        if let Ok(mut slot) = self.shared.app_token.lock() {
            *slot = Some(token.to_owned());
        }
    }

    /// The port of its HTTP API.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers each publish only after `delay` (a real sidecar's latency;
    /// tokio's timer rounds it up to whole milliseconds).
    pub fn set_delay(&self, delay: std::time::Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.shared.delay_us.store(micros, Ordering::SeqCst);
    }

    /// Delivers every message to the app twice while set.
    pub fn set_deliver_twice(&self, twice: bool) {
        self.shared.twice.store(twice, Ordering::SeqCst);
    }

    /// Every message accepted so far, in order.
    pub fn published(&self) -> Vec<Published> {
        self.shared
            .published
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// Accepted messages of one topic.
    pub fn published_on(&self, topic: &str) -> Vec<Published> {
        self.published()
            .into_iter()
            .filter(|p| p.topic == topic)
            .collect()
    }

    /// How many messages of one topic were accepted (cheap: no copies).
    pub fn count_on(&self, topic: &str) -> usize {
        self.shared
            .published
            .lock()
            .map_or(0, |p| p.iter().filter(|m| m.topic == topic).count())
    }

    /// Publish requests received, accepted or not.
    pub fn publish_calls(&self) -> usize {
        self.shared.publish_calls.load(Ordering::SeqCst)
    }

    /// Deliveries the app has answered with success (or DROP).
    pub fn delivered(&self) -> usize {
        self.shared.delivered.load(Ordering::SeqCst)
    }

    /// Reads the app's subscriptions and starts delivering accepted messages
    /// of those topics to it (messages accepted earlier are not replayed).
    /// Several apps may subscribe: each gets every message of its topics, as
    /// apps with their own consumer groups do on one broker.
    pub async fn subscribe(&self, app_url: &str) {
        let client = reqwest::Client::new();
        let list: Value = client
            .get(format!("{app_url}/dapr/subscribe"))
            .send()
            .await
            .expect("GET /dapr/subscribe")
            .json()
            .await
            .expect("subscription list is JSON");
        let mut routes = HashMap::new();
        for sub in list.as_array().cloned().unwrap_or_default() {
            if sub["pubsubname"] == self.shared.pubsub.as_str() {
                let topic = sub["topic"].as_str().unwrap_or_default().to_owned();
                routes.insert(topic, sub["route"].as_str().unwrap_or_default().to_owned());
            }
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<Published>();
        if let Ok(mut apps) = self.shared.deliveries.lock() {
            apps.push(tx);
        }
        let (shared, app_url) = (self.shared.clone(), app_url.to_owned());
        tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                let Some(route) = routes.get(&message.topic) else {
                    continue;
                };
                let times = if shared.twice.load(Ordering::SeqCst) {
                    2
                } else {
                    1
                };
                let token = shared.app_token.lock().ok().and_then(|t| t.clone());
                for _ in 0..times {
                    deliver(
                        &client,
                        &format!("{app_url}{route}"),
                        token.as_deref(),
                        &message,
                    )
                    .await;
                    shared.delivered.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }
}

async fn deliver(client: &reqwest::Client, url: &str, token: Option<&str>, message: &Published) {
    for _ in 0..DELIVERY_ATTEMPTS {
        let mut request = client.post(url);
        if let Some(token) = token {
            request = request.header("dapr-api-token", token);
        }
        // Dapr adds the event's trace as a header too (contract §1.3).
        if let Some(traceparent) = message.event["traceparent"].as_str() {
            request = request.header("traceparent", traceparent);
        }
        let answer = request
            .header("content-type", "application/cloudevents+json")
            .header("__topic", &message.topic)
            .header("__key", message.partition_key.clone().unwrap_or_default())
            .body(message.event.to_string())
            .send()
            .await;
        let Ok(response) = answer else { continue };
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return;
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() && body["status"] != "RETRY" {
            return;
        }
    }
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    if shared.ready.load(Ordering::SeqCst) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_HEALTH_NOT_READY",
            "dapr is not ready",
        )
    }
}

async fn publish(
    State(shared): State<Arc<Shared>>,
    Path((pubsub, topic)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.publish_calls.fetch_add(1, Ordering::SeqCst);
    let delay = shared.delay_us.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_micros(delay)).await;
    }
    if !shared.ready.load(Ordering::SeqCst) {
        return error(
            StatusCode::BAD_REQUEST,
            "ERR_PUBSUB_NOT_CONFIGURED",
            "no pubsub is configured",
        );
    }
    if pubsub != shared.pubsub {
        return error(
            StatusCode::NOT_FOUND,
            "ERR_PUBSUB_NOT_FOUND",
            &format!("pubsub {pubsub} not found"),
        );
    }
    if shared.refusing.load(Ordering::SeqCst) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_PUBSUB_PUBLISH_MESSAGE",
            "broker unavailable",
        );
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let event = match content_type.as_deref() {
        Some("application/cloudevents+json") => match serde_json::from_slice::<Value>(&body) {
            Ok(mut event) => {
                event["topic"] = json!(topic);
                event["pubsubname"] = json!(pubsub);
                event
            }
            Err(_) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ERR_PUBSUB_CLOUD_EVENTS_SER",
                    "not JSON",
                );
            }
        },
        // Dapr wraps other bodies; a missing content type makes data a string.
        Some(ct) if ct.contains("json") => envelope(
            &topic,
            &pubsub,
            ct,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        ),
        other => envelope(
            &topic,
            &pubsub,
            other.unwrap_or("text/plain"),
            json!(String::from_utf8_lossy(&body)),
        ),
    };
    let message = Published {
        topic,
        partition_key: query.get("metadata.partitionKey").cloned(),
        content_type,
        event,
        received_at: std::time::Instant::now(),
    };
    if let Ok(mut published) = shared.published.lock() {
        published.push(message.clone());
    }
    if let Ok(apps) = shared.deliveries.lock() {
        for app in apps.iter() {
            let _ = app.send(message.clone());
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

fn envelope(topic: &str, pubsub: &str, content_type: &str, data: Value) -> Value {
    json!({
        "specversion": "1.0", "id": format!("dapr-{}", rand_id()), "source": "double",
        "type": "com.dapr.event.sent", "datacontenttype": content_type,
        "topic": topic, "pubsubname": pubsub, "data": data,
    })
}

fn rand_id() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorCode": code, "message": message})),
    )
        .into_response()
}
