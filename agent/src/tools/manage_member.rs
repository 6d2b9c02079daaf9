//! `manage_member`: change a member's role, or remove them (or leave).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use taskflow_core::{Grant, Role, UpdateMember};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure, list_title};

#[derive(Debug, Clone, Copy)]
pub struct ManageMember;

/// What to do to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberAction {
    SetRole,
    Remove,
}

/// `manage_member`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageMemberParams {
    /// The list's id.
    pub list_id: i64,
    /// The member's user id, from `list_members`.
    pub user: String,
    pub action: MemberAction,
    /// The new role (set_role).
    #[serde(default)]
    pub role: Option<Grant>,
}

/// The result of `manage_member`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Membership {
    pub list_id: i64,
    pub user: String,
    /// The role now; null: removed.
    pub role: Option<Role>,
}

impl Tool for ManageMember {
    const NAME: &'static str = "manage_member";
    const TITLE: &'static str = "Manage member";
    const DESCRIPTION: &'static str = "Change a member's role on list `list_id` (set_role, with role viewer, editor or admin) or remove them (remove: their access ends at once). Needs admin; anyone may remove themselves to leave a list. The owner stays.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: true,
    };
    const TOOLSET: Toolset = Toolset::Members;
    const CONFIRMS: bool = true;
    type Params = ManageMemberParams;
    type Output = Membership;

    async fn confirm(&self, on: Context<'_>, args: &ManageMemberParams) -> Option<String> {
        let list = list_title(on, args.list_id).await?;
        (args.action == MemberAction::Remove).then(|| {
            if args.user == on.user() {
                format!("Leave the list “{list}”? You lose access to it at once.")
            } else {
                format!(
                    "Remove {} from the list “{list}”? They lose access to it at once.",
                    args.user
                )
            }
        })
    }

    async fn run(&self, on: Context<'_>, args: ManageMemberParams) -> ToolResult<Membership> {
        let missing = |e| match e {
            taskflow_store::Error::NotFound => format!(
                "`{}` is not a member of list {} (or there is no such list for this user). Call list_members to see its members' user ids.",
                args.user, args.list_id
            ),
            other => failure(other, None),
        };
        let role = match args.action {
            MemberAction::Remove => {
                on.tasks
                    .remove_member(on.actor, args.list_id, &args.user)
                    .await
                    .map_err(missing)?;
                None
            }
            MemberAction::SetRole => {
                let role = args.role.ok_or_else(|| {
                    "Give `role` (viewer, editor or admin) for set_role.".to_owned()
                })?;
                let member = on
                    .tasks
                    .update_member(on.actor, args.list_id, &args.user, &UpdateMember { role })
                    .await
                    .map_err(missing)?;
                Some(member.role)
            }
        };
        Ok(Membership {
            list_id: args.list_id,
            user: args.user,
            role,
        })
    }
}
