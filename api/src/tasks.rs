//! `/api/tasks` and `/api/tags`: parse, call the TaskService, map the result.
//! Every task response carries its version as a strong `ETag`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_core::{CreateTask, HistoryQuery, ListQuery, SnoozeTask, Task, UpdateTask};
use taskflow_events::Source;
use taskflow_store::Actor;

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, ApiQuery, IdempotencyKey, IfMatch, TaskId};
use crate::problem::Problem;

/// The task routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/tasks", post(create).get(list))
        .route("/api/tasks/{id}", get(fetch).patch(update).delete(remove))
        .route("/api/tasks/{id}/complete", post(complete))
        .route("/api/tasks/{id}/reopen", post(reopen))
        .route("/api/tasks/{id}/snooze", post(snooze))
        .route("/api/tasks/{id}/history", get(history))
        .route("/api/tags", get(tags))
}

pub(crate) fn actor(user: AuthUser) -> Actor {
    Actor::new(user.0, Source::Api)
}

/// A task with its `ETag`.
pub(crate) fn with_etag(status: StatusCode, task: Task) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", task.version)).ok();
    let mut response = (status, Json(task)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<CreateTask>,
) -> Result<Response, Problem> {
    let task = state
        .tasks
        .create(&actor(user), &input, key.as_deref())
        .await?;
    let location = HeaderValue::from_str(&format!("/api/tasks/{}", task.id)).ok();
    let mut response = with_etag(StatusCode::CREATED, task);
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, Problem> {
    Ok(Json(state.tasks.list(&user.0, &query).await?).into_response())
}

async fn fetch(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state.tasks.get(&user.0, id).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<UpdateTask>,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state
            .tasks
            .update(&actor(user), id, &patch, version)
            .await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    IfMatch(version): IfMatch,
) -> Result<Response, Problem> {
    state.tasks.delete(&actor(user), id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn complete(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    IfMatch(version): IfMatch,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state.tasks.complete(&actor(user), id, version).await?,
    ))
}

async fn reopen(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    IfMatch(version): IfMatch,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state.tasks.reopen(&actor(user), id, version).await?,
    ))
}

async fn snooze(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    ApiJson(input): ApiJson<SnoozeTask>,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state.tasks.snooze(&actor(user), id, &input).await?,
    ))
}

async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Response, Problem> {
    Ok(Json(
        state
            .tasks
            .history(&user.0, id, query.before, query.limit)
            .await?,
    )
    .into_response())
}

async fn tags(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    Ok(Json(state.tasks.tags(&user.0).await?).into_response())
}
