//! `recent_activity`: what changed lately across the user's tasks.

use taskflow_core::HistoryQuery;
use taskflow_events::HistoryPage;

use crate::params::Paged;
use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct RecentActivity;

/// Changes per call when `limit` is left out.
const DEFAULT_ACTIVITY: u32 = 20;
/// The most changes one call returns.
const MAX_ACTIVITY: u32 = 200;

/// `recent_activity`'s arguments: the REST history's page, with its own
/// default size.
pub type RecentActivityParams = Paged<HistoryQuery, MAX_ACTIVITY, DEFAULT_ACTIVITY>;

impl Tool for RecentActivity {
    const NAME: &'static str = "recent_activity";
    const TITLE: &'static str = "Recent activity";
    const DESCRIPTION: &'static str = "What changed recently across all the user's tasks, newest first, on every surface (app, assistant, chat, workers): who, when, which task, which fields. Pass `next_before` as `before` for older changes.";
    const HINTS: Hints = Hints::READ;
    const TOOLSET: Toolset = Toolset::Extras;
    type Params = RecentActivityParams;
    type Output = HistoryPage;

    async fn run(
        &self,
        on: Context<'_>,
        Paged(query): RecentActivityParams,
    ) -> ToolResult<HistoryPage> {
        let limit = RecentActivityParams::limit(query.limit, "before")?;
        let page = on
            .tasks
            .activity(on.user(), query.before, Some(limit))
            .await;
        page.map_err(|e| failure(e, None))
    }
}
