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
        #[schemars(range(max = MAX_MINUTES_BEFORE))]
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
            Reminder::At { at } if !crate::due::YEARS.contains(&chrono::Datelike::year(at)) => {
                Err(Invalid::new(
                    "reminder",
                    format!(
                        "the reminder's year must be between {} and {}",
                        crate::due::YEARS.start(),
                        crate::due::YEARS.end()
                    ),
                ))
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reminders_read_either_shape_and_nothing_else() {
        let before: Reminder = serde_json::from_value(json!({"minutes_before": 15})).unwrap();
        assert_eq!(before, Reminder::Before { minutes_before: 15 });
        let at: Reminder = serde_json::from_value(json!({"at": "2026-03-23T08:45:00Z"})).unwrap();
        assert_eq!(at.at().unwrap().to_rfc3339(), "2026-03-23T08:45:00+00:00");
        for bad in [
            json!({"minutes_before": -5}),
            json!({"minutes_before": 5, "at": "2026-03-23T08:45:00Z"}),
            json!({"minutes": 5}),
            json!(15),
        ] {
            assert!(
                serde_json::from_value::<Reminder>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_relative_reminder_needs_a_due_date_and_a_sane_offset() {
        let due = Due::parse("2026-03-23T10:00", crate::Zone::UTC).unwrap();
        let fifteen = Reminder::Before { minutes_before: 15 };
        assert_eq!(
            fifteen.instant(Some(&due)).unwrap().to_rfc3339(),
            "2026-03-23T09:45:00+00:00"
        );
        assert_eq!(fifteen.check(None).unwrap_err().field, "reminder");
        let huge = Reminder::Before {
            minutes_before: MAX_MINUTES_BEFORE + 1,
        };
        assert_eq!(huge.check(Some(&due)).unwrap_err().field, "reminder");
    }
}
