//! `list_lists`: the user's lists, to put tasks in by id or title.

use schemars::JsonSchema;
use serde::Serialize;
use taskflow_core::{ListSummary, ListsQuery};

use crate::tool::{Context, Hints, Tool, ToolResult, failure};

#[derive(Debug, Clone, Copy)]
pub struct ListLists;

/// The result of `list_lists`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Lists {
    /// The Inbox first, then in the user's order; `parent_id` nests them.
    pub lists: Vec<ListSummary>,
}

impl Tool for ListLists {
    const NAME: &'static str = "list_lists";
    const TITLE: &'static str = "List lists";
    const DESCRIPTION: &'static str = "The user's lists (projects) with open task counts: the Inbox first. Pass a list's id or exact title as `list` to add_task, update_task, move_task or list_tasks (`list_id`).";
    const HINTS: Hints = Hints::READ;
    type Params = ListsQuery;
    type Output = Lists;

    async fn run(&self, on: Context<'_>, args: ListsQuery) -> ToolResult<Lists> {
        let lists = on.tasks.lists(on.actor, &args).await;
        lists
            .map(|lists| Lists { lists })
            .map_err(|e| failure(e, None))
    }
}
