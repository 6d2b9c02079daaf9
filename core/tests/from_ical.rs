//! `RecurrenceRule::from_ical`, the inverse of `to_ical`: every form
//! `to_ical` writes reads back as a rule with the same next occurrences and
//! the same occurrences left; rules outside Taskflow's subset are kept as
//! text, not refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use chrono::NaiveDate;
use proptest::prelude::*;
use taskflow_core::{Due, FromIcal, RecurrenceRule, Zone};

fn due(text: &str, tz: &str) -> Due {
    Due::parse(text, Zone::parse(tz, "timezone").unwrap()).unwrap()
}

/// The next `n` occurrences after `current`.
fn next(rule: &RecurrenceRule, anchor: &Due, current: &Due, n: usize) -> Vec<Due> {
    let mut out = Vec::new();
    let mut at = *current;
    while out.len() < n {
        match rule.next_after(anchor, &at) {
            Some(due) => {
                out.push(due);
                at = due;
            }
            None => break,
        }
    }
    out
}

/// Writes the rule as an app gets it at `current`, reads it back, and
/// checks the two say the same. An occurrence moved by hand is no longer
/// one of the app's series (RFC 5545 counts COUNT and INTERVAL from it,
/// Taskflow from the anchor: `to_ical` says so), so there only the text
/// must come back.
fn round_trip(rule: &RecurrenceRule, anchor: &Due, current: &Due) -> Result<(), TestCaseError> {
    let moved = rule.next_after(anchor, &current.on(current.date().pred_opt().unwrap()))
        != Some(*current)
        && anchor != current;
    let text = rule.to_ical(anchor, current);
    let FromIcal::Rule {
        rule: read,
        anchor: read_anchor,
    } = RecurrenceRule::from_ical(&text, current)
    else {
        return Err(TestCaseError::fail(format!("{text} read as outside")));
    };
    prop_assert_eq!(
        read.to_ical(&read_anchor, current),
        text.clone(),
        "{}",
        text
    );
    if moved {
        return Ok(());
    }
    prop_assert_eq!(
        next(&read, &read_anchor, current, 6),
        next(rule, anchor, current, 6),
        "{}",
        text
    );
    Ok(())
}

#[test]
fn every_form_to_ical_writes_reads_back_as_the_same_series() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("FREQ=DAILY", "2026-03-01", "2026-03-04", "UTC"),
        (
            "FREQ=DAILY;INTERVAL=3;COUNT=9",
            "2026-03-01",
            "2026-03-07",
            "UTC",
        ),
        ("FREQ=WEEKLY", "2026-03-03", "2026-03-10", "UTC"),
        // Moved to a Wednesday: BYDAY stays the anchor's Tuesday.
        ("FREQ=WEEKLY;COUNT=5", "2026-03-03", "2026-03-11", "UTC"),
        (
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
            "2026-03-02",
            "2026-03-09",
            "UTC",
        ),
        ("FREQ=WEEKLY;INTERVAL=2", "2026-03-05", "2026-03-20", "UTC"),
        ("FREQ=MONTHLY", "2026-01-15", "2026-03-15", "UTC"),
        ("FREQ=MONTHLY;INTERVAL=2", "2026-01-15", "2026-03-15", "UTC"),
        // Day 31 clamped to 28 February, and on a 31st.
        ("FREQ=MONTHLY;COUNT=12", "2026-01-31", "2026-02-28", "UTC"),
        ("FREQ=MONTHLY;INTERVAL=2", "2026-01-31", "2026-03-31", "UTC"),
        ("FREQ=MONTHLY", "2026-01-30", "2026-02-28", "UTC"),
        ("FREQ=YEARLY", "2026-07-04", "2027-07-04", "UTC"),
        ("FREQ=YEARLY;COUNT=5", "2024-02-29", "2025-02-28", "UTC"),
        ("FREQ=YEARLY", "2024-02-29", "2028-02-29", "UTC"),
        (
            "FREQ=DAILY;UNTIL=20261231",
            "2026-12-01T10:00",
            "2026-12-03T10:00",
            "Europe/Berlin",
        ),
        (
            "FREQ=DAILY;UNTIL=20261231",
            "2026-12-01",
            "2026-12-03",
            "Europe/Berlin",
        ),
        (
            "FREQ=DAILY;UNTIL=20261231T200000Z",
            "2026-12-01",
            "2026-12-01",
            "Asia/Tokyo",
        ),
        (
            "FREQ=DAILY;UNTIL=20261231T200000Z",
            "2026-12-01T09:00",
            "2026-12-02T09:00",
            "Asia/Tokyo",
        ),
        ("FREQ=DAILY;COUNT=3", "2026-03-01", "2026-04-01", "UTC"),
    ];
    for (rule, anchor, current, tz) in cases {
        let rule: RecurrenceRule = rule.parse().unwrap();
        round_trip(&rule, &due(anchor, tz), &due(current, tz)).unwrap();
    }
}

