//! Reminders: a number of minutes before the due instant, or an absolute
//! instant.

use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Due, Invalid};

/// The longest offset a reminder may have: one year.
pub const MAX_MINUTES_BEFORE: u32 = 525_600;

/// When to remind the owner of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Reminder {
    /// `{"minutes_before": 15}`: this many minutes before the task is due
    /// (before the start of the day for a date-only due). Needs a due date.
    Before {
        /// Minutes before the due instant, 0 to 525600.
        minutes_before: u32,
    },
    /// `{"at": "2026-03-23T08:45:00Z"}`: at this instant.
    At {
        /// An RFC 3339 instant.
        at: DateTime<Utc>,
    },
}

impl Reminder {
    /// Checks the reminder against the task's due date.
    pub fn check(&self, due: Option<&Due>) -> Result<(), Invalid> {
        match self {
            Reminder::Before { minutes_before } if *minutes_before > MAX_MINUTES_BEFORE => {
                Err(Invalid::new(
                    "reminder",
                    format!("minutes_before must be at most {MAX_MINUTES_BEFORE} (one year)"),
                ))
            }
            Reminder::Before { .. } if due.is_none() => Err(Invalid::new(
                "reminder",
                "a reminder in minutes before the due time needs a due date; set `due` or use {\"at\": \"<RFC 3339 instant>\"}",
            )),
            _ => Ok(()),
        }
    }

    /// The instant the reminder fires, for a task due at `due`.
    pub fn instant(&self, due: Option<&Due>) -> Option<DateTime<Utc>> {
        match self {
            Reminder::Before { minutes_before } => {
                Some(due?.instant() - Duration::minutes(i64::from(*minutes_before)))
            }
            Reminder::At { at } => Some(*at),
        }
    }

    /// The offset in minutes, for a relative reminder.
    pub fn minutes_before(&self) -> Option<u32> {
        match self {
            Reminder::Before { minutes_before } => Some(*minutes_before),
            Reminder::At { .. } => None,
        }
    }

    /// The absolute instant, for an absolute reminder.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Reminder::At { at } => Some(*at),
            Reminder::Before { .. } => None,
        }
    }
}
