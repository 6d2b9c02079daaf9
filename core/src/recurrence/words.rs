//! A recurrence rule in words: the one wording every surface shows (the
//! task's `recurrence_text`, chat replies, the dashboard, MCP results), so
//! a rule reads the same everywhere: "every Monday at 10:00, 3 more times".

use std::fmt::Write as _;

use chrono::{Datelike, Timelike, Weekday};

use super::{End, Frequency, RecurrenceRule};
use crate::Due;

impl RecurrenceRule {
    /// The rule of a task due at `due`, in a series that began at `anchor`,
    /// in words: how often, on which days, at what time, and how many more
    /// occurrences follow this one (or until when).
    pub fn describe(&self, anchor: &Due, due: &Due) -> String {
        let mut text = self.cadence(anchor.date());
        if let Some(time) = due.time() {
            let _ = write!(text, " at {:02}:{:02}", time.hour(), time.minute());
        }
        match self.end {
            None => {}
            Some(End::Count(count)) => {
                let left = self
                    .index_of(anchor, due)
                    .map_or(0, |index| u64::from(count).saturating_sub(index + 1));
                text.push_str(&match left {
                    0 => ", ending with this one".to_owned(),
                    1 => ", 1 more time".to_owned(),
                    n => format!(", {n} more times"),
                });
            }
            Some(End::UntilDate(date)) => {
                text.push_str(&format!(", until {}", date.format("%-d %B %Y")));
            }
            Some(End::UntilInstant(at)) => {
                let date = due.zone().local(at).date();
                text.push_str(&format!(", until {}", date.format("%-d %B %Y")));
            }
        }
        text
    }

    /// "every day", "every 2 weeks on Tuesday and Thursday", "every
    /// weekday", "every month on the 31st", "every year on 5 March".
    fn cadence(&self, anchor: chrono::NaiveDate) -> String {
        let n = self.interval;
        let every = |unit: &str| match n {
            1 => format!("every {unit}"),
            n => format!("every {n} {unit}s"),
        };
        match self.freq {
            Frequency::Daily => every("day"),
            Frequency::Weekly => {
                let days = match self.by_day.as_slice() {
                    [] => vec![anchor.weekday()],
                    days => days.to_vec(),
                };
                let weekdays = [
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                ];
                match (n, days.as_slice()) {
                    (1, days) if days == weekdays => "every weekday".into(),
                    (1, days) => format!("every {}", names(days)),
                    (_, days) => format!("{} on {}", every("week"), names(days)),
                }
            }
            Frequency::Monthly => format!("{} on the {}", every("month"), ordinal(anchor.day())),
            Frequency::Yearly => format!("{} on {}", every("year"), anchor.format("%-d %B")),
        }
    }
}

/// "Monday", "Monday and Thursday", "Monday, Wednesday and Friday".
fn names(days: &[Weekday]) -> String {
    let names: Vec<&str> = days.iter().map(|d| name(*d)).collect();
    match names.as_slice() {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

fn name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// "1st", "2nd", "3rd", "11th", "22nd", "31st".
fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}
