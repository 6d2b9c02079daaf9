//! When a task is due: a calendar date, or a wall-clock date-time, always in
//! an IANA time zone. A date stays a date (no midnight-UTC off-by-one), and a
//! date-time keeps its local wall-clock time, so "10:00 in Berlin" is still
//! 10:00 after a DST change.

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use std::fmt::{self, Write as _};

use crate::Invalid;

/// The earliest and latest years a due date, reminder or occurrence may have.
/// Keeps every instant a four-digit year (so RFC 3339 text sorts as time on
/// SQLite and fits PostgreSQL) and date arithmetic far from chrono's limits.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9000;

/// An IANA time zone such as `Europe/Berlin` or `UTC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

impl Zone {
    /// Coordinated Universal Time, the default zone.
    pub const UTC: Zone = Zone(Tz::UTC);

    /// Parses an IANA zone name; `field` names the input at fault on error.
    pub fn parse(name: &str, field: &str) -> Result<Zone, Invalid> {
        name.trim().parse::<Tz>().map(Zone).map_err(|_| {
            Invalid::new(
                field,
                format!("`{name}` is not an IANA time zone name; use one like `Europe/Berlin`, `America/New_York` or `UTC`"),
            )
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The zone data.
    pub(crate) fn tz(&self) -> Tz {
        self.0
    }

    /// The wall-clock time in this zone at `instant`.
    pub fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.0).naive_local()
    }

    /// The instant a wall-clock time names in this zone. An ambiguous time (the
    /// repeated hour when clocks go back) is the earlier instant; a time that
    /// does not exist (skipped when clocks go forward) is read with the offset
    /// in force before the gap, as RFC 5545 prescribes, so 02:30 on a
    /// spring-forward night becomes 03:30.
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        if let Some(instant) = self.0.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
        // In a gap. Gaps are at most a day long (Samoa skipped 2011-12-30).
        for hours in [3, 26] {
            let before = local - chrono::Duration::hours(hours);
            if let Some(earlier) = self.0.from_local_datetime(&before).earliest() {
                let offset = earlier.offset().fix();
                return (local - offset).and_utc();
            }
        }
        local.and_utc()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When a task is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Due some time on a calendar day in `zone`.
    Date { date: NaiveDate, zone: Zone },
    /// Due at a wall-clock time in `zone`.
    DateTime { local: NaiveDateTime, zone: Zone },
}

impl Due {
    /// Parses `YYYY-MM-DD` (a date), `YYYY-MM-DDTHH:MM[:SS]` (a wall-clock time
    /// in `zone`), or an RFC 3339 instant with `Z` or an offset (converted to
    /// the wall-clock time in `zone`). Fractions of a second are dropped.
    pub fn parse(text: &str, zone: Zone) -> Result<Due, Invalid> {
        let text = text.trim();
        // The forms `local_text` writes (every stored due) are read by hand:
        // a chrono pattern is parsed again on every use.
        let due = if let Some(due) = exact(text, zone) {
            due
        } else if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Due::Date { date, zone }
        } else if let Some(local) = parse_local(text) {
            Due::DateTime { local, zone }
        } else if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
            Due::DateTime {
                local: zone.local(instant.with_timezone(&Utc)),
                zone,
            }
        } else {
            return Err(Invalid::new(
                "due",
                format!(
                    "`{text}` is not a date (`2026-03-23`), a local date-time (`2026-03-23T10:00`) or an RFC 3339 instant (`2026-03-23T09:00:00Z`)"
                ),
            ));
        };
        let due = due.without_fraction();
        if !YEARS.contains(&due.date().year()) {
            return Err(Invalid::new(
                "due",
                format!(
                    "the year must be between {} and {}",
                    YEARS.start(),
                    YEARS.end()
                ),
            ));
        }
        Ok(due)
    }

    fn without_fraction(self) -> Due {
        match self {
            Due::DateTime { local, zone } => Due::DateTime {
                local: local.with_nanosecond(0).unwrap_or(local),
                zone,
            },
            date => date,
        }
    }

    /// The zone the due date is read in.
    pub fn zone(&self) -> Zone {
        match self {
            Due::Date { zone, .. } | Due::DateTime { zone, .. } => *zone,
        }
    }

    /// The local calendar day.
    pub fn date(&self) -> NaiveDate {
        match self {
            Due::Date { date, .. } => *date,
            Due::DateTime { local, .. } => local.date(),
        }
    }

    /// The local wall-clock time, if the due has one.
    pub fn time(&self) -> Option<NaiveTime> {
        match self {
            Due::Date { .. } => None,
            Due::DateTime { local, .. } => Some(local.time()),
        }
    }

    /// The instant used for sorting, reminders and due windows: the time
    /// itself, or the start of the day for a date.
    pub fn instant(&self) -> DateTime<Utc> {
        match self {
            Due::Date { date, zone } => zone.resolve(date.and_time(NaiveTime::MIN)),
            Due::DateTime { local, zone } => zone.resolve(*local),
        }
    }

    /// The instant from which an open task is overdue: the time itself, or the
    /// end of the day for a date.
    pub fn deadline(&self) -> DateTime<Utc> {
        match self {
            Due::Date { date, zone } => match date.checked_add_days(Days::new(1)) {
                Some(next) => zone.resolve(next.and_time(NaiveTime::MIN)),
                None => self.instant(),
            },
            Due::DateTime { .. } => self.instant(),
        }
    }

    /// The same kind of due (and the same time of day) on another date.
    pub fn on(&self, date: NaiveDate) -> Due {
        match self {
            Due::Date { zone, .. } => Due::Date { date, zone: *zone },
            Due::DateTime { local, zone } => Due::DateTime {
                local: date.and_time(local.time()),
                zone: *zone,
            },
        }
    }

    /// The same wall-clock date (and time) read in another zone.
    pub fn in_zone(&self, zone: Zone) -> Due {
        match self {
            Due::Date { date, .. } => Due::Date { date: *date, zone },
            Due::DateTime { local, .. } => Due::DateTime {
                local: *local,
                zone,
            },
        }
    }

    /// The local text as the API shows it: `2026-03-23` or `2026-03-23T10:00:00`.
    pub fn local_text(&self) -> String {
        // Written out, not by a chrono pattern: a listing shows this for
        // every row, and a pattern is parsed again on every use.
        let (date, mut text) = (self.date(), String::with_capacity(19));
        let _ = write!(
            text,
            "{:04}-{:02}-{:02}",
            date.year(),
            date.month(),
            date.day()
        );
        if let Some(time) = self.time() {
            let (h, m, s) = (time.hour(), time.minute(), time.second());
            let _ = write!(text, "T{h:02}:{m:02}:{s:02}");
        }
        text
    }
}

