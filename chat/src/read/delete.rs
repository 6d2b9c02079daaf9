//! Deleting: "delete task 7", "remove buy milk", "cancel the gym", "get
//! rid of the old report", "forget about the party", "scratch that".

use super::Message;
use super::command::{Change, Command};
use super::target::target;

const LEADS: &[&[&str]] = &[
    &["get", "rid", "of"],
    &["forget", "about"],
    &["delete"],
    &["remove"],
    &["cancel"],
    &["drop"],
    &["trash"],
    &["scratch"],
    &["erase"],
];

pub fn read(message: &Message) -> Option<Command> {
    let w = message.lower();
    let lead = LEADS
        .iter()
        .find(|lead| w.len() > lead.len() && message.words.starts_with(lead))?;
    let from = lead.len();
    let mut to = w.len();
    // "… from my list"
    if to >= from + 3 && w[to - 3..] == ["from", "my", "list"] {
        to -= 3;
    }
    Some(Command::OnTask {
        target: message.unquoted(target(&w[from..to], &message.words.original[from..to])),
        change: Change::Delete,
    })
}
