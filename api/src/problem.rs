//! RFC 9457 problem details: every error response, `application/problem+json`
//! with a stable snake_case `code` clients can branch on and, for validation
//! errors, the `field` at fault. Store errors map here, in one place; internal
//! causes are logged, never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use taskflow_store::Error;

/// An error response.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(skip)]
    status: StatusCode,
    /// A stable, machine-readable error code.
    code: &'static str,
    title: &'static str,
    detail: String,
    /// The input field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// Members particular to one problem (RFC 9457 extensions), such as
    /// `current_version` of a version conflict.
    #[serde(skip)]
    extensions: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    #[serde(skip)]
    challenge: Option<&'static str>,
}

impl Problem {
    /// A problem with `status`, `code`, `title` and `detail`.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            field: None,
            extensions: None,
            challenge: None,
        }
    }

    /// The same problem with an extension member.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extensions.get_or_insert_default().insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or_default(),
        );
        self
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            challenge: Some("Bearer realm=\"taskflow\""),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
                detail,
            )
        }
    }

    /// 503: a dependency is not available; try again.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }

    /// 404 for a task (or anything) the caller cannot see.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    /// 400 for a malformed request (headers, path, query, body syntax).
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
    }

    /// 422 naming the field at fault.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Invalid input",
                detail,
            )
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for Problem {
    fn from(err: Error) -> Self {
        match err {
            Error::Invalid(invalid) => Problem::invalid(invalid.field, invalid.reason),
            Error::NotFound => Problem::not_found("no such task"),
            Error::Conflict { current } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "version_conflict",
                "The task has changed",
                format!(
                    "the task is at version {current}; fetch it again and retry with If-Match: \"{current}\""
                ),
            )
            .with("current_version", current),
            Error::NoSuchList { field } => Problem {
                field: Some(field.into()),
                ..Problem::not_found(format!("no such list (`{field}`)"))
            },
            Error::Forbidden { needed } => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                format!(
                    "your role in this list does not allow that; it needs {} or higher",
                    needed.as_str()
                ),
            )
            .with("role_needed", needed.as_str()),
            Error::NoSuchUser { field } => Problem {
                field: Some(field.into()),
                ..Problem::new(
                    StatusCode::NOT_FOUND,
                    "no_such_user",
                    "No such user",
                    format!("no user has that username (`{field}`); usernames match exactly, case included"),
                )
            },
            Error::AssigneeNotMember { user } => Problem {
                field: Some("assignees".into()),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "assignee_not_member",
                    "Not a member",
                    format!(
                        "`{user}` is not a member of the task's list; assign its owner or members (GET /api/lists/{{id}}/members)"
                    ),
                )
            },
            Error::Refused {
                code,
                field,
                detail,
            } => Problem {
                field: Some(field.into()),
                ..Problem::new(StatusCode::CONFLICT, code, "Refused", detail)
            },
            Error::CursorExpired { oldest, latest } => Problem::new(
                StatusCode::GONE,
                "cursor_expired",
                "Cursor expired",
                format!(
                    "changes before {oldest} are no longer held (or this cursor was never issued); read everything again, then follow from since={latest}"
                ),
            )
            .with("oldest_sequence", oldest)
            .with("latest_sequence", latest),
            Error::ImportInvalid(problems) => {
                let first = problems.first().cloned().unwrap_or_else(|| {
                    taskflow_core::Invalid::new("", "the document is at fault")
                });
                let errors: Vec<_> = problems
                    .iter()
                    .take(taskflow_core::MAX_IMPORT_ERRORS)
                    .map(|p| serde_json::json!({"field": p.field, "detail": p.reason}))
                    .collect();
                Problem {
                    field: Some(first.field.clone()),
                    ..Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "import_invalid",
                        "Import refused",
                        format!(
                            "nothing was imported: {} entr{} at fault (each in `errors`); the first: {}: {}",
                            problems.len(),
                            if problems.len() == 1 { "y is" } else { "ies are" },
                            first.field,
                            first.reason
                        ),
                    )
                }
                .with("errors", errors)
                .with("error_count", problems.len())
            }
            Error::IdempotencyMismatch => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency key reused",
                "this Idempotency-Key was already used with a different request body; use a new key",
            ),
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Problem::unavailable("the database is busy or unreachable; retry shortly")
            }
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::to_value(&self).unwrap_or_default();
        if let Some(map) = body.as_object_mut() {
            if let Some(extensions) = &self.extensions {
                map.extend(extensions.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            map.insert("status".into(), self.status.as_u16().into());
            map.insert(
                "type".into(),
                format!(
                    "https://taskflow.dev/problems/{}",
                    self.code.replace('_', "-")
                )
                .into(),
            );
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(challenge) = self.challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
