//! A webhook receiver for tests: an HTTP server on a free loopback port
//! that keeps every request it is sent (headers and raw body) and answers
//! with the status it is told to (200 by default), optionally with a
//! `Retry-After`. Tests verify what it kept with the Standard Webhooks
//! library, as a real receiver would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

/// One request the receiver was sent.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    /// The `webhook-id` header.
    pub fn id(&self) -> &str {
        self.header("webhook-id")
    }

    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Whether it verifies with `secret` (the Standard Webhooks library,
    /// five minutes' tolerance).
    pub fn verifies_with(&self, secret: &str) -> bool {
        let webhook = standardwebhooks::Webhook::new(secret).unwrap();
        webhook.verify(&self.body, &self.headers).is_ok()
    }
}

#[derive(Debug)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// The status to answer, and the `Retry-After` to send with it.
    answer: Mutex<(u16, Option<String>)>,
}

/// The receiver; dropped, it keeps serving until the test ends.
#[derive(Debug, Clone)]
pub struct Receiver {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Receiver {
    /// Serves on a free loopback port, answering 200.
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            answer: Mutex::new((200, None)),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { shared, addr }
    }

    /// The URL it receives at.
    pub fn url(&self) -> String {
        format!("http://{}/hooks/taskflow", self.addr)
    }

    /// Answer `status` from now on, with `retry_after` if given.
    pub fn answer(&self, status: u16, retry_after: Option<&str>) {
        *self.shared.answer.lock().unwrap() = (status, retry_after.map(str::to_owned));
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// What it answered 2xx, in order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (status, retry_after) = shared.answer.lock().unwrap().clone();
    shared.received.lock().unwrap().push(Received {
        headers,
        body,
        answered: status,
    });
    let status = StatusCode::from_u16(status).unwrap();
    match retry_after {
        Some(after) => (status, [("retry-after", after)]).into_response(),
        None => status.into_response(),
    }
}
