//! Taskflow's HTTP edge. [`app`] builds the router (so tests can drive it
//! without a socket); handlers parse, call the store, and map the result.

pub mod app_passwords;
pub mod auth;
pub mod calendar;
pub mod chat;
mod client_documents;
pub mod dashboard;
pub mod dav;
pub mod extract;
pub mod lists;
pub mod members;
pub mod notifications;
pub mod oauth;
pub mod openapi;
pub mod problem;
pub mod stream;
pub mod tasks;
pub mod telemetry;
pub mod transfer;
pub mod users;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use taskflow_store::TaskService;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::Verifier;
use crate::problem::Problem;

/// How long a readiness probe waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub tasks: TaskService,
    pub verifier: Arc<Verifier>,
    /// Fan-out to open SSE streams.
    pub hub: stream::Hub,
    /// The chat agent behind `/api/chat`.
    pub chat: taskflow_chat::Chat,
    /// The dashboard's one-click sign-in (embedded mode on loopback only).
    pub local_sign_in: Option<dashboard::LocalSignIn>,
    /// The OAuth authorization server (None: no HS256 secret to sign with).
    pub oauth: Option<oauth::OAuthServer>,
    /// Where clients reach this server, without a trailing `/`: calendar
    /// feeds' URLs and their items' UIDs and links are under it.
    pub public_url: Arc<str>,
}

impl AppState {
    /// State with a hub of its own (random ticket key, never closed).
    pub fn new(tasks: TaskService, verifier: Verifier) -> Self {
        Self {
            chat: taskflow_chat::Chat::new(tasks.clone(), None),
            local_sign_in: None,
            oauth: None,
            public_url: Arc::from("http://localhost"),
            hub: stream::Hub::new(
                tasks.audience().clone(),
                tokio_util::sync::CancellationToken::new(),
                None,
                stream::DEFAULT_MAX_STREAMS,
            ),
            tasks,
            verifier: Arc::new(verifier),
        }
    }

    /// The same state reached at `url` (see [`AppState::public_url`]).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// The same state with the chat agent using a model.
    pub fn with_chat_model(mut self, model: Option<taskflow_chat::ModelConfig>) -> Self {
        self.chat = taskflow_chat::Chat::new(self.tasks.clone(), model);
        self
    }
}

/// The largest request body accepted by default.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Which route groups a process serves, besides `/healthz`, `/readyz` and
/// `/metrics`, which every process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surfaces {
    /// The REST API (tasks, lists, notifications, tags, chat and
    /// conversations, users, the OpenAPI document) and the dashboard at `/`.
    pub rest: bool,
    /// The SSE gateway (`/api/stream/*`).
    pub stream: bool,
}

impl Surfaces {
    /// Everything: `taskflow serve`.
    pub const ALL: Surfaces = Surfaces {
        rest: true,
        stream: true,
    };
    /// Only the operational routes: a worker.
    pub const NONE: Surfaces = Surfaces {
        rest: false,
        stream: false,
    };
}

/// The router of the whole HTTP API.
pub fn app(state: AppState) -> Router {
    router(state, Surfaces::ALL)
}

/// The router of the chosen route groups.
pub fn router(state: AppState, surfaces: Surfaces) -> Router {
    telemetry::prometheus();
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text));
    if surfaces.rest {
        router = router
            .route(
                "/api/openapi.json",
                get(|| async { Json(openapi::document().clone()) }),
            )
            .merge(tasks::routes())
            .merge(lists::routes())
            .merge(members::routes())
            .merge(notifications::routes())
            .merge(users::routes())
            .merge(webhooks::routes())
            .merge(app_passwords::routes())
            .merge(calendar::routes())
            .merge(dav::routes())
            .merge(oauth::routes())
            .merge(transfer::routes())
            .merge(chat::routes())
            .merge(dashboard::routes());
    }
    if surfaces.stream {
        router = router.merge(stream::routes());
    }
    router
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .route_layer(axum::middleware::from_fn(telemetry::track))
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(telemetry::traced))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(
                    |request: &axum::http::Request<_>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        let trace = taskflow_events::trace::current();
                        tracing::error_span!(
                            "request",
                            method = %request.method(),
                            uri = %redacted(request.uri()),
                            request_id = %id,
                            trace_id = trace.map(|t| t.trace_id_hex()),
                            span_id = trace.map(|t| t.span_id_hex()),
                        )
                    },
                ))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

/// The request's URI as logged: a calendar feed's token, a credential,
/// is left out.
fn redacted(uri: &axum::http::Uri) -> std::borrow::Cow<'_, str> {
    match uri.path().strip_prefix("/feeds/") {
        Some(_) => "/feeds/…".into(),
        None => uri.to_string().into(),
    }
}

/// Prometheus text: request metrics, events published, relay lag,
/// retention.
async fn metrics_text(State(state): State<AppState>) -> Response {
    let Some(handle) = telemetry::prometheus() else {
        return Problem::unavailable("metrics are not recorded in this process").into_response();
    };
    let db = state.tasks.database();
    if let Ok(lag) = db.relay_lag().await {
        metrics::gauge!("taskflow_relay_unpublished_events").set(lag.unpublished as f64);
        metrics::gauge!("taskflow_relay_oldest_unpublished_age_seconds")
            .set(lag.age_seconds(chrono::Utc::now()));
    }
    // Retention: how far back the outbox reaches, and what was pruned.
    if let (Ok(through), Ok(oldest)) = (db.pruned_through().await, db.oldest_event_at().await) {
        metrics::gauge!("taskflow_retention_pruned_through_sequence").set(through as f64);
        let age = oldest.map_or(0.0, |at| {
            (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!("taskflow_outbox_oldest_event_age_seconds").set(age);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle.render(),
    )
        .into_response()
}

async fn unknown_route() -> Problem {
    Problem::not_found("no such route")
}

async fn wrong_method() -> Problem {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        "this route does not support that method",
    )
}

/// Liveness: the process is up and serving.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers in time.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    let db = state.tasks.database();
    // Reading the relay lag is also the database check.
    let checked = tokio::time::timeout(READY_TIMEOUT, db.relay_lag()).await;
    match checked {
        Ok(Ok(lag)) => Ok(Json(json!({
            "status": "ready",
            "database": "ok",
            "relay": {
                "unpublished": lag.unpublished,
                "oldest_unpublished_age_seconds": lag.age_seconds(chrono::Utc::now()),
            },
        }))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: database check failed");
            Err(Problem::unavailable("the database is not answering"))
        }
        Err(_) => Err(Problem::unavailable(
            "the database did not answer within 2 s",
        )),
    }
}
