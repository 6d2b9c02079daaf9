//! Priority changes: "make the report high priority", "set the priority of
//! the report to medium", "prioritize the slides", "bump the taxes",
//! "lower the gym", "the report is urgent", "the gym can wait".

use taskflow_core::{Priority, UpdateTask};

use super::Message;
use super::command::{Change, Command, Target};
use super::parts::take_priority;
use super::target::target;
use super::words::Words;

pub fn read(message: &Message) -> Option<Command> {
    let w = message.lower();
    let n = w.len();
    let joined = w.join(" ");
    let original = &message.words.original;
    let set = |target: Target, priority: Priority| {
        Some(Command::OnTask {
            target: message.unquoted(target),
            change: Change::Update(UpdateTask {
                priority: Some(priority),
                ..UpdateTask::default()
            }),
        })
    };
    let verb = |priority: Priority| set(target(&w[1..], &original[1..]), priority);
    match w[0] {
        "prioritize" | "prioritise" | "bump" | "raise" | "escalate" if n > 1 => {
            // "bump up X", "bump X up"
            let from = 1 + usize::from(w.get(1) == Some(&"up"));
            let to = if w[n - 1] == "up" { n - 1 } else { n }.max(from);
            return set(target(&w[from..to], &original[from..to]), Priority::High);
        }
        "deprioritize" | "deprioritise" | "lower" | "downgrade" if n > 1 => {
            return verb(Priority::Low);
        }
        _ => {}
    }
    for lead in [
        "set the priority of ",
        "set priority of ",
        "change the priority of ",
        "change priority of ",
    ] {
        if joined.starts_with(lead) {
            let of = w.iter().position(|x| *x == "of")?;
            let to = w.iter().rposition(|x| *x == "to").filter(|to| *to > of)?;
            // The priority's own names, and the two everyday ones.
            let priority = match w.get(to + 1).copied()? {
                "urgent" => Priority::High,
                "normal" => Priority::Medium,
                name => name.parse().ok()?,
            };
            return set(target(&w[of + 1..to], &original[of + 1..to]), priority);
        }
    }
    // "the gym can wait"
    if n >= 3 && w[n - 2..] == ["can", "wait"] {
        return set(target(&w[..n - 2], &original[..n - 2]), Priority::Low);
    }
    // "make X high priority", "mark X as urgent", "X is urgent"
    let mut rest = if matches!(w[0], "make" | "set" | "mark" | "change") {
        Words::new(&original[1..].join(" "))
    } else if n >= 3 && matches!(w[n - 2], "is" | "are") {
        Words::new(&original.join(" "))
    } else {
        return None;
    };
    let priority = take_priority(&mut rest)?;
    let free = rest.free();
    let mut lw: Vec<&str> = free.iter().map(|&i| rest.lower[i].as_str()).collect();
    let mut ow: Vec<String> = free.iter().map(|&i| rest.original[i].clone()).collect();
    while lw
        .last()
        .is_some_and(|x| matches!(*x, "to" | "as" | "a" | "be" | "is" | "are" | "now"))
    {
        lw.pop();
        ow.pop();
    }
    set(target(&lw, &ow), priority)
}
