//! The outbox: `task_events`, one row per message Taskflow publishes,
//! written in the transaction that caused it — a task change (the audit
//! trail too), a reminder or overdue instant reached, a notification
//! recorded. This module appends rows from their typed [`Body`], reads them
//! back for the relay and for replay, turns each into its messages
//! (`task-events` and `task-updates`, `reminders`, or `task-updates`), and
//! keeps the processed-events ledger of idempotent consumers. The relay is
//! the one publication path: one retry and mark policy for every message.

pub mod relay;

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::types::Json;
use taskflow_core::{List, Task, field_changes};
use taskflow_events::{
    CloudEvent, EventActor, ListEventBody, ListEventMessage, ListEventType, Message,
    NOTIFICATION_CREATED_TYPE, REMINDERS, ReminderKind, ReminderMessage, Source, TASK_EVENTS,
    TASK_UPDATE_TYPE, TASK_UPDATES, TaskEventBody, TaskEventMessage, TaskEventType, TaskUpdate,
    UpdateKind, derived_id, trace::TraceContext,
};
use uuid::Uuid;

use crate::database::{Param, Query, Tx, query};
use crate::tasks::Actor;
use crate::{Database, Error, Result};

/// The columns an appended event writes, in [`NewEvent::params`] order,
/// with the element type of each one's array in PostgreSQL's batch insert.
pub(crate) const EVENT_COLUMNS: [(&str, &str); 12] = [
    ("event_id", "uuid"),
    ("user_id", "text"),
    ("actor_id", "text"),
    ("agent_id", "int8"),
    ("task_id", "int8"),
    ("list_id", "int8"),
    ("from_list_id", "int8"),
    ("event_type", "text"),
    ("source", "text"),
    ("occurred_at", "timestamptz"),
    ("data", "jsonb"),
    ("traceparent", "text"),
];

/// The names of [`EVENT_COLUMNS`], comma-separated.
pub(crate) fn event_columns() -> String {
    EVENT_COLUMNS.map(|(name, _)| name).join(", ")
}

/// The columns the relay and replay read, in [`OutboxRow`] order, from
/// [`READ_FROM`]: the actor's name is read with the event, so a write never
/// looks it up.
pub(crate) const READ_COLUMNS: &str = "e.sequence, e.event_id, e.user_id, e.task_id, e.list_id, \
     e.event_type, e.source, e.occurred_at, e.data, e.traceparent, \
     COALESCE(e.actor_id, e.user_id) AS actor_id, u.display_name AS actor_name, \
     e.agent_id, ag.name AS agent_name";

/// Whether an enabled webhook endpoint of the event's owner, or of a
/// member of its list, exists: the users a webhook consumer looks at.
const WEBHOOKS: &str = "(EXISTS (SELECT 1 FROM webhook_endpoints w \
     WHERE w.user_id = e.user_id AND w.enabled) \
     OR EXISTS (SELECT 1 FROM list_access a JOIN webhook_endpoints w ON w.user_id = a.user_id \
     WHERE a.list_id = e.list_id AND w.enabled)) AS webhooks";

/// The events (`e`) with their actors (`u`) and the agents acting for
/// them (`ag`).
pub(crate) const READ_FROM: &str = "task_events e LEFT JOIN users u ON u.id = COALESCE(e.actor_id, e.user_id) \
     LEFT JOIN agents ag ON ag.id = e.agent_id";

/// What an outbox row says; its kind is the row's `event_type`.
// Nearly every row is a task change: boxing it would allocate for the
// common case to save bytes in the rare one.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A task changed: published on `task-events`, with a `task-updates`
    /// notice.
    Task {
        event_type: TaskEventType,
        change: TaskEventBody,
    },
    /// A reminder or overdue instant came: published on `reminders`.
    Reminder(ReminderMessage),
    /// A notification was recorded: a `task-updates` notice for live views.
    NotificationCreated { notification_id: i64 },
    /// A list changed: published on `task-events`, with a `task-updates`
    /// notice.
    List {
        event_type: ListEventType,
        change: ListEventBody,
    },
}

/// The `event_type` of a notification's row.
const NOTIFICATION_CREATED: &str = "notification_created";

