//! Authentication of REST requests: the bearer token of every request is
//! verified by `taskflow_auth` (shared with the MCP edge); a refusal is a
//! problem with a `WWW-Authenticate` challenge.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

pub use taskflow_auth::{
    AgentToken, Claims, Rejected, SECRET_FILE, Subject, Verifier, load_or_create_secret, mint,
    mint_agent,
};

use crate::AppState;
use crate::problem::Problem;

impl From<Rejected> for Problem {
    fn from(rejected: Rejected) -> Self {
        match rejected {
            Rejected::Unauthorized(reason) => Problem::unauthorized(reason),
            Rejected::Unavailable(reason) => Problem::unavailable(reason),
        }
    }
}

/// The authenticated user of a request (known to the store: its first
/// request makes its `users` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub String);

impl AuthUser {
    /// The user of a verified subject, recorded on first sight.
    pub async fn seen(state: &AppState, subject: Subject) -> Result<Self, Problem> {
        state.tasks.saw(&subject).await?;
        Ok(AuthUser(subject.id))
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let subject = state.verifier.subject_from_headers(&parts.headers).await?;
        Self::seen(state, subject).await
    }
}
