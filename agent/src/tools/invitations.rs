//! `list_invitations` and `answer_invitation`: the invitations waiting for
//! the user, and their answer.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use taskflow_core::{Invitation, ListSummary};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct ListInvitations;

/// `list_invitations` takes nothing.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// The result of `list_invitations`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Invitations {
    /// Newest first: each list, who invited the user, and as what.
    pub invitations: Vec<Invitation>,
}

impl Tool for ListInvitations {
    const NAME: &'static str = "list_invitations";
    const TITLE: &'static str = "List invitations";
    const DESCRIPTION: &'static str = "The invitations to other people's lists waiting for the user: the list, who invited them and as what. answer_invitation accepts or declines one.";
    const HINTS: Hints = Hints::READ;
    const TOOLSET: Toolset = Toolset::Members;
    type Params = NoParams;
    type Output = Invitations;

    async fn run(&self, on: Context<'_>, _: NoParams) -> ToolResult<Invitations> {
        on.tasks
            .invitations(on.user())
            .await
            .map(|invitations| Invitations { invitations })
            .map_err(|e| failure(e, None))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct AnswerInvitation;

/// `answer_invitation`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInvitationParams {
    /// The invitation's id, from `list_invitations`.
    pub id: i64,
    /// true: join the list; false: decline.
    pub accept: bool,
}

/// The result of `answer_invitation`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Answered {
    pub accepted: bool,
    /// The list joined, as the user now sees it; null when declined.
    pub list: Option<ListSummary>,
}

impl Tool for AnswerInvitation {
    const NAME: &'static str = "answer_invitation";
    const TITLE: &'static str = "Answer invitation";
    const DESCRIPTION: &'static str = "Accept or decline invitation `id` (from list_invitations). Accepting makes the user a member of its list with the role offered; only do it when the user says so.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    };
    const TOOLSET: Toolset = Toolset::Members;
    type Params = AnswerInvitationParams;
    type Output = Answered;

    async fn run(&self, on: Context<'_>, args: AnswerInvitationParams) -> ToolResult<Answered> {
        let missing = |e| match e {
            taskflow_store::Error::NotFound => format!(
                "There is no invitation {} waiting for this user. Call list_invitations to see theirs.",
                args.id
            ),
            other => failure(other, None),
        };
        if args.accept {
            let list = on
                .tasks
                .accept_invitation(on.actor, args.id)
                .await
                .map_err(missing)?;
            return Ok(Answered {
                accepted: true,
                list: Some(list),
            });
        }
        on.tasks
            .decline_invitation(on.user(), args.id)
            .await
            .map_err(missing)?;
        Ok(Answered {
            accepted: false,
            list: None,
        })
    }
}
