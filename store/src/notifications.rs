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

    /// Records a notification for `consumer`'s delivery of event `event_id`,
    /// once however often the event is delivered (None for a repeat), and
    /// its `notification_created` notice in the outbox, in one transaction.
    pub async fn record_notification(
        &self,
        consumer: &str,
        event_id: Uuid,
        user: &str,
        task_id: i64,
        kind: NotificationKind,
        text: &str,
    ) -> Result<Option<Notification>> {
        check_user(user)?;
        let text: String = text.chars().take(MAX_TEXT).collect();
        if text.trim().is_empty() {
            return Err(Invalid::new("text", "a notification needs text").into());
        }
        let now = self.now();
        let mut tx = self.database().begin_for(user).await?;
        let receipt = Receipt {
            consumer,
            event_id,
            at: now,
        };
        if !outbox::first_delivery(&mut tx, &receipt).await? {
            return Ok(None);
        }
        let row: NotificationRow = query(&format!(
            "INSERT INTO notifications (user_id, task_id, kind, text, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
        ))
        .bind(user)
        .bind(task_id)
        .bind(kind.as_str())
        .bind(text)
        .bind(now)
        .fetch_one(&mut tx)
        .await?;
        // Announced to live views through the outbox, like every message.
        let notice = NewEvent {
            event_id: derived_id(event_id, "notification"),
            user_id: user,
            task_id,
            source: Source::Worker,
            occurred_at: now,
            body: Body::NotificationCreated {
                notification_id: row.id,
            },
            traceparent: taskflow_events::trace::current_traceparent(),
        };
        outbox::append(&mut tx, &notice).await?;
        tx.commit().await?;
        Ok(Some(row.try_into()?))
    }
}
