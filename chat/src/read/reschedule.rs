//! Rescheduling: "move the report to Friday", "push the meeting to next
//! week", "change the due date of the rent to the 2nd", "the report is now
//! due Monday", "remove the due date of the report". A shift relative to
//! the task's own date ("push it back two days") is asked about: the
//! reader cannot see that date.

use taskflow_core::UpdateTask;

use super::command::{Change, Command};
use super::target::target;
use super::when;
use super::{Message, zone_name};

const VERBS: &[&str] = &[
    "move",
    "reschedule",
    "push",
    "postpone",
    "delay",
    "shift",
    "change",
    "set",
    "bump",
];

pub fn read(message: &Message) -> Option<Command> {
    let w = message.lower();
    let n = w.len();
    let joined = w.join(" ");
    let original = &message.words.original;
    // "remove the due date of X", "clear the due date from X"
    for lead in [
        "remove the due date of ",
        "remove the due date from ",
        "remove the deadline of ",
        "remove the deadline from ",
        "clear the due date of ",
        "clear the due date from ",
    ] {
        if joined.starts_with(lead) {
            let from = lead.split(' ').filter(|x| !x.is_empty()).count();
            return Some(Command::OnTask {
                target: message.unquoted(target(&w[from..], &original[from..])),
                change: Change::Update(UpdateTask {
                    due: Some(None),
                    ..UpdateTask::default()
                }),
            });
        }
    }
    let due_of = [
        "change the due date of ",
        "set the due date of ",
        "change the date of ",
        "change the deadline of ",
        "set the deadline of ",
    ]
    .iter()
    .any(|lead| joined.starts_with(lead));
    // "X is now due Monday", "X is due Friday now"
    let now_due = (1..n.saturating_sub(2))
        .find(|&i| w[i] == "is" && w.get(i + 1) == Some(&"now") && w.get(i + 2) == Some(&"due"));
    let from = if due_of {
        w.iter().position(|x| *x == "of")? + 1
    } else if now_due.is_some() {
        0
    } else if VERBS.contains(&w[0]) {
        1
    } else {
        return None;
    };
    // "push it back two days", "move X forward a week": relative to the
    // task's own date.
    let shifted = w
        .iter()
        .any(|x| matches!(*x, "back" | "forward" | "later" | "earlier"))
        && (0..n).any(|i| when::duration_at(&w, i).is_some());
    let by = w[0] != "change"
        && w.iter()
            .rposition(|x| *x == "by")
            .is_some_and(|by| when::duration_at(&w, by + 1).is_some());
    if shifted || by {
        return Some(Command::Ask {
            question: "To which day should I move it? I can't shift a task by an amount yet — tell me the new date, such as \"move it to Friday\".".into(),
        });
    }
    // The moment runs to the end: "… to Friday", "… for tomorrow at 3pm".
    let found = match now_due {
        Some(i) => when::when_at(&w, i + 3, message.now)
            .filter(|(used, _)| i + 3 + used == n)
            .map(|(_, moment)| (i, moment)),
        None => (from + 1..n).rev().find_map(|i| {
            if !matches!(w[i], "to" | "for" | "until" | "till" | "on") {
                return None;
            }
            let (used, moment) = when::when_at(&w, i + 1, message.now)?;
            (i + 1 + used == n).then_some((i, moment))
        }),
    };
    let Some((split, moment)) = found else {
        return super::leftover::cannot_place(&w[from..]);
    };
    Some(Command::OnTask {
        target: message.unquoted(target(&w[from..split], &original[from..split])),
        change: Change::Update(UpdateTask {
            due: Some(Some(moment.due_text())),
            timezone: moment.time.is_some().then(|| zone_name(&message.now)),
            ..UpdateTask::default()
        }),
    })
}
