//! `/api/notifications`: list, mark read, mark all read, unread count.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_core::NotificationQuery;

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiQuery, NotificationId};
use crate::problem::Problem;

/// The notification routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/notifications", get(list))
        .route("/api/notifications/unread-count", get(unread_count))
        .route("/api/notifications/read-all", post(read_all))
        .route("/api/notifications/{id}/read", post(read))
}

async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Response, Problem> {
    Ok(Json(state.tasks.notifications(&user.0, &query).await?).into_response())
}

async fn unread_count(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    Ok(Json(state.tasks.unread_count(&user.0).await?).into_response())
}

/// How many notifications read-all marked.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Marked {
    #[schemars(with = "i64")]
    pub marked: u64,
}

async fn read_all(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    let marked = state.tasks.mark_all_notifications_read(&user.0).await?;
    Ok(Json(Marked { marked }).into_response())
}

async fn read(
    State(state): State<AppState>,
    user: AuthUser,
    NotificationId(id): NotificationId,
) -> Result<Response, Problem> {
    match state.tasks.mark_notification_read(&user.0, id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(taskflow_store::Error::NotFound) => Err(NotificationId::not_found()),
        Err(err) => Err(err.into()),
    }
}
