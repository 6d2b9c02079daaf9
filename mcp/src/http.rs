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
use taskflow_auth::{Rejected, Verifier};
use taskflow_core::{Scope, Scopes};
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
    /// The authorization server whose agents' tokens `/mcp` accepts (the
    /// URL clients reach Taskflow at; the resource is `<it>/mcp`). None:
    /// only tokens minted elsewhere, and no authorization server is named.
    pub issuer: Option<String>,
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
    let sessions = Arc::new(LocalSessionManager::default());
    let server = TaskflowMcp::new(tasks.clone(), watch, Identity::PerRequest)
        .with_toolsets(&options.toolsets)
        .with_read_only(options.read_only)
        .with_sessions(sessions.clone());
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
    let service = StreamableHttpService::new(move || Ok(server.new_session()), sessions, config);
    let edge = Edge {
        verifier,
        tasks,
        owners: Arc::default(),
        issuer: Arc::new(options.issuer),
    };
    let metadata = get(protected_resource).with_state(edge.clone());
    Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(edge, authenticate))
        .route("/.well-known/oauth-protected-resource", metadata.clone())
        .route("/.well-known/oauth-protected-resource/mcp", metadata)
}

/// What `/mcp`'s authentication needs.
#[derive(Debug, Clone)]
struct Edge {
    verifier: Arc<Verifier>,
    tasks: TaskService,
    owners: Arc<Owners>,
    issuer: Arc<Option<String>>,
}

impl Edge {
    /// The base URL of this server: the issuer's, else as the client
    /// reached it.
    fn base(&self, headers: &HeaderMap) -> String {
        self.issuer
            .as_deref()
            .map_or_else(|| base_url(headers), str::to_owned)
    }
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

/// RFC 9728 protected-resource metadata, naming the authorization server
/// when this process has one.
async fn protected_resource(State(edge): State<Edge>, headers: HeaderMap) -> Response {
    let mut metadata = json!({
        "resource": format!("{}/mcp", edge.base(&headers)),
        "bearer_methods_supported": ["header"],
        "resource_name": "Taskflow",
        "scopes_supported": Scope::ALL.map(Scope::as_str),
    });
    if let Some(issuer) = edge.issuer.as_deref() {
        metadata["authorization_servers"] = json!([issuer]);
    }
    axum::Json(metadata).into_response()
}

/// The agent an `/mcp` request's token belongs to, and the token's scopes
/// (a request extension; absent for a person's own token, which may do
/// everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpAgent {
    pub id: i64,
    /// The grant its token was issued from.
    pub grant: String,
    pub scopes: Scopes,
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

/// Verifies the bearer token of every `/mcp` request (an agent's must be
/// for this resource, of a grant still in force), records its user on
/// first sight, and keeps each session to the principal that opened it.
async fn authenticate(State(edge): State<Edge>, mut request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/mcp") {
        return next.run(request).await;
    }
    let base = edge.base(request.headers());
    let verified = match edge.verifier.verified_from_headers(request.headers()).await {
        Ok(verified) => verified,
        Err(err) => {
            let description = match err {
                _ if !request.headers().contains_key(header::AUTHORIZATION) => {
                    "send Authorization: Bearer <token>".to_owned()
                }
                Rejected::Unauthorized(reason) | Rejected::Unavailable(reason) => reason,
            };
            return unauthorized(&base, &description);
        }
    };
    let mut principal = verified.subject.id.clone();
    let mut acting = None;
    if let Some(agent) = &verified.agent {
        if agent.audience != format!("{base}/mcp") {
            return unauthorized(&base, "the token was issued for another resource");
        }
        match edge.tasks.principal(&agent.grant).await {
            Ok(Some(found)) if found.user == verified.subject.id => {
                // The token's own scopes, which a refresh may have narrowed.
                acting = Some(McpAgent {
                    id: found.id,
                    grant: agent.grant.clone(),
                    scopes: Scopes::parse(&agent.scope).unwrap_or_default(),
                });
                principal = format!("{}#agent:{}", found.user, found.id);
            }
            Ok(_) => {
                return unauthorized(&base, "the user revoked this app's access; authorize again");
            }
            Err(err) => return unavailable(&err),
        }
    }
    if let Err(err) = edge.tasks.saw(&verified.subject).await {
        return unavailable(&err);
    }
    let session = request
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(session) = &session
        && !edge.owners.allows(session, &principal)
    {
        return (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response();
    }
    let ending = request.method() == Method::DELETE;
    request
        .extensions_mut()
        .insert(McpUser(verified.subject.id.clone()));
    if let Some(agent) = acting {
        request.extensions_mut().insert(agent);
    }
    let response = next.run(request).await;
    let opened = response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok());
    match (&session, opened) {
        (None, Some(opened)) => edge.owners.bind(opened, &principal),
        (Some(session), _) if ending && response.status().is_success() => {
            edge.owners.end(session);
        }
        _ => {}
    }
    response
}

/// 401 with the challenge that sends a client to the metadata (and the
/// scopes to ask for).
fn unauthorized(base: &str, description: &str) -> Response {
    let metadata = format!("{base}/.well-known/oauth-protected-resource");
    let scopes = Scopes::ALL.to_string();
    let quoted = description.replace('"', "'");
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            format!("Bearer resource_metadata=\"{metadata}\", scope=\"{scopes}\", error=\"invalid_token\", error_description=\"{quoted}\""),
        )],
        axum::Json(json!({"error": "invalid_token", "error_description": description})),
    )
        .into_response()
}

fn unavailable(err: &taskflow_store::Error) -> Response {
    tracing::warn!(error = %err, "cannot check the request's user");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"error": "temporarily_unavailable", "error_description": "the task database is briefly unavailable; retry shortly"})),
    )
        .into_response()
}
