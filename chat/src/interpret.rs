//! The built-in interpreter: one English message → one [`Command`], the
//! same tool calls a model would make (`add_task`, `list_tasks`, …), with
//! the task named by id, by "it", or by words of its title. Pure: the
//! caller gives the current local time and zone; [`crate::local`] resolves
//! titles and runs the calls.

use chrono::{Datelike, NaiveDateTime, Weekday};
use serde::Serialize;
use serde_json::{Map, Value, json};
use taskflow_agent::Tool;
use taskflow_agent::tools::{
    AddTask, CompleteTask, DeleteTask, ListTasks, ReopenTask, SnoozeTask, UpdateTask,
};
use taskflow_core::{End, Frequency, RecurrenceRule};

use crate::when::{self, When};

/// What a message asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// A tool call that needs no task: `add_task`, `list_tasks`.
    Call {
        tool: &'static str,
        arguments: Value,
        /// What a list shows, for the reply ("due this week").
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    /// A tool call on one task, once the task is known.
    OnTask {
        tool: &'static str,
        target: Target,
        /// The arguments besides `id`.
        arguments: Value,
    },
    /// An answer to "which one?": the n-th listed (from 1) or a task id.
    Choose { pick: Pick },
    /// "help", "what can you do".
    Help,
    /// A greeting or thanks.
    Smalltalk,
    /// Understood, but it cannot be done as said (such as "repeat 20000
    /// times"): the reason, for the reply.
    Refuse { reason: String },
    /// Nothing understood.
    Unknown,
}

/// Which task a command is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// "task 3", "#3".
    Id(i64),
    /// A bare "3": the third task of the list last shown, or else task 3.
    Number(i64),
    /// "it", "that": the task of the last reply.
    Last,
    /// Words of the title: "the meeting task" → "meeting".
    Title(String),
}

/// An answer to "which one?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    Nth(usize),
    Id(i64),
}

/// A message split into words, with the lower-case form used for matching
/// and a mark for each word a reader has taken.
struct Words {
    original: Vec<String>,
    lower: Vec<String>,
    used: Vec<bool>,
}

impl Words {
    fn new(text: &str) -> Self {
        let original: Vec<String> = text
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| matches!(c, ',' | '?' | '!' | ';' | ':' | '"' | '“' | '”'))
                    .trim_end_matches('.')
                    .to_owned()
            })
            .filter(|w| !w.is_empty())
            .collect();
        let lower = original
            .iter()
            .map(|w| w.to_lowercase().replace('’', "'"))
            .collect();
        let used = vec![false; original.len()];
        Self {
            original,
            lower,
            used,
        }
    }

    fn lower(&self) -> Vec<&str> {
        self.lower.iter().map(String::as_str).collect()
    }

    fn take(&mut self, from: usize, count: usize) {
        for used in self.used.iter_mut().skip(from).take(count) {
            *used = true;
        }
    }

    fn is_free(&self, from: usize, count: usize) -> bool {
        from + count <= self.used.len() && self.used[from..from + count].iter().all(|u| !u)
    }

    /// Finds the phrase `phrase` among free words; takes it and returns its
    /// position.
    fn take_phrase(&mut self, phrase: &[&str]) -> Option<usize> {
        let at = (0..self.lower.len()).find(|&i| {
            self.is_free(i, phrase.len())
                && phrase
                    .iter()
                    .enumerate()
                    .all(|(k, w)| self.lower.get(i + k).is_some_and(|l| l == w))
        })?;
        self.take(at, phrase.len());
        Some(at)
    }

    /// The free words, in their original case, trimmed of connecting words
    /// at either end.
    fn rest(&self) -> String {
        let free: Vec<usize> = (0..self.original.len())
            .filter(|&i| !self.used[i])
            .collect();
        let mut words: Vec<&str> = free.iter().map(|&i| self.original[i].as_str()).collect();
        let connector = |w: &str| {
            matches!(
                w.to_lowercase().as_str(),
                "a" | "an"
                    | "and"
                    | "at"
                    | "by"
                    | "for"
                    | "on"
                    | "to"
                    | "due"
                    | "with"
                    | "every"
                    | "the"
                    | "task"
                    | "called"
                    | "named"
                    | "titled"
                    | "todo"
                    | "new"
                    | "reminder"
                    | "priority"
                    | "me"
                    | "please"
                    | "my"
                    | "of"
                    | "in"
                    | "it"
                    | "repeating"
                    | "recurring"
                    | "that"
                    | "starting"
                    | "from"
                    | "tagged"
                    | "-"
                    | "—"
                    | ":"
            )
        };
        while words.first().is_some_and(|w| connector(w)) {
            words.remove(0);
        }
        while words.last().is_some_and(|w| connector(w)) {
            words.pop();
        }
        words.join(" ")
    }
}

