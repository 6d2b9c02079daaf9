//! `get_task`: one task with its whole description.

use taskflow_core::{TaskDetail, TaskInclude};

use crate::params::TaskRef;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct GetTask;

impl Tool for GetTask {
    const NAME: &'static str = "get_task";
    const TITLE: &'static str = "Get task";
    const DESCRIPTION: &'static str = "Get one task by id, with its full description, its subtasks in order, its links and its newest comments.";
    const HINTS: Hints = Hints::READ;
    type Params = TaskRef;
    type Output = TaskDetail;

    async fn run(&self, on: Context<'_>, args: TaskRef) -> ToolResult<TaskDetail> {
        let all = TaskInclude {
            include: Some("children,links,comments".into()),
        };
        let task = on.tasks.get_detail(on.user(), args.id, &all).await;
        task.map_err(|e| failure(e, Some(args.id)))
    }
}
