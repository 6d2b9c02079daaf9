//! RFC 9457 problem details: every error response, with a stable
//! snake_case `code` clients can branch on.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error response.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(skip)]
    status: StatusCode,
    /// A stable, machine-readable error code.
    code: &'static str,
    title: &'static str,
    detail: String,
    #[serde(skip)]
    challenge: Option<&'static str>,
}

impl Problem {
    /// 401 with a `WWW-Authenticate: Bearer` challenge.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            title: "Authentication required",
            detail: detail.into(),
            challenge: Some("Bearer realm=\"taskflow\""),
        }
    }

    /// 503: a dependency is not available; try again.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            title: "Service unavailable",
            detail: detail.into(),
            challenge: None,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::to_value(&self).unwrap_or_default();
        if let Some(map) = body.as_object_mut() {
            map.insert("status".into(), self.status.as_u16().into());
            map.insert("type".into(), "about:blank".into());
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
