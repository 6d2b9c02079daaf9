//! `complete_task`: mark a task done (a recurring one brings its next
//! occurrence).

use schemars::JsonSchema;
use serde::Serialize;
use taskflow_core::{CompleteQuery, LinkedTask, Task, TaskInclude};

use crate::params::WithId;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct CompleteTask;

/// The result of `complete_task`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Completed {
    pub task: Task,
    /// For a recurring task: the next occurrence is created right after
    /// (its `previous_id` is this task's id); `list_tasks` shows it.
    pub recurring: bool,
    /// Open tasks that still block it (it was done anyway).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<LinkedTask>,
}

impl Tool for CompleteTask {
    const NAME: &'static str = "complete_task";
    const TITLE: &'static str = "Complete task";
    const DESCRIPTION: &'static str = "Mark a task done. For a recurring task, the next occurrence is created right after (its previous_id is this task's id). Completing a done task changes nothing. A task with open subtasks needs `cascade: true`.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: true,
    };
    type Params = WithId<CompleteQuery>;
    type Output = Completed;

    async fn run(&self, on: Context<'_>, args: WithId<CompleteQuery>) -> ToolResult<Completed> {
        let cascade = args.fields.cascade.unwrap_or(false);
        let task = on
            .tasks
            .complete(on.actor, args.id, None, cascade)
            .await
            .map_err(|e| failure(e, Some(args.id)))?;
        let blocked_by = match task.blocked {
            true => {
                let links = TaskInclude {
                    include: Some("links".into()),
                };
                let detail = on.tasks.get_detail(on.user(), task.id, &links).await;
                let links = detail.map_err(|e| failure(e, Some(args.id)))?.links;
                links
                    .map(|l| l.blocked_by.into_iter().filter(|t| !t.completed).collect())
                    .unwrap_or_default()
            }
            false => Vec::new(),
        };
        Ok(Completed {
            recurring: task.recurrence.is_some(),
            task,
            blocked_by,
        })
    }
}
