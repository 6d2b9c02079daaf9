//! A client of Taskflow's HTTP API for black-box tests, with one method per
//! endpoint (zero-to-production's `TestApp`): the API's routes are written
//! here once, tokens are minted per user with the server's secret, and an
//! answer is read whole. The api crate's tests use it on the router served
//! in-process; the root package's tests on `taskflow serve` and the cluster
//! roles.

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running API and the secret its tokens are signed with.
#[derive(Debug, Clone)]
pub struct TestApp {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    /// The HTTP client, for requests no method covers.
    pub client: reqwest::Client,
    secret: Vec<u8>,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    /// The JSON answer (null when there was none or it was not JSON).
    pub body: Value,
}

impl Reply {
    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body of an answer that must be a success; panics with the
    /// answer otherwise.
    pub fn ok(self) -> Value {
        assert!(
            self.status.is_success(),
            "expected a success, got {}: {}",
            self.status,
            self.body
        );
        self.body
    }
}

impl TestApp {
    /// The API at `base`, whose tokens are HS256 with `secret`.
    pub fn new(base: impl Into<String>, secret: &[u8]) -> Self {
        Self {
            base: base.into(),
            client: reqwest::Client::new(),
            secret: secret.to_vec(),
        }
    }

    /// A token for `user`, valid for ten minutes.
    pub fn token(&self, user: &str) -> String {
        taskflow_auth::mint(&self.secret, user, std::time::Duration::from_secs(600))
            .unwrap_or_else(|e| panic!("cannot mint a token: {e}"))
    }

    /// A token for `subject` (with its username and name claims).
    pub fn token_for(&self, subject: &taskflow_auth::Subject) -> String {
        taskflow_auth::mint_subject(&self.secret, subject, std::time::Duration::from_secs(600))
            .unwrap_or_else(|e| panic!("cannot mint a token: {e}"))
    }

    /// Sends a request: as `user` if given, with `body` as JSON if given,
    /// and any extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(user) = user {
            request = request.bearer_auth(self.token(user));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Calls `path` as `user`, with a JSON body if given.
    pub async fn call(&self, method: Method, path: &str, user: &str, body: Option<Value>) -> Reply {
        let body = body.map(|b| b.to_string());
        self.send(method, path, Some(user), body.as_deref(), &[])
            .await
    }

    /// `POST /api/tasks`.
    pub async fn create_task(&self, user: &str, task: Value) -> Reply {
        self.call(Method::POST, "/api/tasks", user, Some(task))
            .await
    }

    /// `GET /api/tasks/{id}`.
    pub async fn get_task(&self, user: &str, id: i64) -> Reply {
        self.call(Method::GET, &format!("/api/tasks/{id}"), user, None)
            .await
    }

    /// `GET /api/tasks?{query}` (`query` without the `?`; "" for none).
    pub async fn list_tasks(&self, user: &str, query: &str) -> Reply {
        self.call(Method::GET, &with_query("/api/tasks", query), user, None)
            .await
    }

    /// `PATCH /api/tasks/{id}`.
    pub async fn update_task(&self, user: &str, id: i64, patch: Value) -> Reply {
        self.call(
            Method::PATCH,
            &format!("/api/tasks/{id}"),
            user,
            Some(patch),
        )
        .await
    }

    /// `POST /api/tasks/{id}/complete`.
    pub async fn complete_task(&self, user: &str, id: i64) -> Reply {
        self.call(
            Method::POST,
            &format!("/api/tasks/{id}/complete"),
            user,
            None,
        )
        .await
    }

    /// `POST /api/tasks/{id}/reopen`.
    pub async fn reopen_task(&self, user: &str, id: i64) -> Reply {
        self.call(Method::POST, &format!("/api/tasks/{id}/reopen"), user, None)
            .await
    }

    /// `POST /api/tasks/{id}/snooze`.
    pub async fn snooze_task(&self, user: &str, id: i64, snooze: Value) -> Reply {
        self.call(
            Method::POST,
            &format!("/api/tasks/{id}/snooze"),
            user,
            Some(snooze),
        )
        .await
    }

    /// `DELETE /api/tasks/{id}`.
    pub async fn delete_task(&self, user: &str, id: i64) -> Reply {
        self.call(Method::DELETE, &format!("/api/tasks/{id}"), user, None)
            .await
    }

    /// `GET /api/tasks/{id}/history`.
    pub async fn task_history(&self, user: &str, id: i64) -> Reply {
        self.call(Method::GET, &format!("/api/tasks/{id}/history"), user, None)
            .await
    }

    /// `GET /api/tags`.
    pub async fn tags(&self, user: &str) -> Reply {
        self.call(Method::GET, "/api/tags", user, None).await
    }

    /// `GET /api/notifications?{query}`.
    pub async fn notifications(&self, user: &str, query: &str) -> Reply {
        self.call(
            Method::GET,
            &with_query("/api/notifications", query),
            user,
            None,
        )
        .await
    }

    /// `GET /api/notifications/unread-count`.
    pub async fn unread_count(&self, user: &str) -> Reply {
        self.call(Method::GET, "/api/notifications/unread-count", user, None)
            .await
    }

    /// `POST /api/notifications/{id}/read`.
    pub async fn read_notification(&self, user: &str, id: i64) -> Reply {
        self.call(
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            user,
            None,
        )
        .await
    }

    /// `POST /api/notifications/read-all`.
    pub async fn read_all_notifications(&self, user: &str) -> Reply {
        self.call(Method::POST, "/api/notifications/read-all", user, None)
            .await
    }

    /// `POST /api/chat`.
    pub async fn chat(&self, user: &str, message: Value) -> Reply {
        self.call(Method::POST, "/api/chat", user, Some(message))
            .await
    }

    /// `GET /api/conversations?{query}`.
    pub async fn conversations(&self, user: &str, query: &str) -> Reply {
        self.call(
            Method::GET,
            &with_query("/api/conversations", query),
            user,
            None,
        )
        .await
    }

    /// `GET /api/conversations/{id}`.
    pub async fn conversation(&self, user: &str, id: i64) -> Reply {
        self.call(Method::GET, &format!("/api/conversations/{id}"), user, None)
            .await
    }

    /// `DELETE /api/conversations/{id}`.
    pub async fn delete_conversation(&self, user: &str, id: i64) -> Reply {
        self.call(
            Method::DELETE,
            &format!("/api/conversations/{id}"),
            user,
            None,
        )
        .await
    }

    /// `POST /api/stream/ticket`: a short-lived ticket for a browser's
    /// stream.
    pub async fn stream_ticket(&self, user: &str) -> Reply {
        self.call(Method::POST, "/api/stream/ticket", user, None)
            .await
    }
}

/// `path?query`, or `path` for an empty query.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}
