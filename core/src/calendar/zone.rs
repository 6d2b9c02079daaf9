//! VTIMEZONE components (RFC 5545 §3.6.5) that say exactly what
//! Taskflow computes: each one is read off chrono-tz, the zone data every
//! due instant comes from. chrono-tz gives offsets but no list of
//! transitions, so each year a feed needs is probed a day at a time and
//! every change of offset is found to the second by bisection.
//!
//! A calendar needs the years its times fall in: each run of consecutive
//! years starts with the offset in force on its first day, then one
//! component per transition. When the last three years of the last run
//! repeat one yearly rule (same month, same weekday of the same week, same
//! wall-clock time), they become components with an `RRULE`, so a
//! recurring task's later occurrences keep their offsets.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset as _, TimeZone, Weekday};
use chrono_tz::{OffsetComponents, OffsetName, Tz, TzOffset};

use super::write::{Content, Local, Offset};
use crate::Zone;
use crate::recurrence::weekday_code;

const DAY: i64 = 86_400;
/// Years probed at most, over every zone: a cache of zone data only.
const CACHE_LIMIT: usize = 20_000;

/// One change of offset.
#[derive(Clone, Copy)]
struct Transition {
    /// The instant (UTC seconds) from which `to` is in force.
    at: i64,
    from: TzOffset,
    to: TzOffset,
}

impl Transition {
    /// The wall-clock time it happens at, read with the offset before it
    /// (how `DTSTART` of an observance is written).
    fn local(&self) -> NaiveDateTime {
        local_at(self.at, seconds(&self.from))
    }

    /// What makes two years' transitions the same yearly rule.
    fn shape(&self) -> (u32, Weekday, chrono::NaiveTime, i32, i32, bool) {
        let local = self.local();
        (
            local.month(),
            local.weekday(),
            local.time(),
            seconds(&self.from),
            seconds(&self.to),
            is_daylight(&self.to),
        )
    }
}

/// Each probed year's transitions, by zone and year.
type Probed = HashMap<(Tz, i32), Arc<[Transition]>>;

static TRANSITIONS: LazyLock<Mutex<Probed>> = LazyLock::new(Default::default);

/// Writes the VTIMEZONE of `zone` covering `years`.
pub(crate) fn write(content: &mut Content, zone: Zone, years: &BTreeSet<i32>) {
    let tz = zone.tz();
    content.begin("VTIMEZONE");
    content.line("TZID").text(zone.name());
    let runs = runs(years);
    let last = runs.len().saturating_sub(1);
    for (i, (first, end)) in runs.into_iter().enumerate() {
        let start = year_start(first);
        let initial = tz.offset_from_utc_datetime(&utc(start).naive_utc());
        observance(
            content,
            local_at(start, seconds(&initial)),
            &initial,
            &initial,
            None,
        );
        let mut explicit_until = end;
        if i == last && end - first >= 2 {
            let tail: Vec<Arc<[Transition]>> =
                (end - 2..=end).map(|year| transitions(tz, year)).collect();
            if let Some(rules) = yearly_rules(&tail) {
                explicit_until = end - 3;
                for (transition, rule) in tail[0].iter().zip(rules) {
                    observance(
                        content,
                        transition.local(),
                        &transition.from,
                        &transition.to,
                        Some(&rule),
                    );
                }
            }
        }
        for year in first..=explicit_until {
            for transition in transitions(tz, year).iter() {
                observance(
                    content,
                    transition.local(),
                    &transition.from,
                    &transition.to,
                    None,
                );
            }
        }
    }
    content.end("VTIMEZONE");
}

fn observance(
    content: &mut Content,
    start: NaiveDateTime,
    from: &TzOffset,
    to: &TzOffset,
    rule: Option<&str>,
) {
    let kind = if is_daylight(to) {
        "DAYLIGHT"
    } else {
        "STANDARD"
    };
    content.begin(kind);
    content.line("DTSTART").raw(Local(start));
    if let Some(rule) = rule {
        content.line("RRULE").raw(rule);
    }
    content.line("TZOFFSETFROM").raw(Offset(seconds(from)));
    content.line("TZOFFSETTO").raw(Offset(seconds(to)));
    if let Some(name) = to.abbreviation() {
        content.line("TZNAME").text(name);
    }
    content.end(kind);
}

