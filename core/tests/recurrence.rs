//! Next-occurrence arithmetic: a table of hand-checked cases, then property
//! tests for the invariants (strictly later, never drifts, keeps the wall-clock
//! time, honours BYDAY, COUNT and UNTIL).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use chrono::{Datelike, NaiveDate, Weekday};
use proptest::prelude::*;
use taskflow_core::{Due, RecurrenceRule, Zone};

fn zone(name: &str) -> Zone {
    Zone::parse(name, "timezone").unwrap()
}

fn due(text: &str, tz: &str) -> Due {
    Due::parse(text, zone(tz)).unwrap()
}

/// Follows the series from its anchor and returns the local dues of the next `n`.
fn chain(rule: &str, anchor: &str, tz: &str, n: usize) -> Vec<String> {
    let rule: RecurrenceRule = rule.parse().unwrap();
    let anchor = due(anchor, tz);
    let mut current = anchor;
    let mut out = Vec::new();
    for _ in 0..n {
        match rule.next_after(&anchor, &current) {
            Some(next) => {
                out.push(next.local_text());
                current = next;
            }
            None => break,
        }
    }
    out
}

#[test]
fn hand_checked_cases() {
    let cases: &[(&str, &str, &str, usize, &[&str])] = &[
        (
            "FREQ=DAILY",
            "2026-03-01",
            "UTC",
            3,
            &["2026-03-02", "2026-03-03", "2026-03-04"],
        ),
        (
            "FREQ=DAILY;INTERVAL=3",
            "2026-12-30",
            "UTC",
            2,
            &["2027-01-02", "2027-01-05"],
        ),
        // Monthly on the 31st clamps to the month's last day and comes back.
        (
            "FREQ=MONTHLY",
            "2026-01-31",
            "UTC",
            4,
            &["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"],
        ),
        (
            "FREQ=MONTHLY",
            "2027-12-31",
            "UTC",
            3,
            &["2028-01-31", "2028-02-29", "2028-03-31"],
        ),
        (
            "FREQ=MONTHLY;INTERVAL=2",
            "2026-11-30",
            "UTC",
            2,
            &["2027-01-30", "2027-03-30"],
        ),
        (
            "FREQ=YEARLY",
            "2028-02-29",
            "UTC",
            4,
            &["2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29"],
        ),
        // 2026-03-23 is a Monday.
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            "2026-03-23T09:00",
            "UTC",
            4,
            &[
                "2026-03-25T09:00:00",
                "2026-03-27T09:00:00",
                "2026-03-30T09:00:00",
                "2026-04-01T09:00:00",
            ],
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
            "2026-03-24",
            "UTC",
            4,
            &["2026-03-26", "2026-04-07", "2026-04-09", "2026-04-21"],
        ),
        // An anchor off the listed days is still the first occurrence (RFC 5545).
        (
            "FREQ=WEEKLY;BYDAY=FR",
            "2026-03-24",
            "UTC",
            2,
            &["2026-03-27", "2026-04-03"],
        ),
        (
            "FREQ=WEEKLY",
            "2026-03-23",
            "UTC",
            2,
            &["2026-03-30", "2026-04-06"],
        ),
        // Wall-clock time kept across DST in Berlin (clocks go forward 2026-03-29).
        (
            "FREQ=DAILY",
            "2026-03-28T09:00",
            "Europe/Berlin",
            2,
            &["2026-03-29T09:00:00", "2026-03-30T09:00:00"],
        ),
        // COUNT includes the first occurrence; UNTIL is inclusive.
        (
            "FREQ=DAILY;COUNT=3",
            "2026-03-01",
            "UTC",
            10,
            &["2026-03-02", "2026-03-03"],
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,TU;COUNT=3",
            "2026-03-23",
            "UTC",
            10,
            &["2026-03-24", "2026-03-30"],
        ),
        (
            "FREQ=DAILY;UNTIL=20260303",
            "2026-03-01",
            "UTC",
            10,
            &["2026-03-02", "2026-03-03"],
        ),
        (
            "FREQ=DAILY;UNTIL=20260302T080000Z",
            "2026-03-01T09:00",
            "UTC",
            10,
            &[],
        ),
    ];
    for (rule, anchor, tz, n, expected) in cases {
        assert_eq!(
            &chain(rule, anchor, tz, *n),
            expected,
            "{rule} from {anchor} in {tz}"
        );
    }
}

