//! `add_comment`: say something about a task, for the people it is shared
//! with.

use schemars::JsonSchema;
use serde::Deserialize;
use taskflow_core::{Comment, Scope, WriteComment};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset, failure};

#[derive(Debug, Clone, Copy)]
pub struct AddComment;

/// `add_comment`'s arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCommentParams {
    /// The task's id.
    pub id: i64,
    /// The comment, 1–10000 characters.
    #[schemars(length(min = 1, max = taskflow_core::MAX_COMMENT))]
    pub body: String,
}

impl Tool for AddComment {
    const NAME: &'static str = "add_comment";
    const TITLE: &'static str = "Comment on a task";
    const DESCRIPTION: &'static str = "Add a comment to task `id`, in the user's name; everyone the task's list is shared with sees it. get_task with include comments reads them.";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    };
    const TOOLSET: Toolset = Toolset::Lists;
    const SCOPE: Scope = Scope::CommentsWrite;
    type Params = AddCommentParams;
    type Output = Comment;

    async fn run(&self, on: Context<'_>, args: AddCommentParams) -> ToolResult<Comment> {
        on.tasks
            .add_comment(on.actor, args.id, &WriteComment { body: args.body })
            .await
            .map_err(|e| failure(e, Some(args.id)))
    }
}
