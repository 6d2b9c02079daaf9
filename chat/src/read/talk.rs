//! Help and small talk.

use super::Message;
use super::command::Command;

pub fn help(message: &Message) -> Option<Command> {
    matches!(
        message.words.joined().as_str(),
        "help"
            | "what can you do"
            | "how does this work"
            | "commands"
            | "what can i say"
            | "how do i use this"
            | "what do you do"
            | "help me"
    )
    .then_some(Command::Help)
}

/// Only a message made of nothing else: "ok, delete it" is a command.
pub fn smalltalk(message: &Message) -> Option<Command> {
    message
        .lower()
        .iter()
        .all(|w| {
            matches!(
                *w,
                "hi" | "hello"
                    | "hey"
                    | "there"
                    | "thanks"
                    | "thank"
                    | "you"
                    | "thx"
                    | "ty"
                    | "ok"
                    | "okay"
                    | "cool"
                    | "great"
                    | "nice"
                    | "good"
                    | "morning"
                    | "evening"
                    | "so"
                    | "much"
                    | "a"
                    | "lot"
                    | "perfect"
                    | "awesome"
                    | "cheers"
                    | "bye"
                    | "goodbye"
                    | "yo"
            )
        })
        .then_some(Command::Smalltalk)
}
