//! Notifications: a reminder or overdue notice recorded once per delivered
//! `reminders` event, then listed, marked read and counted per user.

use chrono::{DateTime, Utc};
use taskflow_core::{
    Invalid, Notification, NotificationKind, NotificationPage, NotificationQuery, UnreadCount,
};
use taskflow_events::{Source, derived_id};
use uuid::Uuid;

use crate::database::{Query, query};
use crate::outbox::{self, Body, NewEvent, Receipt};
use crate::tasks::check_user;
use crate::{Error, Result, TaskService};

/// The longest notification text, in characters.
const MAX_TEXT: usize = 1000;

/// The columns of a [`NotificationRow`].
const COLUMNS: &str = "id, task_id, kind, text, created_at, read_at";

/// One `notifications` row.
#[derive(Debug, sqlx::FromRow)]
struct NotificationRow {
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
            let text: String = notification.text.chars().take(MAX_TEXT).collect();
            let row: NotificationRow = query(&format!(
                "INSERT INTO notifications (user_id, task_id, kind, text, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ))
            .bind(user)
            .bind(notification.task_id)
            .bind(notification.kind.as_str())
            .bind(text)
            .bind(now)
            .fetch_one(&mut tx)
            .await?;
            // Announced to live views through the outbox, like every message.
            let notice = NewEvent {
                event_id: derived_id(notification.event_id, "notification"),
                user_id: user,
                actor_id: user,
                task_id: notification.task_id,
                list_id: None,
                source: Source::Worker,
                occurred_at: now,
                body: Body::NotificationCreated {
                    notification_id: row.id,
                },
                traceparent: notification.traceparent.clone(),
            };
            outbox::append(&mut tx, &notice).await?;
            recorded.push(Some(row.try_into()?));
        }
        tx.commit().await?;
        Ok(recorded)
    }
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
