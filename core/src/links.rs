//! Links between tasks and the detail view that shows them: `blocks` (from
//! the blocker; its inverse `blocked_by` is the same link read the other
//! way) and `relates` (either way).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::{Invalid, Task};

/// How two tasks are linked, as the path names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LinkKind {
    /// This task must be done before the other.
    Blocks,
    /// The other task must be done before this one.
    BlockedBy,
    /// The two belong together.
    Relates,
}

impl LinkKind {
    /// Parses the path segment.
    pub fn parse(text: &str) -> Result<LinkKind, Invalid> {
        text.parse().map_err(|_| {
            Invalid::new(
                "kind",
                format!("`{text}` is not a link; use blocks, blocked_by or relates"),
            )
        })
    }

    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A linked task, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LinkedTask {
    pub id: i64,
    pub title: String,
    pub completed: bool,
}

/// A task's links, each kind read from its side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Links {
    /// Tasks this one blocks.
    pub blocks: Vec<LinkedTask>,
    /// Tasks that block this one (open ones make it `blocked`).
    pub blocked_by: Vec<LinkedTask>,
    pub relates: Vec<LinkedTask>,
}

/// A task with, when asked, its subtasks and links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    /// Its subtasks in the manual order (with `include=children`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<Task>>,
    /// Its links (with `include=links`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    /// Its newest comments, at most 10 (with `include=comments`; the rest
    /// from `GET /api/tasks/{id}/comments?before=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<crate::CommentPage>,
}

/// The parts a task's detail view is asked to include.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Included {
    pub children: bool,
    pub links: bool,
    pub comments: bool,
}

/// What `GET /api/tasks/{id}` adds to the task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInclude {
    /// Comma-separated: `children`, `links`, `comments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
}

impl TaskInclude {
    /// The parts asked for.
    pub fn parts(&self) -> Result<Included, Invalid> {
        let mut out = Included::default();
        for part in self.include.as_deref().unwrap_or_default().split(',') {
            match part.trim() {
                "" => {}
                "children" => out.children = true,
                "links" => out.links = true,
                "comments" => out.comments = true,
                other => {
                    return Err(Invalid::new(
                        "include",
                        format!(
                            "`{other}` cannot be included; use children, links and/or comments"
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// Completing a task: `cascade=true` completes its open subtasks with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteQuery {
    /// true: complete its open subtasks too (each with its own event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade: Option<bool>,
}
