//! Reopening: "reopen task 3", "undo complete", "mark the report as not
//! done", "uncheck the report", "the report isn't done".

use super::Message;
use super::command::{Change, Command};
use super::target::target;

const STOPS: &[&str] = &[
    "as",
    "not",
    "done",
    "complete",
    "completed",
    "finished",
    "undone",
    "incomplete",
    "open",
    "again",
    "isn't",
    "is",
    "yet",
];

pub fn read(message: &Message) -> Option<Command> {
    let w = message.lower();
    let joined = w.join(" ");
    let n = w.len();
    let negated = joined.contains("not done")
        || joined.contains("not complete")
        || joined.contains("not finished")
        || joined.contains("undone")
        || joined.contains("incomplete")
        || joined.ends_with(" as open");
    let from = if matches!(
        w[0],
        "reopen" | "re-open" | "uncomplete" | "undo" | "unfinish" | "uncheck" | "untick"
    ) || (w[0] == "mark" && negated)
    {
        let from = 1;
        if matches!(w.get(from).copied(), Some("completing" | "complete")) {
            (from + 1).min(n)
        } else {
            from
        }
    } else if n >= 3
        && (w[n - 2..] == ["isn't", "done"]
            || w[n - 2..] == ["isn't", "finished"]
            || (n >= 4 && w[n - 3..] == ["is", "not", "done"]))
    {
        0
    } else {
        return None;
    };
    let mut to = n;
    while to > from && STOPS.contains(&w[to - 1]) {
        to -= 1;
    }
    let target = message.unquoted(target(&w[from..to], &message.words.original[from..to]));
    Some(Command::OnTask {
        target,
        change: Change::Reopen,
    })
}
