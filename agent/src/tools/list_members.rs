//! `list_members`: who can open a list, and as what.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use taskflow_core::Member;

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct ListMembers;

/// `list_members`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMembersParams {
    /// The list's id, from `list_lists`.
    pub list_id: i64,
}

/// The result of `list_members`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Members {
    /// The owner first, then each member with their role (viewer, editor
    /// or admin) and the list whose grant gives it.
    pub members: Vec<Member>,
}

impl Tool for ListMembers {
    const NAME: &'static str = "list_members";
    const TITLE: &'static str = "List members";
    const DESCRIPTION: &'static str = "Who can open a list and what they may do: the owner, then each member as viewer (reads), editor (changes tasks) or admin (also manages the list). The `members` tool set invites people and manages them.";
    const HINTS: Hints = Hints::READ;
    const TOOLSET: Toolset = Toolset::Lists;
    type Params = ListMembersParams;
    type Output = Members;

    async fn run(&self, on: Context<'_>, args: ListMembersParams) -> ToolResult<Members> {
        on.tasks
            .members(on.actor, args.list_id)
            .await
            .map(|members| Members { members })
            .map_err(|e| failure(e, None))
    }
}
