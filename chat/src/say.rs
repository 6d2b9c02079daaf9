//! Short, specific replies about tasks: "Added 'Team meeting' — every
//! Monday at 10:00, high priority. Reminder 15 minutes before."

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

/// A repeat in words: "every Monday", "every 2 weeks on Tue and Thu",
/// "every weekday", "every month". None for a rule it cannot say simply.
pub fn repeat(rule: &str) -> String {
    let mut freq = "";
    let mut interval = 1u32;
    let mut days: Vec<&str> = Vec::new();
    let mut end = String::new();
    for part in rule.split(';') {
        match part.split_once('=') {
            Some(("FREQ", f)) => freq = f,
            Some(("INTERVAL", n)) => interval = n.parse().unwrap_or(1),
            Some(("BYDAY", list)) => days = list.split(',').collect(),
            Some(("COUNT", n)) => end = format!(", {n} times"),
            Some(("UNTIL", until)) => {
                let until = NaiveDate::parse_from_str(until.get(..8).unwrap_or(until), "%Y%m%d")
                    .map(|d| d.format("%-d %b %Y").to_string())
                    .unwrap_or_else(|_| until.to_owned());
                end = format!(", until {until}");
            }
            _ => {}
        }
    }
    let unit = match freq {
        "DAILY" => "day",
        "WEEKLY" => "week",
        "MONTHLY" => "month",
        "YEARLY" => "year",
        _ => return format!("repeating ({rule})"),
    };
    let every = if interval > 1 {
        format!("every {interval} {unit}s")
    } else {
        format!("every {unit}")
    };
    fn name(d: &str) -> &str {
        match d {
            "MO" => "Monday",
            "TU" => "Tuesday",
            "WE" => "Wednesday",
            "TH" => "Thursday",
            "FR" => "Friday",
            "SA" => "Saturday",
            "SU" => "Sunday",
            other => other,
        }
    }
    let text = if days == ["MO", "TU", "WE", "TH", "FR"] && interval == 1 {
        "every weekday".into()
    } else if days.len() == 1 && interval == 1 {
        format!("every {}", name(days[0]))
    } else if !days.is_empty() {
        let names: Vec<&str> = days.iter().map(|d| name(d)).collect();
        format!("{every} on {}", join(&names))
    } else {
        every
    };
    text + &end
}

fn join(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A task in one line: "'Team meeting' — every Monday at 10:00, high
/// priority, #work. Reminder 15 minutes before."
pub fn task(task: &Task, today: NaiveDate) -> String {
    let mut parts = Vec::new();
    match (&task.recurrence, due(task, today)) {
        (Some(rule), Some(due)) => {
            let time = due.split_once(" at ").map(|(_, t)| format!(" at {t}"));
            parts.push(format!(
                "{}{}, starting {}",
                repeat(rule),
                time.unwrap_or_default(),
                due.split(" at ").next().unwrap_or(&due)
            ));
        }
        (Some(rule), None) => parts.push(repeat(rule)),
        (None, Some(due)) => parts.push(format!("due {due}")),
        (None, None) => {}
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
    let (n, unit) = if minutes % 1440 == 0 && minutes > 0 {
        (minutes / 1440, "day")
    } else if minutes % 60 == 0 && minutes > 0 {
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
