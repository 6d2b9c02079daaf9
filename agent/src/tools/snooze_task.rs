//! `snooze_task`: hold a task's reminder until later.

use taskflow_core::Task;

use crate::params::WithId;
use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct SnoozeTask;

/// `snooze_task`'s arguments: the task's id beside how long.
pub type SnoozeTaskParams = WithId<taskflow_core::SnoozeTask>;

impl Tool for SnoozeTask {
    const NAME: &'static str = "snooze_task";
    const TITLE: &'static str = "Snooze task";
    const DESCRIPTION: &'static str = "Hold an open task's reminder (and overdue notice) until later: `minutes` (1–43200) or `until` (RFC 3339, at most 30 days ahead). The reminder fires again when the snooze ends. The due date does not move; use update_task to reschedule.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    };
    const TOOLSET: Toolset = Toolset::Extras;
    type Params = SnoozeTaskParams;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: SnoozeTaskParams) -> ToolResult<Task> {
        let task = on.tasks.snooze(on.actor, args.id, &args.fields).await;
        task.map_err(|e| failure(e, Some(args.id)))
    }
}
