//! `/api/users`: the caller's profile, and looking someone up by username
//! (to invite them).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use taskflow_core::{UpdateProfile, User, UserLookup, UserSummary};

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::Problem;

/// The user routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(lookup))
        .route("/api/users/me", get(me).patch(update_me))
}

async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<User>, Problem> {
    Ok(Json(state.tasks.me(&user.0).await?))
}

async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(patch): ApiJson<UpdateProfile>,
) -> Result<Json<User>, Problem> {
    Ok(Json(state.tasks.update_profile(&user.0, &patch).await?))
}

async fn lookup(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiQuery(lookup): ApiQuery<UserLookup>,
) -> Result<Json<UserSummary>, Problem> {
    Ok(Json(state.tasks.user_named(&lookup.username).await?))
}
