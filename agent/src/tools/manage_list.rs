//! `manage_list`: create, rename, nest, archive or restore a list.

use schemars::JsonSchema;
use serde::Deserialize;
use taskflow_core::{CreateList, List, MoveList, UpdateList};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct ManageList;

/// What to do to a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListAction {
    Create,
    Rename,
    Move,
    Archive,
    Unarchive,
}

/// `manage_list`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageListParams {
    pub action: ListAction,
    /// The list (not for create).
    #[serde(default)]
    pub id: Option<i64>,
    /// The name (create, rename).
    #[serde(default)]
    pub title: Option<String>,
    /// The list to nest it in (create, move); null for move: top level.
    #[serde(default)]
    pub parent_id: Option<i64>,
}

impl Tool for ManageList {
    const NAME: &'static str = "manage_list";
    const TITLE: &'static str = "Manage list";
    const DESCRIPTION: &'static str = "Create a list (title, optional parent_id), rename it, move it under parent_id (absent: top level), archive it (read-only, hidden) or unarchive it. The Inbox cannot be moved or archived.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    };
    const TOOLSET: Toolset = Toolset::Lists;
    type Params = ManageListParams;
    type Output = List;

    async fn run(&self, on: Context<'_>, args: ManageListParams) -> ToolResult<List> {
        let id = || {
            args.id
                .ok_or_else(|| "Give the list's `id` (call list_lists to find it).".to_owned())
        };
        let title = || {
            args.title
                .clone()
                .ok_or_else(|| "Give the list's `title`.".to_owned())
        };
        let tasks = on.tasks;
        let done = match args.action {
            ListAction::Create => {
                let input = CreateList {
                    title: title()?,
                    parent_id: args.parent_id,
                    ..CreateList::default()
                };
                tasks.create_list(on.actor, &input).await
            }
            ListAction::Rename => {
                let patch = UpdateList {
                    title: Some(title()?),
                    ..UpdateList::default()
                };
                tasks.update_list(on.actor, id()?, &patch, None).await
            }
            ListAction::Move => {
                let input = MoveList {
                    parent_id: Some(args.parent_id),
                    ..MoveList::default()
                };
                tasks.move_list(on.actor, id()?, &input).await
            }
            ListAction::Archive => tasks.archive_list(on.actor, id()?, None).await,
            ListAction::Unarchive => tasks.unarchive_list(on.actor, id()?, None).await,
        };
        done.map_err(|e| failure(e, None))
    }
}
