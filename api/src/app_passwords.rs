//! App passwords: `/api/app-passwords` makes, lists and revokes the
//! passwords a person gives CalDAV apps (the password is shown at creation
//! only). The apps send it as HTTP Basic under `/dav/`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use taskflow_core::CreateAppPassword;

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, AppPasswordId};
use crate::problem::Problem;

/// The app password routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/app-passwords", get(list).post(create))
        .route("/api/app-passwords/{id}", delete(remove))
}

/// An app password store error: "not found" names the password.
fn problem(err: taskflow_store::Error) -> Problem {
    match err {
        taskflow_store::Error::NotFound => AppPasswordId::not_found(),
        err => err.into(),
    }
}

async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    Ok(Json(state.tasks.app_passwords(&user.0).await.map_err(problem)?).into_response())
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<CreateAppPassword>,
) -> Result<Response, Problem> {
    let dav_url = format!("{}/dav/", state.public_url);
    let created = state
        .tasks
        .create_app_password(&user.0, &input, &dav_url)
        .await
        .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    AppPasswordId(id): AppPasswordId,
) -> Result<Response, Problem> {
    state
        .tasks
        .delete_app_password(&user.0, id)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
