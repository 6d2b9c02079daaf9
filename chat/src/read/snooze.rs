//! Snoozing: "snooze the dentist for 2 hours", "snooze it until tomorrow
//! 9am", "snooze the report", "remind me about the report again in 10
//! minutes".

use taskflow_core::SnoozeTask;

use super::Message;
use super::command::{Change, Command};
use super::target::target;
use super::when;

/// Snoozing without a length holds the reminder this long.
const DEFAULT_MINUTES: u32 = 60;

pub fn read(message: &Message) -> Option<Command> {
    let w = message.lower();
    let n = w.len();
    let original = &message.words.original;
    // "remind me about X again in 10 minutes"
    if message.words.starts_with(&["remind", "me", "about"])
        || message.words.starts_with(&["remind", "me", "of"])
    {
        let again = w.iter().position(|x| *x == "again")?;
        let minutes = minutes(message, &w, again + 1)?;
        let target = message.unquoted(target(&w[3..again], &original[3..again]));
        return Some(snooze(target, minutes));
    }
    if !matches!(w[0], "snooze" | "postpone-reminder") {
        return None;
    }
    let end = w
        .iter()
        .position(|x| matches!(*x, "for" | "until" | "till" | "til" | "by" | "to" | "in"))
        .unwrap_or(n);
    let target = message.unquoted(target(&w[1..end], &original[1..end]));
    let minutes = if end < n {
        match minutes(message, &w, end) {
            Some(minutes) => minutes,
            None => return super::leftover::cannot_place(&w[end..]),
        }
    } else {
        DEFAULT_MINUTES
    };
    Some(snooze(target, minutes))
}

fn snooze(target: super::command::Target, minutes: u32) -> Command {
    Command::OnTask {
        target,
        change: Change::Snooze(SnoozeTask {
            minutes: Some(minutes),
            until: None,
        }),
    }
}

/// "for 2 hours", "in 10 minutes", "until tomorrow 9am" (a day without a
/// time means 09:00), from `at`.
fn minutes(message: &Message, w: &[&str], at: usize) -> Option<u32> {
    let now = message.now;
    match w.get(at).copied()? {
        "for" | "in" => when::duration_at(w, at + 1).map(|(_, m)| m),
        _ => {
            let from = if matches!(w[at], "until" | "till" | "til" | "to" | "by") {
                at + 1
            } else {
                at
            };
            let (_, mut moment) = when::when_at(w, from, now)?;
            if moment.time.is_none() {
                moment.time = chrono::NaiveTime::from_hms_opt(9, 0, 0);
            }
            let minutes = now.minutes_until(moment.local());
            u32::try_from(minutes).ok().filter(|m| *m > 0)
        }
    }
}
