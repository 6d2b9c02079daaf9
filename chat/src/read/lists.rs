//! Lists, subtasks and links: "create a list Trip to Rome", "add a subtask
//! pack passport to the trip task", "move the dentist to Health", "what's
//! in Groceries?", "what can I do now?", "booking blocks packing". Which
//! words name a list is known only from the user's lists, so a list is
//! named by its title and the agent resolves it (`crate::local`).

use taskflow_core::{LinkKind, ListQuery, MoveTask, StatusFilter};

use super::command::{Change, Command};
use super::leftover::{self, Placed};
use super::parts::take_when;
use super::target::target;
use super::words::{Words, capitalise};
use super::{Message, add};

/// "create a list Trip to Rome", "new list called Groceries".
pub fn new_list(message: &Message) -> Option<Command> {
    const LEADS: &[&[&str]] = &[
        &["create", "a", "new", "list"],
        &["create", "a", "list"],
        &["create", "list"],
        &["make", "a", "new", "list"],
        &["make", "a", "list"],
        &["start", "a", "new", "list"],
        &["start", "a", "list"],
        &["add", "a", "new", "list"],
        &["add", "a", "list"],
        &["add", "list"],
        &["new", "list"],
    ];
    let lead = LEADS.iter().find(|lead| message.words.starts_with(lead))?;
    let w = message.lower();
    let mut from = lead.len();
    if matches!(w.get(from), Some(&("called" | "named" | "for"))) {
        from += 1;
    }
    let title = message.typed(from, w.len());
    let title = title.trim_matches(|c| c == '\'' || c == '"').trim();
    if title.is_empty() {
        return Some(Command::Ask {
            question: "What should the list be called?".into(),
        });
    }
    Some(Command::NewList {
        title: capitalise(title),
    })
}

/// "add a subtask pack passport to the trip task": the subtask is read as
/// an add ("add pack passport"), the words after the last "to" name its
/// parent.
pub fn subtask(message: &Message) -> Option<Command> {
    const LEADS: &[&[&str]] = &[
        &["add", "a", "subtask"],
        &["add", "subtask"],
        &["add", "a", "sub-task"],
        &["add", "sub-task"],
        &["new", "subtask"],
        &["create", "a", "subtask"],
    ];
    let lead = LEADS.iter().find(|lead| message.words.starts_with(lead))?;
    let w = message.lower();
    let to = (lead.len()..w.len())
        .rev()
        .find(|&i| matches!(w[i], "to" | "under"))?;
    let parent = target(&w[to + 1..], &message.words.original[to + 1..]);
    let text = format!("add {}", message.typed(lead.len(), to));
    let inner = Message {
        words: Words::new(&text),
        quoted: message.quoted.clone(),
        now: message.now,
    };
    match add::read(&inner)? {
        Command::Add(task) | Command::AddOrInList { task, .. } => {
            Some(Command::AddSubtask { task, parent })
        }
        other => Some(other),
    }
}

/// "what can I do now?", "what's ready?": open tasks nothing open blocks.
pub fn ready(message: &Message) -> Option<Command> {
    let joined = message.lower().join(" ");
    let asks = [
        "what can i do now",
        "what can i do next",
        "what can i do",
        "what can i work on",
        "what can i start",
        "what's ready",
        "whats ready",
        "what is ready",
        "what's unblocked",
        "what is unblocked",
        "show ready tasks",
        "ready tasks",
    ];
    asks.iter()
        .find(|ask| joined == **ask || joined == format!("{ask} now"))?;
    Some(Command::List {
        query: ListQuery {
            status: Some(StatusFilter::Open),
            ready: Some(true),
            ..ListQuery::default()
        },
        label: Some("you can do now".into()),
        count: false,
        list: None,
    })
}

/// "what's in Groceries?", "show the Groceries list", "what's on my trip
/// list": the list's open tasks in its order.
pub fn in_list(message: &Message) -> Option<Command> {
    let w = message.lower();
    let n = w.len();
    let (from, to) = match w.as_slice() {
        ["what's" | "whats", "in", ..] => (2, n),
        ["what", "is" | "s", "in", ..] => (3, n),
        ["what's" | "whats", "on", "my" | "the", .., "list"] => (3, n - 1),
        ["show" | "list", "me", "my" | "the", .., "list"] => (3, n - 1),
        ["show" | "open", "my" | "the", .., "list"] => (2, n - 1),
        _ => return None,
    };
    let from = from + usize::from(matches!(w.get(from), Some(&("the" | "my"))));
    if from >= to {
        return None;
    }
    let list = message.typed(from, to);
    Some(Command::List {
        query: ListQuery {
            status: Some(StatusFilter::Open),
            sort: Some("position".into()),
            ..ListQuery::default()
        },
        label: Some(format!("in {list}")),
        count: false,
        list: Some(list),
    })
}

/// "move the dentist to Health", "put milk in the Groceries list": to
/// another list — when the words after "to" are not a moment (that is a
/// reschedule: "move the report to Friday").
pub fn move_to_list(message: &Message) -> Option<Command> {
    let w = message.lower();
    match w.first() {
        Some(&"move") => {}
        // "put the milk in the fridge" is a task to add; "put milk in the
        // groceries list" is a move.
        Some(&("put" | "file")) if w.last() == Some(&"list") => {}
        _ => return None,
    }
    let to = (1..w.len())
        .rev()
        .find(|&i| matches!(w[i], "to" | "into" | "in"))?;
    if to == 1 || to + 1 >= w.len() {
        return None;
    }
    let mut end = w.len();
    if w[end - 1] == "list" && end - 1 > to + 1 {
        end -= 1;
    }
    let from = to + 1 + usize::from(matches!(w[to + 1], "the" | "my"));
    // A moment after "to" is a new due date, not a list.
    let mut rest = Words::new(&message.typed(from, end));
    if take_when(&mut rest, message.now).is_some()
        || !leftover::unplaced(&rest, Placed::default()).is_empty()
    {
        return None;
    }
    let list = message.typed(from, end);
    if list.is_empty() {
        return None;
    }
    let task = target(&w[1..to], &message.words.original[1..to]);
    Some(Command::OnTask {
        target: task,
        change: Change::Move(MoveTask {
            list: Some(taskflow_core::ListRef::Title(list)),
            ..MoveTask::default()
        }),
    })
}

/// "booking flights blocks packing", "packing is blocked by booking
/// flights", "packing depends on booking flights".
pub fn link(message: &Message) -> Option<Command> {
    let w = message.lower();
    let original = &message.words.original;
    let at = |phrase: &[&str]| {
        (1..w.len().saturating_sub(phrase.len()))
            .find(|&i| phrase.iter().enumerate().all(|(k, p)| w[i + k] == *p))
    };
    let (first, kind, second) = if let Some(i) = at(&["blocks"]) {
        (0..i, LinkKind::Blocks, i + 1)
    } else if let Some(i) = at(&["is", "blocked", "by"]) {
        (0..i, LinkKind::BlockedBy, i + 3)
    } else if let Some(i) = at(&["depends", "on"]) {
        (0..i, LinkKind::BlockedBy, i + 2)
    } else {
        return None;
    };
    if first.is_empty() || second >= w.len() {
        return None;
    }
    Some(Command::Link {
        target: target(&w[first.clone()], &original[first]),
        kind,
        other: target(&w[second..], &original[second..]),
    })
}