impl Body {
    /// The row's `event_type`: a task event's short name, a reminder kind,
    /// or `notification_created`.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Task { event_type, .. } => event_type.as_str(),
            Body::Reminder(message) => message.kind.as_str(),
            Body::NotificationCreated { .. } => NOTIFICATION_CREATED,
            Body::List { event_type, .. } => event_type.as_str(),
        }
    }

    /// The row's `data`.
    fn data(&self) -> Result<Param<'static>> {
        match self {
            Body::Task { change, .. } => Param::json(change),
            Body::Reminder(message) => Param::json(message),
            Body::NotificationCreated { notification_id } => {
                Param::json(&serde_json::json!({ "notification_id": notification_id }))
            }
            Body::List { change, .. } => Param::json(change),
        }
    }

    /// A row's body from its `event_type` and `data` (read straight into
    /// its type, with no JSON tree between).
    fn read(kind: &str, data: &RawValue) -> Result<Body> {
        let data = data.get();
        if let Some(event_type) = TaskEventType::parse(kind) {
            return Ok(Body::Task {
                event_type,
                change: serde_json::from_str(data)?,
            });
        }
        if let Some(event_type) = ListEventType::parse(kind) {
            return Ok(Body::List {
                event_type,
                change: serde_json::from_str(data)?,
            });
        }
        if kind.parse::<ReminderKind>().is_ok() {
            return Ok(Body::Reminder(serde_json::from_str(data)?));
        }
        if kind == NOTIFICATION_CREATED {
            #[derive(serde::Deserialize)]
            struct Notice {
                notification_id: i64,
            }
            let notice: Notice = serde_json::from_str(data)
                .map_err(|_| Error::Internal("a notification row without its id".into()))?;
            return Ok(Body::NotificationCreated {
                notification_id: notice.notification_id,
            });
        }
        Err(Error::Internal(format!(
            "an outbox row of unknown type `{kind}`"
        )))
    }
}

/// The fields that differ between two snapshots of a list, by API name,
/// leaving out `version` and `updated_at`.
fn changes_between(
    old: Option<&List>,
    new: Option<&List>,
) -> std::collections::BTreeMap<String, taskflow_core::FieldChange> {
    taskflow_core::task::changes_of(old, new, &["version", "updated_at"])
}

/// The `event_type`s of task changes, for queries that read the history.
pub(crate) fn task_kinds() -> String {
    TaskEventType::ALL
        .map(|t| format!("'{}'", t.as_str()))
        .join(", ")
}

/// The condition on `task_events e` of one branch of the events `user`
/// reaches: their own (`e.user_id`), or those of lists shared with them
/// and of lists given to them (filed under the giver until the transfer).
pub(crate) fn push_reached<'a>(q: &mut Query<'a>, user: &'a str, shared: bool) {
    if shared {
        q.push("e.list_id IN (SELECT a.list_id FROM list_access a WHERE a.user_id = ")
            .push_bind(user)
            .push(" UNION ALL SELECT l.id FROM lists l WHERE l.was_given AND l.user_id = ")
            .push_bind(user)
            .push(")");
    } else {
        q.push("e.user_id = ").push_bind(user);
    }
}

/// The `event_type`s of list changes.
fn list_kinds() -> String {
    ListEventType::ALL
        .map(|t| format!("'{}'", t.as_str()))
        .join(", ")
}

/// A row to append.
#[derive(Debug)]
pub(crate) struct NewEvent<'a> {
    pub event_id: Uuid,
    /// The owner: of the task's list, the list, or the reminder's task; the
    /// recipient of a notification.
    pub user_id: &'a str,
    /// Who made the change.
    pub actor_id: &'a str,
    /// The agent that made it for them, if one did.
    pub agent_id: Option<i64>,
    /// The task; 0 for a list's event.
    pub task_id: i64,
    /// The task's list, or the list changed.
    pub list_id: Option<i64>,
    /// The list a moved task left.
    pub from_list_id: Option<i64>,
    pub source: Source,
    pub occurred_at: DateTime<Utc>,
    pub body: Body,
    /// The trace of the work making the change.
    pub traceparent: Option<String>,
}

