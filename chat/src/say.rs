//! Short, specific replies about tasks: "Added 'Team meeting' — due Mon 30
//! Mar at 10:00, repeating every Monday at 10:00, high priority. Reminder
//! 15 minutes before." A repeat is worded once, by core (`recurrence_text`).

use chrono::{NaiveDate, NaiveDateTime};
use taskflow_core::{Due, Priority, Reminder, Task};

/// "Mon 30 Mar", with the year when it is not this year's.
pub fn date(date: NaiveDate, today: NaiveDate) -> String {
    use chrono::Datelike;
    if date == today {
        "today".into()
    } else if Some(date) == today.succ_opt() {
        "tomorrow".into()
    } else if date.year() == today.year() {
        date.format("%a %-d %b").to_string()
    } else {
        date.format("%a %-d %b %Y").to_string()
    }
}

/// When a task is due: "Mon 30 Mar at 10:00", "tomorrow".
pub fn due(task: &Task, today: NaiveDate) -> Option<String> {
    let text = task.due.as_deref()?;
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date(day, today));
    }
    let at = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok()?;
    Some(format!(
        "{} at {}",
        date(at.date(), today),
        at.format("%H:%M")
    ))
}

/// A due date in words.
pub fn when(due: &Due, today: NaiveDate) -> String {
    match due.time() {
        Some(time) => format!("{} at {}", date(due.date(), today), time.format("%H:%M")),
        None => date(due.date(), today),
    }
}

/// A task in one line: "'Team meeting' — due Mon 30 Mar at 10:00,
/// repeating every Monday at 10:00, high priority, #work. Reminder 15
/// minutes before."
pub fn task(task: &Task, today: NaiveDate) -> String {
    let mut parts = Vec::new();
    if let Some(due) = due(task, today) {
        parts.push(format!("due {due}"));
    }
    if let Some(repeat) = &task.recurrence_text {
        parts.push(format!("repeating {repeat}"));
    }
    if task.priority != Priority::None {
        parts.push(format!("{} priority", task.priority.as_str()));
    }
    if !task.tags.is_empty() {
        parts.push(
            task.tags
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    let mut text = format!("'{}'", task.title);
    if !parts.is_empty() {
        text.push_str(" — ");
        text.push_str(&parts.join(", "));
    }
    text.push('.');
    match task.reminder {
        Some(Reminder::Before { minutes_before: 0 }) => text.push_str(" Reminder when it is due."),
        Some(Reminder::Before { minutes_before }) => {
            text.push_str(&format!(" Reminder {} before.", minutes(minutes_before)));
        }
        Some(Reminder::At { at }) => text.push_str(&format!(
            " Reminder at {}.",
            at.format("%Y-%m-%d %H:%M UTC")
        )),
        None => {}
    }
    text
}

/// "15 minutes", "1 hour", "2 days".
pub fn minutes(minutes: u32) -> String {
    let (n, unit) = if minutes.is_multiple_of(1440) && minutes > 0 {
        (minutes / 1440, "day")
    } else if minutes.is_multiple_of(60) && minutes > 0 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A task in a list: "'Team meeting' (task 3, Mon 30 Mar at 10:00)".
pub fn item(task: &Task, today: NaiveDate) -> String {
    let mut text = format!("'{}' (task {}", task.title, task.id);
    if let Some(due) = due(task, today) {
        text.push_str(", ");
        text.push_str(&due);
    }
    if task.priority == Priority::High {
        text.push_str(", high priority");
    }
    if task.completed {
        text.push_str(", done");
    }
    text.push(')');
    text
}
