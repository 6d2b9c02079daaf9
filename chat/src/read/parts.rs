//! The parts of a task a message may state anywhere among its words:
//! priority, tags, a reminder, a moment. Each reader takes the words it
//! places (`Words::take`), so what is left is the title.

use taskflow_core::Priority;

use super::when::{self, Now, When};
use super::words::Words;

/// Priority phrases, longest first (READING.md, "Priorities").
const PRIORITIES: &[(&[&str], Priority)] = &[
    (&["not", "urgent"], Priority::Low),
    (&["no", "rush"], Priority::Low),
    (&["high", "priority"], Priority::High),
    (&["high", "prio"], Priority::High),
    (&["priority", "high"], Priority::High),
    (&["top", "priority"], Priority::High),
    (&["medium", "priority"], Priority::Medium),
    (&["medium", "prio"], Priority::Medium),
    (&["med", "priority"], Priority::Medium),
    (&["normal", "priority"], Priority::Medium),
    (&["priority", "medium"], Priority::Medium),
    (&["low", "priority"], Priority::Low),
    (&["low", "prio"], Priority::Low),
    (&["priority", "low"], Priority::Low),
    (&["no", "priority"], Priority::None),
    (&["high-priority"], Priority::High),
    (&["high-prio"], Priority::High),
    (&["hi-pri"], Priority::High),
    (&["hi-prio"], Priority::High),
    (&["p1"], Priority::High),
    (&["!!"], Priority::High),
    (&["urgent"], Priority::High),
    (&["urgently"], Priority::High),
    (&["important"], Priority::High),
    (&["asap"], Priority::High),
    (&["medium-priority"], Priority::Medium),
    (&["medium-prio"], Priority::Medium),
    (&["p2"], Priority::Medium),
    (&["low-priority"], Priority::Low),
    (&["low-prio"], Priority::Low),
    (&["p3"], Priority::Low),
    (&["whenever"], Priority::Low),
    (&["sometime"], Priority::Low),
    (&["someday"], Priority::Low),
];

/// Takes priority words: "high priority", "urgent", "low-prio", "p1", …
pub fn take_priority(words: &mut Words) -> Option<Priority> {
    PRIORITIES.iter().find_map(|(phrase, priority)| {
        let at = words.take_phrase(phrase)?;
        // "a high priority task", "as urgent", "with no rush".
        if at > 0
            && words.is_free(at - 1, 1)
            && matches!(
                words.lower[at - 1].as_str(),
                "a" | "an" | "as" | "with" | "is"
            )
        {
            words.take(at - 1, 1);
        }
        // "high priority task": the word "task" after it goes with it.
        let after = at + phrase.len();
        if words.lower.get(after).is_some_and(|w| w == "task") && words.is_free(after, 1) {
            words.take(after, 1);
        }
        Some(*priority)
    })
}

/// Takes `#tag` words, "tagged X", "tag X" and "tag: X" (lower-cased).
pub fn take_tags(words: &mut Words) -> Vec<String> {
    let mut tags = Vec::new();
    for i in 0..words.len() {
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
            && let Some(tag) = words
                .lower
                .get(i + 1)
                .map(|t| t.trim_start_matches('#').to_owned())
            && !tag.is_empty()
            && words.is_free(i + 1, 1)
        {
            tags.push(tag);
            words.take(i, 2);
        }
    }
    tags
}

/// Takes a reminder: "remind me 30 minutes before", "with a reminder an
/// hour before", "with an alert an hour before", "15 min reminder".
/// Minutes before the due time.
pub fn take_reminder(words: &mut Words) -> Option<u32> {
    let lower = words.lower.clone();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    for i in 0..w.len() {
        if !words.is_free(i, 1) {
            continue;
        }
        let Some((used, minutes)) = when::duration_at(&w, i) else {
            continue;
        };
        // "N unit before" / "N unit earlier" / "N unit ahead"
        if matches!(
            w.get(i + used).copied(),
            Some("before" | "earlier" | "ahead" | "prior")
        ) {
            let mut start = i;
            while start > 0
                && words.is_free(start - 1, 1)
                && matches!(
                    w[start - 1],
                    "remind"
                        | "me"
                        | "reminder"
                        | "a"
                        | "an"
                        | "with"
                        | "and"
                        | "alert"
                        | "notify"
                        | "ping"
                )
            {
                start -= 1;
            }
            let mut end = i + used + 1;
            // "… before it", "… before the start"
            if matches!(w.get(end).copied(), Some("it" | "hand")) {
                end += 1;
            }
            words.take(start, end - start);
            return Some(minutes);
        }
        // "15 minute reminder", "a 30 min reminder"
        if matches!(w.get(i + used).copied(), Some("reminder" | "alert")) {
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

/// Takes the first moment found among the unplaced words.
pub fn take_when(words: &mut Words, now: Now) -> Option<When> {
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
