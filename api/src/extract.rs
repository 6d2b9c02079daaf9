//! Request extractors whose every rejection is a problem-details response
//! with a stable code: JSON bodies, query strings, path ids, `If-Match` and
//! `Idempotency-Key`.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// A JSON body; malformed JSON, wrong types, unknown fields, a wrong content
/// type and oversized bodies are 4xx problems.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
            });
        if !json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|err| {
            if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Request body too large",
                    "the request body is larger than this server accepts",
                )
            } else {
                Problem::bad_request("invalid_body", err.body_text())
            }
        })?;
        // Every body of this API is an object; serde would also read a
        // struct from an array, which no client means.
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() => {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "Invalid request body",
                    "the body must be a JSON object",
                ));
            }
            _ => {}
        }
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|err| {
            if err.is_data() {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "Invalid request body",
                    err.to_string(),
                )
            } else {
                Problem::bad_request(
                    "malformed_json",
                    format!("the body is not valid JSON: {err}"),
                )
            }
        })
    }
}

/// A query string; unknown parameters and unparseable values are 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|err: QueryRejection| Problem::bad_request("invalid_query", err.body_text()))
    }
}

/// Declares an id taken from the path: anything but a positive integer is
/// 404 with `$missing`, like any id the caller cannot see.
macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident, $missing:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub i64);

        impl $name {
            /// The problem for an id that is absent or not the caller's.
            pub fn not_found() -> Problem {
                Problem::not_found($missing)
            }
        }

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = Problem;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
                match Path::<i64>::from_request_parts(parts, state).await {
                    Ok(Path(id)) if id > 0 => Ok($name(id)),
                    Ok(_) | Err(PathRejection::FailedToDeserializePathParams(_)) => {
                        Err(Self::not_found())
                    }
                    Err(err) => Err(Problem::bad_request("invalid_path", err.body_text())),
                }
            }
        }
    };
}

path_id!(
    /// A task id from the path.
    TaskId,
    "no such task"
);
path_id!(
    /// A notification id from the path.
    NotificationId,
    "no such notification"
);
path_id!(
    /// A chat conversation id from the path.
    ConversationId,
    "no such conversation"
);

/// The version from `If-Match: "3"` (or `W/"3"`), if the header is present;
/// `*` matches any version.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" || text.is_empty() {
            return Ok(IfMatch(None));
        }
        text.trim_start_matches("W/")
            .trim_matches('"')
            .parse::<i64>()
            .map(|v| IfMatch(Some(v)))
            .map_err(|_| {
                Problem::bad_request(
                    "invalid_if_match",
                    "If-Match must be an ETag this API returned, such as \"3\"",
                )
            })
    }
}

/// The `Idempotency-Key` header, if present.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(value) => value
                .to_str()
                .map(|key| IdempotencyKey(Some(key.to_owned())))
                .map_err(|_| {
                    Problem::invalid(
                        "idempotency_key",
                        "the Idempotency-Key must be visible ASCII",
                    )
                }),
        }
    }
}