#[test]
fn count_is_what_is_left_from_this_occurrence() {
    let at = due("2026-03-09", "UTC");
    let FromIcal::Rule { rule, anchor } =
        RecurrenceRule::from_ical("RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3", &at)
    else {
        panic!("outside");
    };
    assert_eq!(anchor, at);
    assert_eq!(rule.to_string(), "FREQ=WEEKLY;COUNT=3");
    let dates: Vec<String> = next(&rule, &anchor, &at, 9)
        .iter()
        .map(Due::local_text)
        .collect();
    assert_eq!(dates, ["2026-03-16", "2026-03-23"]);
}

#[test]
fn rules_outside_the_subset_are_kept_as_text() {
    let at = due("2026-03-02T09:00", "Europe/Berlin");
    for text in [
        "FREQ=MONTHLY;BYDAY=1MO",
        "FREQ=HOURLY",
        "FREQ=DAILY;BYHOUR=9,17",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=1",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=DAILY;COUNT=2;UNTIL=20261231",
        "FREQ=YEARLY;BYWEEKNO=20",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SU",
        "INTERVAL=2",
    ] {
        assert_eq!(
            RecurrenceRule::from_ical(&format!("RRULE:{text}"), &at),
            FromIcal::Outside(text.into()),
            "{text}"
        );
    }
}

fn arb_rule() -> impl Strategy<Value = String> {
    let simple = (
        prop::sample::select(vec!["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
        1u32..5,
    )
        .prop_map(|(f, i)| format!("FREQ={f};INTERVAL={i}"));
    let by_day = (1u32..4, prop::collection::btree_set(0usize..7, 1..4)).prop_map(|(i, days)| {
        let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        let list: Vec<&str> = days.into_iter().map(|d| codes[d]).collect();
        format!("FREQ=WEEKLY;INTERVAL={i};BYDAY={}", list.join(","))
    });
    let end = prop_oneof![
        Just(String::new()),
        (1u32..40).prop_map(|n| format!(";COUNT={n}")),
        (0u64..3000).prop_map(|days| {
            let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(days);
            format!(";UNTIL={}", date.format("%Y%m%d"))
        }),
    ];
    (prop_oneof![simple, by_day], end).prop_map(|(rule, end)| format!("{rule}{end}"))
}

proptest! {
    #[test]
    fn from_ical_undoes_to_ical_at_any_occurrence(
        rule in arb_rule(),
        date in (2020i32..2030, 1u32..=12, 1u32..=31)
            .prop_filter_map("real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
        timed in any::<bool>(),
        tz in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
        steps in 0usize..8,
        moved in 0u64..3,
    ) {
        let rule: RecurrenceRule = rule.parse().unwrap();
        let text = if timed { format!("{date}T09:30") } else { date.to_string() };
        let anchor = due(&text, tz);
        let mut current = anchor;
        for _ in 0..steps {
            match rule.next_after(&anchor, &current) {
                Some(next) => current = next,
                None => break,
            }
        }
        // An occurrence moved a day or two later by hand.
        let current = current.on(current.date() + chrono::Days::new(moved));
        round_trip(&rule, &anchor, &current)?;
    }
}
