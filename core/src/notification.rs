//! Notifications: what a person is told when a reminder fires, a task
//! becomes overdue, or someone invites them, assigns them a task, comments
//! on a task of theirs or completes a task they assigned; and the
//! parameters to list them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use crate::Invalid;

/// The default and the largest page of notifications.
const LIMITS: (u32, u32) = (20, 200);

// strum's names (`as_str`, `parse`) are the serde names, by the same rule.
/// Why a notification was made.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum NotificationKind {
    /// A task's reminder time came.
    Reminder,
    /// A task's due time passed while it was open.
    Overdue,
    /// Someone invited them to a list.
    Invited,
    /// Someone assigned them a task.
    Assigned,
    /// Someone commented on a task they made, are assigned or commented on.
    Commented,
    /// Someone completed a task they assigned.
    Completed,
    /// Taskflow disabled one of their webhook endpoints (it answered 410,
    /// or failed for five days).
    #[serde(rename = "webhook_disabled")]
    #[strum(serialize = "webhook_disabled")]
    WebhookDisabled,
}

impl NotificationKind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the lower-case name.
    pub fn parse(name: &str) -> Option<NotificationKind> {
        name.parse().ok()
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
    #[schemars(range(min = 1, max = 200), extend("default" = LIMITS.0))]
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn kind_names_are_the_serde_names_and_parse_back() {
        for kind in NotificationKind::VARIANTS.iter().copied() {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NotificationKind::parse("Reminder"), None);
    }
}