/// Reads one message, said at local time `now` in zone `zone`.
pub fn interpret(text: &str, now: NaiveDateTime, zone: &str) -> Command {
    let (text, quoted) = unquote(without_filler(text.trim()));
    let mut words = Words::new(&text);
    let lower = words.lower();
    let joined = lower.join(" ");
    if lower.is_empty() {
        return Command::Unknown;
    }
    if let Some(pick) = pick(&lower) {
        return Command::Choose { pick };
    }
    if matches!(
        joined.as_str(),
        "help" | "what can you do" | "how does this work" | "commands" | "what can i say"
    ) {
        return Command::Help;
    }
    // Only a message made of nothing else: "ok, delete it" is a command.
    if lower.iter().all(|w| {
        matches!(
            *w,
            "hi" | "hello"
                | "hey"
                | "there"
                | "thanks"
                | "thank"
                | "you"
                | "thx"
                | "ok"
                | "okay"
                | "cool"
                | "great"
                | "nice"
                | "good"
                | "morning"
                | "so"
                | "much"
                | "a"
                | "lot"
                | "perfect"
        )
    }) {
        return Command::Smalltalk;
    }
    let starts = |phrase: &str| joined == phrase || joined.starts_with(&format!("{phrase} "));

    // Adding comes first: its title may contain any other verb.
    for verb in [
        "add a task to",
        "add a task",
        "add task",
        "add",
        "create a task to",
        "create a task",
        "create task",
        "create",
        "new task",
        "remind me to",
        "i need to",
        "i have to",
        "i must",
        "don't let me forget to",
        "todo",
        "schedule",
        "put",
    ] {
        if starts(verb) {
            let n = verb.split(' ').count();
            words.take(0, n);
            return add(words, now, zone, verb == "remind me to", quoted);
        }
    }
    if let Some(command) = list(&mut words, &joined, now, zone) {
        return command;
    }
    if let Some(mut command) = on_task(&mut words, &joined, now, zone) {
        if let (
            Command::OnTask {
                target, arguments, ..
            },
            Some(quoted),
        ) = (&mut command, quoted)
        {
            if let Target::Title(title) = target {
                *title = title.replace(QUOTED, &quoted);
            }
            if let Some(Value::String(title)) = arguments.get_mut("title") {
                *title = title.replace(QUOTED, &quoted);
            }
        }
        return command;
    }
    Command::Unknown
}

/// The message without leading words that only soften it ("ok, delete
/// it", "thanks, now complete the report"), unless that is all it says.
fn without_filler(text: &str) -> &str {
    let mut rest = text;
    loop {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = rest[..word_end]
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        let filler = matches!(
            word.as_str(),
            "ok" | "okay"
                | "thanks"
                | "thank"
                | "you"
                | "please"
                | "then"
                | "now"
                | "so"
                | "and"
                | "great"
                | "cool"
                | "alright"
                | "hey"
                | "hi"
        );
        let next = rest[word_end..].trim_start();
        if !filler || next.is_empty() {
            return rest;
        }
        rest = next;
    }
}

/// "2", "the second one", "#12", "task 12", "number 3".
fn pick(lower: &[&str]) -> Option<Pick> {
    let ordinals = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth",
    ];
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
    match words.as_slice() {
        [word] => {
            if let Some(n) = ordinals.iter().position(|o| o == word) {
                return Some(Pick::Nth(n + 1));
            }
            if *word == "last" {
                return None;
            }
            if let Some(id) = word.strip_prefix('#').and_then(|n| n.parse().ok()) {
                return Some(Pick::Id(id));
            }
            word.parse::<usize>()
                .ok()
                .filter(|n| *n >= 1 && *n <= 50)
                .map(Pick::Nth)
        }
        ["task", id] => id.trim_start_matches('#').parse().ok().map(Pick::Id),
        _ => None,
    }
}

