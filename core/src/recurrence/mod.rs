//! Recurrence rules: the RFC 5545 RRULE subset Taskflow supports (FREQ
//! DAILY|WEEKLY|MONTHLY|YEARLY, INTERVAL, BYDAY for weekly rules, COUNT or
//! UNTIL) and next-occurrence arithmetic.
//!
//! Every occurrence is computed from the series anchor (the first
//! occurrence's due), never from the previous occurrence, so nothing drifts:
//! monthly on the 31st gives Feb 28 (or 29) and returns to the 31st in March.
//! Dates are computed on the local calendar and keep the anchor's wall-clock
//! time, so a 09:00 meeting stays at 09:00 across DST changes.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, Utc, Weekday};
use std::fmt;
use std::str::FromStr;

use crate::{Due, Invalid};

mod ical;
mod words;

pub use ical::FromIcal;

const FIELD: &str = "recurrence";
const MAX_INTERVAL: u32 = 999;
const MAX_COUNT: u32 = 10_000;
/// The most steps `next_after` walks from its estimate; far more than any
/// estimate needs, and a guard against looping on a degenerate rule.
const MAX_STEPS: u32 = 10_000;

/// How often a series repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Frequency {
    fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Monthly => "MONTHLY",
            Frequency::Yearly => "YEARLY",
        }
    }
}

/// When a series ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// After this many occurrences in all, the first included.
    Count(u32),
    /// No occurrence after this calendar date (in the task's zone).
    UntilDate(NaiveDate),
    /// No occurrence after this instant.
    UntilInstant(DateTime<Utc>),
}

/// A parsed recurrence rule; once built it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceRule {
    freq: Frequency,
    interval: u32,
    /// Weekdays of a weekly rule, Monday first, no repeats; empty means "the
    /// anchor's weekday".
    by_day: Vec<Weekday>,
    end: Option<End>,
}

impl RecurrenceRule {
    /// A rule from its parts, checked as the parser checks RRULE text
    /// (weekdays go Monday first, without repeats).
    pub fn new(
        freq: Frequency,
        interval: u32,
        by_day: &[Weekday],
        end: Option<End>,
    ) -> Result<Self, Invalid> {
        check_interval(interval)?;
        if let Some(End::Count(count)) = end {
            check_count(count)?;
        }
        if !by_day.is_empty() && freq != Frequency::Weekly {
            return Err(Invalid::new(
                FIELD,
                "BYDAY is supported only with FREQ=WEEKLY",
            ));
        }
        let mut days: Vec<Weekday> = Vec::with_capacity(by_day.len());
        for day in by_day {
            if !days.contains(day) {
                days.push(*day);
            }
        }
        days.sort_by_key(|d| d.num_days_from_monday());
        Ok(Self {
            freq,
            interval,
            by_day: days,
            end,
        })
    }

    /// How often the series repeats.
    pub fn frequency(&self) -> Frequency {
        self.freq
    }

    /// Every how many periods.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// The listed weekdays of a weekly rule.
    pub fn by_day(&self) -> &[Weekday] {
        &self.by_day
    }

    /// When the series ends, if it does.
    pub fn end(&self) -> Option<End> {
        self.end
    }

    /// The first occurrence of the series anchored at `anchor` that falls
    /// strictly after `current`, or `None` when COUNT or UNTIL has ended it.
    pub fn next_after(&self, anchor: &Due, current: &Due) -> Option<Due> {
        let after = current.instant();
        let (mut index, mut date) = self.start_near(anchor.date(), current.date())?;
        for _ in 0..MAX_STEPS {
            let due = anchor.on(date);
            if !self.allows(index, &due) || !crate::due::YEARS.contains(&date.year()) {
                return None;
            }
            if due.instant() > after {
                return Some(due);
            }
            (index, date) = self.following(anchor.date(), index, date)?;
        }
        None
    }

    /// The place (0 = the anchor) of the first occurrence of the series
    /// anchored at `anchor` that is not before `due`; `None` past its end.
    fn index_of(&self, anchor: &Due, due: &Due) -> Option<u64> {
        let at = due.instant();
        let (mut index, mut date) = self.start_near(anchor.date(), due.date())?;
        for _ in 0..MAX_STEPS {
            if anchor.on(date).instant() >= at {
                return Some(index);
            }
            (index, date) = self.following(anchor.date(), index, date)?;
        }
        None
    }

