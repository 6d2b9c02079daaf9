//! `snooze_task`: hold a task's reminder until later.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use taskflow_core::Task;

use crate::params::split;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct SnoozeTask;

/// `snooze_task`'s arguments: the task's id beside how long.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SnoozeTaskParams {
    /// The task's id, from `list_tasks` or `add_task`.
    pub id: i64,
    #[serde(flatten)]
    pub snooze: taskflow_core::SnoozeTask,
}

impl<'de> Deserialize<'de> for SnoozeTaskParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (id, snooze) = split(deserializer, "id", true)?;
        Ok(Self {
            id: id.unwrap_or_default(),
            snooze,
        })
    }
}

impl Tool for SnoozeTask {
    const NAME: &'static str = "snooze_task";
    const TITLE: &'static str = "Snooze task";
    const DESCRIPTION: &'static str = "Hold an open task's reminder (and overdue notice) until later: `minutes` (1–43200) or `until` (RFC 3339, at most 30 days ahead). The reminder fires again when the snooze ends. The due date does not move; use update_task to reschedule.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    };
    type Params = SnoozeTaskParams;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: SnoozeTaskParams) -> ToolResult<Task> {
        let task = on.tasks.snooze(on.actor, args.id, &args.snooze).await;
        task.map_err(|e| failure(e, Some(args.id)))
    }
}