/// Takes priority words: "high priority", "urgent", "low priority", …
fn take_priority(words: &mut Words) -> Option<&'static str> {
    let phrases: &[(&[&str], &str)] = &[
        (&["high", "priority"], "high"),
        (&["high", "prio"], "high"),
        (&["priority", "high"], "high"),
        (&["top", "priority"], "high"),
        (&["medium", "priority"], "medium"),
        (&["normal", "priority"], "medium"),
        (&["priority", "medium"], "medium"),
        (&["low", "priority"], "low"),
        (&["low", "prio"], "low"),
        (&["priority", "low"], "low"),
        (&["no", "priority"], "none"),
        (&["urgent"], "high"),
        (&["urgently"], "high"),
        (&["important"], "high"),
        (&["asap"], "high"),
        (&["whenever"], "low"),
        (&["sometime"], "low"),
    ];
    phrases.iter().find_map(|(phrase, priority)| {
        let at = words.take_phrase(phrase)?;
        // "a high priority task": the article goes with it.
        if at > 0 && matches!(words.lower[at - 1].as_str(), "a" | "an" | "as" | "with") {
            words.take(at - 1, 1);
        }
        Some(*priority)
    })
}

/// Takes `#tag` words and "tagged X" / "tag X".
fn take_tags(words: &mut Words) -> Vec<String> {
    let mut tags = Vec::new();
    for i in 0..words.lower.len() {
        if !words.is_free(i, 1) {
            continue;
        }
        let word = words.lower[i].clone();
        if let Some(tag) = word
            .strip_prefix('#')
            .filter(|t| !t.is_empty() && t.parse::<i64>().is_err())
        {
            tags.push(tag.to_owned());
            words.take(i, 1);
        } else if matches!(word.as_str(), "tagged" | "tag")
            && let Some(tag) = words.lower.get(i + 1).cloned()
            && words.is_free(i + 1, 1)
        {
            tags.push(tag);
            words.take(i, 2);
        }
    }
    tags
}

/// What a repeat phrase says.
#[derive(Debug)]
struct Repeat {
    freq: Frequency,
    interval: u32,
    days: Vec<Weekday>,
    count: Option<u32>,
    until: Option<chrono::NaiveDate>,
}

impl Default for Repeat {
    fn default() -> Self {
        Repeat {
            freq: Frequency::Daily,
            interval: 1,
            days: Vec::new(),
            count: None,
            until: None,
        }
    }
}

impl Repeat {
    /// The rule, as core builds it: a weekly repeat without named days
    /// falls on the due date's weekday.
    fn rule(&self, due_weekday: Option<Weekday>) -> Result<RecurrenceRule, taskflow_core::Invalid> {
        let mut days = self.days.clone();
        if days.is_empty()
            && self.freq == Frequency::Weekly
            && let Some(day) = due_weekday
        {
            days.push(day);
        }
        let end = match (self.count, self.until) {
            (Some(count), _) => Some(End::Count(count)),
            (None, Some(until)) => Some(End::UntilDate(until)),
            (None, None) => None,
        };
        RecurrenceRule::new(self.freq, self.interval.max(1), &days, end)
    }
}

fn workdays() -> Vec<Weekday> {
    vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
}

/// "Monday and Thursday", "tue, thu": (words used, days).
fn weekdays_at(w: &[&str], from: usize) -> (usize, Vec<Weekday>) {
    let mut k = from;
    let mut days = Vec::new();
    while let Some(day) = w.get(k).and_then(|x| when::weekday(x)) {
        if !days.contains(&day) {
            days.push(day);
        }
        k += 1;
        if w.get(k) == Some(&"and") && w.get(k + 1).and_then(|x| when::weekday(x)).is_some() {
            k += 1;
        }
    }
    (k - from, days)
}

