//! Streamable HTTP at `/mcp`: bearer tokens checked by the same verifier as
//! the REST API (401 with `WWW-Authenticate` pointing at
//! `/.well-known/oauth-protected-resource`), allowed hosts and origins
//! configurable, sessions kept per process (an unknown session gets 404, so
//! clients initialize again).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
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
            (verifier, tasks),
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

/// Verifies the bearer token of every `/mcp` request and records its user
/// on first sight.
async fn authenticate(
    State((verifier, tasks)): State<(Arc<Verifier>, TaskService)>,
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
            request.extensions_mut().insert(McpUser(subject.id));
            next.run(request).await
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
