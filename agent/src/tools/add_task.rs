//! `add_task`: create a task, safely retryable with an idempotency key.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use taskflow_core::{CreateTask, Task};

use crate::params::split;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct AddTask;

/// `add_task`'s arguments: a new task, and a key that makes a retry safe.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AddTaskParams {
    #[serde(flatten)]
    pub task: CreateTask,
    /// Any string unique to this task (such as a UUID). Retrying with the
    /// same key returns the task created the first time instead of a
    /// duplicate; reusing it for a different task is an error.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

impl<'de> Deserialize<'de> for AddTaskParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (idempotency_key, task) = split(deserializer, "idempotency_key", false)?;
        Ok(Self {
            task,
            idempotency_key,
        })
    }
}

impl Tool for AddTask {
    const NAME: &'static str = "add_task";
    const TITLE: &'static str = "Add task";
    const DESCRIPTION: &'static str = "Create a task; only `title` is required. A date-only `due` stays a whole day; with a time, always pass the user's IANA `timezone`. Pass an `idempotency_key` so a retry never creates a duplicate.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    };
    type Params = AddTaskParams;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: AddTaskParams) -> ToolResult<Task> {
        let created = on
            .tasks
            .create(on.actor, &args.task, args.idempotency_key.as_deref())
            .await;
        created.map_err(|e| failure(e, args.task.parent))
    }
}
