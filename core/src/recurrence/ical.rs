//! Reading an RRULE a calendar app sent back: the inverse of
//! [`RecurrenceRule::to_ical`]. The app's rule is relative to the
//! occurrence it holds (its `DUE`), so the month day, month and weekday
//! written out by `to_ical` are read as "the anchor's", and COUNT as the
//! occurrences left from this one. Anything `to_ical` never writes (ordinal
//! weekdays, hourly rules, BYHOUR, other BYSETPOS…) is outside Taskflow's
//! subset: the caller keeps it verbatim instead of refusing it.

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, Weekday};

use super::{End, Frequency, MAX_COUNT, RecurrenceRule, parse_by_day, parse_until};
use crate::Due;

/// What an app's RRULE means to Taskflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromIcal {
    /// A rule of Taskflow's subset, and the anchor (first occurrence) that
    /// gives the app's occurrences from its due on: the due itself, or an
    /// earlier day when the due is a clamped or moved occurrence (a month
    /// day 31 seen in February). COUNT is counted from that anchor.
    Rule { rule: RecurrenceRule, anchor: Due },
    /// A rule Taskflow cannot follow, as sent (without `RRULE:`).
    Outside(String),
}

/// The parts of an RRULE `to_ical` may write.
#[derive(Default)]
struct Parts {
    freq: Option<Frequency>,
    interval: u32,
    by_day: Vec<Weekday>,
    month_days: Vec<u32>,
    month: Option<u32>,
    last_of: bool,
    count: Option<u32>,
    until: Option<End>,
}

impl RecurrenceRule {
    /// Reads the RRULE `text` an app sent with the occurrence due at `due`;
    /// see [`FromIcal`]. `from_ical(to_ical(anchor, due), due)` gives a rule
    /// with the same next occurrences and the same occurrences left.
    pub fn from_ical(text: &str, due: &Due) -> FromIcal {
        let body = text.trim();
        let body = body
            .get(..6)
            .filter(|head| head.eq_ignore_ascii_case("RRULE:"))
            .map_or(body, |_| &body[6..]);
        let outside = || FromIcal::Outside(body.to_owned());
        let Some(parts) = parts(body, due) else {
            return outside();
        };
        let Some(freq) = parts.freq else {
            return outside();
        };
        let day = due.date().day();
        let anchor = match (freq, parts.month, parts.month_days.as_slice()) {
            (Frequency::Daily, None, []) => Some(*due),
            (Frequency::Weekly, None, []) => Some(*due),
            (Frequency::Monthly, None, []) | (Frequency::Yearly, None, []) => Some(*due),
            (Frequency::Monthly, None, [d]) if *d == day => Some(*due),
            (Frequency::Monthly, None, [d]) => anchor_on(due, None, *d, parts.interval),
            (Frequency::Yearly, Some(m), []) if m == due.date().month() => Some(*due),
            (Frequency::Yearly, Some(m), [d]) if m == due.date().month() && *d == day => Some(*due),
            (Frequency::Yearly, Some(m), [d]) => anchor_on(due, Some(m), *d, parts.interval),
            _ => None,
        };
        let Some(anchor) = anchor else {
            return outside();
        };
        // One weekday, the due's own, is what `to_ical` writes for a rule
        // without BYDAY.
        let by_day = match parts.by_day.as_slice() {
            [only] if *only == due.date().weekday() => Vec::new(),
            days => days.to_vec(),
        };
        let end = match (parts.count, parts.until) {
            (Some(left), None) => {
                let rule = RecurrenceRule {
                    freq,
                    interval: parts.interval,
                    by_day: by_day.clone(),
                    end: None,
                };
                let done = rule.index_of(&anchor, due).unwrap_or(0);
                let total = u64::from(left) + done;
                match u32::try_from(total) {
                    Ok(total) if total <= MAX_COUNT => Some(End::Count(total)),
                    _ => return outside(),
                }
            }
            (None, until) => until,
            (Some(_), Some(_)) => return outside(),
        };
        match RecurrenceRule::new(freq, parts.interval, &by_day, end) {
            Ok(rule) => FromIcal::Rule { rule, anchor },
            Err(_) => outside(),
        }
    }
}