/// The rule of each transition if the three years repeat them alike:
/// `FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU` (last) or `…BYDAY=2SU` (second).
fn yearly_rules(years: &[Arc<[Transition]>]) -> Option<Vec<String>> {
    let first = years.first()?;
    if first.is_empty() || years.iter().any(|y| y.len() != first.len()) {
        return None;
    }
    let mut rules = Vec::with_capacity(first.len());
    for (i, transition) in first.iter().enumerate() {
        let same = years.iter().all(|y| y[i].shape() == transition.shape());
        if !same {
            return None;
        }
        let days: Vec<NaiveDate> = years.iter().map(|y| y[i].local().date()).collect();
        let week = if days.iter().all(|d| is_last_of_its_kind(*d)) {
            -1
        } else {
            let nth = (transition.local().day() - 1) / 7 + 1;
            if nth > 4 || days.iter().any(|d| (d.day() - 1) / 7 + 1 != nth) {
                return None;
            }
            nth as i32
        };
        let local = transition.local();
        rules.push(format!(
            "FREQ=YEARLY;BYMONTH={};BYDAY={week}{}",
            local.month(),
            weekday_code(local.weekday())
        ));
    }
    Some(rules)
}

/// Whether no later day of the month falls on the same weekday.
fn is_last_of_its_kind(day: NaiveDate) -> bool {
    day.checked_add_days(chrono::Days::new(7))
        .is_none_or(|later| later.month() != day.month())
}

/// The year's transitions, probed once per process.
fn transitions(tz: Tz, year: i32) -> Arc<[Transition]> {
    let mut cache = TRANSITIONS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = cache.get(&(tz, year)) {
        return found.clone();
    }
    let found: Arc<[Transition]> = probe(tz, year_start(year), year_start(year + 1)).into();
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.insert((tz, year), found.clone());
    found
}

/// Every change of offset in `[start, end)`, a day at a time. (Two changes
/// within one day that cancel out are not seen; no zone has had one since
/// the tz database began.)
fn probe(tz: Tz, start: i64, end: i64) -> Vec<Transition> {
    let at = |t: i64| tz.offset_from_utc_datetime(&utc(t).naive_utc());
    let mut found = Vec::new();
    let (mut t, mut now) = (start, at(start));
    while t < end {
        let next = (t + DAY).min(end);
        if at(next) == now {
            t = next;
            continue;
        }
        let (mut same, mut changed) = (t, next);
        while changed - same > 1 {
            let mid = same + (changed - same) / 2;
            if at(mid) == now {
                same = mid;
            } else {
                changed = mid;
            }
        }
        if changed >= end {
            break;
        }
        let to = at(changed);
        found.push(Transition {
            at: changed,
            from: now,
            to,
        });
        (t, now) = (changed, to);
    }
    found
}

/// Consecutive years as `(first, last)`.
fn runs(years: &BTreeSet<i32>) -> Vec<(i32, i32)> {
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &year in years {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == year => *last = year,
            _ => runs.push((year, year)),
        }
    }
    runs
}

fn seconds(offset: &TzOffset) -> i32 {
    offset.fix().local_minus_utc()
}

fn is_daylight(offset: &TzOffset) -> bool {
    offset.dst_offset().num_seconds() != 0
}

fn year_start(year: i32) -> i64 {
    NaiveDate::from_ymd_opt(year, 1, 1).map_or(0, |d| {
        d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
    })
}

