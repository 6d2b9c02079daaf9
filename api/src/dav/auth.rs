//! Who a CalDAV request is from: an app password sent as HTTP Basic (what
//! phones and desktop apps can do), or a bearer token as on REST. Every
//! refusal is the same 401, challenging for both (signing keys that cannot
//! be fetched are a 503); nothing is cached, so a revoked password is
//! refused at its next request.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use taskflow_auth::Rejected;
use taskflow_core::AppPasswordScope;

use crate::AppState;
use crate::auth::AuthUser;
use crate::problem::Problem;

/// The person a CalDAV request is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavUser {
    /// Their user id.
    pub id: String,
    /// Their username, which names their principal and calendars.
    pub username: String,
}

impl DavUser {
    /// Whether a path's user segment names this person (their username or
    /// id).
    pub fn is(&self, segment: &str) -> bool {
        segment == self.username || segment == self.id
    }
}

/// The one answer to a request without valid credentials.
pub fn unauthorized() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        "sign in with your username and an app password (Calendar in the dashboard)\n",
    )
        .into_response();
    let headers = response.headers_mut();
    for challenge in [
        "Basic realm=\"Taskflow\", charset=\"UTF-8\"",
        "Bearer realm=\"Taskflow\"",
    ] {
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    response
}

/// A store failure while signing in: unavailable, never a 401.
fn failed(err: taskflow_store::Error) -> Response {
    Problem::from(err).into_response()
}

/// The username and password of a `Basic` credential.
fn basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

impl DavUser {
    /// The person `headers` sign in as, or the 401 refusing them.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Self, Response> {
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let (id, username) = match basic(authorization) {
            Some((username, password)) => state
                .tasks
                .app_password_user(&username, &password, AppPasswordScope::Caldav)
                .await
                .map_err(failed)?
                .ok_or_else(unauthorized)?,
            None => {
                // Keys that cannot be fetched right now are a 503 to try
                // again, not a sign-in the client would give up on.
                let subject =
                    state
                        .verifier
                        .subject_from_headers(headers)
                        .await
                        .map_err(|rejected| match rejected {
                            Rejected::Unauthorized(_) => unauthorized(),
                            unavailable => Problem::from(unavailable).into_response(),
                        })?;
                let id = AuthUser::seen(state, subject)
                    .await
                    .map_err(IntoResponse::into_response)?
                    .0;
                (id, None)
            }
        };
        // An app password's sign-in read the username already.
        let username = match username {
            Some(username) => username,
            None => state.tasks.me(&id).await.map_err(failed)?.username,
        };
        Ok(DavUser { id, username })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basic_credential_is_read_in_any_case_of_its_scheme() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("alice:tfap_x:y");
        assert_eq!(
            basic(&format!("basic {encoded}")),
            Some(("alice".into(), "tfap_x:y".into()))
        );
        assert_eq!(basic(&format!("Bearer {encoded}")), None);
        assert_eq!(basic("Basic !!!"), None);
        let no_colon = base64::engine::general_purpose::STANDARD.encode("alice");
        assert_eq!(basic(&format!("Basic {no_colon}")), None);
    }
}