    /// The RRULE a calendar app reads for the occurrence due at `due` of
    /// the series anchored at `anchor`, with that occurrence as its
    /// `DTSTART` (or a to-do's `DUE`), so that the app computes the same
    /// next occurrences Taskflow does:
    /// - COUNT becomes the occurrences left, this one included;
    /// - UNTIL takes the value type of the due (a date for a date, else
    ///   a UTC instant: the end of the day for an UNTIL date);
    /// - the weekday, month day and month Taskflow takes from the anchor
    ///   are written out (the app would take them from this occurrence);
    /// - days 29 to 31 of a month, and 29 February, fall back to the last
    ///   day of a shorter month (`BYSETPOS=-1`), as Taskflow clamps them
    ///   where RFC 5545 would skip the month.
    ///
    /// A rule with INTERVAL > 1 whose occurrence was moved into another
    /// period is counted from the moved one: apps count periods from DTSTART.
    pub fn to_ical(&self, anchor: &Due, due: &Due) -> String {
        let mut rule = format!("FREQ={}", self.freq.as_str());
        if self.interval != 1 {
            rule.push_str(&format!(";INTERVAL={}", self.interval));
        }
        let day = anchor.date().day();
        let last_days = |from: u32| {
            let days: Vec<String> = (from..=day).map(|d| d.to_string()).collect();
            format!("BYMONTHDAY={};BYSETPOS=-1", days.join(","))
        };
        match self.freq {
            Frequency::Daily => {}
            Frequency::Weekly => {
                let days: Vec<&str> = match self.by_day.as_slice() {
                    [] => vec![weekday_code(anchor.date().weekday())],
                    days => days.iter().map(|d| weekday_code(*d)).collect(),
                };
                rule.push_str(&format!(";BYDAY={}", days.join(",")));
            }
            Frequency::Monthly if day > 28 => rule.push_str(&format!(";{}", last_days(28))),
            Frequency::Monthly => rule.push_str(&format!(";BYMONTHDAY={day}")),
            Frequency::Yearly => {
                let month = anchor.date().month();
                rule.push_str(&format!(";BYMONTH={month};"));
                if month == 2 && day == 29 {
                    rule.push_str(&last_days(28));
                } else {
                    rule.push_str(&format!("BYMONTHDAY={day}"));
                }
            }
        }
        let zone = due.zone();
        let dated = matches!(due, Due::Date { .. });
        match self.end {
            None => {}
            Some(End::Count(count)) => {
                let done = self.index_of(anchor, due).unwrap_or(u64::from(count));
                let left = u64::from(count).saturating_sub(done).max(1);
                rule.push_str(&format!(";COUNT={left}"));
            }
            Some(End::UntilDate(date)) if dated => {
                rule.push_str(&format!(";UNTIL={}", date.format("%Y%m%d")));
            }
            Some(End::UntilDate(date)) => {
                let end_of_day = zone.resolve(date.and_hms_opt(23, 59, 59).unwrap_or_default());
                rule.push_str(&format!(";UNTIL={}", end_of_day.format("%Y%m%dT%H%M%SZ")));
            }
            Some(End::UntilInstant(at)) if dated => {
                rule.push_str(&format!(
                    ";UNTIL={}",
                    zone.local(at).date().format("%Y%m%d")
                ));
            }
            Some(End::UntilInstant(at)) => {
                rule.push_str(&format!(";UNTIL={}", at.format("%Y%m%dT%H%M%SZ")));
            }
        }
        rule
    }

    fn allows(&self, index: u64, due: &Due) -> bool {
        match self.end {
            None => true,
            Some(End::Count(count)) => index < u64::from(count),
            Some(End::UntilDate(until)) => due.date() <= until,
            Some(End::UntilInstant(until)) => due.instant() <= until,
        }
    }

