//! Webhooks: each user's endpoints, and one delivery row per (event,
//! endpoint). The webhook consumer writes an event's rows in the
//! transaction that marks the event processed, so a redelivered event
//! never makes another; the sender holds one endpoint at a time (a lease,
//! claimed with `SKIP LOCKED` on PostgreSQL so replicas share the work),
//! sends its pending rows in sequence order, and records each attempt here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sqlx::types::Json;
use taskflow_core::webhook::{MAX_WEBHOOK_DESCRIPTION, PING_TYPE};
use taskflow_core::{
    CreateWebhook, Delivery, DeliveryPage, DeliveryQuery, DeliveryStatus, FieldChange, Invalid,
    List, ListRef, NotificationKind, Replayed, Role, Task, UpdateWebhook, Webhook, WebhookUrl,
    WebhookWithSecret,
};
use taskflow_events::{EventActor, Source, change_types, derived_id};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::database::{Executor, Param, Query, Tx, query};
use crate::lists::Lists;
use crate::notifications::{self, Written};
use crate::outbox::{self, Body, OutboxEvent, READ_FROM};
use crate::tasks::check_user;
use crate::{Database, DatabaseKind, Error, Result, TaskService};

/// The most endpoints one user may have.
pub const MAX_WEBHOOKS: i64 = 25;
/// The most tests waiting to go to one endpoint.
const MAX_WAITING_TESTS: i64 = 10;
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// The most events one replay queues (replay again from where it stopped).
pub const MAX_REPLAY: u32 = 10_000;
/// How long a new endpoint's host may take to resolve.
const DNS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The longest error text kept of an attempt, in bytes.
pub const MAX_ERROR: usize = 4096;

