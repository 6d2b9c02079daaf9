//! The SSE gateway: `GET /api/stream/tasks` streams the changes of the
//! user's lists and of lists shared with them (as they are shared at that
//! moment), and their new notifications, as named events whose `id:` is the
//! outbox sequence number. A reconnecting client sends `Last-Event-ID` and first
//! gets what it missed, replayed from `task_events` (bounded), then live
//! updates. A heartbeat comment goes out every 15 s. Each user's live
//! updates pass through a bounded buffer: a stream that falls behind a
//! burst catches up from the outbox in place (what a reconnect would
//! replay) instead of slowing anyone else, and one that stops reading is
//! closed by the write timeout.
//!
//! Browsers' EventSource cannot send an Authorization header, so a client
//! first exchanges its bearer token for a stream ticket (`POST
//! /api/stream/ticket`): valid for 60 s, for this route only, so a URL that
//! ends up in a log or a proxy is worth little — unlike a token in the query.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use taskflow_events::{Delivery, Handler, Outcome, PerUser, TASK_UPDATES, TaskUpdate, UpdateKind};
use taskflow_store::Audience;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::auth::AuthUser;
use crate::problem::Problem;

/// How many missed events a reconnect replays at most.
const REPLAY_LIMIT: u32 = 1000;
/// Updates buffered per user before a slow client is dropped (it then
/// reconnects and replays from the database). Each slot costs a pointer and
/// a little bookkeeping, per user with an open stream; 16 was too few for
/// the relay's bursts of one user's events.
const BUFFER: usize = 64;
/// How long a stream ticket is valid.
const TICKET_TTL: Duration = Duration::from_secs(60);
/// The audience that makes a token a stream ticket and nothing else.
const TICKET_AUDIENCE: &str = "taskflow-stream";

/// The client's TCP connection, which the server puts in each request's
/// extensions (`net::serve`). hyper does not read a connection while it
/// writes the response (that would cost each open stream a second read
/// buffer), so a stream watches its connection itself: a client that
/// closes is let go at once, not at the next heartbeat.
#[derive(Debug, Clone)]
pub struct Peer(pub Arc<tokio::net::TcpStream>);

impl Peer {
    /// Resolves when the client has closed the connection (or it failed);
    /// never while it is open, nor after it sent more (a pipelined request,
    /// left for the server to read when the stream ends).
    async fn gone(peer: Option<&Peer>) {
        let Some(Peer(connection)) = peer else {
            return std::future::pending().await;
        };
        let mut byte = [0u8; 1];
        match connection.peek(&mut byte).await {
            Ok(0) | Err(_) => {}
            Ok(_) => std::future::pending().await,
        }
    }
}

/// Fan-out of `task-updates` to open streams: to the owner, and to the
/// members of the list (see [`Audience`]). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Hub(Arc<HubInner>);

#[derive(Debug)]
struct HubInner {
    users: PerUser<Arc<TaskUpdate>>,
    /// Who besides the owner hears of a list's changes.
    audience: Audience,
    closing: CancellationToken,
    ticket_key: Vec<u8>,
    /// The most streams allowed at once.
    max_streams: usize,
    open: std::sync::Mutex<Open>,
}

/// The streams open now: in all, and per user (so no one user takes every
/// place).
#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_user: std::collections::HashMap<String, usize>,
}

/// The most streams one user may hold open in one process (tabs, devices).
pub const MAX_STREAMS_PER_USER: usize = 32;

/// The default most streams a process holds open at once.
pub const DEFAULT_MAX_STREAMS: usize = 20_000;

impl Hub {
    /// A hub whose streams end when `closing` is cancelled (shutdown), with
    /// stream tickets signed by `ticket_key` (replicas behind one load
    /// balancer must share it; a random key suits one process).
    ///
    /// At most `max_streams` streams are open at once; more are refused with
    /// 503 and `Retry-After` rather than exhausting memory or descriptors.
    pub fn new(
        audience: Audience,
        closing: CancellationToken,
        ticket_key: Option<Vec<u8>>,
        max_streams: usize,
    ) -> Self {
        let ticket_key = ticket_key.unwrap_or_else(|| {
            let mut key = vec![0u8; 32];
            rand::rng().fill_bytes(&mut key);
            key
        });
        Hub(Arc::new(HubInner {
            users: PerUser::new(BUFFER),
            audience,
            closing,
            ticket_key,
            max_streams,
            open: Default::default(),
        }))
    }

