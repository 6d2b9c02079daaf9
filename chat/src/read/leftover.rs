//! Words that look like a date, time, repeat or priority. A reader that
//! leaves one unplaced must not guess: it asks (READING.md, "The one rule").

use super::words::{QUOTED, Words};

/// What a word looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Date,
    Time,
    Repeat,
    Priority,
    /// A length of time ("30 days"), a repeat's end ("until", "times") or
    /// an ambiguous date ("3/4"): never a title word.
    Span,
}

/// What a message's readers placed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placed {
    pub date: bool,
    pub time: bool,
    pub repeat: bool,
    pub priority: bool,
}

/// What `word` (lower case) looks like, given the word after it.
pub fn kind(word: &str, next: Option<&str>) -> Option<Kind> {
    let word = word.trim_matches(|c: char| matches!(c, '\'' | '"' | '.' | ','));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let number = digits(word)
        || super::when::count(word).is_some_and(|_| !matches!(word, "a" | "an" | "other" | "one"));
    // A number and a unit: "30 days", "2 months", "5 times".
    if number
        && next.is_some_and(|n| {
            super::when::unit_minutes(n).is_some()
                || matches!(n, "month" | "months" | "year" | "years" | "times")
        })
    {
        return Some(Kind::Span);
    }
    // "a couple of weeks", "a few days"
    if matches!(word, "couple" | "few" | "several")
        && next.is_some_and(|n| n == "of" || super::when::unit_minutes(n).is_some())
    {
        return Some(Kind::Span);
    }
    Some(match word {
        "until" | "till" | "til" => Kind::Span,
        "every" | "each" | "daily" | "weekly" | "monthly" | "yearly" | "annually" | "biweekly"
        | "fortnightly" | "weekdays" | "weekends" | "nightly" | "repeat" | "repeating"
        | "recurring" => Kind::Repeat,
        "today" | "tomorrow" | "tmrw" | "tmr" | "tonight" | "yesterday" | "monday" | "tuesday"
        | "wednesday" | "thursday" | "friday" | "saturday" | "sunday" | "fortnight" => Kind::Date,
        "am" | "pm" | "a.m" | "p.m" | "o'clock" | "noon" | "midnight" | "midday" | "morning"
        | "afternoon" | "evening" | "eod" | "lunchtime" => Kind::Time,
        "priority" | "prio" | "urgent" | "important" | "asap" | "p1" | "p2" | "p3" | "p4"
        | "!!" => Kind::Priority,
        _ => {
            // "3/4" (ambiguous) and a date the reader refused ("2026-02-30").
            if word.contains('/') && word.split('/').all(digits) {
                return Some(Kind::Span);
            }
            let dashed: Vec<&str> = word.trim_start_matches(['+', '-']).split('-').collect();
            if dashed.len() == 3 && dashed.iter().all(|p| digits(p)) {
                return Some(Kind::Span);
            }
            if word.len() >= 3
                && ["st", "nd", "rd", "th"]
                    .iter()
                    .any(|s| word.strip_suffix(s).is_some_and(digits))
            {
                return Some(Kind::Date);
            }
            if let Some((h, m)) = word.split_once(':')
                && digits(h)
                && digits(m)
            {
                return Some(Kind::Time);
            }
            if ["am", "pm"]
                .iter()
                .any(|s| word.strip_suffix(s).is_some_and(digits))
            {
                return Some(Kind::Time);
            }
            if super::when::month(word).is_some()
                && !matches!(word, "may" | "march" | "mar" | "jan" | "sept")
                && next.is_some_and(|n| super::when::day_number(n).is_some())
            {
                return Some(Kind::Date);
            }
            return None;
        }
    })
}

/// The unplaced words a reader would have had to place, in order.
pub fn unplaced(words: &Words, placed: Placed) -> Vec<String> {
    let free = words.free();
    free.iter()
        .enumerate()
        .filter(|(_, i)| words.lower[**i] != QUOTED)
        .filter_map(|(k, &i)| {
            let next = free
                .get(k + 1)
                .filter(|&&j| j == i + 1)
                .map(|&j| words.lower[j].as_str());
            let missed = match kind(&words.lower[i], next)? {
                Kind::Date => !placed.date,
                Kind::Time => !placed.time,
                Kind::Repeat => !placed.repeat,
                Kind::Priority => !placed.priority,
                Kind::Span => true,
            };
            missed.then(|| words.original[i].clone())
        })
        .collect()
}

/// A change whose date or time could not be read: ask, when a word of it
/// looks like a date, a time or a span (else the message is not of that
/// kind).
pub fn cannot_place(words: &[&str]) -> Option<super::Command> {
    let odd: Vec<String> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| {
            matches!(
                kind(w, words.get(i + 1).copied()),
                Some(Kind::Date | Kind::Time | Kind::Span)
            )
        })
        .map(|(_, w)| (*w).to_owned())
        .collect();
    (!odd.is_empty()).then(|| super::Command::Ask {
        question: question(&odd),
    })
}

/// The question for words the reader could not place.
pub fn question(unplaced: &[String]) -> String {
    let words = unplaced
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "I'm not sure what {words} means here, so I haven't added anything. \
         Could you say it another way — for example \"every day at 7:00\", \
         \"tomorrow at 17:00\" or \"until 30 June\"? (Put a title in quotes to keep it as it is.)"
    )
}
