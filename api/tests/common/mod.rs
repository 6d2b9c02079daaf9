//! The REST tests' client: the API served on a free port, called as a
//! given user.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses a part

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use taskflow_api::auth::{Verifier, mint};
use taskflow_api::{AppState, app};
use taskflow_testkit::harness::Harness;

pub const SECRET: &[u8] = b"rest test secret";

/// A client of the API served on a free port.
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

pub async fn serve(h: &Harness) -> Api {
    serve_state(AppState::new(h.svc.clone(), Verifier::hs256(SECRET))).await
}

/// Serves `state` (verifying tokens with [`SECRET`]).
pub async fn serve_state(state: AppState) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    Api {
        base,
        client: reqwest::Client::new(),
    }
}

pub fn token(user: &str) -> String {
    mint(SECRET, user, Duration::from_secs(600)).unwrap()
}

impl Api {
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
            request = request.bearer_auth(token(user));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, method: Method, path: &str, user: &str, body: Option<Value>) -> Reply {
        let body = body.map(|b| b.to_string());
        self.send(method, path, Some(user), body.as_deref(), &[])
            .await
    }
}
