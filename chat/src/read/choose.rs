//! An answer to "which one?": "2", "the second one", "#12", "task 12",
//! "number 3".

use super::Message;
use super::command::{Command, Pick};

const ORDINALS: [&str; 10] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];

pub fn read(message: &Message) -> Option<Command> {
    let lower = message.lower();
    let words: Vec<&str> = lower
        .iter()
        .copied()
        .filter(|w| {
            !matches!(
                *w,
                "the" | "one" | "number" | "no" | "please" | "i" | "mean" | "meant"
            )
        })
        .collect();
    let pick = match words.as_slice() {
        [word] => {
            if let Some(n) = ORDINALS.iter().position(|o| o == word) {
                Some(Pick::Nth(n + 1))
            } else if let Some(id) = word.strip_prefix('#').and_then(|n| n.parse().ok()) {
                Some(Pick::Id(id))
            } else {
                word.parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1 && *n <= 50)
                    .map(Pick::Nth)
            }
        }
        ["task", id] => id.trim_start_matches('#').parse().ok().map(Pick::Id),
        _ => None,
    }?;
    Some(Command::Choose { pick })
}
