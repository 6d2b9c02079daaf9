//! Questions and lists: "what's due this week?", "show high priority
//! tasks", "anything urgent?", "what's overdue?", "how many tasks do I
//! have?", "find milk", "show completed tasks", "what's on my plate".

use taskflow_core::{ListQuery, StatusFilter};

use super::Message;
use super::command::Command;
use super::parts::{take_priority, take_tags};
use super::when;

/// First words of a question or a request to list.
const ASKS: &[&str] = &[
    "what", "what's", "whats", "show", "list", "which", "any", "anything", "find", "search",
    "display", "view", "do", "tasks", "my", "overdue", "get", "how", "give", "is", "are",
    "whats's", "tell",
];

pub fn read(message: &Message) -> Option<Command> {
    let mut words = message.words.clone();
    let lower = words.lower.clone();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    let joined = w.join(" ");
    // "#errands tasks"
    let tagged = w[0].len() > 1 && w[0].starts_with('#') && w[0][1..].parse::<i64>().is_err();
    if !ASKS.contains(&w[0]) && !tagged {
        return None;
    }
    // "my essay is done", "my essay is urgent": a statement about one task.
    if w[0] == "my"
        && w.iter()
            .any(|x| matches!(*x, "is" | "isn't" | "are" | "can"))
    {
        return None;
    }
    let count = joined.starts_with("how many");
    let mut query = ListQuery::default();
    let mut label = Vec::<String>::new();
    let mut status = Some(StatusFilter::Open);
    // Searching: "find milk", "search for milk", "anything about taxes"
    let search_at = w.iter().position(|x| {
        matches!(
            *x,
            "find" | "search" | "about" | "matching" | "containing" | "mentioning"
        )
    });
    if let Some(at) = search_at {
        let mut from = at + 1;
        if w.get(from) == Some(&"for") {
            from += 1;
        }
        let q: Vec<String> = words.original[from.min(w.len())..]
            .iter()
            .filter(|x| !matches!(x.to_lowercase().as_str(), "tasks" | "task" | "my" | "todos"))
            .map(|x| match &message.quoted {
                Some(quoted) => x.replace(super::words::QUOTED, quoted),
                None => x.clone(),
            })
            .collect();
        if !q.is_empty() {
            let q = q.join(" ");
            label.push(format!("matching '{q}'"));
            query.q = Some(q);
            status = None;
        }
    }
    if w.iter().any(|x| matches!(*x, "overdue" | "late")) || joined.contains("past due") {
        query.overdue = Some(true);
        label.push("overdue".into());
    }
    // "what's done", "show completed tasks", "what did I finish?"
    let completed = (w
        .iter()
        .any(|x| matches!(*x, "completed" | "done" | "finished"))
        || (joined.contains("did i ") && w.iter().any(|x| matches!(*x, "finish" | "complete"))))
        && !joined.contains("not done")
        && !joined.contains("to do");
    if completed {
        status = Some(StatusFilter::Completed);
        label.push("completed".into());
    } else if w.contains(&"all") && !w.contains(&"due") {
        status = None;
    }
    // "anything urgent?", "my high-priority stuff", "what's important"
    if let Some(priority) = take_priority(&mut words) {
        query.priority = Some(priority);
        label.push(format!("{} priority", priority.as_str()));
    }
    if let Some(tag) = take_tags(&mut words).into_iter().next() {
        label.push(format!("tagged #{tag}"));
        query.tag = Some(tag);
    }
    let today = message.now.today();
    // A search looks at every date.
    let span = search_at
        .is_none()
        .then(|| (0..w.len()).find_map(|i| when::span_at(&w, i, today)))
        .flatten();
    if let Some((_, span)) = span {
        let at =
            |date: chrono::NaiveDate| format!("{date}T00:00:00{}", message.now.offset_on(date));
        query.due_after = Some(at(span.start));
        query.due_before = Some(at(span.end));
        query.sort = Some("due".into());
        label.push(format!("due {}", span.label));
    }
    let next = joined.starts_with("what's next")
        || joined.starts_with("whats next")
        || joined.starts_with("what is next")
        || joined.contains("do next");
    let plate = [
        "on my plate",
        "do i have to do",
        "do i need to do",
        "have to do",
        "my to-do",
        "my todo",
        "on my list",
        "my tasks",
        "my todos",
    ]
    .iter()
    .any(|p| joined.contains(p));
    let is_list = search_at.is_some()
        || !label.is_empty()
        || next
        || plate
        || count
        || w.iter().any(|x| {
            matches!(
                *x,
                "tasks" | "todos" | "todo" | "list" | "due" | "agenda" | "plan" | "stuff"
            )
        });
    if !is_list {
        return None;
    }
    query.status = status;
    if query.sort.is_none() {
        query.sort = Some(
            if query.overdue.is_some() || next {
                "due"
            } else {
                "-created"
            }
            .into(),
        );
    }
    Some(Command::List {
        query,
        label: (!label.is_empty()).then(|| label.join(", ")),
        count,
        list: None,
    })
}
