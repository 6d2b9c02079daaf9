//! The built-in reader: one English message → one [`Command`], the same
//! typed requests a model would send the task tools, with the task named by
//! id, by "it", or by words of its title. Pure: the caller gives the
//! current local time and zone; [`crate::local`] resolves titles and runs
//! the calls. The contract — what each phrasing becomes, the default hours,
//! when it asks instead of guessing — is `chat/READING.md`.
//!
//! Each intent has its own reader (one file each); [`read`] tries them in
//! the order of [`READERS`]. Parts a message may state anywhere (moments,
//! repeats, priorities, tags, reminders) have their own readers that mark
//! the words they place, so what is left is the title — and a left-over
//! word that looks like a date, time, repeat or priority is a reason to ask
//! ([`leftover`]).

pub(crate) mod add;
mod choose;
pub mod command;
mod complete;
mod delete;
pub mod leftover;
mod lists;
mod parts;
mod people;
mod priority;
mod query;
mod rename;
mod reopen;
mod repeat;
mod reschedule;
mod snooze;
mod talk;
mod target;
pub mod when;
mod words;

use chrono::NaiveDateTime;

pub use command::{Change, Command, InList, Pick, Target};
pub use words::Words;

use when::Now;
use words::{QUOTED, unquote, without_filler};

/// A message being read.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its words, with a placeholder for a quoted stretch.
    pub words: Words,
    /// The quoted stretch, taken as typed ("add \"Call the bank at 3\"").
    pub quoted: Option<String>,
    pub now: Now,
}

impl Message {
    /// The lower-case words.
    pub fn lower(&self) -> Vec<&str> {
        self.words.lower()
    }

    /// A target with the quoted stretch put back.
    fn unquoted(&self, target: Target) -> Target {
        match (target, &self.quoted) {
            (Target::Title(title), Some(quoted)) => {
                Target::Title(title.replace(QUOTED, &quoted.to_lowercase()))
            }
            (target, _) => target,
        }
    }

    /// Words as typed, with the quoted stretch put back.
    fn typed(&self, from: usize, to: usize) -> String {
        let text = self.words.original[from.min(to)..to].join(" ");
        match &self.quoted {
            Some(quoted) => text.replace(QUOTED, quoted),
            None => text,
        }
    }
}

/// A reader of one intent: a command, or `None` when the message is not
/// of its kind.
type Reader = fn(&Message) -> Option<Command>;

/// The intents, in the order they are tried: an answer to "which one?"
/// first (a bare "2"), a new list or subtask before a plain add, sharing,
/// assigning, commenting and "what did bob change" before adding (their
/// leading verbs could start a title), adding
/// before the changes (a title may hold any verb), questions before the
/// changes to one task, a move to a list before a reschedule (it yields
/// when the words after "to" are a moment), "remove the due date of X"
/// before "remove X".
const READERS: &[Reader] = &[
    choose::read,
    talk::help,
    talk::smalltalk,
    snooze::read,
    lists::new_list,
    lists::subtask,
    lists::move_to_list,
    people::share,
    people::assign,
    people::comment,
    people::changes_by,
    add::read,
    lists::ready,
    lists::in_list,
    lists::link,
    query::read,
    rename::read,
    reopen::read,
    complete::read,
    reschedule::read,
    delete::read,
    priority::read,
];

/// Reads one message, said at local time `now` in zone `zone` (an IANA
/// name; an unknown one reads as UTC).
pub fn read(text: &str, now: NaiveDateTime, zone: &str) -> Command {
    let (text, quoted) = unquote(without_filler(text.trim()));
    let message = Message {
        words: Words::new(&text),
        quoted,
        now: Now {
            local: now,
            zone: taskflow_core::Zone::parse(zone, "timezone").unwrap_or(taskflow_core::Zone::UTC),
        },
    };
    if message.words.is_empty() {
        return Command::Unknown;
    }
    READERS
        .iter()
        .find_map(|reader| reader(&message))
        .map_or(Command::Unknown, Command::checked)
}

/// The zone name a command states for local times.
fn zone_name(now: &Now) -> String {
    now.zone.name().to_owned()
}
