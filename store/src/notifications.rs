//! The notification operations of the TaskService: recording a notification
//! once per delivered event, listing, marking read, counting.

use taskflow_core::{
    Invalid, Notification, NotificationKind, NotificationPage, NotificationQuery, UnreadCount,
};
use uuid::Uuid;

use crate::database::dispatch;
use crate::{Error, Result, TaskService};

/// The longest notification text, in characters.
const MAX_TEXT: usize = 1000;

impl TaskService {
    /// A page of the user's notifications, newest first.
    pub async fn notifications(
        &self,
        user: &str,
        query: &NotificationQuery,
    ) -> Result<NotificationPage> {
        crate::service::check_user(user)?;
        let (limit, before) = query.parse()?;
        let unread = query.unread.unwrap_or(false);
        let rows = dispatch!(self.database(), pools => sql::notifications(pools, user, unread, before, limit + 1).await)?;
        let (rows, next_cursor) = taskflow_core::ops::id_page_of(rows, limit, |row| row.id);
        let notifications = rows
            .into_iter()
            .map(|row| {
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
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(NotificationPage {
            notifications,
            next_cursor,
        })
    }

    /// Marks one of the user's notifications read.
    pub async fn mark_notification_read(&self, user: &str, id: i64) -> Result<()> {
        crate::service::check_user(user)?;
        let now = self.now();
        let found =
            dispatch!(self.database(), pools => sql::mark_read(pools, user, id, now).await)?;
        if found { Ok(()) } else { Err(Error::NotFound) }
    }

    /// Marks all of the user's notifications read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, user: &str) -> Result<u64> {
        crate::service::check_user(user)?;
        let now = self.now();
        dispatch!(self.database(), pools => sql::mark_all_read(pools, user, now).await)
    }

    /// How many of the user's notifications are unread.
    pub async fn unread_count(&self, user: &str) -> Result<UnreadCount> {
        crate::service::check_user(user)?;
        let unread = dispatch!(self.database(), pools => sql::unread_count(pools, user).await)?;
        Ok(UnreadCount { unread })
    }

    /// Records a notification for `consumer`'s delivery of event `event_id`,
    /// once however often the event is delivered; None for a repeat.
    pub async fn record_notification(
        &self,
        consumer: &str,
        event_id: Uuid,
        user: &str,
        task_id: i64,
        kind: NotificationKind,
        text: &str,
    ) -> Result<Option<Notification>> {
        crate::service::check_user(user)?;
        let text: String = text.chars().take(MAX_TEXT).collect();
        if text.trim().is_empty() {
            return Err(Invalid::new("text", "a notification needs text").into());
        }
        let now = self.now();
        let row = dispatch!(self.database(), pools => {
            sql::record_notification(pools, consumer, event_id, user, task_id, kind.as_str(), &text, now).await
        })?;
        Ok(row.map(|row| Notification {
            id: row.id,
            task_id: row.task_id,
            kind,
            text: row.text,
            created_at: row.created_at,
            read_at: row.read_at,
        }))
    }
}
