//! Completing: "complete task 3", "mark the groceries task as done",
//! "finish the report", "I'm done with the laundry", "I did the dishes",
//! "the slides are finished", "check off buy milk".

use super::Message;
use super::command::{Change, Command};
use super::target::target;

/// How a completion begins.
const LEADS: &[&[&str]] = &[
    &["i'm", "done", "with"],
    &["im", "done", "with"],
    &["i", "am", "done", "with"],
    &["i'm", "finished", "with"],
    &["i've", "finished"],
    &["i've", "done"],
    &["i've", "completed"],
    &["i", "have", "done"],
    &["i", "have", "finished"],
    &["i", "finished"],
    &["i", "completed"],
    &["i", "did"],
    &["just", "finished"],
    &["just", "did"],
    &["done", "with"],
    &["finished", "with"],
    &["check", "off"],
    &["tick", "off"],
    &["cross", "off"],
    &["complete"],
    &["finish"],
    &["finished"],
    &["close"],
    &["mark"],
];

/// Words that end a completion ("… as done").
const STOPS: &[&str] = &[
    "as",
    "done",
    "complete",
    "completed",
    "finished",
    "off",
    "now",
    "today",
];

pub fn read(message: &Message) -> Option<Command> {
    let w = message.lower();
    let n = w.len();
    let original = &message.words.original;
    let complete = |from: usize, to: usize| {
        Some(Command::OnTask {
            target: message.unquoted(target(&w[from..to], &original[from..to])),
            change: Change::Complete,
        })
    };
    for lead in LEADS {
        if n > lead.len() && message.words.starts_with(lead) {
            let mut to = n;
            while to > lead.len() && STOPS.contains(&w[to - 1]) {
                to -= 1;
            }
            // "mark X" without "done" says nothing.
            if *lead == ["mark"] && to == n {
                return None;
            }
            return complete(lead.len(), to);
        }
    }
    // "the laundry is done", "the slides are finished", "X is complete"
    let finished = |x: &str| matches!(x, "done" | "finished" | "complete" | "completed");
    if n >= 3 && finished(w[n - 1]) && matches!(w[n - 2], "is" | "are" | "was" | "now") {
        let mut to = n - 2;
        if to >= 2 && w[to - 1] == "is" && w[to] == "now" {
            to -= 1;
        }
        return complete(0, to);
    }
    None
}
