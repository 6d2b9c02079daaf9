//! Sharing over HTTP: a list's invitations and members, and the caller's
//! own invitations. Parse, call the TaskService, map the result.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_core::{CreateInvitation, TransferList, UpdateMember};
use taskflow_store::Error;

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, InvitationId, ListId, ListMember};
use crate::problem::Problem;
use crate::tasks::actor;

/// The sharing routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/lists/{id}/invitations",
            get(list_invitations).post(invite),
        )
        .route("/api/lists/{id}/members", get(members))
        .route(
            "/api/lists/{id}/members/{user}",
            get(member).patch(update_member).delete(remove_member),
        )
        .route("/api/lists/{id}/leave", post(leave))
        .route("/api/lists/{id}/transfer", post(transfer))
        .route("/api/invitations", get(my_invitations))
        .route("/api/invitations/{id}/accept", post(accept))
        .route("/api/invitations/{id}/decline", post(decline))
}

/// A store error, with a missing member (not a task) named as such.
fn no_such_member(err: Error) -> Problem {
    match err {
        Error::NotFound => Problem::not_found("no such member of this list"),
        other => other.into(),
    }
}

async fn invite(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
    ApiJson(input): ApiJson<CreateInvitation>,
) -> Result<Response, Problem> {
    let invitation = state.tasks.invite(&actor(user), id, &input).await?;
    Ok((StatusCode::CREATED, Json(invitation)).into_response())
}

async fn list_invitations(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
) -> Result<Response, Problem> {
    Ok(Json(state.tasks.list_invitations(&actor(user), id).await?).into_response())
}

async fn my_invitations(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Response, Problem> {
    Ok(Json(state.tasks.invitations(&user.0).await?).into_response())
}

async fn accept(
    State(state): State<AppState>,
    user: AuthUser,
    InvitationId(id): InvitationId,
) -> Result<Response, Problem> {
    match state.tasks.accept_invitation(&actor(user), id).await {
        Ok(list) => Ok(Json(list).into_response()),
        Err(Error::NotFound) => Err(InvitationId::not_found()),
        Err(err) => Err(err.into()),
    }
}

async fn decline(
    State(state): State<AppState>,
    user: AuthUser,
    InvitationId(id): InvitationId,
) -> Result<Response, Problem> {
    match state.tasks.decline_invitation(&user.0, id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(Error::NotFound) => Err(InvitationId::not_found()),
        Err(err) => Err(err.into()),
    }
}

async fn members(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
) -> Result<Response, Problem> {
    Ok(Json(state.tasks.members(&actor(user), id).await?).into_response())
}

async fn member(
    State(state): State<AppState>,
    user: AuthUser,
    ListMember(id, member): ListMember,
) -> Result<Response, Problem> {
    let everyone = state.tasks.members(&actor(user), id).await?;
    everyone
        .into_iter()
        .find(|m| m.user.id == member)
        .map(|m| Json(m).into_response())
        .ok_or_else(|| Problem::not_found("no such member of this list"))
}

async fn update_member(
    State(state): State<AppState>,
    user: AuthUser,
    ListMember(id, member): ListMember,
    ApiJson(input): ApiJson<UpdateMember>,
) -> Result<Response, Problem> {
    let changed = state
        .tasks
        .update_member(&actor(user), id, &member, &input)
        .await
        .map_err(no_such_member)?;
    Ok(Json(changed).into_response())
}

async fn remove_member(
    State(state): State<AppState>,
    user: AuthUser,
    ListMember(id, member): ListMember,
) -> Result<Response, Problem> {
    state
        .tasks
        .remove_member(&actor(user), id, &member)
        .await
        .map_err(no_such_member)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn leave(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
) -> Result<Response, Problem> {
    state
        .tasks
        .leave_list(&actor(user), id)
        .await
        .map_err(no_such_member)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn transfer(
    State(state): State<AppState>,
    user: AuthUser,
    ListId(id): ListId,
    ApiJson(input): ApiJson<TransferList>,
) -> Result<Response, Problem> {
    let list = state.tasks.transfer_list(&actor(user), id, &input).await?;
    Ok(Json(list).into_response())
}
