//! `delete_task`: delete a task for good (its history stays).

use taskflow_core::Task;

use crate::params::TaskRef;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct DeleteTask;

impl Tool for DeleteTask {
    const NAME: &'static str = "delete_task";
    const TITLE: &'static str = "Delete task";
    const DESCRIPTION: &'static str = "Delete a task for good (its history stays readable). Ask the user to confirm first. Returns the task as it was.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: false,
    };
    type Params = TaskRef;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: TaskRef) -> ToolResult<Task> {
        let task = on.tasks.delete(on.actor, args.id, None).await;
        task.map_err(|e| failure(e, Some(args.id)))
    }
}
