//! `update_task`: change some fields of a task.

use taskflow_core::Task;

use crate::params::WithId;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct UpdateTask;

/// `update_task`'s arguments: the task's id beside the changes.
pub type UpdateTaskParams = WithId<taskflow_core::UpdateTask>;

impl Tool for UpdateTask {
    const NAME: &'static str = "update_task";
    const TITLE: &'static str = "Update task";
    const DESCRIPTION: &'static str = "Change some fields of a task; fields left out stay as they are, and null clears a field (description, due, recurrence, reminder). Moving `due` keeps the recurrence; a new `due` time is in `timezone` (or the task's zone).";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: true,
    };
    type Params = UpdateTaskParams;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: UpdateTaskParams) -> ToolResult<Task> {
        let updated = on.tasks.update(on.actor, args.id, &args.fields, None).await;
        updated.map_err(|e| failure(e, Some(args.id)))
    }
}