fn utc(seconds: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn local_at(at: i64, offset: i32) -> NaiveDateTime {
    utc(at + i64::from(offset)).naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    /// One observance as written: its onset rule and offsets.
    struct Written {
        start: NaiveDateTime,
        /// `(month, week, weekday)` of a yearly rule (week -1: the last).
        yearly: Option<(u32, i32, Weekday)>,
        from: i32,
        to: i32,
    }

    fn offset(text: &str) -> i32 {
        let sign = if text.starts_with('-') { -1 } else { 1 };
        let digits = &text[1..];
        let part =
            |r: std::ops::Range<usize>| digits.get(r).map_or(0, |d| d.parse::<i32>().unwrap());
        sign * (part(0..2) * 3600 + part(2..4) * 60 + part(4..6))
    }

    /// Reads the observances back from the text (a tiny evaluator of the
    /// forms `write` uses, independent of it).
    fn read(text: &str) -> Vec<Written> {
        let unfolded = text.replace("\r\n ", "");
        let mut found = Vec::new();
        let mut current: Option<Written> = None;
        for line in unfolded.split("\r\n") {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name {
                "BEGIN" if value == "STANDARD" || value == "DAYLIGHT" => {
                    current = Some(Written {
                        start: NaiveDateTime::default(),
                        yearly: None,
                        from: 0,
                        to: 0,
                    });
                }
                "END" if value == "STANDARD" || value == "DAYLIGHT" => {
                    found.push(current.take().unwrap());
                }
                "DTSTART" => {
                    current.as_mut().unwrap().start =
                        NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap();
                }
                "TZOFFSETFROM" => current.as_mut().unwrap().from = offset(value),
                "TZOFFSETTO" => current.as_mut().unwrap().to = offset(value),
                "RRULE" => {
                    let parts: HashMap<&str, &str> =
                        value.split(';').filter_map(|p| p.split_once('=')).collect();
                    assert_eq!(parts["FREQ"], "YEARLY");
                    let by_day = parts["BYDAY"];
                    let (week, day) = by_day.split_at(by_day.len() - 2);
                    let day = [
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                        Weekday::Sat,
                        Weekday::Sun,
                    ]
                    .into_iter()
                    .find(|d| weekday_code(*d) == day)
                    .unwrap();
                    current.as_mut().unwrap().yearly = Some((
                        parts["BYMONTH"].parse().unwrap(),
                        week.parse().unwrap(),
                        day,
                    ));
                }
                _ => {}
            }
        }
        found
    }

    /// The offset the observances give at `at` (UTC seconds), as RFC 5545
    /// §3.6.5 reads them: the one with the latest onset at or before it.
    fn evaluate(observances: &[Written], at: i64) -> Option<i32> {
        let year = utc(at).year();
        let mut best: Option<(i64, i32)> = None;
        for o in observances {
            let mut onsets = vec![o.start];
            if let Some((month, week, day)) = o.yearly {
                onsets = (o.start.year()..=year + 1)
                    .filter_map(|y| {
                        let date = if week < 0 {
                            let next = NaiveDate::from_ymd_opt(
                                y + (month / 12) as i32,
                                month % 12 + 1,
                                1,
                            )?;
                            let mut d = next.pred_opt()?;
                            while d.weekday() != day {
                                d = d.pred_opt()?;
                            }
                            d
                        } else {
                            NaiveDate::from_weekday_of_month_opt(y, month, day, week as u8)?
                        };
                        Some(date.and_time(o.start.time()))
                    })
                    .filter(|onset| *onset >= o.start)
                    .collect();
            }
            for onset in onsets {
                let onset = onset.and_utc().timestamp() - i64::from(o.from);
                if onset <= at && best.is_none_or(|(b, _)| onset > b) {
                    best = Some((onset, o.to));
                }
            }
        }
        best.map(|(_, to)| to)
    }

    fn written(zone: Zone, years: impl IntoIterator<Item = i32>) -> String {
        let mut content = Content::default();
        write(&mut content, zone, &years.into_iter().collect());
        content.finish()
    }

    #[test]
    fn every_zone_says_what_chrono_tz_says_on_every_day_and_at_every_change() {
        let years = 2020..=2032;
        for tz in chrono_tz::TZ_VARIANTS {
            let zone = Zone::parse(tz.name(), "timezone").unwrap();
            let observances = read(&written(zone, years.clone()));
            let truth = |at: i64| seconds(&tz.offset_from_utc_datetime(&utc(at).naive_utc()));
            let mut day = year_start(*years.start()) + DAY / 2;
            while day < year_start(*years.end() + 1) {
                assert_eq!(
                    evaluate(&observances, day),
                    Some(truth(day)),
                    "{tz} at {}",
                    utc(day)
                );
                day += DAY;
            }
            for year in years.clone() {
                for t in transitions(tz, year).iter() {
                    for at in [t.at - 1, t.at, t.at + 1] {
                        assert_eq!(
                            evaluate(&observances, at),
                            Some(truth(at)),
                            "{tz} at {}",
                            utc(at)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_regular_zone_ends_in_yearly_rules_that_hold_past_the_years_asked() {
        let berlin = Zone::parse("Europe/Berlin", "timezone").unwrap();
        let text = written(berlin, [2026, 2027, 2028]);
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"),
            "{text}"
        );
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"),
            "{text}"
        );
        let observances = read(&text);
        let at = |y, m, d| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_time(NaiveTime::MIN)
                .and_utc()
                .timestamp()
        };
        assert_eq!(evaluate(&observances, at(2033, 7, 1)), Some(7200));
        assert_eq!(evaluate(&observances, at(2033, 12, 1)), Some(3600));

        let new_york = Zone::parse("America/New_York", "timezone").unwrap();
        let text = written(new_york, [2030, 2031, 2032]);
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"),
            "{text}"
        );
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"),
            "{text}"
        );
        assert!(text.contains("DTSTART:20300310T020000\r\n"), "{text}");
    }

    #[test]
    fn a_zone_without_changes_has_one_standard_observance_per_run() {
        let kolkata = Zone::parse("Asia/Kolkata", "timezone").unwrap();
        let text = written(kolkata, [2026, 2027, 2028, 2040]);
        assert_eq!(text.matches("BEGIN:STANDARD").count(), 2, "{text}");
        assert!(!text.contains("DAYLIGHT"), "{text}");
        assert!(text.contains("TZOFFSETTO:+0530\r\n"), "{text}");
        assert!(text.contains("DTSTART:20400101T053000\r\n"), "{text}");
    }
}
