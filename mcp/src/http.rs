//! Streamable HTTP at `/mcp`: bearer tokens checked by the same verifier as
//! the REST API (401 with `WWW-Authenticate` pointing at
//! `/.well-known/oauth-protected-resource`), allowed hosts and origins
//! configurable, sessions kept per process (an unknown session gets 404, so
//! clients initialize again), each bound to the user who opened it (another
//! user's token on it gets the same 404).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use taskflow_auth::Verifier;
use tokio_util::sync::CancellationToken;

use taskflow_store::TaskService;

use crate::watch::Watch;
use crate::{Identity, McpUser, TaskflowMcp};

/// Who may reach `/mcp`.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Host names accepted in `Host` (DNS-rebinding guard); empty: loopback
    /// names only.
    pub allowed_hosts: Vec<String>,
    /// Origins accepted from browsers; empty: no Origin check.
    pub allowed_origins: Vec<String>,
    /// Tool sets every session lists besides `tasks` (a request adds more
    /// with `?toolsets=`).
    pub toolsets: Vec<taskflow_agent::Toolset>,
    /// Every session offers only the tools that read.
    pub read_only: bool,
}

/// `/mcp` and `/.well-known/oauth-protected-resource`: MCP over `tasks`
/// for the user of each request's bearer token, told of changes by
/// `watch`. Streams end when `closing` is cancelled.
pub fn router(
    tasks: TaskService,
    watch: Watch,
    verifier: Arc<Verifier>,
    options: HttpOptions,
    closing: CancellationToken,
) -> Router {
    let server = TaskflowMcp::new(tasks.clone(), watch, Identity::PerRequest)
        .with_toolsets(&options.toolsets)
        .with_read_only(options.read_only);
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(true)
        .with_sse_keep_alive(Some(std::time::Duration::from_secs(15)))
        .with_cancellation_token(closing.child_token());
    if !options.allowed_hosts.is_empty() {
        config = config.with_allowed_hosts(options.allowed_hosts.clone());
    }
    if !options.allowed_origins.is_empty() {
        config = config.with_allowed_origins(options.allowed_origins.clone());
    }
    let service = StreamableHttpService::new(
        move || Ok(server.new_session()),
        LocalSessionManager::default().into(),
        config,
    );
    Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(
            (verifier, tasks, Arc::new(Owners::default())),
            authenticate,
        ))
        .route(
            "/.well-known/oauth-protected-resource",
            get(protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(protected_resource),
        )
}

/// This server's public base URL, as the client reached it.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// RFC 9728 protected-resource metadata.
async fn protected_resource(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    axum::Json(json!({
        "resource": format!("{base}/mcp"),
        "bearer_methods_supported": ["header"],
        "resource_name": "Taskflow",
    }))
    .into_response()
}

/// The header naming a request's MCP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// A binding unused this long is forgotten (its session is long gone).
const SESSION_IDLE: Duration = Duration::from_secs(24 * 3600);

/// Who opened each session of this process: a session id alone is no
/// credential (MCP's security practices), so a request on a session with
/// another user's token is answered as for a session that does not exist.
#[derive(Debug, Default)]
struct Owners {
    by_session: Mutex<HashMap<String, (String, Instant)>>,
}

impl Owners {
    /// Whether `user` may use `session` (one not opened through here is
    /// left to the session manager, which does not know it either).
    fn allows(&self, session: &str, user: &str) -> bool {
        let mut owners = self
            .by_session
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match owners.get_mut(session) {
            Some((owner, seen)) if owner == user => {
                *seen = Instant::now();
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    /// Binds a new `session` to `user`, forgetting idle bindings as the
    /// map doubles.
    fn bind(&self, session: &str, user: &str) {
        let mut owners = self
            .by_session
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if owners.len() >= 1024 && owners.len().is_power_of_two() {
            owners.retain(|_, (_, seen)| seen.elapsed() < SESSION_IDLE);
        }
        owners.insert(session.to_owned(), (user.to_owned(), Instant::now()));
    }

    /// Forgets an ended session.
    fn end(&self, session: &str) {
        let mut owners = self
            .by_session
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        owners.remove(session);
    }
}

/// Verifies the bearer token of every `/mcp` request, records its user on
/// first sight, and keeps each session to the user who opened it.
async fn authenticate(
    State((verifier, tasks, owners)): State<(Arc<Verifier>, TaskService, Arc<Owners>)>,
    mut request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/mcp") {
        return next.run(request).await;
    }
    match verifier.subject_from_headers(request.headers()).await {
        Ok(subject) => {
            if let Err(err) = tasks.saw(&subject).await {
                tracing::warn!(error = %err, "cannot record the user");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(json!({"error": "temporarily_unavailable", "error_description": "the task database is briefly unavailable; retry shortly"})),
                )
                    .into_response();
            }
            let session = request
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if let Some(session) = &session
                && !owners.allows(session, &subject.id)
            {
                return (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response();
            }
            let ending = request.method() == Method::DELETE;
            request.extensions_mut().insert(McpUser(subject.id.clone()));
            let response = next.run(request).await;
            let opened = response
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok());
            match (&session, opened) {
                (None, Some(opened)) => owners.bind(opened, &subject.id),
                (Some(session), _) if ending && response.status().is_success() => {
                    owners.end(session);
                }
                _ => {}
            }
            response
        }
        Err(_) => {
            let metadata = format!(
                "{}/.well-known/oauth-protected-resource",
                base_url(request.headers())
            );
            let description = if request.headers().contains_key(header::AUTHORIZATION) {
                "the token is invalid or expired"
            } else {
                "send Authorization: Bearer <token>"
            };
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    format!("Bearer resource_metadata=\"{metadata}\", error=\"invalid_token\", error_description=\"{description}\""),
                )],
                axum::Json(json!({"error": "invalid_token", "error_description": description})),
            )
                .into_response()
        }
    }
}
