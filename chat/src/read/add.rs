//! Adding a task: "add call mom tomorrow at 5pm", "remind me to call Sam
//! at 5", "I need to buy stamps", "water the garden every morning at 7
//! until the end of May". Every word is placed — title, moment, repeat,
//! reminder, priority, tags — or the reader asks.

use chrono::{Days, NaiveDate};
use taskflow_core::{CreateTask, Reminder};

use super::command::{Command, InList};
use super::leftover::{self, Placed};
use super::parts::{take_priority, take_reminder, take_tags, take_when};
use super::repeat::take_repeat;
use super::when::When;
use super::words::{QUOTED, capitalise};
use super::{Message, zone_name};

/// How an add begins, longest first; `true` when it asks for a reminder.
const LEADS: &[(&[&str], bool)] = &[
    (&["can", "you", "remind", "me", "to"], true),
    (&["please", "remind", "me", "to"], true),
    (&["set", "a", "reminder", "to"], true),
    (&["set", "a", "reminder", "for"], true),
    (&["add", "a", "reminder", "to"], true),
    (&["remind", "me", "to"], true),
    (&["remind", "me"], true),
    (&["don't", "let", "me", "forget", "to"], false),
    (&["can", "you", "add", "a", "task", "to"], false),
    (&["can", "you", "add"], false),
    (&["could", "you", "add"], false),
    (&["add", "a", "task", "to"], false),
    (&["add", "a", "new", "task"], false),
    (&["add", "a", "task"], false),
    (&["add", "new", "task"], false),
    (&["add", "task"], false),
    (&["add", "a", "todo"], false),
    (&["add", "todo"], false),
    (&["add", "to", "my", "list"], false),
    (&["add"], false),
    (&["create", "a", "task", "to"], false),
    (&["create", "a", "task"], false),
    (&["create", "task"], false),
    (&["create"], false),
    (&["make", "a", "task", "to"], false),
    (&["new", "task"], false),
    (&["new", "todo"], false),
    (&["note", "to", "self"], false),
    (&["i", "need", "to"], false),
    (&["i", "have", "to"], false),
    (&["i've", "got", "to"], false),
    (&["i", "gotta"], false),
    (&["i", "must"], false),
    (&["i", "should"], false),
    (&["need", "to"], false),
    (&["gotta"], false),
    (&["don't", "forget", "to"], false),
    (&["dont", "forget", "to"], false),
    (&["todo"], false),
    (&["to-do"], false),
    (&["schedule"], false),
    (&["put"], false),
];

/// Trailing phrases that name the list, not the task.
const ON_THE_LIST: &[&[&str]] = &[
    &["to", "my", "to-do", "list"],
    &["to", "my", "todo", "list"],
    &["on", "my", "to-do", "list"],
    &["on", "my", "todo", "list"],
    &["to", "my", "list"],
    &["on", "my", "list"],
    &["to", "the", "list"],
    &["to", "my", "tasks"],
    &["to", "my", "todos"],
];

