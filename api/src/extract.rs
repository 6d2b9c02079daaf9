//! Request extractors whose every rejection is a problem-details response
//! with a stable code: JSON bodies, query strings, path ids, `If-Match` and
//! `Idempotency-Key`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{
    JsonRejection, MissingJsonContentType, PathRejection, QueryRejection,
};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::problem::Problem;

/// A JSON body; malformed JSON, wrong types, unknown fields, a wrong content
/// type and oversized bodies are 4xx problems.
///
/// axum's `Json` decodes it and `From<JsonRejection>` maps its rejections.
/// Two checks stay here: the content type, because axum's refuses `…+json`
/// types outside `application/` that this API has always taken, and "the
/// body must be a JSON object", which needs the raw bytes before serde
/// reads them (so not `#[derive(FromRequest)]` via `Json`, which leaves no
/// place for it between reading and decoding).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        if !declares_json(req.headers()) {
            return Err(JsonRejection::from(MissingJsonContentType::default()).into());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(JsonRejection::from)?;
        // Every body of this API is an object; serde would also read a
        // struct from an array, which no client means. Invalid JSON is left
        // to serde, whose message says where it went wrong.
        if !bytes.trim_ascii_start().starts_with(b"{")
            && serde_json::from_slice::<IgnoredAny>(&bytes).is_ok()
        {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "Invalid request body",
                "the body must be a JSON object",
            ));
        }
        let Json(value) = Json::from_bytes(&bytes)?;
        Ok(ApiJson(value))
    }
}

/// `Content-Type: application/json` in any case, or any `…+json` type;
/// parameters such as `charset` are ignored.
fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
        })
}

/// axum's JSON body rejections as problems: 415 for a body not declared as
/// JSON, 413 for one over the limit, 400 `malformed_json` for invalid JSON
/// and 422 `invalid_body` for JSON of the wrong shape. The detail is
/// serde_json's message.
impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(err) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "Invalid request body",
                serde_message(&err),
            ),
            JsonRejection::JsonSyntaxError(err) => Problem::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {}", serde_message(&err)),
            ),
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Request body too large",
                    "the request body is larger than this server accepts",
                )
            }
            other => Problem::bad_request("invalid_body", other.body_text()),
        }
    }
}

/// serde_json's own message under one of axum's rejections, without the
/// path axum's `Json` puts in front of it (`title: invalid type…`).
fn serde_message(rejection: &dyn std::error::Error) -> String {
    // The rejection's source is an `axum::Error` boxing the serde error.
    let Some(cause) = rejection.source().and_then(|axum| axum.source()) else {
        return rejection.to_string();
    };
    if let Some(err) = cause.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
        err.inner().to_string()
    } else {
        cause.to_string()
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
    /// A list id from the path.
    ListId,
    "no such list"
);
path_id!(
    /// An invitation id from the path.
    InvitationId,
    "no such invitation"
);
path_id!(
    /// A notification id from the path.
    NotificationId,
    "no such notification"
);
path_id!(
    /// A webhook endpoint id from the path.
    WebhookId,
    "no such webhook"
);

/// A webhook id and a delivery id from
/// `/api/webhooks/{id}/deliveries/{delivery}`: a webhook id that is not a
/// positive integer is 404, like one the caller does not own.
#[derive(Debug, Clone)]
pub struct WebhookDelivery(pub i64, pub String);

impl<S: Send + Sync> FromRequestParts<S> for WebhookDelivery {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Path::<(i64, String)>::from_request_parts(parts, state).await {
            Ok(Path((id, delivery))) if id > 0 => Ok(WebhookDelivery(id, delivery)),
            Ok(_) | Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(WebhookId::not_found())
            }
            Err(err) => Err(Problem::bad_request("invalid_path", err.body_text())),
        }
    }
}

path_id!(
    /// A connected app's (agent's) id from the path.
    AgentId,
    "no such connected app"
);

path_id!(
    /// An app password's id from the path.
    AppPasswordId,
    "no such app password"
);