#[test]
fn dst_keeps_the_local_time_and_moves_the_instant() {
    let rule: RecurrenceRule = "FREQ=WEEKLY".parse().unwrap();
    // US clocks go forward on 2026-03-08: 09:00 EST is 14:00Z, 09:00 EDT 13:00Z.
    let spring = due("2026-03-05T09:00", "America/New_York");
    let next = rule.next_after(&spring, &spring).unwrap();
    assert_eq!(spring.instant().to_rfc3339(), "2026-03-05T14:00:00+00:00");
    assert_eq!(next.local_text(), "2026-03-12T09:00:00");
    assert_eq!(next.instant().to_rfc3339(), "2026-03-12T13:00:00+00:00");
    // EU clocks go back on 2026-10-25: 09:00 CEST is 07:00Z, 09:00 CET 08:00Z.
    let autumn = due("2026-10-23T09:00", "Europe/Berlin");
    let after = rule.next_after(&autumn, &autumn).unwrap();
    assert_eq!(autumn.instant().to_rfc3339(), "2026-10-23T07:00:00+00:00");
    assert_eq!(after.instant().to_rfc3339(), "2026-10-30T08:00:00+00:00");
}

#[test]
fn a_series_ends_at_the_last_supported_year() {
    let rule: RecurrenceRule = "FREQ=WEEKLY;BYDAY=MO".parse().unwrap();
    let anchor = due("9000-12-29", "UTC");
    assert_eq!(rule.next_after(&anchor, &anchor), None);
    let yearly: RecurrenceRule = "FREQ=YEARLY".parse().unwrap();
    let last = due("9000-01-01", "UTC");
    assert_eq!(yearly.next_after(&last, &last), None);
}

#[test]
fn completing_late_gives_the_first_occurrence_after_the_current_one() {
    let rule: RecurrenceRule = "FREQ=MONTHLY".parse().unwrap();
    let anchor = due("2026-01-31", "UTC");
    let current = due("2026-06-30", "UTC");
    assert_eq!(
        rule.next_after(&anchor, &current).unwrap().local_text(),
        "2026-07-31"
    );
}

#[test]
fn rules_round_trip_to_canonical_text() {
    let cases = [
        (
            "rrule:freq=weekly;byday=fr,mo;interval=1",
            "FREQ=WEEKLY;BYDAY=MO,FR",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=2;COUNT=5",
            "FREQ=MONTHLY;INTERVAL=2;COUNT=5",
        ),
        ("FREQ=DAILY;UNTIL=20261231", "FREQ=DAILY;UNTIL=20261231"),
        (
            "FREQ=DAILY;UNTIL=20261231T235959Z",
            "FREQ=DAILY;UNTIL=20261231T235959Z",
        ),
    ];
    for (input, canonical) in cases {
        let rule: RecurrenceRule = input.parse().unwrap();
        assert_eq!(rule.to_string(), canonical);
        assert_eq!(rule.to_string().parse::<RecurrenceRule>().unwrap(), rule);
    }
}

#[test]
fn a_rule_reads_the_same_in_words_everywhere() {
    // (rule, anchor, this occurrence's due, zone, words)
    let cases = [
        ("FREQ=DAILY", "2026-03-02", "2026-03-02", "UTC", "every day"),
        (
            "FREQ=DAILY;INTERVAL=3",
            "2026-03-02T07:00",
            "2026-03-02T07:00",
            "UTC",
            "every 3 days at 07:00",
        ),
        (
            "FREQ=WEEKLY",
            "2026-03-02T10:00",
            "2026-03-02T10:00",
            "UTC",
            "every Monday at 10:00",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO",
            "2026-03-02T10:00",
            "2026-03-16T10:00",
            "Europe/Berlin",
            "every Monday at 10:00",
        ),
        (
            "FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2",
            "2026-03-03",
            "2026-03-03",
            "UTC",
            "every 2 weeks on Tuesday and Thursday",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            "2026-03-02",
            "2026-03-02",
            "UTC",
            "every Monday, Wednesday and Friday",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            "2026-03-02T09:00",
            "2026-03-02T09:00",
            "UTC",
            "every weekday at 09:00",
        ),
        (
            "FREQ=MONTHLY",
            "2026-01-31",
            "2026-02-28",
            "UTC",
            "every month on the 31st",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=2",
            "2026-01-02",
            "2026-01-02",
            "UTC",
            "every 2 months on the 2nd",
        ),
        (
            "FREQ=MONTHLY",
            "2026-01-13",
            "2026-01-13",
            "UTC",
            "every month on the 13th",
        ),
        (
            "FREQ=YEARLY",
            "2026-03-05",
            "2026-03-05",
            "UTC",
            "every year on 5 March",
        ),
        // COUNT counts from the anchor: the 1st of 4 has 3 more, the 3rd 1.
        (
            "FREQ=WEEKLY;BYDAY=MO;COUNT=4",
            "2026-03-02T10:00",
            "2026-03-02T10:00",
            "UTC",
            "every Monday at 10:00, 3 more times",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO;COUNT=4",
            "2026-03-02T10:00",
            "2026-03-16T10:00",
            "UTC",
            "every Monday at 10:00, 1 more time",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO;COUNT=4",
            "2026-03-02T10:00",
            "2026-03-23T10:00",
            "UTC",
            "every Monday at 10:00, ending with this one",
        ),
        (
            "FREQ=DAILY;UNTIL=20270601",
            "2026-03-02",
            "2026-03-02",
            "UTC",
            "every day, until 1 June 2027",
        ),
        // An UNTIL instant is shown as the date it falls on in the task's zone.
        (
            "FREQ=DAILY;UNTIL=20261231T230000Z",
            "2026-03-02T08:00",
            "2026-03-02T08:00",
            "Europe/Berlin",
            "every day at 08:00, until 1 January 2027",
        ),
    ];
    for (rule, anchor, current, tz, words) in cases {
        let parsed: RecurrenceRule = rule.parse().unwrap();
        assert_eq!(
            parsed.describe(&due(anchor, tz), &due(current, tz)),
            words,
            "{rule} from {anchor}, at {current}"
        );
    }
}

