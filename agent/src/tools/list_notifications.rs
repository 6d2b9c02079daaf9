//! `list_notifications`: reminders that fired and overdue notices.

use taskflow_core::{NotificationPage, NotificationQuery};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct ListNotifications;

impl Tool for ListNotifications {
    const NAME: &'static str = "list_notifications";
    const TITLE: &'static str = "List notifications";
    const DESCRIPTION: &'static str = "The user's notifications (reminders that fired, tasks that became overdue), newest first. `unread: true` for unread only; pass `next_cursor` as `cursor` for more.";
    const HINTS: Hints = Hints::READ;
    const TOOLSET: Toolset = Toolset::Extras;
    type Params = NotificationQuery;
    type Output = NotificationPage;

    async fn run(&self, on: Context<'_>, query: NotificationQuery) -> ToolResult<NotificationPage> {
        let page = on.tasks.notifications(on.user(), &query).await;
        page.map_err(|e| failure(e, None))
    }
}
