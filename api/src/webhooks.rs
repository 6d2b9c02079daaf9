//! `/api/webhooks`: a user's webhook endpoints (the secret is shown at
//! creation and rotation only), their deliveries, tests, redeliveries and
//! replays. Another user's endpoint is 404, like one that does not exist.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_core::{CreateWebhook, DeliveryQuery, Replay, UpdateWebhook};

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, ApiQuery, WebhookDelivery, WebhookId};
use crate::problem::Problem;

/// The webhook routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks", get(list).post(create))
        .route("/api/webhooks/event-types", get(event_types))
        .route(
            "/api/webhooks/{id}",
            get(fetch).patch(update).delete(remove),
        )
        .route("/api/webhooks/{id}/rotate-secret", post(rotate))
        .route("/api/webhooks/{id}/test", post(test))
        .route("/api/webhooks/{id}/deliveries", get(deliveries))
        .route(
            "/api/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(redeliver),
        )
        .route("/api/webhooks/{id}/replay", post(replay))
}

/// A webhook store error: "not found" names the webhook.
fn problem(err: taskflow_store::Error) -> Problem {
    match err {
        taskflow_store::Error::NotFound => WebhookId::not_found(),
        err => err.into(),
    }
}

async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    Ok(Json(state.tasks.webhooks(&user.0).await.map_err(problem)?).into_response())
}

/// The event types an endpoint may ask for.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct EventTypes {
    pub event_types: Vec<String>,
}

async fn event_types(_: AuthUser) -> Json<EventTypes> {
    Json(EventTypes {
        event_types: taskflow_events::change_types(),
    })
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<CreateWebhook>,
) -> Result<Response, Problem> {
    let created = state
        .tasks
        .create_webhook(&user.0, &input)
        .await
        .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn fetch(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookId(id): WebhookId,
) -> Result<Response, Problem> {
    Ok(Json(state.tasks.webhook(&user.0, id).await.map_err(problem)?).into_response())
}

async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookId(id): WebhookId,
    ApiJson(patch): ApiJson<UpdateWebhook>,
) -> Result<Response, Problem> {
    let updated = state
        .tasks
        .update_webhook(&user.0, id, &patch)
        .await
        .map_err(problem)?;
    Ok(Json(updated).into_response())
}

async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookId(id): WebhookId,
) -> Result<Response, Problem> {
    state
        .tasks
        .delete_webhook(&user.0, id)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rotate(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookId(id): WebhookId,
) -> Result<Response, Problem> {
    let rotated = state
        .tasks
        .rotate_webhook_secret(&user.0, id)
        .await
        .map_err(problem)?;
    Ok(Json(rotated).into_response())
}

async fn test(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookId(id): WebhookId,
) -> Result<Response, Problem> {
    let queued = state
        .tasks
        .test_webhook(&user.0, id)
        .await
        .map_err(problem)?;
    Ok((StatusCode::ACCEPTED, Json(queued)).into_response())
}

async fn deliveries(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookId(id): WebhookId,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Response, Problem> {
    let page = state
        .tasks
        .webhook_deliveries(&user.0, id, &query)
        .await
        .map_err(problem)?;
    Ok(Json(page).into_response())
}

async fn redeliver(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookDelivery(id, delivery): WebhookDelivery,
) -> Result<Response, Problem> {
    match state.tasks.redeliver(&user.0, id, &delivery).await {
        Ok(queued) => Ok((StatusCode::ACCEPTED, Json(queued)).into_response()),
        Err(taskflow_store::Error::NotFound) => Err(Problem::not_found("no such delivery")),
        Err(err) => Err(err.into()),
    }
}

async fn replay(
    State(state): State<AppState>,
    user: AuthUser,
    WebhookId(id): WebhookId,
    ApiJson(input): ApiJson<Replay>,
) -> Result<Response, Problem> {
    let replayed = state
        .tasks
        .replay_webhook(&user.0, id, input.since_sequence)
        .await
        .map_err(problem)?;
    Ok((StatusCode::ACCEPTED, Json(replayed)).into_response())
}
