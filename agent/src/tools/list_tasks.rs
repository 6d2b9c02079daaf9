//! `list_tasks`: the REST list's search, filters, order and pages, in
//! pages small enough for a model's context.

use schemars::JsonSchema;
use serde::Serialize;
use taskflow_core::{ListQuery, Task};

use crate::params::Paged;
use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct ListTasks;

/// The most tasks one call returns, so a result stays well inside a
/// model's tool-output budget.
pub const MAX_LIST: u32 = 50;
/// Tasks per call when `limit` is left out.
const DEFAULT_LIST: u32 = 20;
/// Descriptions in lists are cut to this many characters (`get_task` has
/// the whole text).
pub const LIST_DESCRIPTION_CHARS: usize = 280;

/// `list_tasks`' arguments: the REST list's, with smaller pages.
pub type ListTasksParams = Paged<ListQuery, MAX_LIST, DEFAULT_LIST>;

/// A page of tasks.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskList {
    /// The tasks, in the requested order. Long descriptions end in `…`;
    /// `get_task` returns the full text.
    pub tasks: Vec<Task>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl Tool for ListTasks {
    const NAME: &'static str = "list_tasks";
    const TITLE: &'static str = "List tasks";
    const DESCRIPTION: &'static str = "List the user's tasks, a page at a time. Filters: `q` (words in title or description), `status` (open, completed, all; default all), `priority`, `tag`, `due_before`/`due_after` (date or RFC 3339), `overdue: true`, `sort` (due, created, priority, title; prefix `-` to reverse). Pass `next_cursor` back as `cursor` for the next page.";
    const HINTS: Hints = Hints::READ;
    type Params = ListTasksParams;
    type Output = TaskList;

    async fn run(
        &self,
        on: Context<'_>,
        Paged(mut query): ListTasksParams,
    ) -> ToolResult<TaskList> {
        query.limit = Some(ListTasksParams::limit(query.limit, "cursor")?);
        let page = on
            .tasks
            .list(on.user(), &query)
            .await
            .map_err(|e| failure(e, None))?;
        Ok(TaskList {
            tasks: page.tasks.into_iter().map(trim).collect(),
            next_cursor: page.next_cursor,
        })
    }
}

/// Shortens a long description for a list.
fn trim(mut task: Task) -> Task {
    if let Some(description) = &mut task.description
        && description.chars().count() > LIST_DESCRIPTION_CHARS
    {
        *description = description
            .chars()
            .take(LIST_DESCRIPTION_CHARS)
            .chain(['…'])
            .collect();
    }
    task
}