/// Takes a repeat: "daily", "every weekday", "weekly", "every 2 weeks on
/// Tuesday", "every Monday and Thursday", "monthly", "10 times", "until
/// June 1".
fn take_repeat(words: &mut Words, now: NaiveDateTime) -> Option<Repeat> {
    let lower = words.lower.clone();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    let mut repeat: Option<Repeat> = None;
    // "every …" first, so "weekly review every Friday" keeps "Weekly" in
    // its title.
    for i in 0..w.len() {
        if !words.is_free(i, 1) || !matches!(w[i], "every" | "each") {
            continue;
        }
        let mut k = i + 1;
        let mut interval = 1;
        if let Some(n) = w
            .get(k)
            .and_then(|x| when::count(x))
            .filter(|_| w.get(k) != Some(&"a"))
        {
            interval = n;
            k += 1;
        }
        let freq = match w.get(k).copied() {
            Some("day" | "days") => Frequency::Daily,
            Some("week" | "weeks") => Frequency::Weekly,
            Some("month" | "months") => Frequency::Monthly,
            Some("year" | "years") => Frequency::Yearly,
            Some("weekday" | "weekdays") => {
                words.take(i, k + 1 - i);
                repeat = Some(Repeat {
                    freq: Frequency::Weekly,
                    interval: 1,
                    days: workdays(),
                    ..Default::default()
                });
                break;
            }
            Some(word) if when::weekday(word).is_some() => {
                let (used, days) = weekdays_at(&w, k);
                words.take(i, k + used - i);
                repeat = Some(Repeat {
                    freq: Frequency::Weekly,
                    interval,
                    days,
                    ..Default::default()
                });
                break;
            }
            _ => continue,
        };
        words.take(i, k + 1 - i);
        repeat = Some(Repeat {
            freq,
            interval,
            ..Default::default()
        });
        break;
    }
    if repeat.is_none() {
        for (i, word) in w.iter().enumerate() {
            let (freq, interval, days) = match *word {
                "daily" => (Frequency::Daily, 1, Vec::new()),
                "weekly" => (Frequency::Weekly, 1, Vec::new()),
                "biweekly" | "fortnightly" => (Frequency::Weekly, 2, Vec::new()),
                "monthly" => (Frequency::Monthly, 1, Vec::new()),
                "yearly" | "annually" => (Frequency::Yearly, 1, Vec::new()),
                "weekdays" => (Frequency::Weekly, 1, workdays()),
                _ => continue,
            };
            if words.is_free(i, 1) {
                words.take(i, 1);
                repeat = Some(Repeat {
                    freq,
                    interval,
                    days,
                    ..Default::default()
                });
                break;
            }
        }
    }
    let mut repeat = repeat?;
    // "on Tuesday and Thursday" after a weekly repeat; one named day is
    // left to the due date ("on Tuesday").
    if repeat.freq == Frequency::Weekly
        && repeat.days.is_empty()
        && let Some(i) = (0..w.len()).find(|&i| {
            w[i] == "on"
                && words.is_free(i, 1)
                && w.get(i + 1).and_then(|x| when::weekday(x)).is_some()
        })
    {
        let (used, days) = weekdays_at(&w, i + 1);
        if days.len() > 1 {
            words.take(i, used + 1);
            repeat.days = days;
        }
    }
    // "10 times", "for 5 weeks"
    for i in 0..w.len() {
        if !words.is_free(i, 2) {
            continue;
        }
        if w[i + 1] == "times"
            && let Some(n) = when::count(w[i])
        {
            let start = if i > 0 && w[i - 1] == "for" && words.is_free(i - 1, 1) {
                i - 1
            } else {
                i
            };
            words.take(start, i + 2 - start);
            repeat.count = Some(n);
        } else if w[i] == "until"
            && let Some((used, date, _)) = when::date_at(&w, i + 1, now.date())
        {
            words.take(i, used + 1);
            repeat.until = Some(date);
        }
    }
    Some(repeat)
}

/// Takes a reminder: "remind me 30 minutes before", "with a reminder an
/// hour before", "15 min reminder". Minutes before the due time.
fn take_reminder(words: &mut Words) -> Option<u32> {
    let lower = words.lower.clone();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    for i in 0..w.len() {
        if !words.is_free(i, 1) {
            continue;
        }
        // "N unit before" / "N unit earlier" / "N unit ahead"
        if let Some((used, minutes)) = when::duration_at(&w, i)
            && matches!(
                w.get(i + used).copied(),
                Some("before" | "earlier" | "ahead" | "prior")
            )
        {
            let mut start = i;
            while start > 0
                && words.is_free(start - 1, 1)
                && matches!(
                    w[start - 1],
                    "remind" | "me" | "reminder" | "a" | "with" | "and" | "alert" | "notify"
                )
            {
                start -= 1;
            }
            words.take(start, i + used + 1 - start);
            return Some(minutes);
        }
        // "15 minute reminder", "a 30 min reminder"
        if let Some((used, minutes)) = when::duration_at(&w, i)
            && w.get(i + used) == Some(&"reminder")
        {
            let start = if i > 0 && matches!(w[i - 1], "a" | "with") {
                i - 1
            } else {
                i
            };
            words.take(start, i + used + 1 - start);
            return Some(minutes);
        }
    }
    None
}

