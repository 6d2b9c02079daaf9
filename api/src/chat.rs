//! `/api/chat` and `/api/conversations`: the chat agent over the task
//! operations, and the stored conversations. Another user's conversation
//! answers 404, exactly like a missing one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_chat::{ChatError, ChatRequest, ConversationQuery};

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, ApiQuery, ConversationId};
use crate::problem::Problem;

/// The chat routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/chat", post(send))
        .route("/api/conversations", get(list))
        .route("/api/conversations/{id}", get(fetch).delete(remove))
}

fn problem(err: ChatError) -> Problem {
    match err {
        ChatError::Store(taskflow_store::Error::NotFound) => ConversationId::not_found(),
        ChatError::Store(err) => err.into(),
        ChatError::Model {
            code,
            timeout,
            detail,
            conversation_id,
            actions,
        } => {
            let (status, title) = if timeout {
                (StatusCode::GATEWAY_TIMEOUT, "The chat model timed out")
            } else {
                (StatusCode::BAD_GATEWAY, "The chat model failed")
            };
            Problem::new(status, code, title, detail)
                .with("conversation_id", conversation_id)
                .with("actions", actions)
        }
    }
}

async fn send(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<Response, Problem> {
    let reply = state.chat.send(&user.0, request).await.map_err(problem)?;
    Ok(Json(reply).into_response())
}

async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ConversationQuery>,
) -> Result<Response, Problem> {
    let page = state
        .chat
        .conversations(&user.0, &query)
        .await
        .map_err(problem)?;
    Ok(Json(page).into_response())
}

async fn fetch(
    State(state): State<AppState>,
    user: AuthUser,
    ConversationId(id): ConversationId,
) -> Result<Response, Problem> {
    let conversation = state
        .chat
        .conversation(&user.0, id)
        .await
        .map_err(problem)?;
    Ok(Json(conversation).into_response())
}

async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    ConversationId(id): ConversationId,
) -> Result<Response, Problem> {
    state
        .chat
        .delete_conversation(&user.0, id)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