    /// Takes a place for one more stream of `user`, or says why not.
    fn open_stream(&self, user: &str) -> Result<OpenStream, &'static str> {
        let mut open = self.0.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.0.max_streams {
            return Err("this server holds as many live streams as it is allowed; retry shortly");
        }
        let mine = open.per_user.entry(user.to_owned()).or_insert(0);
        if *mine >= MAX_STREAMS_PER_USER {
            return Err(
                "this user already has as many live streams open as one user may; close some",
            );
        }
        *mine += 1;
        open.total += 1;
        metrics::gauge!("taskflow_sse_streams").increment(1.0);
        Ok(OpenStream {
            hub: self.0.clone(),
            user: user.to_owned(),
        })
    }

    /// Sends an update to the open streams of everyone who hears of it:
    /// the owner, the list's members now (for a change of the list itself,
    /// also those before it), and the member a membership notice is about.
    /// The owner's streams get it first, before the members are looked up
    /// (a list new to this process costs a read). Returns how many streams
    /// it reached; on an error the owner may have it already, and skips
    /// the redelivery by sequence.
    pub async fn publish(&self, update: TaskUpdate) -> taskflow_store::Result<usize> {
        let update = Arc::new(update);
        let mut streams = self.0.users.send(&update.user_id, update.clone());
        let audience = &self.0.audience;
        let hearing = match update.kind {
            UpdateKind::NotificationCreated => Vec::new(),
            UpdateKind::Task => {
                audience
                    .hearing(
                        &update.user_id,
                        [update.list_id, update.from_list_id],
                        false,
                        None,
                    )
                    .await?
            }
            UpdateKind::List => {
                let member = update.member.as_deref();
                audience
                    .hearing(&update.user_id, [update.list_id, None], true, member)
                    .await?
            }
        };
        for user in &hearing {
            streams += self.0.users.send(user, update.clone());
        }
        Ok(streams)
    }

    fn mint_ticket(&self, user: &str) -> Result<String, Problem> {
        let claims = Ticket {
            sub: user.to_owned(),
            aud: TICKET_AUDIENCE.to_owned(),
            exp: jsonwebtoken::get_current_timestamp() + TICKET_TTL.as_secs(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.0.ticket_key),
        )
        .map_err(|_| Problem::unavailable("cannot issue a stream ticket"))
    }

    fn verify_ticket(&self, ticket: &str) -> Result<String, Problem> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[TICKET_AUDIENCE]);
        validation.leeway = 5;
        jsonwebtoken::decode::<Ticket>(
            ticket,
            &DecodingKey::from_secret(&self.0.ticket_key),
            &validation,
        )
        .map(|data| data.claims.sub)
        .map_err(|_| {
            Problem::unauthorized("the stream ticket is invalid or expired; get a new one")
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Ticket {
    sub: String,
    aud: String,
    exp: u64,
}

impl Handler for Hub {
    type Payload = TaskUpdate;
    const TOPIC: &'static str = TASK_UPDATES;
    const NAME: &'static str = "sse";

    async fn handle(&self, delivery: Delivery<TaskUpdate>) -> Outcome {
        match self.publish(delivery.data).await {
            Ok(streams) => {
                tracing::debug!(streams, "pushed to live streams");
                Outcome::Success
            }
            // Streams that had it skip the redelivery by sequence.
            Err(err) => {
                tracing::warn!(error = %err, "cannot read who hears of the change; retrying");
                Outcome::Retry
            }
        }
    }
}

/// The stream routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/stream/tasks", get(stream))
        .route("/api/stream/ticket", post(ticket))
}

async fn ticket(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    let ticket = state.hub.mint_ticket(&user.0)?;
    Ok(Json(json!({"ticket": ticket, "expires_in": TICKET_TTL.as_secs()})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    ticket: Option<String>,
    /// Stands in for the `Last-Event-ID` header, which a browser sends
    /// only when its EventSource reconnects by itself: a page that opens a
    /// new one (with a fresh ticket) passes the last id it saw here.
    last_event_id: Option<i64>,
}

/// The SSE event name of an update, such as `task.created`.
fn event_name(update: &TaskUpdate) -> String {
    match (update.kind, update.change) {
        (UpdateKind::Task, Some(change)) => match change.comment_change() {
            Some(comment) => format!("comment.{comment}"),
            None => format!("task.{}", change.as_str()),
        },
        (UpdateKind::Task, None) => "task.updated".into(),
        (UpdateKind::NotificationCreated, _) => "notification.created".into(),
        (UpdateKind::List, _) => match update.list_change {
            Some(change) => format!("list.{}", change.name()),
            None => "list.updated".into(),
        },
    }
}

/// Every update carries its outbox sequence as `id:`: task changes and
/// new notifications are both outbox rows, replayed alike on reconnect.
fn event(update: &TaskUpdate) -> Event {
    Event::default()
        .id(update.sequence.to_string())
        .event(event_name(update))
        .json_data(update)
        .unwrap_or_else(|_| Event::default().comment("unencodable update skipped"))
}

async fn stream(
    State(state): State<AppState>,
    peer: Option<axum::Extension<Peer>>,
    headers: HeaderMap,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Ok(Query(query)) = query else {
        return Err(Problem::bad_request(
            "invalid_query",
            "the parameters are `ticket` and `last_event_id` (an integer)",
        ));
    };
    let user = match (
        &query.ticket,
        headers.get(axum::http::header::AUTHORIZATION),
    ) {
        (Some(ticket), _) => state.hub.verify_ticket(ticket)?,
        (None, Some(_)) => {
            let subject = state.verifier.subject_from_headers(&headers).await?;
            let user = subject.id.clone();
            // Recorded like any request's user, but in the background: a
            // stream only reads, and nothing it does needs the row.
            let tasks = state.tasks.clone();
            tokio::spawn(async move {
                if let Err(err) = tasks.saw(&subject).await {
                    tracing::warn!(error = %err, "cannot record the user of a stream");
                }
            });
            user
        }
        (None, None) => {
            return Err(Problem::unauthorized(
                "send `Authorization: Bearer <token>` or `?ticket=` from POST /api/stream/ticket",
            ));
        }
    };
    let open = state.hub.open_stream(&user).map_err(|why| {
        Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            "Too many open streams",
            why,
        )
    })?;
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(query.last_event_id);
    // Subscribe first, then read what was missed: nothing falls in between,
    // and anything seen twice is skipped by sequence.
    let live = state.hub.0.users.subscribe(&user);
    let replay = match last_seen {
        Some(after) => {
            state
                .tasks
                .database()
                .events_after(&user, after, REPLAY_LIMIT)
                .await?
        }
        None => Vec::new(),
    };
    // Truncated, or a Last-Event-ID from another database (after a restore,
    // say): the client cannot catch up by replay and must refetch.
    let from_elsewhere = match last_seen {
        Some(after) if replay.is_empty() => after > state.tasks.database().last_sequence().await?,
        _ => false,
    };
    // Older than what retention keeps: what was missed is gone.
    let expired = match last_seen {
        Some(after) if after > 0 => after < state.tasks.database().pruned_through().await?,
        _ => false,
    };
    let truncated = replay.len() == REPLAY_LIMIT as usize || from_elsewhere || expired;
    // Reminder rows are in the outbox too; live views see their notices.
    let replay: Vec<TaskUpdate> = replay.iter().filter_map(|e| e.task_update()).collect();
    let closing = state.hub.0.closing.clone();
    let start = Cursor {
        _open: open,
        replay: replay.into_iter(),
        truncated,
        live,
        // An id from elsewhere means nothing here: skip nothing live.
        sent: Sent::after(if from_elsewhere {
            0
        } else {
            last_seen.unwrap_or(0)
        }),
        closing,
        peer: peer.map(|axum::Extension(peer)| peer),
        database: state.tasks.database().clone(),
        user: user.clone(),
    };
    let events = futures::stream::unfold(start, |mut cursor| async move {
        loop {
            if cursor.truncated {
                cursor.truncated = false;
                // More was missed than is replayed: the client should refetch.
                return Some((
                    Ok::<_, std::convert::Infallible>(Event::default().event("resync").data("{}")),
                    cursor,
                ));
            }
            if let Some(update) = cursor.replay.next() {
                if cursor.sent.first_time(&update) {
                    return Some((Ok(event(&update)), cursor));
                }
                continue;
            }
            let received = tokio::select! {
                _ = cursor.closing.cancelled() => return None,
                _ = Peer::gone(cursor.peer.as_ref()) => return None,
                received = cursor.live.recv() => received,
            };
            match received {
                Ok(update) if cursor.sent.first_time(&update) => {
                    return Some((Ok(event(&update)), cursor));
                }
                Ok(_) => {}
                // Fell behind a burst: catch up from the outbox, as a
                // reconnect would, then go on live. (A client that stops
                // reading altogether is closed by the write timeout.)
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let missed = cursor
                        .database
                        .events_after(&cursor.user, cursor.sent.last, REPLAY_LIMIT)
                        .await
                        .ok()?;
                    cursor.truncated = missed.len() == REPLAY_LIMIT as usize;
                    if let (true, Some(last)) = (cursor.truncated, missed.last()) {
                        // The rest is refetched: go on live after it.
                        cursor.sent = Sent::after(last.sequence);
                        cursor.replay = Vec::new().into_iter();
                    } else {
                        let updates: Vec<TaskUpdate> =
                            missed.iter().filter_map(|e| e.task_update()).collect();
                        cursor.replay = updates.into_iter();
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let sse = Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("heartbeat"),
    );
    // Proxies (nginx and its ingress) must pass events on, not buffer them.
    Ok((
        [(
            axum::http::HeaderName::from_static("x-accel-buffering"),
            "no",
        )],
        sse,
    )
        .into_response())
}

/// A stream's place (in the process and for its user) while it lives;
/// counted in `taskflow_sse_streams`.
struct OpenStream {
    hub: Arc<HubInner>,
    user: String,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(mine) = open.per_user.get_mut(&self.user) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                open.per_user.remove(&self.user);
            }
        }
        metrics::gauge!("taskflow_sse_streams").decrement(1.0);
    }
}

/// Where a stream is.
struct Cursor {
    _open: OpenStream,
    replay: std::vec::IntoIter<TaskUpdate>,
    truncated: bool,
    live: broadcast::Receiver<Arc<TaskUpdate>>,
    /// What the client had or was sent.
    sent: Sent,
    closing: CancellationToken,
    /// The client's connection, when the server provides it.
    peer: Option<Peer>,
    /// Where a stream that fell behind catches up.
    database: taskflow_store::Database,
    user: String,
}

/// What a stream has sent, to skip what was replayed or redelivered. Each
/// owner's changes arrive in their sequence order (the relay publishes
/// each owner's events in order, keyed by the owner), but a member's stream
/// mixes owners, whose partitions run independently: a later sequence of
/// one owner may come before an earlier one of another. So a change is a
/// repeat when it is at or below the last one sent *of its owner*, or below
/// the point the client resumed from.
#[derive(Debug)]
struct Sent {
    /// The client had everything up to here (its `Last-Event-ID`).
    from: i64,
    /// The last sequence sent of each owner.
    by_owner: std::collections::HashMap<String, i64>,
    /// The highest sequence sent: where a stream that fell behind resumes.
    last: i64,
}

impl Sent {
    /// Nothing sent yet; the client had everything up to `from`.
    fn after(from: i64) -> Self {
        Sent {
            from,
            by_owner: Default::default(),
            last: from,
        }
    }

    /// Whether `update` is new to the client (and now counted as sent).
    fn first_time(&mut self, update: &TaskUpdate) -> bool {
        let owner_last = self.by_owner.get(&update.user_id).copied();
        if update.sequence <= owner_last.unwrap_or(self.from) {
            return false;
        }
        match self.by_owner.get_mut(&update.user_id) {
            Some(last) => *last = update.sequence,
            None => {
                self.by_owner
                    .insert(update.user_id.clone(), update.sequence);
            }
        }
        self.last = self.last.max(update.sequence);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(owner: &str, sequence: i64) -> TaskUpdate {
        TaskUpdate {
            kind: UpdateKind::Task,
            user_id: owner.into(),
            task_id: Some(1),
            list_id: Some(1),
            from_list_id: None,
            member: None,
            change: None,
            list_change: None,
            fields: Vec::new(),
            notification_id: None,
            actor: None,
            sequence,
        }
    }

    #[test]
    fn owners_arrive_interleaved_and_only_repeats_are_skipped() {
        let mut sent = Sent::after(10);
        // Below the resume point: the client had it.
        assert!(!sent.first_time(&update("alice", 9)));
        assert!(sent.first_time(&update("bob", 15)));
        // Alice's partition ran behind bob's: her 12 is new, not a repeat.
        assert!(sent.first_time(&update("alice", 12)));
        // Redeliveries of either owner are repeats.
        assert!(!sent.first_time(&update("bob", 15)));
        assert!(!sent.first_time(&update("alice", 12)));
        assert!(!sent.first_time(&update("alice", 11)));
        assert!(sent.first_time(&update("alice", 16)));
        assert_eq!(sent.last, 16);
    }
}
