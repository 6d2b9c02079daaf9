//! `update_task`: change some fields of a task.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use taskflow_core::Task;

use crate::params::split;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct UpdateTask;

/// `update_task`'s arguments: the task's id beside the changes.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateTaskParams {
    /// The task's id, from `list_tasks` or `add_task`.
    pub id: i64,
    #[serde(flatten)]
    pub changes: taskflow_core::UpdateTask,
}

impl<'de> Deserialize<'de> for UpdateTaskParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (id, changes) = split(deserializer, "id", true)?;
        Ok(Self {
            id: id.unwrap_or_default(),
            changes,
        })
    }
}

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
        let updated = on
            .tasks
            .update(on.actor, args.id, &args.changes, None)
            .await;
        updated.map_err(|e| failure(e, Some(args.id)))
    }
}