impl<'a> NewEvent<'a> {
    /// The event of a change from `old` to `new` (None: created, or
    /// deleted) to a task of `user_id`, made `by` someone in the current
    /// trace.
    pub fn change(
        user_id: &'a str,
        by: &'a Actor,
        event_type: TaskEventType,
        old: Option<&Task>,
        new: Option<&Task>,
        occurred_at: DateTime<Utc>,
    ) -> Result<Self> {
        let Some(snapshot) = new.or(old) else {
            return Err(Error::Internal("an event needs a task".into()));
        };
        Ok(NewEvent {
            event_id: Uuid::now_v7(),
            user_id,
            actor_id: &by.user,
            agent_id: by.agent,
            task_id: snapshot.id,
            list_id: Some(snapshot.list_id),
            from_list_id: old
                .zip(new)
                .filter(|(old, new)| old.list_id != new.list_id)
                .map(|(old, _)| old.list_id),
            source: by.source,
            occurred_at,
            body: Body::Task {
                event_type,
                change: TaskEventBody {
                    task_data: snapshot.clone(),
                    changes: field_changes(old, new),
                },
            },
            traceparent: taskflow_events::trace::current_traceparent(),
        })
    }

    /// The event of a list's change from `old` to `new` (None: created, or
    /// deleted), a list of `user_id`, made `by` someone.
    pub fn list_change(
        user_id: &'a str,
        by: &'a Actor,
        event_type: ListEventType,
        old: Option<&List>,
        new: Option<&List>,
        occurred_at: DateTime<Utc>,
    ) -> Result<Self> {
        let Some(snapshot) = new.or(old) else {
            return Err(Error::Internal("an event needs a list".into()));
        };
        Ok(NewEvent {
            event_id: Uuid::now_v7(),
            user_id,
            actor_id: &by.user,
            agent_id: by.agent,
            task_id: 0,
            list_id: Some(snapshot.id),
            from_list_id: None,
            source: by.source,
            occurred_at,
            body: Body::List {
                event_type,
                change: ListEventBody {
                    list_data: snapshot.clone(),
                    changes: changes_between(old, new),
                },
            },
            traceparent: taskflow_events::trace::current_traceparent(),
        })
    }

    /// Its values for [`EVENT_COLUMNS`].
    pub fn params(&self) -> Result<[Param<'_>; EVENT_COLUMNS.len()]> {
        Ok([
            self.event_id.into(),
            self.user_id.into(),
            self.actor_id.into(),
            self.agent_id.into(),
            self.task_id.into(),
            self.list_id.into(),
            self.from_list_id.into(),
            self.body.kind().into(),
            self.source.as_str().into(),
            self.occurred_at.into(),
            self.body.data()?,
            self.traceparent.as_deref().into(),
        ])
    }
}

/// Appends an event to the outbox in `tx`: written just before its commit,
/// which then wakes the relay.
pub(crate) fn append(tx: &mut Tx, event: &NewEvent<'_>) -> Result<()> {
    static INSERT: LazyLock<String> = LazyLock::new(|| {
        let places: Vec<_> = (1..=EVENT_COLUMNS.len()).map(|n| format!("${n}")).collect();
        format!(
            "INSERT INTO task_events ({}) VALUES ({})",
            event_columns(),
            places.join(", ")
        )
    });
    let params = event.params()?.map(Param::into_owned);
    tx.append_event(query(&INSERT).bind_all(params));
    Ok(())
}

/// A consumer's receipt of one event: what the processed-events ledger
/// records with the consumer's side effects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Receipt<'a> {
    pub consumer: &'a str,
    pub event_id: Uuid,
    pub at: DateTime<Utc>,
}

/// Records the receipt in `tx`; false if the consumer had the event before
/// (the caller then does nothing: the delivery is a repeat).
pub(crate) async fn first_delivery(tx: &mut Tx, receipt: &Receipt<'_>) -> Result<bool> {
    let recorded = query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(receipt.consumer)
    .bind(receipt.event_id)
    .bind(receipt.at)
    .execute(tx)
    .await?;
    Ok(recorded == 1)
}