/// Reads an add, or `None` when the message is not one.
pub fn read(message: &Message) -> Option<Command> {
    let mut words = message.words.clone();
    let (lead, remind) = LEADS.iter().find(|(lead, _)| words.starts_with(lead))?;
    words.take(0, lead.len());
    let now = message.now;
    for phrase in ON_THE_LIST {
        let n = words.len();
        if n >= phrase.len() && words.is_free(n - phrase.len(), phrase.len()) {
            let tail = &words.lower[n - phrase.len()..];
            if tail.iter().zip(phrase.iter()).all(|(a, b)| a == b) {
                words.take(n - phrase.len(), phrase.len());
            }
        }
    }
    // A quoted title is taken as it is.
    if let Some(at) = words.lower.iter().position(|w| w == QUOTED) {
        words.take(at, 1);
    }
    let priority = take_priority(&mut words);
    let tags = take_tags(&mut words);
    let reminder = take_reminder(&mut words);
    let repeat = take_repeat(&mut words, now);
    let said = take_when(&mut words, now);

    let unplaced = leftover::unplaced(
        &words,
        Placed {
            date: said.is_some(),
            time: said.is_some_and(|w| w.time.is_some())
                || repeat.as_ref().is_some_and(|r| r.time.is_some()),
            repeat: repeat.is_some(),
            priority: priority.is_some(),
        },
    );
    if !unplaced.is_empty() {
        return Some(Command::Ask {
            question: leftover::question(&unplaced),
        });
    }
    let title = match &message.quoted {
        // Words beside a quoted title must each be placed.
        Some(_) if !words.rest().is_empty() => {
            return Some(Command::Ask {
                question: format!(
                    "I took the title in quotes, but not '{}'. What did you mean by it?",
                    words.rest()
                ),
            });
        }
        Some(quoted) => quoted.clone(),
        None => capitalise(&words.rest()),
    };
    if title.is_empty() {
        return Some(Command::Ask {
            question: "What should the task be called?".into(),
        });
    }

    // The first due: what was said, moved to the first day the repeat
    // falls on, at the repeat's hour ("every morning").
    let mut due = said;
    if let Some(repeat) = &repeat {
        let today = now.today();
        let mut first = due.unwrap_or(When {
            date: today,
            time: None,
            weekday: None,
        });
        if first.time.is_none() {
            first.time = repeat.time;
        }
        let passed = |date: NaiveDate, first: &When| {
            date == today && first.time.is_some_and(|t| t <= now.local.time())
        };
        let mut date = repeat.first_on_or_after(first.date);
        if passed(date, &first) {
            date = repeat.first_on_or_after(today + Days::new(1));
        }
        first.date = date;
        due = Some(first);
    }
    let remind_at_due = *remind && reminder.is_none();
    if (remind_at_due || reminder.is_some()) && due.is_none_or(|d| d.time.is_none()) {
        return Some(Command::Ask {
            question: format!(
                "When should I remind you to {}? Give a day and a time, such as \"tomorrow at 9am\".",
                title.to_lowercase()
            ),
        });
    }
    let recurrence = match (&repeat, &due) {
        (Some(repeat), Some(due)) => match repeat.rule(due.date, due.weekday) {
            Ok(rule) => Some(rule.to_string()),
            Err(invalid) => {
                return Some(Command::Refuse {
                    reason: invalid.reason,
                });
            }
        },
        _ => None,
    };
    let task = CreateTask {
        title,
        priority,
        tags,
        due: due.map(|d| d.due_text()),
        timezone: due
            .is_some_and(|d| d.time.is_some())
            .then(|| zone_name(&now)),
        recurrence,
        reminder: reminder
            .or(remind_at_due.then_some(0))
            .map(|minutes_before| Reminder::Before { minutes_before }),
        ..CreateTask::default()
    };
    let in_list = match (*remind, &message.quoted) {
        (false, None) => in_list(&task.title),
        _ => None,
    };
    Some(match in_list {
        Some(in_list) => Command::AddOrInList { task, in_list },
        None => Command::Add(task),
    })
}

/// A title ending "to <one to three words>" ("Milk to Groceries", "Pack to
/// the trip list"): the words may name one of the user's lists.
fn in_list(title: &str) -> Option<InList> {
    let words: Vec<&str> = title.split_whitespace().collect();
    let to = words.iter().rposition(|w| w.eq_ignore_ascii_case("to"))?;
    let mut list: &[&str] = &words[to + 1..];
    if list
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("the") || w.eq_ignore_ascii_case("my"))
    {
        list = &list[1..];
    }
    if list.len() > 1 && list.last().is_some_and(|w| w.eq_ignore_ascii_case("list")) {
        list = &list[..list.len() - 1];
    }
    if to == 0 || list.is_empty() || list.len() > 3 {
        return None;
    }
    Some(InList {
        list: list.join(" "),
        title: capitalise(&words[..to].join(" ")),
    })
}