/// The parts of `body`, or `None` for anything outside the subset.
fn parts(body: &str, due: &Due) -> Option<Parts> {
    let mut parts = Parts {
        interval: 1,
        ..Parts::default()
    };
    let mut set_pos = None;
    let mut week_start = None;
    for part in body.split(';').filter(|p| !p.trim().is_empty()) {
        let (key, value) = part.split_once('=')?;
        let value = value.trim().to_ascii_uppercase();
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" => {
                parts.freq = Some(match value.as_str() {
                    "DAILY" => Frequency::Daily,
                    "WEEKLY" => Frequency::Weekly,
                    "MONTHLY" => Frequency::Monthly,
                    "YEARLY" => Frequency::Yearly,
                    _ => return None,
                });
            }
            "INTERVAL" => parts.interval = value.parse().ok()?,
            "BYDAY" => parts.by_day = parse_by_day(&value).ok()?,
            "BYMONTHDAY" => {
                parts.month_days = value
                    .split(',')
                    .map(|d| d.trim().parse().ok())
                    .collect::<Option<_>>()?;
            }
            "BYMONTH" => parts.month = Some(value.parse().ok()?),
            "BYSETPOS" => set_pos = Some(value),
            "COUNT" => parts.count = Some(value.parse().ok()?),
            "UNTIL" => parts.until = Some(until(&value, due)?),
            "WKST" => week_start = Some(value),
            _ => return None,
        }
    }
    // `BYMONTHDAY=28,…,d;BYSETPOS=-1`: day d, or the month's last day when
    // shorter (Taskflow's clamp). Any other BYSETPOS is outside.
    if let Some(pos) = set_pos {
        let first_last = parts.month_days.first().zip(parts.month_days.last());
        let contiguous = parts.month_days.windows(2).all(|w| w[1] == w[0] + 1);
        match first_last {
            Some((28, &last)) if pos == "-1" && contiguous && last > 28 => {
                parts.month_days = vec![last];
                parts.last_of = true;
            }
            _ => return None,
        }
    }
    // Days 29–31 without the clamp skip shorter months in RFC 5545 (and
    // 29 February skips three years in four).
    let skips = parts.freq == Some(Frequency::Monthly) || parts.month == Some(2);
    if skips && !parts.last_of && parts.month_days.iter().any(|d| *d > 28) {
        return None;
    }
    let weekly_many = parts.freq == Some(Frequency::Weekly) && parts.interval > 1;
    if week_start.is_some_and(|w| w != "MO") && weekly_many {
        return None;
    }
    if !parts.by_day.is_empty() && parts.freq != Some(Frequency::Weekly) {
        return None;
    }
    Some(parts)
}

/// UNTIL as a date, a UTC instant, or (with a floating or zoned due) a
/// wall-clock time in the due's zone.
fn until(value: &str, due: &Due) -> Option<End> {
    if let Ok(end) = parse_until(value) {
        return Some(end);
    }
    let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok()?;
    Some(End::UntilInstant(due.zone().resolve(local)))
}

/// An anchor on month day `day` (of `month`, for a yearly rule) for a due
/// that is not on it: the same period when that day exists there, else
/// the nearest earlier period of the series that has it.
fn anchor_on(due: &Due, month: Option<u32>, day: u32, interval: u32) -> Option<Due> {
    let step = match month {
        Some(_) => interval.checked_mul(12)?,
        None => interval,
    };
    let first = NaiveDate::from_ymd_opt(due.date().year(), month.unwrap_or(due.date().month()), 1)?;
    // 400 years bring back every 29 February.
    for back in 0..400u32 {
        let start = first.checked_sub_months(Months::new(back.checked_mul(step)?))?;
        if let Some(date) = start.with_day(day) {
            return Some(due.on(date));
        }
    }
    None
}
