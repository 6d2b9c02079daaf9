//! The dashboard: one page, its script and its style sheet, embedded in the
//! binary (no CDN; works offline), and the one-click local sign-in of
//! embedded mode.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;
use crate::problem::Problem;

const INDEX: &str = include_str!("../dashboard/index.html");
const SCRIPT: &str = include_str!("../dashboard/app.js");
const STYLE: &str = include_str!("../dashboard/app.css");

/// How long a token from the local sign-in is valid.
const LOCAL_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Embedded mode's sign-in without pasting a token: a token for `user`,
/// signed with `secret`, for requests addressed to a loopback host name.
/// `serve` turns it on only when it listens on a loopback address, so no
/// other machine can reach it; the `Host` check stops a web page from
/// reaching it through DNS rebinding.
#[derive(Clone)]
pub struct LocalSignIn {
    pub user: String,
    pub secret: Arc<Vec<u8>>,
}

impl std::fmt::Debug for LocalSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSignIn")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The dashboard routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/api/local-sign-in", get(local_user).post(local_token))
}

/// The dashboard's page (also the OAuth consent screen, at
/// `/oauth/authorize`).
pub async fn page() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        body,
    )
        .into_response()
}

/// Whether the request names a loopback host (`localhost`, `127.0.0.1`,
/// `[::1]`, with any port).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

fn enabled<'a>(state: &'a AppState, headers: &HeaderMap) -> Result<&'a LocalSignIn, Problem> {
    match &state.local_sign_in {
        Some(local) if loopback_host(headers) => Ok(local),
        _ => Err(Problem::not_found("local sign-in is not available here")),
    }
}

/// Who the local sign-in signs in as.
async fn local_user(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let local = enabled(&state, &headers)?;
    Ok(Json(json!({ "user": local.user })).into_response())
}

/// A token for the local user.
async fn local_token(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let local = enabled(&state, &headers)?;
    let token = crate::auth::mint(&local.secret, &local.user, LOCAL_TOKEN_TTL)
        .map_err(|_| Problem::unavailable("cannot issue a token"))?;
    Ok(Json(json!({ "user": local.user, "token": token })).into_response())
}