impl Database {
    /// The oldest committed events not yet published, in sequence order.
    ///
    /// A row that does not decode (written by a newer version, say) holds
    /// back its user's later events, so their order is kept, and is logged;
    /// other users' events go on.
    ///
    /// Each is read with whether a webhook endpoint may take it
    /// ([`OutboxEvent::webhooks`]): two index probes in the same
    /// statement, which spare the webhook consumer a read per run while
    /// nobody has an endpoint.
    pub async fn unpublished(&self, limit: u32) -> Result<Vec<OutboxEvent>> {
        let rows: Vec<OutboxRow> = query(&format!(
            "SELECT {READ_COLUMNS}, {WEBHOOKS} FROM {READ_FROM} WHERE e.published_at IS NULL \
             ORDER BY sequence LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&mut self.read().await?)
        .await?;
        let mut held: HashSet<String> = HashSet::new();
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            if held.contains(&row.user_id) {
                continue;
            }
            let (user, sequence) = (row.user_id.clone(), row.sequence);
            match OutboxEvent::try_from(row) {
                Ok(event) => events.push(event),
                Err(err) => {
                    tracing::error!(sequence, %user, error = %err, "an outbox row cannot be read; holding back this user's events");
                    held.insert(user);
                }
            }
        }
        Ok(events)
    }

    /// The events `user` may see now after sequence `after`, oldest first,
    /// at most `limit`: their own (changes of their lists, their
    /// notifications) and the changes of lists shared with them. Each
    /// branch is read in its own index and limited, in one statement.
    ///
    /// Sequences commit in order (see `Tx`), so a cursor at the last one
    /// read never passes an event that commits later.
    pub async fn events_after(
        &self,
        user: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>> {
        let mut q = Query::build("");
        for shared in [false, true] {
            q.push(if shared {
                ") AS own UNION ALL SELECT * FROM ("
            } else {
                "SELECT * FROM ("
            });
            q.push(&format!("SELECT {READ_COLUMNS} FROM {READ_FROM} WHERE "));
            push_reached(&mut q, user, shared);
            if shared {
                // A member sees a shared list's changes, never its owner's
                // reminders or notifications.
                q.push(" AND e.event_type IN (")
                    .push(&task_kinds())
                    .push(", ")
                    .push(&list_kinds())
                    .push(")");
            }
            q.push(" AND e.sequence > ").push_bind(after);
            q.push(" ORDER BY e.sequence LIMIT ")
                .push_bind(i64::from(limit));
        }
        q.push(") AS shared");
        let mut rows: Vec<OutboxRow> = q.fetch_all(&mut self.read().await?).await?;
        if !rows.is_sorted_by_key(|row| row.sequence) {
            rows.sort_by_key(|row| row.sequence);
        }
        // A given list's events are in both branches of the giver (before
        // the transfer: theirs, and a member's) or of its owner (after:
        // theirs, and of a list given to them): sent once.
        rows.dedup_by_key(|row| row.sequence);
        rows.truncate(limit as usize);
        rows.into_iter().map(OutboxEvent::try_from).collect()
    }

    /// (sequence, user, task, list) of every task or list change committed
    /// after `after`, oldest first (commit order), at most `limit`; a
    /// list's change has task 0.
    pub async fn events_since(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String, i64, Option<i64>)>> {
        query(&format!(
            "SELECT sequence, user_id, task_id, list_id FROM task_events WHERE sequence > $1 \
             AND event_type IN ({}, {}) ORDER BY sequence LIMIT $2",
            task_kinds(),
            list_kinds()
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut self.read().await?)
        .await
    }

    /// The highest sequence number committed so far (0 for none).
    pub async fn last_sequence(&self) -> Result<i64> {
        let last: Option<i64> = query("SELECT MAX(sequence) FROM task_events")
            .scalar(&mut self.read().await?)
            .await?;
        Ok(last.unwrap_or(0))
    }

    /// The lowest sequence number still held (0 for none).
    pub async fn first_sequence(&self) -> Result<i64> {
        let first: Option<i64> = query("SELECT MIN(sequence) FROM task_events")
            .scalar(&mut self.read().await?)
            .await?;
        Ok(first.unwrap_or(0))
    }

    /// Records that events have been handed to the transport.
    pub async fn mark_published(&self, sequences: &[i64], at: DateTime<Utc>) -> Result<()> {
        let mut conn = self.write().await?;
        for chunk in sequences.chunks(500) {
            let mut q = Query::build("UPDATE task_events SET published_at = ");
            q.push_bind(at).push(" WHERE sequence IN (");
            q.push_binds(chunk.iter().copied());
            q.push(")");
            q.execute(&mut conn).await?;
        }
        Ok(())
    }

    /// How far the relay is behind.
    pub async fn relay_lag(&self) -> Result<RelayLag> {
        let mut conn = self.read().await?;
        let unpublished = query("SELECT COUNT(*) FROM task_events WHERE published_at IS NULL")
            .scalar(&mut conn)
            .await?;
        let oldest = query(
            "SELECT occurred_at FROM task_events WHERE published_at IS NULL \
             ORDER BY sequence LIMIT 1",
        )
        .scalar_optional(&mut conn)
        .await?;
        Ok(RelayLag {
            unpublished,
            oldest,
        })
    }
}

/// The events a query of [`READ_COLUMNS`] reads, each by its sequence
/// with its own outcome (one unreadable row fails only itself).
pub(crate) async fn read_each(
    q: Query<'_>,
    on: &mut impl crate::database::Executor,
) -> Result<Vec<(i64, Result<OutboxEvent>)>> {
    let rows: Vec<OutboxRow> = q.fetch_all(on).await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.sequence, OutboxEvent::try_from(row)))
        .collect())
}

