//! Renaming: "rename task 4 to Buy oat milk", "change the title of the
//! meeting to Team meeting". The new title is taken as typed.

use taskflow_core::UpdateTask;

use super::Message;
use super::command::{Change, Command, Target};
use super::target::target;
use super::words::capitalise;

const LEADS: &[&[&str]] = &[
    &["change", "the", "title", "of"],
    &["change", "the", "name", "of"],
    &["change", "title", "of"],
    &["change", "name", "of"],
    &["rename"],
    &["retitle"],
];

pub fn read(message: &Message) -> Option<Command> {
    let w = message.lower();
    // "call task 4 Tax prep", "call it Leg day": a task named by id or "it".
    if w[0] == "call" {
        let named = match w.get(1..3) {
            Some(["task", id]) if id.trim_start_matches('#').parse::<i64>().is_ok() => 3,
            _ if w.get(1).is_some_and(|x| {
                *x == "it" || (x.starts_with('#') && x[1..].parse::<i64>().is_ok())
            }) =>
            {
                2
            }
            _ => return None,
        };
        if named >= w.len() {
            return None;
        }
        return Some(rename(
            message,
            target(&w[1..named], &message.words.original[1..named]),
            named,
        ));
    }
    let lead = LEADS.iter().find(|lead| message.words.starts_with(lead))?;
    let from = lead.len();
    let to = w.iter().rposition(|x| matches!(*x, "to" | "as" | "into"))?;
    if to <= from || to + 1 >= w.len() {
        return None;
    }
    let target = target(&w[from..to], &message.words.original[from..to]);
    Some(rename(message, target, to + 1))
}

/// Renames `target` to the words from `from` on, as typed.
fn rename(message: &Message, target: Target, from: usize) -> Command {
    let title = message.typed(from, message.words.len());
    let title = capitalise(title.trim_matches(|c| c == '\'' || c == '"'));
    Command::OnTask {
        target: message.unquoted(target),
        change: Change::Update(UpdateTask {
            title: Some(title),
            ..UpdateTask::default()
        }),
    }
}
