//! Dapr subscription plumbing for a service that consumes events:
//! `GET /dapr/subscribe` generated from the service's handlers, and one
//! delivery route per handler that accepts what the sidecar posts
//! (`dapr-contract.md` §1.2–1.3): a CloudEvent whose `data` is a JSON value,
//! a JSON document in a string, or `data_base64`. The handler's outcome
//! becomes `{"status": "SUCCESS" | "RETRY" | "DROP"}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::CloudEvent;
use crate::handler::{ErasedHandler, Outcome};

/// The handlers a service consumes events with, and how Dapr reaches them.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    pubsub: String,
    app_token: Option<String>,
    /// Cancelled when the process shuts down; handlers see it.
    stop: CancellationToken,
    routes: Vec<(String, Arc<dyn ErasedHandler>)>,
    /// Whether `GET /dapr/subscribe` lists the routes (false when the
    /// deployment declares Subscription resources instead).
    programmatic: bool,
}

impl Subscriptions {
    /// Subscriptions on pub/sub component `pubsub`; when `app_token` is set
    /// (Dapr's `APP_API_TOKEN`), deliveries must carry it as `dapr-api-token`.
    /// Handlers are told of shutdown by `stop`.
    pub fn new(
        pubsub: impl Into<String>,
        app_token: Option<String>,
        stop: CancellationToken,
    ) -> Self {
        Self {
            pubsub: pubsub.into(),
            app_token: app_token.filter(|t| !t.is_empty()),
            stop,
            routes: Vec::new(),
            programmatic: true,
        }
    }

    /// Leaves the subscriptions to declarative Subscription resources:
    /// `GET /dapr/subscribe` answers `[]`, and the routes still deliver.
    pub fn declarative(mut self) -> Self {
        self.programmatic = false;
        self
    }

    /// Delivers the handler's topic to `route` (a path such as
    /// `/api/events/task-events`).
    pub fn route(mut self, route: impl Into<String>, handler: Arc<dyn ErasedHandler>) -> Self {
        self.routes.push((route.into(), handler));
        self
    }

    /// The programmatic subscription list Dapr reads once at start-up.
    pub fn subscription_list(&self) -> Value {
        if !self.programmatic {
            return Value::Array(Vec::new());
        }
        let list: Vec<Value> = self
            .routes
            .iter()
            .map(|(route, handler)| {
                json!({
                    "pubsubname": self.pubsub,
                    "topic": handler.topic(),
                    "route": route,
                    "deadLetterTopic": format!("{}-dlq", handler.topic()),
                })
            })
            .collect();
        Value::Array(list)
    }

    /// `GET /dapr/subscribe` and the delivery routes.
    pub fn router(self) -> Router {
        let shared = Arc::new(self);
        let mut router = Router::new().route(
            "/dapr/subscribe",
            get({
                let shared = shared.clone();
                move || async move { Json(shared.subscription_list()) }
            }),
        );
        for (route, handler) in &shared.routes {
            let state = Delivery {
                handler: handler.clone(),
                app_token: shared.app_token.clone(),
                stop: shared.stop.clone(),
            };
            router = router.route(route, post(deliver).with_state(state));
        }
        router
    }
}

#[derive(Debug, Clone)]
struct Delivery {
    handler: Arc<dyn ErasedHandler>,
    app_token: Option<String>,
    stop: CancellationToken,
}

async fn deliver(State(delivery): State<Delivery>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(expected) = &delivery.app_token {
        let given = headers
            .get("dapr-api-token")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        // Compared in constant time: the time taken must not tell how much
        // of a guessed token matched.
        if !bool::from(given.ct_eq(expected.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "missing or wrong dapr-api-token"})),
            )
                .into_response();
        }
    }
    let outcome = match parse(&body) {
        Ok(mut event) => {
            // Dapr puts the trace in the envelope; the header is the fallback.
            if event.traceparent.is_none() {
                event.traceparent = headers
                    .get("traceparent")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
            }
            delivery.handler.deliver(&event, &delivery.stop).await
        }
        Err(why) => {
            tracing::warn!(consumer = delivery.handler.name(), %why, "dropping a delivery that is not a CloudEvent");
            Outcome::Drop
        }
    };
    Json(json!({"status": outcome.dapr_status()})).into_response()
}

/// Reads a delivered CloudEvent, normalising `data_base64` and string data.
pub fn parse(body: &[u8]) -> Result<CloudEvent<Value>, String> {
    let mut raw: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let text = |v: &mut Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = text(&mut raw, "id").ok_or("the event has no `id`")?;
    let data = match (
        raw.get_mut("data").map(Value::take),
        text(&mut raw, "data_base64"),
    ) {
        (Some(data), _) => data,
        (None, Some(encoded)) => {
            let bytes = STANDARD
                .decode(encoded)
                .map_err(|e| format!("data_base64 is not base64: {e}"))?;
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        (None, None) => Value::Null,
    };
    let time = raw
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    Ok(CloudEvent::in_trace(
        id,
        text(&mut raw, "source").unwrap_or_default(),
        text(&mut raw, "type").unwrap_or_default(),
        text(&mut raw, "subject"),
        time,
        data,
        text(&mut raw, "traceparent"),
    ))
}
