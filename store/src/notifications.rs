//! Notifications: a reminder or overdue notice recorded once per delivered
//! `reminders` event; what people do on shared lists (an invitation, an
//! assignment, a comment, a completion), told in the transaction of the
//! change; then listed, marked read and counted per user.

use chrono::{DateTime, Utc};
use taskflow_core::{
    Invalid, Notification, NotificationKind, NotificationPage, NotificationQuery, UnreadCount,
};
use taskflow_events::{Source, derived_id};
use uuid::Uuid;

use crate::database::{Query, Tx, query};
use crate::outbox::{self, Body, NewEvent, Receipt};
use crate::tasks::{Actor, check_user};
use crate::{Error, Result, TaskService};

/// The longest notification text, in characters.
const MAX_TEXT: usize = 1000;

/// The columns of a [`NotificationRow`].
const COLUMNS: &str = "id, task_id, kind, text, created_at, read_at";

/// One `notifications` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: i64,
    task_id: Option<i64>,
    kind: String,
    text: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = Error;

    fn try_from(row: NotificationRow) -> Result<Self> {
        Ok(Notification {
            kind: NotificationKind::parse(&row.kind).ok_or_else(|| {
                Error::Internal(format!("notification {} has an unknown kind", row.id))
            })?,
            id: row.id,
            task_id: row.task_id,
            text: row.text,
            created_at: row.created_at,
            read_at: row.read_at,
        })
    }
}

impl TaskService {
    /// A page of the user's notifications, newest first.
    pub async fn notifications(
        &self,
        user: &str,
        query: &NotificationQuery,
    ) -> Result<NotificationPage> {
        check_user(user)?;
        let (limit, before) = query.parse()?;
        let mut q = Query::build(format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = "
        ));
        q.push_bind(user);
        if query.unread.unwrap_or(false) {
            q.push(" AND read_at IS NULL");
        }
        if let Some(before) = before {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows: Vec<NotificationRow> = q.fetch_all(&mut self.database().read().await?).await?;
        let (rows, next_cursor) = taskflow_core::ops::id_page_of(rows, limit, |row| row.id);
        Ok(NotificationPage {
            notifications: rows
                .into_iter()
                .map(Notification::try_from)
                .collect::<Result<_>>()?,
            next_cursor,
        })
    }