path_id!(
    /// A calendar feed's id from the path.
    CalendarFeedId,
    "no such calendar feed"
);

path_id!(
    /// A chat conversation id from the path.
    ConversationId,
    "no such conversation"
);

/// A list id and a member's user id from `/api/lists/{id}/members/{user}`:
/// a list id that is not a positive integer is 404, like any list the
/// caller cannot see.
#[derive(Debug, Clone)]
pub struct ListMember(pub i64, pub String);

impl<S: Send + Sync> FromRequestParts<S> for ListMember {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Path::<(i64, String)>::from_request_parts(parts, state).await {
            Ok(Path((id, user))) if id > 0 => Ok(ListMember(id, user)),
            Ok(_) | Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ListId::not_found())
            }
            Err(err) => Err(Problem::bad_request("invalid_path", err.body_text())),
        }
    }
}

/// A task id and a comment id from `/api/tasks/{id}/comments/{comment}`:
/// either not a positive integer is 404, like a comment the caller cannot
/// see.
#[derive(Debug, Clone, Copy)]
pub struct TaskComment(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for TaskComment {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Path::<(i64, i64)>::from_request_parts(parts, state).await {
            Ok(Path((task, comment))) if task > 0 && comment > 0 => Ok(TaskComment(task, comment)),
            Ok(_) | Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(Problem::not_found("no such comment"))
            }
            Err(err) => Err(Problem::bad_request("invalid_path", err.body_text())),
        }
    }
}

/// The version from `If-Match: "3"` (or `W/"3"`), if the header is present;
/// `*` matches any version.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::body::Body;
    use taskflow_core::CreateTask;

    /// The status and problem document of a body `ApiJson` refuses.
    async fn refused(content_type: &str, body: impl Into<Body>) -> (u16, serde_json::Value) {
        let request = Request::builder()
            .method("POST")
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap();
        let problem = ApiJson::<CreateTask>::from_request(request, &())
            .await
            .unwrap_err();
        (
            problem.status().as_u16(),
            serde_json::to_value(&problem).unwrap(),
        )
    }

    /// Each kind of refusal keeps its status, code and detail: the detail is
    /// serde_json's message, without the field path axum's `Json` adds.
    #[tokio::test]
    async fn each_bad_body_keeps_its_status_code_and_detail() {
        let json = "application/json";
        let too_big = format!(r#"{{"title": "{}"}}"#, "x".repeat(3 << 20));
        #[rustfmt::skip]
        let cases: [(&str, String, u16, &str, &str); 8] = [
            ("text/plain", "{}".into(), 415, "unsupported_media_type", "send the body as JSON with `Content-Type: application/json`"),
            (json, too_big, 413, "payload_too_large", "the request body is larger than this server accepts"),
            (json, "{".into(), 400, "malformed_json", "the body is not valid JSON: EOF while parsing an object at line 1 column 1"),
            (json, r#"{"title": "x"} x"#.into(), 400, "malformed_json", "the body is not valid JSON: trailing characters at line 1 column 16"),
            (json, " [] ".into(), 422, "invalid_body", "the body must be a JSON object"),
            (json, r#"{"title": "x", "tags": ["a", 1]}"#.into(), 422, "invalid_body", "invalid type: integer `1`, expected a string at line 1 column 30"),
            ("application/merge-patch+json", r#"{"title": 5}"#.into(), 422, "invalid_body", "invalid type: integer `5`, expected a string at line 1 column 11"),
            (json, "{}".into(), 422, "invalid_body", "missing field `title` at line 1 column 2"),
        ];
        for (content_type, body, status, code, detail) in cases {
            let what = format!("{content_type} {:?}", &body[..body.len().min(40)]);
            let (got, problem) = refused(content_type, body).await;
            assert_eq!(got, status, "{what}: {problem}");
            assert_eq!(problem["code"], code, "{what}");
            assert_eq!(problem["detail"], detail, "{what}");
        }
    }
}
