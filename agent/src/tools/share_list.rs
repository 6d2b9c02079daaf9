//! `share_list`: invite someone to a list, by their exact username.

use schemars::JsonSchema;
use serde::Deserialize;
use taskflow_core::{CreateInvitation, Grant, Invitation};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct ShareList;

/// `share_list`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareListParams {
    /// The list's id, from `list_lists`.
    pub list_id: i64,
    /// Their exact username (case included).
    pub username: String,
    /// What they may do once they accept (default viewer).
    #[serde(default = "viewer")]
    pub role: Grant,
}

fn viewer() -> Grant {
    Grant::Viewer
}

impl Tool for ShareList {
    const NAME: &'static str = "share_list";
    const TITLE: &'static str = "Share list";
    const DESCRIPTION: &'static str = "Invite someone to list `list_id` by their exact username, as viewer (reads), editor (also changes tasks and comments) or admin (also manages members and the list). They are notified and accept it themselves; inviting again changes the role offered. Needs admin; the Inbox is never shared.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: true,
    };
    const TOOLSET: Toolset = Toolset::Members;
    type Params = ShareListParams;
    type Output = Invitation;

    async fn run(&self, on: Context<'_>, args: ShareListParams) -> ToolResult<Invitation> {
        let input = CreateInvitation {
            username: args.username,
            role: args.role,
        };
        on.tasks
            .invite(on.actor, args.list_id, &input)
            .await
            .map_err(|e| failure(e, None))
    }
}