    /// Marks one of the user's notifications read (keeping the first read
    /// time).
    pub async fn mark_notification_read(&self, user: &str, id: i64) -> Result<()> {
        check_user(user)?;
        let found = query(
            "UPDATE notifications SET read_at = COALESCE(read_at, $1) \
             WHERE id = $2 AND user_id = $3",
        )
        .bind(self.now())
        .bind(id)
        .bind(user)
        .execute(&mut self.database().write().await?)
        .await?;
        if found == 1 {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// Marks all of the user's notifications read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, user: &str) -> Result<u64> {
        check_user(user)?;
        query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(self.now())
            .bind(user)
            .execute(&mut self.database().write().await?)
            .await
    }

    /// How many of the user's notifications are unread.
    pub async fn unread_count(&self, user: &str) -> Result<UnreadCount> {
        check_user(user)?;
        let unread =
            query("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
                .bind(user)
                .scalar(&mut self.database().read().await?)
                .await?;
        Ok(UnreadCount { unread })
    }

    /// Records the user's notifications for `consumer`'s deliveries of
    /// their events, each once however often its event is delivered (None
    /// for a repeat), with each one's `notification_created` notice in the
    /// outbox: all in one transaction, or none.
    pub async fn record_notifications(
        &self,
        consumer: &str,
        user: &str,
        batch: &[NewNotification],
    ) -> Result<Vec<Option<Notification>>> {
        check_user(user)?;
        for notification in batch {
            if notification.text.trim().is_empty() {
                return Err(Invalid::new("text", "a notification needs text").into());
            }
        }
        let now = self.now();
        let mut tx = self.database().begin_for(user).await?;
        let mut recorded = Vec::with_capacity(batch.len());
        for notification in batch {
            let receipt = Receipt {
                consumer,
                event_id: notification.event_id,
                at: now,
            };
            if !outbox::first_delivery(&mut tx, &receipt).await? {
                recorded.push(None);
                continue;
            }
            let row = write(
                &mut tx,
                Written {
                    user,
                    actor: user,
                    task_id: Some(notification.task_id),
                    kind: notification.kind,
                    text: &notification.text,
                    at: now,
                    notice: derived_id(notification.event_id, "notification"),
                    source: Source::Worker,
                    traceparent: notification.traceparent.clone(),
                },
            )
            .await?;
            recorded.push(Some(row.try_into()?));
        }
        tx.commit().await?;
        Ok(recorded)
    }
}

/// One notification to write, with its notice.
pub(crate) struct Written<'a> {
    /// Its recipient.
    pub user: &'a str,
    /// Who caused it (the recipient, for a reminder).
    pub actor: &'a str,
    pub task_id: Option<i64>,
    pub kind: NotificationKind,
    pub text: &'a str,
    pub at: DateTime<Utc>,
    /// The id of its `notification_created` notice.
    pub notice: Uuid,
    pub source: Source,
    pub traceparent: Option<String>,
}

/// Writes a notification (its text cut to [`MAX_TEXT`]) and the
/// `notification_created` notice that announces it to live views through
/// the outbox, like every message.
pub(crate) async fn write(tx: &mut Tx, n: Written<'_>) -> Result<NotificationRow> {
    let text: String = n.text.chars().take(MAX_TEXT).collect();
    let row: NotificationRow = query(&format!(
        "INSERT INTO notifications (user_id, task_id, kind, text, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind(n.user)
    .bind(n.task_id)
    .bind(n.kind.as_str())
    .bind(text)
    .bind(n.at)
    .fetch_one(&mut *tx)
    .await?;
    let notice = NewEvent {
        event_id: n.notice,
        user_id: n.user,
        actor_id: n.actor,
        agent_id: None,
        task_id: n.task_id.unwrap_or(0),
        list_id: None,
        from_list_id: None,
        source: n.source,
        occurred_at: n.at,
        body: Body::NotificationCreated {
            notification_id: row.id,
        },
        traceparent: n.traceparent,
    };
    outbox::append(tx, &notice)?;
    Ok(row)
}

/// What someone's change tells other people: written in the change's own
/// transaction, so it is told once, exactly when the change commits.
pub(crate) struct Telling<'a> {
    pub kind: NotificationKind,
    /// The task it is about, if any.
    pub task_id: Option<i64>,
    /// The event of the change (each recipient's notice derives its id).
    pub cause: Uuid,
    /// The text, given the display name of who made the change.
    pub text: &'a (dyn Fn(&str) -> String + Sync),
}

/// Tells each of `to` (but never `by` themself, and each once) what `by`
/// did. The caller keeps to those who may see what it is about.
pub(crate) async fn tell(
    tx: &mut Tx,
    by: &Actor,
    to: &[String],
    what: Telling<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut to: Vec<&str> = to
        .iter()
        .map(String::as_str)
        .filter(|user| *user != by.user)
        .collect();
    to.sort_unstable();
    to.dedup();
    if to.is_empty() {
        return Ok(());
    }
    let name = crate::members::summary(&mut *tx, &by.user)
        .await?
        .display_name;
    let text = (what.text)(&name);
    let traceparent = taskflow_events::trace::current_traceparent();
    for user in to {
        write(
            tx,
            Written {
                user,
                actor: &by.user,
                task_id: what.task_id,
                kind: what.kind,
                text: &text,
                at: now,
                notice: derived_id(what.cause, &format!("notification:{user}")),
                source: by.source,
                traceparent: traceparent.clone(),
            },
        )
        .await?;
    }
    Ok(())
}

/// A notification to record for a delivered event.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// The delivered event it records; each is recorded once per consumer.
    pub event_id: Uuid,
    pub task_id: i64,
    pub kind: NotificationKind,
    /// Cut to 1,000 characters; never blank.
    pub text: String,
    /// The trace its notice continues.
    pub traceparent: Option<String>,
}
