//! `link_tasks`: say one task blocks another, or that two belong together;
//! or remove such a link.

use schemars::JsonSchema;
use serde::Deserialize;
use taskflow_core::{LinkKind, Scope, Task};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct LinkTasks;

/// `link_tasks`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTasksParams {
    pub id: i64,
    pub kind: LinkKind,
    pub other_id: i64,
    /// true: remove the link instead.
    #[serde(default)]
    pub remove: bool,
}

impl Tool for LinkTasks {
    const NAME: &'static str = "link_tasks";
    const TITLE: &'static str = "Link tasks";
    const DESCRIPTION: &'static str = "Link task `id` to `other_id`: blocks (id must be done first), blocked_by, or relates; `remove: true` unlinks. A task with an open blocker shows `blocked`; a cycle of blocks is refused.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: true,
    };
    const TOOLSET: Toolset = Toolset::Lists;
    const SCOPE: Scope = Scope::TasksWrite;
    type Params = LinkTasksParams;
    type Output = Task;

    async fn run(&self, on: Context<'_>, args: LinkTasksParams) -> ToolResult<Task> {
        let done = match args.remove {
            false => {
                on.tasks
                    .link(on.actor, args.id, args.kind, args.other_id)
                    .await
            }
            true => {
                on.tasks
                    .unlink(on.actor, args.id, args.kind, args.other_id)
                    .await
            }
        };
        done.map_err(|e| failure(e, Some(args.id)))
    }
}