/// The CloudEvent `source` of every event Taskflow publishes.
pub const EVENT_SOURCE: &str = "taskflow";

/// One `task_events` row as the relay selects it.
#[derive(Debug, sqlx::FromRow)]
struct OutboxRow {
    sequence: i64,
    event_id: Uuid,
    user_id: String,
    task_id: i64,
    list_id: Option<i64>,
    event_type: String,
    source: String,
    occurred_at: DateTime<Utc>,
    /// Decoded per row, so one unreadable row cannot fail a whole batch.
    data: Json<Box<RawValue>>,
    traceparent: Option<String>,
    actor_id: String,
    /// None for a user with no `users` row (never seen by a surface).
    actor_name: Option<String>,
    agent_id: Option<i64>,
    agent_name: Option<String>,
    /// Read by the relay only ([`WEBHOOKS`]).
    #[sqlx(default)]
    webhooks: Option<bool>,
}

/// A committed row: what the relay publishes and a live view replays.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub sequence: i64,
    pub event_id: Uuid,
    pub user_id: String,
    /// Who made the change.
    pub actor: EventActor,
    /// The task; 0 for a list's event.
    pub task_id: i64,
    /// The task's list, or the list changed.
    pub list_id: Option<i64>,
    pub source: Source,
    pub occurred_at: DateTime<Utc>,
    pub body: Body,
    /// The trace of the work that made the change, if it was traced.
    pub traceparent: Option<String>,
    /// Whether a webhook endpoint may take the event, as the relay read
    /// it (None: not asked). A task change's `task-events` message
    /// carries it.
    pub webhooks: Option<bool>,
}

impl TryFrom<OutboxRow> for OutboxEvent {
    type Error = Error;

    fn try_from(row: OutboxRow) -> Result<Self> {
        let source = Source::parse(&row.source).ok_or_else(|| {
            Error::Internal(format!("event {} has an unknown source", row.sequence))
        })?;
        Ok(OutboxEvent {
            body: Body::read(&row.event_type, &row.data.0)?,
            source,
            sequence: row.sequence,
            event_id: row.event_id,
            user_id: row.user_id,
            actor: EventActor::of(
                row.actor_id.clone(),
                row.actor_name.unwrap_or(row.actor_id),
                row.agent_id
                    .map(|id| (id, row.agent_name.unwrap_or_default())),
            ),
            task_id: row.task_id,
            list_id: row.list_id,
            occurred_at: row.occurred_at,
            traceparent: row.traceparent,
            webhooks: row.webhooks,
        })
    }
}

impl OutboxEvent {
    /// The task change this row records, if it records one.
    pub fn change(&self) -> Option<(TaskEventType, &TaskEventBody)> {
        match &self.body {
            Body::Task { event_type, change } => Some((*event_type, change)),
            _ => None,
        }
    }

    /// The `task-updates` notice of a task change or a new notification
    /// (what a live view is sent, and replays); None for a reminder.
    pub fn task_update(&self) -> Option<TaskUpdate> {
        let mut update = TaskUpdate {
            kind: UpdateKind::Task,
            user_id: self.user_id.clone(),
            task_id: Some(self.task_id),
            list_id: self.list_id,
            from_list_id: None,
            member: None,
            change: None,
            list_change: None,
            fields: Vec::new(),
            notification_id: None,
            actor: Some(self.actor.clone()),
            sequence: self.sequence,
        };
        match &self.body {
            Body::Task { event_type, change } => {
                update.change = Some(*event_type);
                update.fields = change.changes.keys().cloned().collect();
                update.from_list_id = change
                    .changes
                    .get("list_id")
                    .and_then(|moved| moved.old.as_i64());
            }
            Body::List { event_type, change } => {
                update.kind = UpdateKind::List;
                update.task_id = None;
                update.list_change = Some(*event_type);
                update.fields = change.changes.keys().cloned().collect();
                // A membership change names its member as it was or is.
                update.member = change.changes.get("member").and_then(|member| {
                    [&member.new, &member.old]
                        .into_iter()
                        .find_map(|side| side.get("user_id")?.as_str().map(str::to_owned))
                });
            }
            Body::NotificationCreated { notification_id } => {
                update.kind = UpdateKind::NotificationCreated;
                update.notification_id = Some(*notification_id);
                update.actor = None;
            }
            Body::Reminder(_) => return None,
        }
        Some(update)
    }