/// Takes the first moment found among the free words.
fn take_when(words: &mut Words, now: NaiveDateTime) -> Option<When> {
    let lower = words.lower.clone();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    (0..w.len()).find_map(|i| {
        let (used, moment) = when::when_at(&w, i, now)?;
        if !words.is_free(i, used) {
            return None;
        }
        words.take(i, used);
        Some(moment)
    })
}

fn add(
    mut words: Words,
    now: NaiveDateTime,
    zone: &str,
    remind: bool,
    quoted: Option<String>,
) -> Command {
    // A quoted title is taken as it is.
    if let Some(at) = words.lower.iter().position(|w| w == QUOTED) {
        words.take(at, 1);
    }
    let priority = take_priority(&mut words);
    let tags = take_tags(&mut words);
    let reminder = take_reminder(&mut words);
    let repeat = take_repeat(&mut words, now);
    let mut due = take_when(&mut words, now);
    if let Some(repeat) = &repeat
        && due.is_none()
    {
        // A repeating task needs a due date: its first named day, or today.
        let first = repeat
            .days
            .iter()
            .map(|day| {
                let ahead =
                    (7 + day.num_days_from_monday() - now.weekday().num_days_from_monday()) % 7;
                now.date() + chrono::Days::new(u64::from(ahead))
            })
            .min()
            .unwrap_or(now.date());
        due = Some(When {
            date: first,
            time: None,
            weekday: None,
        });
    }
    // "every Friday at 4pm": the first Friday, not today at 4pm.
    if let (Some(repeat), Some(moment)) = (&repeat, &mut due)
        && !repeat.days.is_empty()
        && !repeat.days.contains(&moment.date.weekday())
        && let Some(date) = (1..7)
            .map(|ahead| moment.date + chrono::Days::new(ahead))
            .find(|d| repeat.days.contains(&d.weekday()))
    {
        moment.date = date;
    }
    let title = quoted.unwrap_or_else(|| capitalise(&words.rest()));
    let mut arguments = Map::new();
    arguments.insert("title".into(), json!(title));
    if let Some(priority) = priority {
        arguments.insert("priority".into(), json!(priority));
    }
    if !tags.is_empty() {
        arguments.insert("tags".into(), json!(tags));
    }
    if let Some(due) = &due {
        arguments.insert("due".into(), json!(due.due_text()));
        if due.time.is_some() {
            arguments.insert("timezone".into(), json!(zone));
        }
    }
    if let Some(repeat) = &repeat {
        match repeat.rule(due.and_then(|d| d.weekday)) {
            Ok(rule) => arguments.insert("recurrence".into(), json!(rule.to_string())),
            Err(invalid) => {
                return Command::Refuse {
                    reason: invalid.reason,
                };
            }
        };
    }
    let reminder = reminder.or((remind && due.is_some_and(|d| d.time.is_some())).then_some(0));
    if let Some(minutes) = reminder {
        arguments.insert("reminder".into(), json!({"minutes_before": minutes}));
    }
    Command::Call {
        tool: AddTask::NAME,
        arguments: Value::Object(arguments),
        label: None,
    }
}

/// Stands in for a quoted title among the words.
const QUOTED: &str = "\u{1}";

/// Takes a `"quoted"` stretch out of a message: the message with a
/// placeholder word in its place, and the quoted text.
fn unquote(text: &str) -> (String, Option<String>) {
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\'')] {
        let Some(start) = text.find(open) else {
            continue;
        };
        let after = start + open.len_utf8();
        // An apostrophe inside a word ("what's") is not a quote.
        if open == '\''
            && text[..start]
                .chars()
                .last()
                .is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        if let Some(len) = text[after..].find(close)
            && len > 0
        {
            let quoted = text[after..after + len].trim().to_owned();
            let rest = format!(
                "{} {QUOTED} {}",
                &text[..start],
                &text[after + len + close.len_utf8()..]
            );
            return (rest, Some(quoted));
        }
    }
    (text.to_owned(), None)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "what's due this week?", "show high priority tasks", "what's overdue?",
