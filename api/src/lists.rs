//! `/api/lists` and `POST /api/tasks/{id}/move`: parse, call the
//! TaskService, map the result. Every list response carries its version as
//! a strong `ETag`, like a task's.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_core::{CreateList, DeleteList, ListsQuery, MoveList, MoveTask, UpdateList};

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, ApiQuery, IfMatch, ListId, TaskId};
use crate::problem::Problem;
use crate::tasks::{actor, tagged, with_etag};

/// The list routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/lists", get(list).post(create))
        .route("/api/lists/{id}", get(fetch).patch(update).delete(remove))
        .route("/api/lists/{id}/archive", post(archive))
        .route("/api/lists/{id}/unarchive", post(unarchive))
        .route("/api/lists/{id}/move", post(relocate))
        .route("/api/tasks/{id}/move", post(move_task))
}

async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ListsQuery>,
) -> Result<Response, Problem> {
    Ok(Json(state.tasks.lists(&actor(user), &query).await?).into_response())
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<CreateList>,
) -> Result<Response, Problem> {
    let list = state.tasks.create_list(&actor(user), &input).await?;
    let location = HeaderValue::from_str(&format!("/api/lists/{}", list.id)).ok();
    let mut response = tagged(StatusCode::CREATED, list.version, list);
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn fetch(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
) -> Result<Response, Problem> {
    let list = state.tasks.get_list(&actor(user), id).await?;
    Ok(tagged(StatusCode::OK, list.list.version, list))
}

async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<UpdateList>,
) -> Result<Response, Problem> {
    let list = state
        .tasks
        .update_list(&actor(user), id, &patch, version)
        .await?;
    Ok(tagged(StatusCode::OK, list.version, list))
}

async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
    IfMatch(version): IfMatch,
    ApiQuery(how): ApiQuery<DeleteList>,
) -> Result<Response, Problem> {
    state
        .tasks
        .delete_list(&actor(user), id, &how, version)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn archive(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
    IfMatch(version): IfMatch,
) -> Result<Response, Problem> {
    let list = state.tasks.archive_list(&actor(user), id, version).await?;
    Ok(tagged(StatusCode::OK, list.version, list))
}

async fn unarchive(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
    IfMatch(version): IfMatch,
) -> Result<Response, Problem> {
    let list = state
        .tasks
        .unarchive_list(&actor(user), id, version)
        .await?;
    Ok(tagged(StatusCode::OK, list.version, list))
}

async fn relocate(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
    ApiJson(input): ApiJson<MoveList>,
) -> Result<Response, Problem> {
    let list = state.tasks.move_list(&actor(user), id, &input).await?;
    Ok(tagged(StatusCode::OK, list.version, list))
}

async fn move_task(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<MoveTask>,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state
            .tasks
            .move_task(&actor(user), id, &input, version)
            .await?,
    ))
}
