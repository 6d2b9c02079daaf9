//! `get_task`: one task with its whole description.

use taskflow_core::Task;

use crate::params::TaskRef;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct GetTask;

impl Tool for GetTask {
    const NAME: &'static str = "get_task";
    const TITLE: &'static str = "Get task";
    const DESCRIPTION: &'static str = "Get one task by id, with its full description.";
    const HINTS: Hints = Hints::READ;
    type Params = TaskRef;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: TaskRef) -> ToolResult<Task> {
        let task = on.tasks.get(on.user(), args.id).await;
        task.map_err(|e| failure(e, Some(args.id)))
    }
}