/// "list my tasks", "search for milk", "show completed tasks".
fn list(words: &mut Words, joined: &str, now: NaiveDateTime, zone: &str) -> Option<Command> {
    let lower = words.lower.clone();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    let asks = matches!(
        w[0],
        "what"
            | "what's"
            | "whats"
            | "show"
            | "list"
            | "which"
            | "any"
            | "find"
            | "search"
            | "display"
            | "view"
            | "do"
            | "tasks"
            | "my"
            | "overdue"
            | "get"
    );
    if !asks {
        return None;
    }
    let mut query = Map::new();
    let mut label = Vec::<String>::new();
    let mut status = Some("open");
    // Searching: "find milk", "search for milk", "tasks about milk"
    let search_at = w
        .iter()
        .position(|x| matches!(*x, "find" | "search" | "about" | "matching" | "containing"));
    if let Some(at) = search_at {
        let mut from = at + 1;
        if w.get(from) == Some(&"for") {
            from += 1;
        }
        let q: Vec<&str> = words.original[from.min(w.len())..]
            .iter()
            .map(String::as_str)
            .filter(|x| !matches!(x.to_lowercase().as_str(), "tasks" | "task" | "my"))
            .collect();
        if !q.is_empty() {
            let q = q.join(" ");
            label.push(format!("matching '{q}'"));
            query.insert("q".into(), json!(q));
            status = None;
        }
    }
    if w.contains(&"overdue") || w.contains(&"late") || joined.contains("past due") {
        query.insert("overdue".into(), json!(true));
        label.push("overdue".into());
    }
    if w.iter()
        .any(|x| matches!(*x, "completed" | "done" | "finished"))
    {
        status = Some("completed");
        label.push("completed".into());
    } else if w.contains(&"all") {
        status = None;
    }
    if let Some(priority) = take_priority(words) {
        query.insert("priority".into(), json!(priority));
        label.push(format!("{priority} priority"));
    }
    if let Some(tag) = take_tags(words).into_iter().next() {
        label.push(format!("tagged #{tag}"));
        query.insert("tag".into(), json!(tag));
    }
    let span = (0..w.len()).find_map(|i| when::span_at(&w, i, now.date()));
    if let Some((_, span)) = span {
        let offset = offset_of(zone, now);
        query.insert(
            "due_after".into(),
            json!(format!("{}T00:00:00{offset}", span.start)),
        );
        query.insert(
            "due_before".into(),
            json!(format!(
                "{}T00:00:00{}",
                span.end,
                offset_of(zone, span.end.and_time(chrono::NaiveTime::MIN))
            )),
        );
        query.insert("sort".into(), json!("due"));
        label.push(format!("due {}", span.label));
    }
    let is_list = search_at.is_some()
        || !label.is_empty()
        || w.iter().any(|x| {
            matches!(
                *x,
                "tasks" | "todos" | "todo" | "list" | "due" | "agenda" | "plan"
            )
        });
    if !is_list {
        return None;
    }
    if let Some(status) = status {
        query.insert("status".into(), json!(status));
    }
    if !query.contains_key("sort") {
        query.insert(
            "sort".into(),
            json!(if query.contains_key("overdue") {
                "due"
            } else {
                "-created"
            }),
        );
    }
    Some(Command::Call {
        tool: ListTasks::NAME,
        arguments: Value::Object(query),
        label: (!label.is_empty()).then(|| label.join(", ")),
    })
}

/// The zone's UTC offset at local time `local`, as `+01:00`.
fn offset_of(zone: &str, local: NaiveDateTime) -> String {
    use chrono::{Offset, TimeZone};
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let offset = tz
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.offset().fix())
        .unwrap_or(chrono::Utc.fix());
    offset.to_string()
}

