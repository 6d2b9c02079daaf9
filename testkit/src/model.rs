//! Test double of an OpenAI-compatible chat-completions endpoint, standing
//! in for a language model, which cannot run on these machines. It follows
//! the documented contract: `POST <base>/chat/completions` with `model`,
//! `messages` and `tools`; the answer's `choices[0].message` carries either
//! `content` or `tool_calls` (`{id, type: "function", function: {name,
//! arguments}}`, arguments a JSON string); tool results come back as
//! `role: "tool"` messages with the call's `tool_call_id`. It answers from a
//! script, one step per request (the last step repeats), and records every
//! request.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

/// What the double does for one request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Answer 200 with this assistant message.
    Message(Value),
    /// Answer with this status and body.
    Fail(u16, String),
    /// Never answer.
    Hang,
}

/// An assistant message calling one tool.
pub fn tool_call(id: &str, name: &str, arguments: &str) -> Step {
    Step::Message(json!({
        "role": "assistant",
        "content": null,
        "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}],
    }))
}

/// An assistant message in words.
pub fn say(text: &str) -> Step {
    Step::Message(json!({"role": "assistant", "content": text}))
}

#[derive(Debug, Default)]
struct Shared {
    script: Vec<Step>,
    next: usize,
    requests: Vec<Value>,
    headers: Vec<HeaderMap>,
}

/// A running double.
#[derive(Debug, Clone)]
pub struct ScriptedModel {
    /// The API base to configure (`http://127.0.0.1:port/v1`).
    pub base_url: String,
    shared: Arc<Mutex<Shared>>,
}

impl ScriptedModel {
    /// Serves `script` on a free port.
    pub async fn start(script: Vec<Step>) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            script,
            ..Default::default()
        }));
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base_url, shared }
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.lock().unwrap().requests.clone()
    }

    /// The headers of every request, in order.
    pub fn headers(&self) -> Vec<HeaderMap> {
        self.shared.lock().unwrap().headers.clone()
    }
}

async fn complete(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let step = {
        let mut shared = shared.lock().unwrap();
        shared.requests.push(body);
        shared.headers.push(headers);
        let index = shared.next.min(shared.script.len().saturating_sub(1));
        shared.next += 1;
        shared.script.get(index).cloned()
    };
    match step {
        Some(Step::Message(message)) => Json(json!({
            "id": "chatcmpl-double",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }))
        .into_response(),
        Some(Step::Fail(status, body)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )
            .into_response(),
        Some(Step::Hang) => std::future::pending().await,
        None => (StatusCode::INTERNAL_SERVER_ERROR, "empty script").into_response(),
    }
}