const ENDPOINT_COLUMNS: &str = "id, user_id, list_id, url, description, event_types, secret, \
     previous_secret, previous_until, enabled, disabled_reason, failing_since, retry_at, \
     created_at, updated_at";

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    user_id: String,
    list_id: Option<i64>,
    url: String,
    description: String,
    event_types: Option<Json<Vec<String>>>,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<DateTime<Utc>>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<DateTime<Utc>>,
    retry_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for EndpointRow {
    // Never the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointRow")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl EndpointRow {
    fn view(&self) -> Webhook {
        Webhook {
            id: self.id,
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.as_ref().map(|t| t.0.clone()),
            list_id: self.list_id,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.clone(),
            failing_since: self.failing_since,
            previous_secret_until: self.previous_until,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl EndpointRow {
    /// The endpoint as a sender holding it until `until` sends to it at
    /// `now`.
    fn held(self, now: DateTime<Utc>, until: DateTime<Utc>) -> Endpoint {
        let mut secrets = vec![self.secret];
        if let (Some(previous), Some(overlap)) = (self.previous_secret, self.previous_until)
            && overlap > now
        {
            secrets.push(previous);
        }
        Endpoint {
            id: self.id,
            user_id: self.user_id,
            list_id: self.list_id,
            url: self.url,
            secrets,
            failing_since: self.failing_since,
            held: until,
        }
    }
}

/// An endpoint a sender holds: where to send and what to sign with.
#[derive(Clone)]
pub struct Endpoint {
    pub id: i64,
    pub user_id: String,
    /// Only this list's changes.
    pub list_id: Option<i64>,
    pub url: String,
    /// The secrets to sign with: the current one, then the previous one
    /// while the rotation overlap lasts.
    pub secrets: Vec<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// The lease this sender holds (`lease_until` as it set it): a write
    /// under a lease another sender has taken since changes nothing.
    pub held: DateTime<Utc>,
}

impl std::fmt::Debug for Endpoint {
    // Never the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("list_id", &self.list_id)
            .field("url", &self.url)
            .field("failing_since", &self.failing_since)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

/// A delivery to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The `webhook-id`.
    pub id: Uuid,
    pub sequence: i64,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The JSON body, or why it cannot be sent (its event is no longer
    /// held, no longer visible to the endpoint's owner, or unreadable).
    pub body: std::result::Result<String, String>,
}

/// One attempt at a delivery.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: Uuid,
    /// The receiver's HTTP status; None when there was no answer.
    pub status: Option<u16>,
    /// What went wrong (None when it succeeded).
    pub error: Option<String>,
    pub duration_ms: i32,
    pub at: DateTime<Utc>,
    /// The receiver answered 2xx.
    pub succeeded: bool,
    /// No more retries: the delivery failed for good.
    pub gave_up: bool,
}

/// What becomes of an endpoint after a run of attempts.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    /// Everything sent went through: send the rest now.
    Sent,
    /// The oldest failed: try it again at this time (the rest wait).
    RetryAt(DateTime<Utc>),
    /// The oldest failed for the last time: go on with the next one now
    /// (the endpoint is still failing).
    GaveUp,
    /// Stop sending to it, for this reason (told to its owner).
    Disable(String),
}

/// An event the webhook consumer was given.
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    pub event_id: Uuid,
    pub sequence: i64,
    /// Its CloudEvents type.
    pub event_type: String,
    /// The owner of its list (the key it is filed under).
    pub owner: String,
    /// The task's list (after the change) or the list changed. Who saw a
    /// task only in the list it left is not sent it: the body is the task
    /// where it is now.
    pub list: Option<i64>,
    /// The member a membership change names (told even when removed).
    pub member: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct DeliveryRow {
    n: i64,
    id: Uuid,
    sequence: i64,
    event_type: String,
    status: String,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    last_duration_ms: Option<i32>,
    last_attempt_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

const DELIVERY_COLUMNS: &str = "n, id, sequence, event_type, status, attempts, last_status, \
     last_error, last_duration_ms, last_attempt_at, created_at";

impl DeliveryRow {
    fn view(self, retry_at: Option<DateTime<Utc>>) -> Result<Delivery> {
        let status = self.status.parse::<DeliveryStatus>().map_err(|_| {
            Error::Internal(format!("delivery {} has status {}", self.id, self.status))
        })?;
        Ok(Delivery {
            id: self.id.to_string(),
            sequence: self.sequence,
            event_type: self.event_type,
            next_attempt_at: (status == DeliveryStatus::Pending && self.attempts > 0)
                .then_some(retry_at)
                .flatten(),
            status,
            attempts: self.attempts,
            last_status: self.last_status,
            last_error: self.last_error,
            last_duration_ms: self.last_duration_ms,
            last_attempt_at: self.last_attempt_at,
            created_at: self.created_at,
        })
    }
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// The `webhook-id` of an event's delivery to an endpoint: the same for
/// every attempt, redelivery and replay. A UUIDv8 that sorts by time: the
/// event's (UUIDv7) millisecond first, then a hash of the event and the
/// endpoint. Each new row goes at the end of the table's `id` index, where
/// a random id would dirty a page of it per row (a commit of 100
/// deliveries wrote some 70 pages of index).
pub fn delivery_id(event_id: Uuid, endpoint: i64) -> Uuid {
    let mut bytes = *derived_id(event_id, &format!("webhook:{endpoint}")).as_bytes();
    bytes[..6].copy_from_slice(&event_id.as_bytes()[..6]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Checks the event types asked for: known, at least one.
fn event_types(types: Option<&Vec<String>>) -> Result<Option<Vec<String>>> {
    let Some(types) = types else { return Ok(None) };
    if types.is_empty() {
        return Err(Invalid::new(
            "event_types",
            "name at least one event type, or null for every type",
        )
        .into());
    }
    let known = change_types();
    let mut out: Vec<String> = Vec::with_capacity(types.len());
    for t in types {
        if !known.contains(t) {
            return Err(Invalid::new(
                "event_types",
                format!(
                    "`{t}` is not an event type; GET /api/webhooks/event-types lists them (such as taskflow.task.completed.v1)"
                ),
            )
            .into());
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(Some(out))
}

fn description(text: Option<&str>) -> Result<String> {
    let text = text.unwrap_or_default().trim();
    if text.chars().count() > MAX_WEBHOOK_DESCRIPTION {
        return Err(Invalid::new(
            "description",
            format!("a description is at most {MAX_WEBHOOK_DESCRIPTION} characters"),
        )
        .into());
    }
    Ok(text.to_owned())
}

impl TaskService {
    /// Checks an endpoint URL: its form, and every address its host
    /// resolves to now (the sender checks again at each connection).
    async fn webhook_url(&self, url: &str) -> Result<String> {
        let insecure = self.insecure_webhooks;
        let parsed = WebhookUrl::parse(url, insecure)?;
        if parsed.literal().is_none() {
            let port = if parsed.is_secure() { 443 } else { 80 };
            let lookup = tokio::net::lookup_host((parsed.host(), port));
            let addresses: Vec<_> = tokio::time::timeout(DNS_TIMEOUT, lookup)
                .await
                .map_err(|_| {
                    Invalid::new(
                        "url",
                        format!("`{}` did not resolve in time", parsed.host()),
                    )
                })?
                .map_err(|err| {
                    Invalid::new(
                        "url",
                        format!("`{}` does not resolve ({err})", parsed.host()),
                    )
                })?
                .collect();
            if addresses.is_empty() {
                return Err(
                    Invalid::new("url", format!("`{}` does not resolve", parsed.host())).into(),
                );
            }
            for address in addresses {
                parsed.check(address.ip(), insecure)?;
            }
        }
        Ok(parsed.as_str().to_owned())
    }

    /// Checks that `user` administers `list` (an endpoint of one list).
    async fn webhook_list(&self, user: &str, list: i64) -> Result<()> {
        let mut conn = self.db.read().await?;
        let lists = Lists::load(&mut conn, user).await?;
        lists.with_role(&ListRef::Id(list), Role::Admin, "list_id")?;
        Ok(())
    }

    /// A new endpoint, with its secret (shown this once).
    pub async fn create_webhook(
        &self,
        user: &str,
        input: &CreateWebhook,
    ) -> Result<WebhookWithSecret> {
        check_user(user)?;
        // The list first: a list the caller cannot see is "not found",
        // whatever else is wrong.
        if let Some(list) = input.list_id {
            self.webhook_list(user, list).await?;
        }
        let url = self.webhook_url(&input.url).await?;
        let types = event_types(input.event_types.as_ref())?;
        let description = description(input.description.as_deref())?;
        let secret = new_secret();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let count: i64 = query("SELECT COUNT(*) FROM webhook_endpoints WHERE user_id = $1")
            .bind(user)
            .scalar(&mut tx)
            .await?;
        if count >= MAX_WEBHOOKS {
            return Err(Error::refused(
                "too_many_webhooks",
                "url",
                format!(
                    "you have {count} webhook endpoints, the most there may be; delete one first"
                ),
            ));
        }
        let row: EndpointRow = query(&format!(
            "INSERT INTO webhook_endpoints (user_id, list_id, url, description, event_types, \
             secret, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(user)
        .bind(input.list_id)
        .bind(url)
        .bind(description)
        .bind(json_param(types.as_ref())?)
        .bind(&secret)
        .bind(input.enabled.unwrap_or(true))
        .bind(now)
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(WebhookWithSecret {
            webhook: row.view(),
            secret,
        })
    }

    /// The user's endpoints, oldest first.
    pub async fn webhooks(&self, user: &str) -> Result<Vec<Webhook>> {
        check_user(user)?;
        let rows: Vec<EndpointRow> = query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE user_id = $1 ORDER BY id"
        ))
        .bind(user)
        .fetch_all(&mut self.db.read().await?)
        .await?;
        Ok(rows.iter().map(EndpointRow::view).collect())
    }

    /// One of the user's endpoints ([`Error::NotFound`] for anyone else's).
    pub async fn webhook(&self, user: &str, id: i64) -> Result<Webhook> {
        Ok(self
            .endpoint(&mut self.db.read().await?, user, id)
            .await?
            .view())
    }

    async fn endpoint(&self, on: &mut impl Executor, user: &str, id: i64) -> Result<EndpointRow> {
        check_user(user)?;
        query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND user_id = $2"
        ))
        .bind(id)
        .bind(user)
        .fetch_optional(on)
        .await?
        .ok_or(Error::NotFound)
    }

    /// Changes an endpoint. Enabling it clears why it was disabled and
    /// sends what waited at once.
    pub async fn update_webhook(
        &self,
        user: &str,
        id: i64,
        patch: &UpdateWebhook,
    ) -> Result<Webhook> {
        self.endpoint(&mut self.db.read().await?, user, id).await?;
        if let Some(Some(list)) = patch.list_id {
            self.webhook_list(user, list).await?;
        }
        let url = match &patch.url {
            Some(url) => Some(self.webhook_url(url).await?),
            None => None,
        };
        let types = match &patch.event_types {
            Some(types) => Some(event_types(types.as_ref())?),
            None => None,
        };
        let description = match &patch.description {
            Some(text) => Some(description(Some(text))?),
            None => None,
        };
        let mut tx = self.db.begin().await?;
        let row = self.endpoint(&mut tx, user, id).await?;
        let types = match types {
            Some(types) => types,
            None => row.event_types.map(|t| t.0),
        };
        let enabling = patch.enabled == Some(true) && !row.enabled;
        let updated: EndpointRow = query(&format!(
            "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, \
             list_id = $4, enabled = $5, updated_at = $6, \
             disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END, \
             retry_at = CASE WHEN $7 THEN NULL ELSE retry_at END \
             WHERE id = $8 RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(url.unwrap_or(row.url))
        .bind(description.unwrap_or(row.description))
        .bind(json_param(types.as_ref())?)
        .bind(patch.list_id.unwrap_or(row.list_id))
        .bind(patch.enabled.unwrap_or(row.enabled))
        .bind(self.now())
        .bind(enabling)
        .bind(id)
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(updated.view())
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete_webhook(&self, user: &str, id: i64) -> Result<()> {
        check_user(user)?;
        let mut tx = self.db.begin().await?;
        query("DELETE FROM webhook_deliveries WHERE endpoint_id IN (SELECT id FROM webhook_endpoints WHERE id = $1 AND user_id = $2)")
            .bind(id)
            .bind(user)
            .execute(&mut tx)
            .await?;
        let deleted = query("DELETE FROM webhook_endpoints WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&mut tx)
            .await?;
        if deleted == 0 {
            return Err(Error::NotFound);
        }
        tx.commit().await
    }

    /// A new secret for an endpoint (shown this once); the one it replaces
    /// signs too for [`ROTATION_OVERLAP`].
    pub async fn rotate_webhook_secret(&self, user: &str, id: i64) -> Result<WebhookWithSecret> {
        let secret = new_secret();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        self.endpoint(&mut tx, user, id).await?;
        let row: EndpointRow = query(&format!(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $1, \
             secret = $2, updated_at = $3 WHERE id = $4 RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(now + ROTATION_OVERLAP)
        .bind(&secret)
        .bind(now)
        .bind(id)
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(WebhookWithSecret {
            webhook: row.view(),
            secret,
        })
    }

    /// Queues a `taskflow.ping.v1` delivery to an endpoint, sent first.
    pub async fn test_webhook(&self, user: &str, id: i64) -> Result<Delivery> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = self.endpoint(&mut tx, user, id).await?;
        if !row.enabled {
            return Err(Error::refused(
                "webhook_disabled",
                "enabled",
                "the endpoint is disabled; enable it (PATCH {\"enabled\": true}) to send to it",
            ));
        }
        let waiting: i64 = query(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = $1 \
             AND status = 'pending' AND sequence = 0",
        )
        .bind(id)
        .scalar(&mut tx)
        .await?;
        if waiting >= MAX_WAITING_TESTS {
            return Err(Error::refused(
                "too_many_tests",
                "id",
                format!(
                    "{waiting} tests are still waiting to go to this endpoint; see its deliveries"
                ),
            ));
        }
        let delivery = Uuid::now_v7();
        let body = json!({
            "type": PING_TYPE,
            "timestamp": now,
            "data": {"webhook_id": id, "message": "A test from Taskflow: this endpoint receives its deliveries."},
        });
        let created: DeliveryRow = query(&format!(
            "INSERT INTO webhook_deliveries (id, endpoint_id, sequence, event_type, body, status, \
             attempts, created_at) VALUES ($1, $2, 0, $3, $4, 'pending', 0, $5) \
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(delivery)
        .bind(id)
        .bind(PING_TYPE)
        .bind(body.to_string())
        .bind(now)
        .fetch_one(&mut tx)
        .await?;
        try_now(&mut tx, id).await?;
        tx.commit().await?;
        self.db.webhook_wakers.wake([id]);
        created.view(None)
    }

    /// An endpoint's deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        user: &str,
        id: i64,
        page: &DeliveryQuery,
    ) -> Result<DeliveryPage> {
        let (limit, before) =
            taskflow_core::ops::id_page(page.limit, page.cursor.as_deref(), (20, 100))?;
        let status =
            match page.status.as_deref() {
                None | Some("") => None,
                Some(s) => Some(s.parse::<DeliveryStatus>().map_err(|_| {
                    Invalid::new("status", "status is pending, succeeded or failed")
                })?),
            };
        let mut conn = self.db.read().await?;
        let endpoint = self.endpoint(&mut conn, user, id).await?;
        let mut q = Query::build(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = "
        ));
        q.push_bind(id);
        if let Some(status) = status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(before) = before {
            q.push(" AND n < ").push_bind(before);
        }
        q.push(" ORDER BY n DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let mut rows: Vec<DeliveryRow> = q.fetch_all(&mut conn).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = more.then(|| rows.last().map(|r| r.n.to_string())).flatten();
        Ok(DeliveryPage {
            deliveries: rows
                .into_iter()
                .map(|r| r.view(endpoint.retry_at))
                .collect::<Result<_>>()?,
            next_cursor,
        })
    }

    /// Sends a delivery again (with its `webhook-id`), in its place in the
    /// endpoint's order, now.
    pub async fn redeliver(&self, user: &str, id: i64, delivery: &str) -> Result<Delivery> {
        let delivery = Uuid::parse_str(delivery).map_err(|_| Error::NotFound)?;
        let mut tx = self.db.begin().await?;
        self.endpoint(&mut tx, user, id).await?;
        let row: DeliveryRow = query(&format!(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0 \
             WHERE id = $1 AND endpoint_id = $2 RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(delivery)
        .bind(id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or(Error::NotFound)?;
        try_now(&mut tx, id).await?;
        tx.commit().await?;
        self.db.webhook_wakers.wake([id]);
        row.view(None)
    }

    /// Sends again every event after `since` that the endpoint takes (at
    /// most [`MAX_REPLAY`]; `has_more` says to replay again from
    /// `through_sequence`), each with its `webhook-id`, in order.
    pub async fn replay_webhook(&self, user: &str, id: i64, since: i64) -> Result<Replayed> {
        if since < 0 {
            return Err(Invalid::new("since_sequence", "since_sequence is 0 or more").into());
        }
        let endpoint = self.endpoint(&mut self.db.read().await?, user, id).await?;
        let events = self.db.events_after(user, since, MAX_REPLAY + 1).await?;
        let has_more = events.len() > MAX_REPLAY as usize;
        let events = &events[..events.len().min(MAX_REPLAY as usize)];
        let through = events.last().map_or(since, |e| e.sequence);
        let wanted: Vec<_> = events
            .iter()
            .filter_map(|e| {
                let event_type = cloud_type(e)?;
                let takes = endpoint.list_id.is_none_or(|l| e.list_id == Some(l))
                    && endpoint
                        .event_types
                        .as_ref()
                        .is_none_or(|t| t.0.contains(&event_type));
                takes.then(|| (delivery_id(e.event_id, id), id, e.sequence, event_type))
            })
            .collect();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let rows: Vec<_> = wanted
            .iter()
            .map(|(delivery, endpoint, sequence, event_type)| {
                (*delivery, *endpoint, *sequence, event_type.as_str())
            })
            .collect();
        insert_deliveries(
            &mut tx,
            &rows,
            now,
            "DO UPDATE SET status = 'pending', attempts = 0",
        )
        .await?;
        try_now(&mut tx, id).await?;
        tx.commit().await?;
        self.db.webhook_wakers.wake([id]);
        Ok(Replayed {
            queued: wanted.len() as i64,
            through_sequence: through,
            has_more,
        })
    }

    /// The webhook consumer's work on a run of events: one delivery row
    /// per endpoint that takes each, written with the events'
    /// processed-event marks (an event marked before makes none). The
    /// endpoints are those of the users who may see the event (its list's
    /// owner and members, and the member it names), enabled, of its list
    /// or of all, asking for its type. Returns how many rows it wrote.
    pub async fn record_webhook_deliveries(
        &self,
        consumer: &str,
        events: &[WebhookEvent],
    ) -> Result<usize> {
        let wanted = self.db.webhook_targets(events).await?;
        if wanted.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let mut q =
            Query::build("INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ");
        let marked: HashSet<Uuid> = wanted.iter().map(|(event, _)| event.event_id).collect();
        for (i, event) in marked.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.push_bind(consumer)
                .push(", ")
                .push_bind(*event)
                .push(", ")
                .push_bind(now)
                .push(")");
        }
        q.push(" ON CONFLICT DO NOTHING RETURNING event_id");
        let first: Vec<(Uuid,)> = q.fetch_all(&mut tx).await?;
        let first: HashSet<Uuid> = first.into_iter().map(|(id,)| id).collect();
        let rows: Vec<_> = wanted
            .iter()
            .filter(|(event, _)| first.contains(&event.event_id))
            .collect();
        let values: Vec<_> = rows
            .iter()
            .map(|(event, endpoint)| {
                (
                    delivery_id(event.event_id, *endpoint),
                    *endpoint,
                    event.sequence,
                    event.event_type.as_str(),
                )
            })
            .collect();
        insert_deliveries(&mut tx, &values, now, "DO NOTHING").await?;
        tx.commit().await?;
        self.db
            .webhook_wakers
            .wake(rows.iter().map(|(_, endpoint)| *endpoint));
        Ok(rows.len())
    }
}

/// Inserts pending deliveries `(id, endpoint, sequence, event type)`, 100
/// rows a statement; `on_conflict` says what a row already there becomes.
async fn insert_deliveries(
    tx: &mut Tx,
    rows: &[(Uuid, i64, i64, &str)],
    now: DateTime<Utc>,
    on_conflict: &str,
) -> Result<()> {
    for chunk in rows.chunks(100) {
        let mut q = Query::build(
            "INSERT INTO webhook_deliveries (id, endpoint_id, sequence, event_type, status, \
             attempts, created_at) VALUES ",
        );
        for (i, (delivery, endpoint, sequence, event_type)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.push_bind(*delivery)
                .push(", ")
                .push_bind(*endpoint)
                .push(", ")
                .push_bind(*sequence)
                .push(", ")
                .push_bind(*event_type)
                .push(", 'pending', 0, ")
                .push_bind(now)
                .push(")");
        }
        q.push(" ON CONFLICT (id) ").push(on_conflict);
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Lets an endpoint's next attempt go now (after a test, a redelivery or
/// a replay).
async fn try_now(tx: &mut Tx, endpoint: i64) -> Result<()> {
    query("UPDATE webhook_endpoints SET retry_at = NULL WHERE id = $1")
        .bind(endpoint)
        .execute(tx)
        .await?;
    Ok(())
}

/// The CloudEvents type of a task's or a list's change (None: a reminder
/// or a notice, which no webhook takes).
fn cloud_type(event: &OutboxEvent) -> Option<String> {
    match &event.body {
        Body::Task { event_type, .. } => Some(event_type.cloud_event_type()),
        Body::List { event_type, .. } => Some(event_type.cloud_event_type()),
        Body::Reminder(_) | Body::NotificationCreated { .. } => None,
    }
}

/// A webhook body, `{type, timestamp, data}`, from its outbox event: the
/// task (or list) after the change, what changed, who changed it, where,
/// and the event's sequence.
pub fn webhook_body(event: &OutboxEvent) -> Result<Option<String>> {
    let Some(event_type) = cloud_type(event) else {
        return Ok(None);
    };
    let (task_id, task, list, changes) = match &event.body {
        Body::Task { change, .. } => (
            Some(event.task_id),
            Some(&change.task_data),
            None,
            &change.changes,
        ),
        Body::List { change, .. } => (None, None, Some(&change.list_data), &change.changes),
        Body::Reminder(_) | Body::NotificationCreated { .. } => return Ok(None),
    };
    let body = Sent {
        event_type: &event_type,
        timestamp: event.occurred_at,
        data: SentData {
            actor: &event.actor,
            changes,
            list,
            list_id: event.list_id,
            sequence: event.sequence,
            source: event.source,
            task,
            task_id,
        },
    };
    Ok(Some(serde_json::to_string(&body)?))
}

/// A change's webhook body, written straight from the event (no JSON
/// tree between).
#[derive(Serialize)]
struct Sent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: DateTime<Utc>,
    data: SentData<'a>,
}

#[derive(Serialize)]
struct SentData<'a> {
    actor: &'a EventActor,
    changes: &'a BTreeMap<String, FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    list: Option<&'a List>,
    list_id: Option<i64>,
    sequence: i64,
    source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<&'a Task>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<i64>,
}

/// Which of `lists` `user` reaches as a member, or was given.
async fn reached_lists(on: &mut impl Executor, user: &str, lists: &[i64]) -> Result<HashSet<i64>> {
    if lists.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = Query::build("SELECT list_id FROM list_access WHERE user_id = ");
    q.push_bind(user).push(" AND list_id IN (");
    q.push_binds(lists.iter().copied());
    q.push(") UNION ALL SELECT id FROM lists WHERE was_given AND user_id = ");
    q.push_bind(user).push(" AND id IN (");
    q.push_binds(lists.iter().copied());
    q.push(")");
    let rows: Vec<(i64,)> = q.fetch_all(on).await?;
    Ok(rows.into_iter().map(|(l,)| l).collect())
}

/// Whether `user` may be sent `event` now: theirs, of a list they reach,
/// or the news of their own membership changing.
fn sees(user: &str, event: &OutboxEvent, reached: &HashSet<i64>) -> bool {
    if event.user_id == user || event.list_id.is_some_and(|l| reached.contains(&l)) {
        return true;
    }
    let Body::List { change, .. } = &event.body else {
        return false;
    };
    change.changes.get("member").is_some_and(|member| {
        [&member.new, &member.old]
            .into_iter()
            .any(|side| side.get("user_id").and_then(serde_json::Value::as_str) == Some(user))
    })
}

fn json_param(types: Option<&Vec<String>>) -> Result<Param<'static>> {
    match types {
        Some(types) => Param::json(types),
        None => Ok(Param::Json(None)),
    }
}

/// A matching endpoint as the consumer reads it.
#[derive(Debug, sqlx::FromRow)]
struct Target {
    id: i64,
    user_id: String,
    list_id: Option<i64>,
    event_types: Option<Json<Vec<String>>>,
    /// A list of the run the endpoint's user reaches as a member.
    via: Option<i64>,
}

/// Who waits for deliveries in this process: the sender serving an
/// endpoint waits for that endpoint's, the claiming loop for those of
/// endpoints no sender here serves. A consumer's commit wakes only the one
/// that sends its rows (the claiming loop's claim is a write, needless
/// while the endpoint is held).
#[derive(Debug, Default)]
pub struct Wakers {
    claims: Notify,
    serving: Mutex<HashMap<i64, Arc<Notify>>>,
}

/// An endpoint a sender in this process serves, until dropped.
#[derive(Debug)]
pub struct Serving {
    wakers: Arc<Wakers>,
    endpoint: i64,
    due: Arc<Notify>,
}

impl Serving {
    /// Resolves once the endpoint's deliveries become due (at once when
    /// they did since the last wait).
    pub async fn due(&self) {
        self.due.notified().await;
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let mut serving = self
            .wakers
            .serving
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if serving
            .get(&self.endpoint)
            .is_some_and(|due| Arc::ptr_eq(due, &self.due))
        {
            serving.remove(&self.endpoint);
        }
    }
}

impl Wakers {
    /// Resolves once deliveries become due for an endpoint no sender in
    /// this process serves (at once when they did since the last wait).
    pub async fn claims_due(&self) {
        self.claims.notified().await;
    }

    /// Wakes the claiming loop: a sender let an endpoint go, or a slot
    /// came free.
    pub fn wake_claims(&self) {
        self.claims.notify_one();
    }

    /// Marks `endpoint` as served by the caller, whom [`Serving::due`]
    /// wakes for its deliveries from now on (instead of the claiming
    /// loop). When the sender lets it go, it drops this and then wakes the
    /// claiming loop, which sends what came meanwhile.
    pub fn serve(self: &Arc<Self>, endpoint: i64) -> Serving {
        let due = Arc::new(Notify::new());
        self.serving
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(endpoint, due.clone());
        Serving {
            wakers: self.clone(),
            endpoint,
            due,
        }
    }

    /// Wakes whoever sends the deliveries just made due for `endpoints`.
    pub fn wake(&self, endpoints: impl IntoIterator<Item = i64>) {
        let serving = self.serving.lock().unwrap_or_else(PoisonError::into_inner);
        let mut unserved = false;
        for endpoint in endpoints {
            match serving.get(&endpoint) {
                Some(due) => due.notify_one(),
                None => unserved = true,
            }
        }
        drop(serving);
        if unserved {
            self.wake_claims();
        }
    }
}

impl Database {
    /// Who is woken for webhook deliveries in this process.
    pub fn webhook_wakers(&self) -> &Arc<Wakers> {
        &self.webhook_wakers
    }

    /// Each (event, endpoint) of the run that takes it.
    async fn webhook_targets<'e>(
        &self,
        events: &'e [WebhookEvent],
    ) -> Result<Vec<(&'e WebhookEvent, i64)>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut users: Vec<&str> = events.iter().map(|e| e.owner.as_str()).collect();
        users.extend(events.iter().filter_map(|e| e.member.as_deref()));
        users.sort_unstable();
        users.dedup();
        let mut lists: Vec<i64> = events.iter().filter_map(|e| e.list).collect();
        lists.sort_unstable();
        lists.dedup();
        // Two indexed reads in one statement: the endpoints of the owners
        // and named members (by user), and those of the lists' members (by
        // list); never a scan of every endpoint.
        let mut q = Query::build(
            "SELECT e.id, e.user_id, e.list_id, e.event_types, CAST(NULL AS BIGINT) AS via \
             FROM webhook_endpoints e WHERE e.enabled AND e.user_id IN (",
        );
        q.push_binds(users.iter().copied());
        q.push(")");
        if !lists.is_empty() {
            q.push(
                " UNION ALL SELECT e.id, e.user_id, e.list_id, e.event_types, a.list_id AS via \
                 FROM list_access a JOIN webhook_endpoints e ON e.user_id = a.user_id \
                 WHERE e.enabled AND a.list_id IN (",
            );
            q.push_binds(lists.iter().copied());
            q.push(")");
        }
        let rows: Vec<Target> = q.fetch_all(&mut self.read().await?).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut reach: HashMap<i64, (&Target, HashSet<i64>)> = HashMap::new();
        for row in &rows {
            let entry = reach.entry(row.id).or_insert_with(|| (row, HashSet::new()));
            if let Some(via) = row.via {
                entry.1.insert(via);
            }
        }
        let mut out = Vec::new();
        for event in events {
            let list = event.list;
            for (id, (target, via)) in &reach {
                let sees = target.user_id == event.owner
                    || event.member.as_deref() == Some(target.user_id.as_str())
                    || list.is_some_and(|l| via.contains(&l));
                let of_list = target.list_id.is_none_or(|l| Some(l) == list);
                let of_type = target
                    .event_types
                    .as_ref()
                    .is_none_or(|t| t.0.contains(&event.event_type));
                if sees && of_list && of_type {
                    out.push((event, *id));
                }
            }
        }
        Ok(out)
    }

    /// Leases up to `limit` endpoints with deliveries due at `now` (the
    /// least recently served first) until `until`; replicas on PostgreSQL
    /// each take different ones.
    pub async fn claim_webhook_endpoints(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Endpoint>> {
        let lock = match self.kind() {
            DatabaseKind::Postgres => " FOR UPDATE SKIP LOCKED",
            DatabaseKind::Sqlite => "",
        };
        let rows: Vec<EndpointRow> = query(&format!(
            "UPDATE webhook_endpoints SET lease_until = $1 WHERE id IN (\
             SELECT e.id FROM webhook_endpoints e WHERE e.enabled \
             AND (e.retry_at IS NULL OR e.retry_at <= $2) \
             AND (e.lease_until IS NULL OR e.lease_until <= $2) \
             AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
             AND d.status = 'pending') \
             ORDER BY COALESCE(e.lease_until, e.created_at) LIMIT $3{lock}) \
             RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut self.write().await?)
        .await?;
        Ok(rows.into_iter().map(|row| row.held(now, until)).collect())
    }

    /// The endpoint as it is now (its URL, secrets and failures may have
    /// changed since it was claimed), if it is enabled and still held
    /// under `endpoint.held`.
    pub async fn held_webhook_endpoint(
        &self,
        endpoint: &Endpoint,
        now: DateTime<Utc>,
    ) -> Result<Option<Endpoint>> {
        let row: Option<EndpointRow> = query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
             WHERE id = $1 AND lease_until = $2 AND enabled"
        ))
        .bind(endpoint.id)
        .bind(endpoint.held)
        .fetch_optional(&mut self.read().await?)
        .await?;
        Ok(row.map(|row| row.held(now, endpoint.held)))
    }

    /// Ends every lease (at start-up on SQLite, where this process is the
    /// only sender: what a killed one held is sent again at once).
    pub async fn release_webhook_leases(&self) -> Result<()> {
        query("UPDATE webhook_endpoints SET lease_until = NULL WHERE lease_until IS NOT NULL")
            .execute(&mut self.write().await?)
            .await?;
        Ok(())
    }

    /// An endpoint's oldest pending deliveries, in order, at most `limit`,
    /// each with its body, read from its event now: only while the
    /// endpoint's owner may still see the event (a member removed since is
    /// sent nothing more of the list, save the news of their removal).
    pub async fn pending_webhook_deliveries(
        &self,
        endpoint: &Endpoint,
        limit: u32,
    ) -> Result<Vec<Outgoing>> {
        let mut conn = self.read().await?;
        let rows: Vec<(Uuid, i64, i32, Option<String>)> = query(
            "SELECT id, sequence, attempts, body FROM webhook_deliveries \
             WHERE endpoint_id = $1 AND status = 'pending' ORDER BY sequence, n LIMIT $2",
        )
        .bind(endpoint.id)
        .bind(i64::from(limit))
        .fetch_all(&mut conn)
        .await?;
        let sequences: Vec<i64> = rows.iter().filter(|r| r.3.is_none()).map(|r| r.1).collect();
        let mut bodies: HashMap<i64, std::result::Result<String, String>> = HashMap::new();
        if !sequences.is_empty() {
            let mut q = Query::build(format!(
                "SELECT {} FROM {READ_FROM} WHERE e.sequence IN (",
                outbox::READ_COLUMNS
            ));
            q.push_binds(sequences.iter().copied());
            q.push(")");
            let read = outbox::read_each(q, &mut conn).await?;
            // Lists matter only for others' events (an owner sees their own).
            let lists: Vec<i64> = read
                .iter()
                .filter_map(|(_, e)| e.as_ref().ok())
                .filter(|e| e.user_id != endpoint.user_id)
                .filter_map(|e| e.list_id)
                .collect();
            let reached = reached_lists(&mut conn, &endpoint.user_id, &lists).await?;
            for (sequence, event) in read {
                let body = match event {
                    Ok(event) if sees(&endpoint.user_id, &event, &reached) => {
                        webhook_body(&event)?.ok_or_else(|| "not a change".to_owned())
                    }
                    Ok(_) => Err("no longer visible to the endpoint's owner".to_owned()),
                    Err(err) => Err(format!("the event cannot be read: {err}")),
                };
                bodies.insert(sequence, body);
            }
        }
        Ok(rows
            .into_iter()
            .map(|(id, sequence, attempts, body)| Outgoing {
                id,
                sequence,
                attempts,
                body: match body {
                    Some(body) => Ok(body),
                    None => bodies.remove(&sequence).unwrap_or_else(|| {
                        Err("the event is no longer held (past the retention horizon)".to_owned())
                    }),
                },
            })
            .collect())
    }

    /// Whether the owner of a list-scoped endpoint still administers its
    /// list (true for an endpoint of all lists).
    pub async fn webhook_still_allowed(&self, endpoint: &Endpoint) -> Result<bool> {
        let Some(list) = endpoint.list_id else {
            return Ok(true);
        };
        let found: Option<i64> = query(
            "SELECT 1 FROM lists WHERE id = $1 AND user_id = $2 \
             UNION ALL SELECT 1 FROM list_access WHERE list_id = $1 AND user_id = $2 \
             AND role = 'admin'",
        )
        .bind(list)
        .bind(&endpoint.user_id)
        .scalar_optional(&mut self.read().await?)
        .await?;
        Ok(found.is_some())
    }

    /// Records a run of attempts at one endpoint's deliveries and what
    /// becomes of the endpoint, in one transaction; the sender holds the
    /// endpoint until `held_until` (`now` lets it go).
    pub async fn record_webhook_attempts(
        &self,
        endpoint: &Endpoint,
        attempts: &[Attempt],
        after: &After,
        now: DateTime<Utc>,
        held_until: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        // Still ours? (A sender that overran its lease writes nothing: the
        // one that took the endpoint over sends those again, same ids.)
        // What went through clears its failures in the same statement.
        let cleared = !attempts.is_empty() && *after == After::Sent;
        let ours = query(if cleared {
            "UPDATE webhook_endpoints SET lease_until = $1, retry_at = NULL, \
             failing_since = NULL WHERE id = $2 AND lease_until = $3"
        } else {
            "UPDATE webhook_endpoints SET lease_until = $1 WHERE id = $2 AND lease_until = $3"
        })
        .bind(held_until)
        .bind(endpoint.id)
        .bind(endpoint.held)
        .execute(&mut tx)
        .await?;
        if ours == 0 {
            tracing::warn!(
                endpoint = endpoint.id,
                "the lease was taken over; recording nothing"
            );
            return Ok(());
        }
        if attempts.is_empty() && *after == After::Sent {
            // Nothing was tried: the endpoint stands as it was.
            return tx.commit().await;
        }
        // What went through, in one statement; the rest one by one (at most
        // the one that failed, and those that could not be sent).
        let (sent, others): (Vec<&Attempt>, Vec<&Attempt>) =
            attempts.iter().partition(|a| a.succeeded);
        for chunk in sent.chunks(100) {
            let mut q = Query::build("WITH v (id, code, ms, at) AS (VALUES ");
            for (i, attempt) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.push_bind(attempt.id)
                    .push(", ")
                    .push_bind(attempt.status.map(i32::from))
                    .push(", ")
                    .push_bind(attempt.duration_ms)
                    .push(", ")
                    .push_bind(attempt.at)
                    .push(")");
            }
            q.push(
                ") UPDATE webhook_deliveries SET status = 'succeeded', attempts = attempts + 1, \
                 last_status = v.code, last_error = NULL, last_duration_ms = v.ms, \
                 last_attempt_at = v.at FROM v \
                 WHERE webhook_deliveries.id = v.id AND webhook_deliveries.status = 'pending'",
            );
            q.execute(&mut tx).await?;
        }
        for attempt in others {
            let status = if attempt.gave_up { "failed" } else { "pending" };
            let error = attempt.error.as_deref().map(|e| cut(e, MAX_ERROR));
            query(
                "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, \
                 last_status = $2, last_error = $3, last_duration_ms = $4, last_attempt_at = $5 \
                 WHERE id = $6 AND status = 'pending'",
            )
            .bind(status)
            .bind(attempt.status.map(i32::from))
            .bind(error)
            .bind(attempt.duration_ms)
            .bind(attempt.at)
            .bind(attempt.id)
            .execute(&mut tx)
            .await?;
        }
        match after {
            After::Sent => {}
            After::RetryAt(_) | After::GaveUp => {
                let retry_at = match after {
                    After::RetryAt(at) => Some(*at),
                    _ => None,
                };
                query(
                    "UPDATE webhook_endpoints SET retry_at = $1, \
                     failing_since = COALESCE(failing_since, $2) WHERE id = $3",
                )
                .bind(retry_at)
                .bind(now)
                .bind(endpoint.id)
                .execute(&mut tx)
                .await?;
            }
            After::Disable(reason) => {
                disable(&mut tx, endpoint, reason, now).await?;
            }
        }
        tx.commit().await
    }
}

/// Disables an endpoint and tells its owner why.
async fn disable(tx: &mut Tx, endpoint: &Endpoint, reason: &str, now: DateTime<Utc>) -> Result<()> {
    let changed = query(
        "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1, retry_at = NULL, \
         failing_since = COALESCE(failing_since, $2), lease_until = $2, updated_at = $2 \
         WHERE id = $3 AND enabled",
    )
    .bind(reason)
    .bind(now)
    .bind(endpoint.id)
    .execute(&mut *tx)
    .await?;
    if changed == 0 {
        return Ok(());
    }
    let text = format!(
        "Webhook to {} disabled: {reason}. Fix the receiver, then enable it again; what waited is sent then.",
        endpoint.url
    );
    notifications::write(
        tx,
        Written {
            user: &endpoint.user_id,
            actor: &endpoint.user_id,
            task_id: None,
            kind: NotificationKind::WebhookDisabled,
            text: &text,
            at: now,
            notice: Uuid::now_v7(),
            source: Source::Worker,
            traceparent: None,
        },
    )
    .await?;
    Ok(())
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use futures::FutureExt as _;

    use super::*;

    #[tokio::test]
    async fn deliveries_wake_the_sender_serving_their_endpoint_else_the_claiming_loop() {
        let wakers = Arc::new(Wakers::default());
        let serving = wakers.serve(1);
        wakers.wake([1]);
        assert!(serving.due().now_or_never().is_some());
        assert!(
            wakers.claims_due().now_or_never().is_none(),
            "claimed needlessly"
        );
        wakers.wake([1, 2]);
        assert!(serving.due().now_or_never().is_some());
        assert!(
            wakers.claims_due().now_or_never().is_some(),
            "2 is no one's"
        );
        // Let go: the claiming loop takes its deliveries.
        drop(serving);
        wakers.wake([1]);
        assert!(wakers.claims_due().now_or_never().is_some());
        // The one serving it now is woken, whenever the one before lets go.
        let before = wakers.serve(3);
        let now = wakers.serve(3);
        drop(before);
        wakers.wake([3]);
        assert!(now.due().now_or_never().is_some());
        assert!(wakers.claims_due().now_or_never().is_none());
    }

    #[test]
    fn delivery_ids_are_stable_per_endpoint_and_sort_by_their_event() {
        let earlier = Uuid::parse_str("019af000-0000-7000-8000-000000000001").unwrap_or_default();
        let later = Uuid::parse_str("019af000-0001-7fff-bfff-ffffffffffff").unwrap_or_default();
        assert_eq!(delivery_id(earlier, 1), delivery_id(earlier, 1));
        assert_ne!(delivery_id(earlier, 1), delivery_id(earlier, 2));
        assert_eq!(delivery_id(earlier, 1).get_version_num(), 8);
        // A millisecond later sorts after, whatever the hash.
        for endpoint in 1..50 {
            assert!(delivery_id(earlier, endpoint) < delivery_id(later, 1));
        }
    }
}