/// Commands on one task: complete, reopen, delete, rename, reprioritise,
/// reschedule, snooze.
fn on_task(words: &mut Words, joined: &str, now: NaiveDateTime, zone: &str) -> Option<Command> {
    let w: Vec<String> = words.lower.clone();
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    let n = w.len();
    let call = |tool: &'static str, target: Target, arguments: Value| {
        Some(Command::OnTask {
            tool,
            target,
            arguments,
        })
    };
    let empty = || json!({});
    // "rename X to Y", "change the title of X to Y"
    for verb in [
        "rename",
        "change the title of",
        "change the name of",
        "retitle",
    ] {
        if joined.starts_with(&format!("{verb} ")) {
            let verb_len = verb.split(' ').count();
            let to = w.iter().rposition(|x| *x == "to" || *x == "as")?;
            if to <= verb_len {
                return None;
            }
            let target = target(&w[verb_len..to], &words.original[verb_len..to]);
            let title = words.original[to + 1..].join(" ");
            return call(
                UpdateTask::NAME,
                target,
                json!({ "title": title.trim_matches(|c| c == '\'' || c == '"') }),
            );
        }
    }
    // "snooze X for 2 hours", "snooze X until tomorrow 9am", "snooze X"
    if w[0] == "snooze" {
        let end = w
            .iter()
            .position(|x| matches!(*x, "for" | "until" | "till" | "by"))
            .unwrap_or(n);
        let target = target(&w[1..end], &words.original[1..end]);
        let minutes = if end < n && w[end] == "for" {
            when::duration_at(&w, end + 1).map(|(_, m)| m)?
        } else if end < n {
            let (_, moment) = when::when_at(&w, end + 1, now)?;
            let minutes = (moment.local() - now).num_minutes();
            u32::try_from(minutes).ok().filter(|m| *m > 0)?
        } else {
            60
        };
        return call(SnoozeTask::NAME, target, json!({ "minutes": minutes }));
    }
    // Reopen before complete: "mark X as not done".
    let negated = joined.contains("not done")
        || joined.contains("not complete")
        || joined.contains("undone")
        || joined.contains("incomplete")
        || joined.ends_with(" as open");
    if matches!(
        w[0],
        "reopen" | "re-open" | "uncomplete" | "undo" | "unfinish"
    ) || (w[0] == "mark" && negated)
    {
        let (from, to) = span_between(
            &w,
            1,
            &[
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
            ],
        );
        let from = if w.get(from) == Some(&"completing") || w.get(from) == Some(&"complete") {
            (from + 1).min(to)
        } else {
            from
        };
        return call(
            ReopenTask::NAME,
            target(&w[from..to], &words.original[from..to]),
            empty(),
        );
    }
    // "complete X", "mark X as done", "finish X", "X is done", "I finished X"
    let complete_verbs: &[&[&str]] = &[
        &["complete"],
        &["finish"],
        &["finished"],
        &["done", "with"],
        &["check", "off"],
        &["tick", "off"],
        &["i", "finished"],
        &["i", "completed"],
        &["i", "did"],
        &["i've", "done"],
        &["i", "have", "done"],
        &["i've", "finished"],
        &["close"],
        &["mark"],
    ];
    for verb in complete_verbs {
        if w.len() > verb.len() && w[..verb.len()] == **verb {
            let (from, to) = span_between(
                &w,
                verb.len(),
                &["as", "done", "complete", "completed", "finished", "off"],
            );
            if verb == &["mark"] && to == n {
                break; // "mark X" without "done" says nothing
            }
            return call(
                CompleteTask::NAME,
                target(&w[from..to], &words.original[from..to]),
                empty(),
            );
        }
    }
    if n >= 3
        && w[n - 2] == "is"
        && matches!(w[n - 1], "done" | "finished" | "complete" | "completed")
    {
        return call(
            CompleteTask::NAME,
            target(&w[..n - 2], &words.original[..n - 2]),
            empty(),
        );
    }
    // "delete X", "remove X", "cancel X", "get rid of X"
    for verb in [
        &["delete"][..],
        &["remove"],
        &["cancel"],
        &["drop"],
        &["trash"],
        &["get", "rid", "of"],
        &["forget", "about"],
    ] {
        if w.len() > verb.len() && w[..verb.len()] == *verb {
            let from = verb.len();
            return call(
                DeleteTask::NAME,
                target(&w[from..], &words.original[from..]),
                empty(),
            );
        }
    }
    // Priority: "make X high priority", "set the priority of X to low",
    // "prioritize X", "mark X as urgent"
    if matches!(w[0], "prioritize" | "prioritise") {
        return call(
            UpdateTask::NAME,
            target(&w[1..], &words.original[1..]),
            json!({"priority": "high"}),
        );
    }
    if matches!(w[0], "deprioritize" | "deprioritise") {
        return call(
            UpdateTask::NAME,
            target(&w[1..], &words.original[1..]),
            json!({"priority": "low"}),
        );
    }
    if joined.starts_with("set the priority of ")
        || joined.starts_with("set priority of ")
        || joined.starts_with("change the priority of ")
        || joined.starts_with("change priority of ")
    {
        let of = w.iter().position(|x| *x == "of")?;
        let to = w.iter().rposition(|x| *x == "to").filter(|to| *to > of)?;
        let priority = match w.get(to + 1).copied()? {
            "high" | "urgent" => "high",
            "medium" | "normal" => "medium",
            "low" => "low",
            "none" => "none",
            _ => return None,
        };
        return call(
            UpdateTask::NAME,
            target(&w[of + 1..to], &words.original[of + 1..to]),
            json!({"priority": priority}),
        );
    }
    if matches!(w[0], "make" | "set" | "mark" | "change") {
        let mut rest = Words::new(&words.original[1..].join(" "));
        if let Some(priority) = take_priority(&mut rest) {
            let free: Vec<usize> = (0..rest.original.len())
                .filter(|&i| !rest.used[i])
                .collect();
            let mut lw: Vec<&str> = free.iter().map(|&i| rest.lower[i].as_str()).collect();
            let mut ow: Vec<&str> = free.iter().map(|&i| rest.original[i].as_str()).collect();
            while lw
                .last()
                .is_some_and(|x| matches!(*x, "to" | "as" | "a" | "be"))
            {
                lw.pop();
                ow.pop();
            }
            let ow: Vec<String> = ow.into_iter().map(str::to_owned).collect();
            return call(
                UpdateTask::NAME,
                target(&lw, &ow),
                json!({"priority": priority}),
            );
        }
    }
    // Rescheduling: "move X to Friday", "reschedule X for tomorrow 3pm",
    // "push X to next week", "change the due date of X to Friday"
    let reschedule = ["move", "reschedule", "push", "postpone", "delay", "shift"];
    let due_of =
        joined.starts_with("change the due date of ") || joined.starts_with("set the due date of ");
    if reschedule.contains(&w[0]) || due_of {
        let from = if due_of {
            w.iter().position(|x| *x == "of")? + 1
        } else {
            1
        };
        // The moment runs to the end: "… to Friday", "… for tomorrow at 3pm".
        let (split, moment) = (from + 1..n).rev().find_map(|i| {
            if !matches!(w[i], "to" | "for" | "until" | "till" | "on") {
                return None;
            }
            let (used, moment) = when::when_at(&w, i + 1, now)?;
            (i + 1 + used == n).then_some((i, moment))
        })?;
        let mut arguments = json!({ "due": moment.due_text() });
        if moment.time.is_some() {
            arguments["timezone"] = json!(zone);
        }
        return call(
            UpdateTask::NAME,
            target(&w[from..split], &words.original[from..split]),
            arguments,
        );
    }
    None
}

