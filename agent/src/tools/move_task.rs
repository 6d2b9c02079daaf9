//! `move_task`: put a task in another list, under another task, or in
//! another place of the manual order.

use taskflow_core::Task;

use crate::params::WithId;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct MoveTask;

/// `move_task`'s arguments: the task's id beside where it goes.
pub type MoveTaskParams = WithId<taskflow_core::MoveTask>;

impl Tool for MoveTask {
    const NAME: &'static str = "move_task";
    const TITLE: &'static str = "Move task";
    const DESCRIPTION: &'static str = "Move a task (with its subtasks) to another `list`, under a `parent` task (null: top level), and/or before_id, after_id or to top|bottom among its siblings.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    };
    type Params = MoveTaskParams;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: MoveTaskParams) -> ToolResult<Task> {
        let moved = on
            .tasks
            .move_task(on.actor, args.id, &args.fields, None)
            .await;
        moved.map_err(|e| failure(e, Some(args.id)))
    }
}
