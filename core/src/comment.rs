//! Comments on a task: what the people of a shared list say about it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Invalid, UserSummary};

/// The longest comment, in characters.
pub const MAX_COMMENT: usize = 10_000;

/// A comment on a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Comment {
    pub id: i64,
    pub task_id: i64,
    /// Who wrote it.
    pub author: UserSummary,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// When it was last edited (its creation, if never).
    pub updated_at: DateTime<Utc>,
}

/// A comment to write, or a comment's new text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteComment {
    /// The text, 1–10,000 characters.
    #[schemars(length(min = 1, max = MAX_COMMENT))]
    pub body: String,
}

impl WriteComment {
    /// The text, trimmed and checked.
    pub fn parse(&self) -> Result<String, Invalid> {
        let body = self.body.trim();
        if body.is_empty() {
            return Err(Invalid::new("body", "a comment needs some text"));
        }
        if body.chars().count() > MAX_COMMENT {
            return Err(Invalid::new(
                "body",
                format!("a comment is at most {MAX_COMMENT} characters"),
            ));
        }
        if body.chars().any(crate::task::is_forbidden_control) {
            return Err(Invalid::new(
                "body",
                "a comment must not contain control characters (newlines and tabs are fine)",
            ));
        }
        Ok(body.to_owned())
    }
}

/// One page of a task's comments, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommentPage {
    pub comments: Vec<Comment>,
    /// Pass as `before` for older comments; null on the last page.
    pub next_before: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_is_trimmed_text_of_at_most_ten_thousand_characters() {
        let write = |body: &str| {
            WriteComment {
                body: body.to_owned(),
            }
            .parse()
        };
        assert_eq!(
            write("  draft is in the drive \n").unwrap(),
            "draft is in the drive"
        );
        assert_eq!(write("line one\nline two").unwrap(), "line one\nline two");
        assert_eq!(write(" \n ").unwrap_err().field, "body");
        assert_eq!(write("bell\u{7}").unwrap_err().field, "body");
        assert!(write(&"é".repeat(MAX_COMMENT)).is_ok());
        assert_eq!(
            write(&"é".repeat(MAX_COMMENT + 1)).unwrap_err().field,
            "body"
        );
    }
}