#[test]
fn a_rule_built_from_parts_is_the_rule_parsed_from_its_text() {
    use taskflow_core::{End, Frequency};
    let built = RecurrenceRule::new(
        Frequency::Weekly,
        2,
        &[Weekday::Thu, Weekday::Tue, Weekday::Thu],
        Some(End::Count(5)),
    )
    .unwrap();
    assert_eq!(
        built.to_string(),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5"
    );
    assert_eq!(built, built.to_string().parse().unwrap());
    for (freq, interval, days, end, needle) in [
        (Frequency::Daily, 0, &[][..], None, "INTERVAL"),
        (Frequency::Daily, 1, &[Weekday::Mon][..], None, "BYDAY"),
        (Frequency::Daily, 1, &[][..], Some(End::Count(0)), "COUNT"),
    ] {
        let err = RecurrenceRule::new(freq, interval, days, end).unwrap_err();
        assert!(err.reason.contains(needle), "{}", err.reason);
    }
}

#[test]
fn unsupported_or_malformed_rules_say_why() {
    for (input, needle) in [
        ("", "FREQ is required"),
        ("FREQ=HOURLY", "not supported"),
        ("FREQ=MONTHLY;BYDAY=MO", "only with FREQ=WEEKLY"),
        ("FREQ=WEEKLY;BYDAY=1MO", "ordinals"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20260101", "not both"),
        ("FREQ=DAILY;INTERVAL=0", "between 1"),
        ("FREQ=DAILY;BYMONTHDAY=3", "only FREQ"),
        ("FREQ=DAILY;FREQ=WEEKLY", "twice"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL"),
        ("FREQ", "KEY=VALUE"),
    ] {
        let err = input.parse::<RecurrenceRule>().unwrap_err();
        assert_eq!(err.field, "recurrence");
        assert!(err.reason.contains(needle), "{input}: {}", err.reason);
    }
}

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    (2000i32..2100, 1u32..=12, 1u32..=31)
        .prop_filter_map("real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

fn arb_zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
    ])
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
    prop_oneof![simple, by_day]
}

