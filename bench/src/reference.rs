//! The limits that are servers: a hello-world JSON POST (and a GET of a
//! page of tasks made in memory), and a bare per-user
//! SSE fan-out (a POST sends one event to that user's open streams) with
//! nothing behind it; and the stdin/stdout echo child that bounds MCP stdio.
//! Each runs as its own process, like the server it is compared with.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use taskflow_events::PerUser;

#[derive(Debug, Deserialize)]
struct Who {
    user: String,
}

/// Serves the reference routes on `listen` until killed.
pub async fn serve(listen: &str) -> anyhow::Result<()> {
    let users: PerUser<String> = PerUser::new(256);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/hello", post(hello).get(hello_list))
        .route("/sse", get(stream))
        .route("/publish", post(publish))
        .with_state(users);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("reference listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Reads a JSON body and answers 201 with JSON, as a create does.
async fn hello(Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({"id": 1, "title": body["title"], "completed": false, "version": 1})),
    )
}

/// Answers a page of 20 tasks' worth of JSON, as a list does, from memory.
async fn hello_list() -> Json<Value> {
    let task = |id: usize| {
        json!({"id": id, "title": format!("task {id}"), "description": null, "completed": false,
            "priority": "medium", "tags": [], "due": null, "version": 1,
            "created_at": "2026-11-24T08:00:00Z", "updated_at": "2026-11-24T08:00:00Z"})
    };
    Json(json!({"tasks": (1..=20).map(task).collect::<Vec<_>>(), "next_cursor": "abc"}))
}

async fn stream(
    State(users): State<PerUser<String>>,
    Query(who): Query<Who>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let receiver = users.subscribe(&who.user);
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(data) => return Some((data, receiver)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    })
    .map(|data| Ok(Event::default().event("task.created").data(data)));
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn publish(
    State(users): State<PerUser<String>>,
    Query(who): Query<Who>,
    body: String,
) -> StatusCode {
    users.send(&who.user, body);
    StatusCode::CREATED
}

/// Copies each line of stdin to stdout (blocking: the process does nothing else).
pub fn echo() -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        writeln!(out, "{}", line?)?;
        out.flush()?;
    }
    Ok(())
}
