//! `/api/tasks`, `/api/tags` and the changes feed `/api/changes`: parse, call the TaskService, map the result.
//! Every task response carries its version as a strong `ETag`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_core::{
    ChangesQuery, CompleteQuery, CreateTask, HistoryQuery, LinkKind, ListQuery, SnoozeTask, Task,
    TaskInclude, UpdateTask, WriteComment,
};
use taskflow_events::Source;
use taskflow_store::Actor;

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, ApiQuery, IdempotencyKey, IfMatch, TaskComment, TaskId};
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
        .route("/api/tasks/{id}/comments", get(comments).post(add_comment))
        .route(
            "/api/tasks/{id}/comments/{comment}",
            axum::routing::patch(update_comment).delete(delete_comment),
        )
        .route(
            "/api/tasks/{id}/links/{kind}/{other_id}",
            axum::routing::put(link).delete(unlink),
        )
        .route("/api/tags", get(tags))
        .route("/api/changes", get(changes))
}

pub(crate) fn actor(user: AuthUser) -> Actor {
    Actor::new(user.0, Source::Api)
}

/// A versioned body (a task, a list) with its version as a strong `ETag`.
pub(crate) fn tagged(status: StatusCode, version: i64, body: impl serde::Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// A task with its `ETag`.
pub(crate) fn with_etag(status: StatusCode, task: Task) -> Response {
    tagged(status, task.version, task)
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
    ApiQuery(include): ApiQuery<TaskInclude>,
) -> Result<Response, Problem> {
    let detail = state.tasks.get_detail(&user.0, id, &include).await?;
    Ok(tagged(StatusCode::OK, detail.task.version, detail))
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
    ApiQuery(query): ApiQuery<CompleteQuery>,
) -> Result<Response, Problem> {
    let user_id = user.0.clone();
    let cascade = query.cascade.unwrap_or(false);
    let task = state
        .tasks
        .complete(&actor(user), id, version, cascade)
        .await?;
    if !task.blocked {
        return Ok(with_etag(StatusCode::OK, task));
    }
    // Done while still blocked: the answer says by what.
    let links = TaskInclude {
        include: Some("links".into()),
    };
    let detail = state.tasks.get_detail(&user_id, id, &links).await?;
    Ok(tagged(StatusCode::OK, detail.task.version, detail))
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

async fn changes(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<Response, Problem> {
    Ok(Json(
        state
            .tasks
            .changes(&user.0, query.since, query.limit)
            .await?,
    )
    .into_response())
}

async fn comments(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Response, Problem> {
    let page = state
        .tasks
        .comments(&user.0, id, query.before, query.limit)
        .await?;
    Ok(Json(page).into_response())
}

async fn add_comment(
    State(state): State<AppState>,
    user: AuthUser,
    TaskId(id): TaskId,
    ApiJson(input): ApiJson<WriteComment>,
) -> Result<Response, Problem> {
    let comment = state.tasks.add_comment(&actor(user), id, &input).await?;
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}

async fn update_comment(
    State(state): State<AppState>,
    user: AuthUser,
    TaskComment(id, comment): TaskComment,
    ApiJson(input): ApiJson<WriteComment>,
) -> Result<Response, Problem> {
    let comment = state
        .tasks
        .update_comment(&actor(user), id, comment, &input)
        .await?;
    Ok(Json(comment).into_response())
}

async fn delete_comment(
    State(state): State<AppState>,
    user: AuthUser,
    TaskComment(id, comment): TaskComment,
) -> Result<Response, Problem> {
    state
        .tasks
        .delete_comment(&actor(user), id, comment)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn tags(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    Ok(Json(state.tasks.tags(&user.0).await?).into_response())
}

/// `/api/tasks/{id}/links/{kind}/{other_id}`: a path that does not name two
/// task ids and a link kind is 404, like a task the caller cannot see.
struct LinkPath(i64, LinkKind, i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LinkPath {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Problem> {
        let path =
            axum::extract::Path::<(String, String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| Problem::not_found("no such task"))?;
        let (id, kind, other) = path.0;
        let id = id.parse().ok().filter(|&id: &i64| id > 0);
        let other = other.parse().ok().filter(|&id: &i64| id > 0);
        match (id, other) {
            (Some(id), Some(other)) => {
                let kind =
                    LinkKind::parse(&kind).map_err(|e| Problem::invalid(e.field, e.reason))?;
                Ok(LinkPath(id, kind, other))
            }
            _ => Err(Problem::not_found("no such task")),
        }
    }
}

async fn link(
    State(state): State<AppState>,
    user: AuthUser,
    LinkPath(id, kind, other): LinkPath,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state.tasks.link(&actor(user), id, kind, other).await?,
    ))
}

async fn unlink(
    State(state): State<AppState>,
    user: AuthUser,
    LinkPath(id, kind, other): LinkPath,
) -> Result<Response, Problem> {
    Ok(with_etag(
        StatusCode::OK,
        state.tasks.unlink(&actor(user), id, kind, other).await?,
    ))
}
