//! Notifications: what a person is told when a reminder fires or a task
//! becomes overdue, and the parameters to list them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The default and the largest page of notifications.
const LIMITS: (u32, u32) = (20, 200);

/// Why a notification was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    /// A task's reminder time came.
    Reminder,
    /// A task's due time passed while it was open.
    Overdue,
}

impl NotificationKind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Reminder => "reminder",
            NotificationKind::Overdue => "overdue",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(name: &str) -> Option<NotificationKind> {
        match name {
            "reminder" => Some(NotificationKind::Reminder),
            "overdue" => Some(NotificationKind::Overdue),
            _ => None,
        }
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Notification {
    pub id: i64,
    /// The task it is about (it may have been deleted since).
    pub task_id: Option<i64>,
    pub kind: NotificationKind,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// When it was marked read; null while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// List notifications, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// true: only unread notifications.
    #[serde(default)]
    pub unread: Option<bool>,
    /// Page size, 1 to 200 (default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl NotificationQuery {
    /// The page size and the id to continue below, checked.
    pub fn parse(&self) -> Result<(u32, Option<i64>), Invalid> {
        crate::ops::id_page(self.limit, self.cursor.as_deref(), LIMITS)
    }
}

/// One page of notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// How many notifications are unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnreadCount {
    pub unread: i64,
}