    /// An occurrence (index and date) at or before the first occurrence on or
    /// after `target`, close to it, so `next_after` walks only a few steps.
    fn start_near(&self, anchor: NaiveDate, target: NaiveDate) -> Option<(u64, NaiveDate)> {
        let interval = i64::from(self.interval);
        let days = (target - anchor).num_days();
        if days <= 0 {
            return Some((0, anchor));
        }
        if self.freq == Frequency::Weekly && !self.by_day.is_empty() {
            let period = (monday(target) - monday(anchor)).num_days() / (7 * interval);
            if period <= 1 {
                return Some((0, anchor));
            }
            let start = period - 1;
            let week = monday(anchor)
                .checked_add_days(Days::new(u64::try_from(start * 7 * interval).ok()?))?;
            let index = self.first_period_len(anchor)
                + u64::try_from(start - 1).ok()? * self.by_day.len() as u64;
            return Some((index, on_weekday(week, self.by_day[0])));
        }
        let months = i64::from(target.year() - anchor.year()) * 12 + i64::from(target.month())
            - i64::from(anchor.month());
        let periods = match self.freq {
            Frequency::Daily => days / interval,
            Frequency::Weekly => days / (7 * interval),
            Frequency::Monthly => months / interval,
            Frequency::Yearly => months / (12 * interval),
        };
        let n = u64::try_from(periods - 1).unwrap_or(0);
        Some((n, self.nth(anchor, n)?))
    }

    /// The occurrence after the one at (`index`, `date`).
    fn following(
        &self,
        anchor: NaiveDate,
        index: u64,
        date: NaiveDate,
    ) -> Option<(u64, NaiveDate)> {
        let next = index.checked_add(1)?;
        if self.freq == Frequency::Weekly && !self.by_day.is_empty() {
            let week = monday(date);
            let today = date.weekday().num_days_from_monday();
            if let Some(day) = self
                .by_day
                .iter()
                .find(|d| d.num_days_from_monday() > today)
            {
                return Some((next, on_weekday(week, *day)));
            }
            let next_week = week.checked_add_days(Days::new(7 * u64::from(self.interval)))?;
            return Some((next, on_weekday(next_week, self.by_day[0])));
        }
        Some((next, self.nth(anchor, next)?))
    }

    /// Occurrences in the anchor's own period of a BYDAY rule: the anchor
    /// (always the first occurrence, as in RFC 5545) and the listed days
    /// after it that week.
    fn first_period_len(&self, anchor: NaiveDate) -> u64 {
        let weekday = anchor.weekday().num_days_from_monday();
        let later = self
            .by_day
            .iter()
            .filter(|d| d.num_days_from_monday() > weekday);
        let later = later.count() as u64;
        later + 1
    }

    /// The `n`th occurrence date (0 = the anchor) of a rule without BYDAY.
    fn nth(&self, anchor: NaiveDate, n: u64) -> Option<NaiveDate> {
        let steps = n.checked_mul(u64::from(self.interval))?;
        let date = match self.freq {
            Frequency::Daily => anchor.checked_add_days(Days::new(steps))?,
            Frequency::Weekly => anchor.checked_add_days(Days::new(steps.checked_mul(7)?))?,
            // chrono clamps to the last day of a shorter month.
            Frequency::Monthly => {
                anchor.checked_add_months(Months::new(u32::try_from(steps).ok()?))?
            }
            Frequency::Yearly => anchor
                .checked_add_months(Months::new(u32::try_from(steps.checked_mul(12)?).ok()?))?,
        };
        Some(date)
    }
}