/// The words from `from` up to the first of `stops` (or the end).
fn span_between(w: &[&str], from: usize, stops: &[&str]) -> (usize, usize) {
    let mut to = w.len();
    while to > from && stops.contains(&w[to - 1]) {
        to -= 1;
    }
    (from, to)
}

/// Which task some words name: "task 3", "#3", "3", "it", or title words.
fn target(lower: &[&str], original: &[String]) -> Target {
    let words: Vec<usize> = (0..lower.len())
        .filter(|&i| {
            !matches!(
                lower[i],
                "the" | "my" | "a" | "an" | "this" | "that's" | "please"
            )
        })
        .collect();
    let kept: Vec<&str> = words.iter().map(|&i| lower[i]).collect();
    match kept.as_slice() {
        ["it"] | ["that"] | ["this"] | ["that", "one"] | ["this", "one"] | [] => {
            return Target::Last;
        }
        ["task", id] if id.trim_start_matches('#').parse::<i64>().is_ok() => {
            return Target::Id(id.trim_start_matches('#').parse().unwrap_or_default());
        }
        [id] if id.starts_with('#') && id[1..].parse::<i64>().is_ok() => {
            return Target::Id(id[1..].parse().unwrap_or_default());
        }
        [n] | ["number", n] if n.parse::<i64>().is_ok() => {
            return Target::Number(n.parse().unwrap_or_default());
        }
        _ => {}
    }
    let mut title: Vec<&str> = words.iter().map(|&i| original[i].as_str()).collect();
    while title
        .last()
        .is_some_and(|w| matches!(w.to_lowercase().as_str(), "task" | "todo" | "item" | "one"))
    {
        title.pop();
    }
    while title
        .first()
        .is_some_and(|w| matches!(w.to_lowercase().as_str(), "task" | "todo" | "item"))
    {
        title.remove(0);
    }
    if title.is_empty() {
        return Target::Last;
    }
    Target::Title(
        title
            .join(" ")
            .trim_matches(|c| c == '\'' || c == '"')
            .to_owned(),
    )
}