proptest! {
    #[test]
    fn each_occurrence_is_later_and_keeps_the_wall_clock_time(
        rule in arb_rule(), date in arb_date(), hour in 0u32..24, minute in 0u32..60, tz in arb_zone(), steps in 1usize..40,
    ) {
        let rule: RecurrenceRule = rule.parse().unwrap();
        let anchor = Due::parse(&format!("{date}T{hour:02}:{minute:02}"), zone(tz)).unwrap();
        let mut current = anchor;
        for _ in 0..steps {
            let next = rule.next_after(&anchor, &current).unwrap();
            prop_assert!(next.instant() > current.instant());
            prop_assert!(next.date() > current.date());
            prop_assert_eq!(next.time(), anchor.time());
            prop_assert_eq!(next.zone(), anchor.zone());
            if !rule.by_day().is_empty() {
                prop_assert!(rule.by_day().contains(&next.date().weekday()));
            }
            current = next;
        }
    }

    #[test]
    fn monthly_series_never_drift_from_the_anchor_day(date in arb_date(), interval in 1u32..4, steps in 1usize..60) {
        let rule: RecurrenceRule = format!("FREQ=MONTHLY;INTERVAL={interval}").parse().unwrap();
        let anchor = Due::parse(&date.to_string(), Zone::UTC).unwrap();
        let mut current = anchor;
        for _ in 0..steps {
            let next = rule.next_after(&anchor, &current).unwrap();
            let last_day = last_day_of_month(next.date());
            prop_assert_eq!(next.date().day(), date.day().min(last_day));
            current = next;
        }
    }

    #[test]
    fn jumping_ahead_agrees_with_stepping(rule in arb_rule(), date in arb_date(), skip in 0i64..3000) {
        // Asking from any point in the series gives the same occurrence as walking there.
        let rule: RecurrenceRule = rule.parse().unwrap();
        let anchor = Due::parse(&date.to_string(), Zone::UTC).unwrap();
        let target = anchor.on(date + chrono::Days::new(skip as u64));
        let jumped = rule.next_after(&anchor, &target).unwrap();
        let mut walked = anchor;
        while walked.instant() <= target.instant() {
            walked = rule.next_after(&anchor, &walked).unwrap();
        }
        prop_assert_eq!(jumped, walked);
    }

    #[test]
    fn count_gives_exactly_that_many_occurrences(rule in arb_rule(), date in arb_date(), count in 1u32..30) {
        let rule: RecurrenceRule = format!("{rule};COUNT={count}").parse().unwrap();
        let anchor = Due::parse(&date.to_string(), Zone::UTC).unwrap();
        let mut current = anchor;
        let mut seen = 1;
        while let Some(next) = rule.next_after(&anchor, &current) {
            seen += 1;
            current = next;
            prop_assert!(seen <= count);
        }
        prop_assert_eq!(seen, count);
    }
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(date.year(), date.month(), *d).is_some())
        .unwrap()
}

#[test]
fn weekday_helper_is_monday_first() {
    assert_eq!(
        NaiveDate::from_ymd_opt(2026, 3, 23).unwrap().weekday(),
        Weekday::Mon
    );
}

#[test]
fn rules_are_rewritten_for_calendar_apps_from_the_current_occurrence() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "FREQ=DAILY",
            "2026-03-01",
            "2026-03-04",
            "UTC",
            "FREQ=DAILY",
        ),
        // Mon 2, Wed 4, Mon 9: two of ten done.
        (
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
            "2026-03-02",
            "2026-03-09",
            "UTC",
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8",
        ),
        // The weekday is the anchor's, even when this one was moved.
        (
            "FREQ=WEEKLY;INTERVAL=2",
            "2026-03-05",
            "2026-03-20",
            "UTC",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        ),
        (
            "FREQ=MONTHLY",
            "2026-01-31",
            "2026-02-28",
            "UTC",
            "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=2",
            "2026-01-15",
            "2026-03-15",
            "UTC",
            "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15",
        ),
        (
            "FREQ=YEARLY",
            "2024-02-29",
            "2025-02-28",
            "UTC",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1",
        ),
        (
            "FREQ=YEARLY",
            "2026-07-04",
            "2027-07-04",
            "UTC",
            "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4",
        ),
        // An UNTIL date for a timed due: the end of that day, in UTC.
        (
            "FREQ=DAILY;UNTIL=20261231",
            "2026-12-01T10:00",
            "2026-12-01T10:00",
            "Europe/Berlin",
            "FREQ=DAILY;UNTIL=20261231T225959Z",
        ),
        // An UNTIL instant for a date due: the local date it falls on.
        (
            "FREQ=DAILY;UNTIL=20261231T200000Z",
            "2026-12-01",
            "2026-12-01",
            "Asia/Tokyo",
            "FREQ=DAILY;UNTIL=20270101",
        ),
        (
            "FREQ=DAILY;UNTIL=20261231T200000Z",
            "2026-12-01T09:00",
            "2026-12-01T09:00",
            "Asia/Tokyo",
            "FREQ=DAILY;UNTIL=20261231T200000Z",
        ),
        // Past its end (moved beyond the last occurrence): itself alone.
        (
            "FREQ=DAILY;COUNT=3",
            "2026-03-01",
            "2026-04-01",
            "UTC",
            "FREQ=DAILY;COUNT=1",
        ),
    ];
    for (rule, anchor, current, tz, expected) in cases {
        let parsed: RecurrenceRule = rule.parse().unwrap();
        let written = parsed.to_ical(&due(anchor, tz), &due(current, tz));
        assert_eq!(&written, expected, "{rule} from {anchor} at {current}");
    }
}