/// `2026-03-23` or `2026-03-23T10:00:00`, exactly (what `local_text` writes).
fn exact(text: &str, zone: Zone) -> Option<Due> {
    let bytes = text.as_bytes();
    let number = |at: usize, digits: usize| -> Option<u32> {
        bytes.get(at..at + digits)?.iter().try_fold(0, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let at = |i: usize, b: u8| bytes.get(i) == Some(&b);
    if !(at(4, b'-') && at(7, b'-')) {
        return None;
    }
    let year = i32::try_from(number(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5, 2)?, number(8, 2)?)?;
    match bytes.len() {
        10 => Some(Due::Date { date, zone }),
        19 if at(10, b'T') && at(13, b':') && at(16, b':') => {
            let time = NaiveTime::from_hms_opt(number(11, 2)?, number(14, 2)?, number(17, 2)?)?;
            Some(Due::DateTime {
                local: date.and_time(time),
                zone,
            })
        }
        _ => None,
    }
}

fn parse_local(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Zone {
        Zone::parse("Europe/Berlin", "timezone").unwrap()
    }

    #[test]
    fn a_date_stays_a_date_and_is_overdue_only_after_its_day_ends() {
        let due = Due::parse("2026-03-23", berlin()).unwrap();
        assert_eq!(due.local_text(), "2026-03-23");
        assert_eq!(due.instant().to_rfc3339(), "2026-03-22T23:00:00+00:00");
        assert_eq!(due.deadline().to_rfc3339(), "2026-03-23T23:00:00+00:00");
    }

    #[test]
    fn a_local_time_is_read_in_its_zone() {
        let due = Due::parse("2026-07-01T10:00", berlin()).unwrap();
        assert_eq!(due.local_text(), "2026-07-01T10:00:00");
        assert_eq!(due.instant().to_rfc3339(), "2026-07-01T08:00:00+00:00");
    }

    #[test]
    fn an_instant_becomes_the_wall_clock_time_of_the_zone() {
        let due = Due::parse("2026-07-01T08:00:00.250Z", berlin()).unwrap();
        assert_eq!(due.local_text(), "2026-07-01T10:00:00");
    }

    #[test]
    fn a_time_skipped_by_dst_moves_forward_and_a_repeated_one_is_the_earlier() {
        let gap = Due::parse("2026-03-29T02:30", berlin()).unwrap();
        assert_eq!(gap.instant().to_rfc3339(), "2026-03-29T01:30:00+00:00");
        let repeated = Due::parse("2026-10-25T02:30", berlin()).unwrap();
        assert_eq!(repeated.instant().to_rfc3339(), "2026-10-25T00:30:00+00:00");
    }

    #[test]
    fn the_written_forms_are_read_by_hand_exactly_as_the_patterns_read_them() {
        let by_pattern = |text: &str| {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok();
            date.map(|date| Due::Date {
                date,
                zone: berlin(),
            })
            .or(local.map(|local| Due::DateTime {
                local,
                zone: berlin(),
            }))
        };
        let odd = [
            "2024-02-29",
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-03-2a",
            "2026-03-23T24:00:00",
            "2026-03-23T10:60:00",
            "2026-03-23T10:00:60",
            "2026-03-23X10:00:00",
            "2026-03-23T10:00",
            "2026/03/23",
        ];
        for text in odd {
            if let Some(due) = exact(text, berlin()) {
                assert_eq!(Some(due), by_pattern(text), "{text}");
            }
        }
        let mut day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        for n in 0..800u32 {
            let time = NaiveTime::from_hms_opt(n % 24, (n * 7) % 60, (n * 13) % 60).unwrap();
            for due in [
                Due::Date {
                    date: day,
                    zone: berlin(),
                },
                Due::DateTime {
                    local: day.and_time(time),
                    zone: berlin(),
                },
            ] {
                let text = due.local_text();
                assert_eq!(exact(&text, berlin()), Some(due), "{text}");
                assert_eq!(by_pattern(&text), Some(due), "{text}");
            }
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn nonsense_names_the_field() {
        assert_eq!(
            Due::parse("next tuesday", Zone::UTC).unwrap_err().field,
            "due"
        );
        assert_eq!(
            Due::parse("2026-02-30", Zone::UTC).unwrap_err().field,
            "due"
        );
        assert_eq!(
            Due::parse("0001-01-01", Zone::UTC).unwrap_err().field,
            "due"
        );
        assert_eq!(
            Zone::parse("Mars/Olympus", "timezone").unwrap_err().field,
            "timezone"
        );
    }
}
