//! The RRULE parser and next-occurrence arithmetic: any text parses or is
//! refused with a reason; a parsed rule walks a few occurrences from dated
//! and timed anchors without panicking, each strictly later than the last.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskflow_core::{Due, RecurrenceRule, Zone};

fuzz_target!(|text: &str| {
    let Ok(rule) = text.parse::<RecurrenceRule>() else {
        return;
    };
    let zone = Zone::parse("America/New_York", "timezone").expect("a known zone");
    for anchor in [
        "2026-01-31",
        "2024-02-29T02:30",
        "2026-03-08T02:30",
        "2026-11-01T01:30",
    ] {
        let anchor = Due::parse(anchor, zone).expect("a valid anchor");
        let mut current = anchor;
        for _ in 0..8 {
            match rule.next_after(&anchor, &current) {
                Some(next) => {
                    assert!(
                        next.instant() > current.instant(),
                        "{text}: went back in time"
                    );
                    current = next;
                }
                None => break,
            }
        }
    }
});
