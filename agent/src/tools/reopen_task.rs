//! `reopen_task`: mark a completed task open again.

use taskflow_core::Task;

use crate::params::TaskRef;
use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct ReopenTask;

impl Tool for ReopenTask {
    const NAME: &'static str = "reopen_task";
    const TITLE: &'static str = "Reopen task";
    const DESCRIPTION: &'static str =
        "Mark a completed task open again. Its next occurrence, if one was created, stays.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: true,
    };
    const TOOLSET: Toolset = Toolset::Extras;
    type Params = TaskRef;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: TaskRef) -> ToolResult<Task> {
        let task = on.tasks.reopen(on.actor, args.id, None).await;
        task.map_err(|e| failure(e, Some(args.id)))
    }
}