    /// The messages this row is published as, each keyed by its user and
    /// continuing the row's trace: a task change's `task-events` message
    /// (CloudEvent id = the outbox UUID) and its `task-updates` notice (an
    /// id derived from it); a reminder's `reminders` message; a
    /// notification's notice. A re-publish keeps every id.
    pub fn messages(&self) -> Result<Vec<Message>> {
        let subject = Some(match (&self.body, self.list_id) {
            (Body::List { .. }, Some(list)) => format!("list/{list}"),
            _ => format!("task/{}", self.task_id),
        });
        // For a change made before tracing, a trace derived from the event
        // id, the same on every re-publish.
        let traceparent = self
            .traceparent
            .clone()
            .unwrap_or_else(|| TraceContext::of_message(self.event_id.as_u128()).to_string());
        let message = |topic, id: Uuid, event_type: &str, data| Message {
            topic,
            key: self.user_id.clone(),
            event: CloudEvent::in_trace(
                id.to_string(),
                EVENT_SOURCE,
                event_type,
                subject.clone(),
                self.occurred_at,
                data,
                Some(traceparent.clone()),
            ),
        };
        let notice = |event_type| -> Result<Message> {
            let update = serde_json::to_value(self.task_update())?;
            Ok(message(
                TASK_UPDATES,
                derived_id(self.event_id, TASK_UPDATES),
                event_type,
                update,
            ))
        };
        Ok(match &self.body {
            Body::List { event_type, change } => {
                let full = ListEventMessage {
                    event_type: *event_type,
                    list_id: change.list_data.id,
                    list_data: change.list_data.clone(),
                    user_id: self.user_id.clone(),
                    actor: self.actor.clone(),
                    timestamp: self.occurred_at,
                    changes: change.changes.clone(),
                    sequence: self.sequence,
                    source: self.source,
                };
                vec![
                    message(
                        TASK_EVENTS,
                        self.event_id,
                        &event_type.cloud_event_type(),
                        serde_json::to_value(full)?,
                    ),
                    notice(TASK_UPDATE_TYPE)?,
                ]
            }
            Body::Task { event_type, change } => {
                let moved = change.changes.get("list_id");
                let list = |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_i64);
                let full = TaskEventMessage {
                    event_type: *event_type,
                    task_id: self.task_id,
                    task_data: change.task_data.clone(),
                    user_id: self.user_id.clone(),
                    actor: self.actor.clone(),
                    timestamp: self.occurred_at,
                    changes: change.changes.clone(),
                    sequence: self.sequence,
                    source: self.source,
                    from_list_id: list(moved.map(|c| &c.old)),
                    to_list_id: list(moved.map(|c| &c.new)),
                    webhooks: self.webhooks,
                };
                vec![
                    message(
                        TASK_EVENTS,
                        self.event_id,
                        &event_type.cloud_event_type(),
                        serde_json::to_value(full)?,
                    ),
                    notice(TASK_UPDATE_TYPE)?,
                ]
            }
            Body::Reminder(reminder) => vec![message(
                REMINDERS,
                self.event_id,
                reminder.kind.cloud_event_type(),
                serde_json::to_value(reminder)?,
            )],
            Body::NotificationCreated { .. } => vec![notice(NOTIFICATION_CREATED_TYPE)?],
        })
    }
}

/// How far the relay is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RelayLag {
    /// Committed events not yet published.
    pub unpublished: i64,
    /// When the oldest of them was written.
    pub oldest: Option<DateTime<Utc>>,
}

impl RelayLag {
    /// Age of the oldest unpublished event at `now`, in seconds.
    pub fn age_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest
            .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    }
}
