//! Sharing in plain English: "share Groceries with bob as an editor",
//! "invite bob to Groceries", "assign the report to bob", "comment on the
//! report: wholegrain, please", "what did bob change today?". A person is
//! named by their exact username, as an invitation names them; the agent
//! finds who that is (`crate::local`).

use taskflow_core::Grant;

use super::Message;
use super::command::Command;
use super::target::target;

/// A username as typed: one word, of the characters usernames have.
fn username(word: &str) -> Option<String> {
    let name = word.trim_start_matches('@');
    let fits = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    fits.then(|| name.to_owned())
}

/// A list's title as typed between `from` and `to`, without a leading
/// "the" or "my" and a trailing "list".
fn list_title(message: &Message, from: usize, to: usize) -> Option<String> {
    let w = message.lower();
    let from = from + usize::from(matches!(w.get(from), Some(&("the" | "my" | "our"))));
    let to = if to > from + 1 && w[to - 1] == "list" {
        to - 1
    } else {
        to
    };
    (from < to).then(|| message.typed(from, to))
}

/// "as an editor" (or "as viewer", "as admin") at the end of the words:
/// the role and where it starts; None for an unknown role after "as".
fn role_at_end(w: &[&str]) -> Option<(Grant, usize)> {
    let n = w.len();
    let at = match w {
        [.., "as", "a" | "an", _] => n - 3,
        [.., "as", _] => n - 2,
        _ => return Some((Grant::Viewer, n)),
    };
    let role = match w[n - 1] {
        "viewer" | "reader" => Grant::Viewer,
        "editor" => Grant::Editor,
        "admin" | "administrator" => Grant::Admin,
        _ => return None,
    };
    Some((role, at))
}

/// "share Groceries with bob [as an editor]", "invite bob to the Groceries
/// list [as admin]".
pub fn share(message: &Message) -> Option<Command> {
    let w = message.lower();
    if !matches!(w.first(), Some(&("share" | "invite"))) || w.len() < 4 {
        return None;
    }
    let Some((role, end)) = role_at_end(&w) else {
        return Some(Command::Ask {
            question: "As what: viewer (reads), editor (also changes tasks) or admin (also \
                       manages the list)?"
                .into(),
        });
    };
    let (list, who) = if w[0] == "share" {
        let with = (2..end).rev().find(|&i| w[i] == "with")?;
        (list_title(message, 1, with)?, (with + 1, end))
    } else {
        let to = (2..end).find(|&i| w[i] == "to")?;
        (list_title(message, to + 1, end)?, (1, to))
    };
    let [person] = &message.words.original[who.0..who.1] else {
        return None;
    };
    Some(Command::Share {
        list,
        username: username(person)?,
        role,
    })
}

/// "assign the report to bob", "assign task 3 to @bob".
pub fn assign(message: &Message) -> Option<Command> {
    let w = message.lower();
    if w.first() != Some(&"assign") || w.len() < 4 {
        return None;
    }
    let to = (2..w.len() - 1).rev().find(|&i| w[i] == "to")?;
    let [person] = &message.words.original[to + 1..] else {
        return None;
    };
    let task = message.unquoted(target(&w[1..to], &message.words.original[1..to]));
    Some(Command::Assign {
        target: task,
        username: username(person)?,
    })
}

/// "comment on the report: wholegrain, please", "add a comment to task 3:
/// call first", "comment on it \"see the photo\"".
pub fn comment(message: &Message) -> Option<Command> {
    const LEADS: &[&[&str]] = &[
        &["comment", "on"],
        &["add", "a", "comment", "to"],
        &["add", "a", "comment", "on"],
        &["add", "comment", "to"],
        &["leave", "a", "comment", "on"],
        &["write", "a", "comment", "on"],
    ];
    let lead = LEADS.iter().find(|lead| message.words.starts_with(lead))?;
    let w = message.lower();
    let from = lead.len();
    let (end, body) = match (&message.words.colon, &message.quoted) {
        (Some((colon, rest)), quoted) if *colon >= from => {
            let body = match quoted {
                Some(quoted) => rest.replace(super::QUOTED, quoted),
                None => rest.clone(),
            };
            (colon + 1, body)
        }
        (_, Some(quoted)) if w.last() == Some(&super::QUOTED) => (w.len() - 1, quoted.clone()),
        _ => {
            return Some(Command::Ask {
                question: "What should the comment say? Put it after a colon: \"comment on the \
                           report: wholegrain, please\"."
                    .into(),
            });
        }
    };
    if end <= from {
        return None;
    }
    let body = body.trim().to_owned();
    if body.is_empty() {
        return Some(Command::Ask {
            question: "What should the comment say?".into(),
        });
    }
    let task = target(&w[from..end], &message.words.original[from..end]);
    Some(Command::Comment {
        target: message.unquoted(task),
        body,
    })
}

/// "what did bob change today?", "what has bob done?", "what did bob do
/// today": someone's changes to what the user can see, today or lately.
pub fn changes_by(message: &Message) -> Option<Command> {
    let w = message.lower();
    let (who, rest) = match w.as_slice() {
        ["what", "did" | "has" | "have", who, rest @ ..] => (*who, rest),
        _ => return None,
    };
    let today = match rest {
        ["change" | "changed" | "do" | "done"] => false,
        ["change" | "changed" | "do" | "done", "today"] => true,
        _ => return None,
    };
    // "what has been done?", "what did they do?": nobody named.
    if matches!(
        who,
        "i" | "you"
            | "we"
            | "they"
            | "he"
            | "she"
            | "it"
            | "been"
            | "this"
            | "that"
            | "everyone"
            | "anyone"
            | "someone"
            | "somebody"
            | "people"
    ) {
        return None;
    }
    let at = w.iter().position(|word| *word == who)?;
    Some(Command::ChangesBy {
        username: username(&message.words.original[at])?,
        today,
    })
}