fn monday(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

fn on_weekday(monday: NaiveDate, day: Weekday) -> NaiveDate {
    monday + Days::new(u64::from(day.num_days_from_monday()))
}

fn check_interval(interval: u32) -> Result<(), Invalid> {
    if (1..=MAX_INTERVAL).contains(&interval) {
        Ok(())
    } else {
        Err(Invalid::new(
            FIELD,
            format!("INTERVAL must be between 1 and {MAX_INTERVAL}"),
        ))
    }
}

fn check_count(count: u32) -> Result<(), Invalid> {
    if (1..=MAX_COUNT).contains(&count) {
        Ok(())
    } else {
        Err(Invalid::new(
            FIELD,
            format!("COUNT must be between 1 and {MAX_COUNT}"),
        ))
    }
}

impl FromStr for RecurrenceRule {
    type Err = Invalid;

    /// Parses RRULE text such as `FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10`; an
    /// `RRULE:` prefix and lower case are accepted.
    fn from_str(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        let body = text
            .get(..6)
            .filter(|head| head.eq_ignore_ascii_case("RRULE:"))
            .map_or(text, |_| &text[6..]);
        let (mut freq, mut interval, mut by_day, mut count, mut until) =
            (None, None, None, None, None);
        for part in body.split(';').filter(|p| !p.trim().is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                Invalid::new(
                    FIELD,
                    format!("`{part}` is not KEY=VALUE; example: `FREQ=WEEKLY;BYDAY=MO`"),
                )
            })?;
            let key = key.trim().to_ascii_uppercase();
            let value = value.trim().to_ascii_uppercase();
            let duplicate = || Invalid::new(FIELD, format!("{key} is given twice"));
            match key.as_str() {
                "FREQ" => {
                    let parsed = match value.as_str() {
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        "YEARLY" => Frequency::Yearly,
                        _ => {
                            return Err(Invalid::new(
                                FIELD,
                                format!(
                                    "FREQ={value} is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY"
                                ),
                            ));
                        }
                    };
                    freq.replace(parsed).map_or(Ok(()), |_| Err(duplicate()))?;
                }
                "INTERVAL" => {
                    let n: u32 = value.parse().map_err(|_| {
                        Invalid::new(FIELD, format!("INTERVAL={value} is not a whole number"))
                    })?;
                    check_interval(n)?;
                    interval.replace(n).map_or(Ok(()), |_| Err(duplicate()))?;
                }
                "BYDAY" => {
                    let days = parse_by_day(&value)?;
                    by_day.replace(days).map_or(Ok(()), |_| Err(duplicate()))?;
                }
                "COUNT" => {
                    let n: u32 = value.parse().map_err(|_| {
                        Invalid::new(FIELD, format!("COUNT={value} is not a whole number"))
                    })?;
                    check_count(n)?;
                    count.replace(n).map_or(Ok(()), |_| Err(duplicate()))?;
                }
                "UNTIL" => {
                    let end = parse_until(&value)?;
                    until.replace(end).map_or(Ok(()), |_| Err(duplicate()))?;
                }
                _ => {
                    return Err(Invalid::new(
                        FIELD,
                        format!(
                            "{key} is not supported; only FREQ, INTERVAL, BYDAY (weekly), COUNT and UNTIL are"
                        ),
                    ));
                }
            }
        }
        let freq = freq.ok_or_else(|| {
            Invalid::new(
                FIELD,
                "FREQ is required; example: `FREQ=DAILY` or `FREQ=WEEKLY;BYDAY=MO,WE`",
            )
        })?;
        let end = match (count, until) {
            (Some(_), Some(_)) => {
                return Err(Invalid::new(FIELD, "give COUNT or UNTIL, not both"));
            }
            (Some(n), None) => Some(End::Count(n)),
            (None, until) => until,
        };
        Self::new(
            freq,
            interval.unwrap_or(1),
            &by_day.unwrap_or_default(),
            end,
        )
    }
}

fn parse_by_day(value: &str) -> Result<Vec<Weekday>, Invalid> {
    let mut days = Vec::new();
    for code in value.split(',').map(str::trim) {
        let day = match code {
            "MO" => Weekday::Mon,
            "TU" => Weekday::Tue,
            "WE" => Weekday::Wed,
            "TH" => Weekday::Thu,
            "FR" => Weekday::Fri,
            "SA" => Weekday::Sat,
            "SU" => Weekday::Sun,
            _ => {
                return Err(Invalid::new(
                    FIELD,
                    format!(
                        "BYDAY `{code}` is not one of MO, TU, WE, TH, FR, SA, SU (ordinals such as 1MO are not supported)"
                    ),
                ));
            }
        };
        days.push(day);
    }
    Ok(days)
}

fn parse_until(value: &str) -> Result<End, Invalid> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y%m%d") {
        return Ok(End::UntilDate(date));
    }
    if let Some(utc) = value.strip_suffix('Z')
        && let Ok(local) = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
    {
        return Ok(End::UntilInstant(local.and_utc()));
    }
    Err(Invalid::new(
        FIELD,
        format!("UNTIL={value} is not a date (`20261231`) or a UTC date-time (`20261231T235959Z`)"),
    ))
}

impl fmt::Display for RecurrenceRule {
    /// The canonical RRULE text (no `RRULE:` prefix).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FREQ={}", self.freq.as_str())?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if !self.by_day.is_empty() {
            let days: Vec<&str> = self.by_day.iter().map(|d| weekday_code(*d)).collect();
            write!(f, ";BYDAY={}", days.join(","))?;
        }
        match self.end {
            None => Ok(()),
            Some(End::Count(n)) => write!(f, ";COUNT={n}"),
            Some(End::UntilDate(date)) => write!(f, ";UNTIL={}", date.format("%Y%m%d")),
            Some(End::UntilInstant(at)) => write!(f, ";UNTIL={}", at.format("%Y%m%dT%H%M%SZ")),
        }
    }
}

/// The RFC 5545 code of a weekday (`MO`).
pub(crate) fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}
