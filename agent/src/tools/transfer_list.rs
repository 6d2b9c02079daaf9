//! `transfer_list`: give a list, with everything in it, to a member.

use schemars::JsonSchema;
use serde::Deserialize;
use taskflow_core::{ListSummary, TransferList as Transfer};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure, list_title};

#[derive(Debug, Clone, Copy)]
pub struct TransferList;

/// `transfer_list`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferListParams {
    /// The list's id (a list at the top level).
    pub list_id: i64,
    /// The new owner's user id: a member of the list (see `list_members`).
    pub user: String,
}

impl Tool for TransferList {
    const NAME: &'static str = "transfer_list";
    const TITLE: &'static str = "Transfer list";
    const DESCRIPTION: &'static str = "Give list `list_id`, with the lists in it and all their tasks, to one of its members, who becomes its owner; the user stays as an admin and cannot take it back. Only the owner can, only for a list at the top level.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: false,
    };
    const TOOLSET: Toolset = Toolset::Members;
    const CONFIRMS: bool = true;
    type Params = TransferListParams;
    type Output = ListSummary;

    async fn confirm(&self, on: Context<'_>, args: &TransferListParams) -> Option<String> {
        let list = list_title(on, args.list_id).await?;
        Some(format!(
            "Give the list “{list}” and everything in it to {}? They become its owner; you stay as an admin and cannot take it back.",
            args.user
        ))
    }

    async fn run(&self, on: Context<'_>, args: TransferListParams) -> ToolResult<ListSummary> {
        let input = Transfer { user: args.user };
        on.tasks
            .transfer_list(on.actor, args.list_id, &input)
            .await
            .map_err(|e| failure(e, None))
    }
}
