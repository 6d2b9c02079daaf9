//! Dates, times, durations and repeats in everyday English, read from a
//! sentence's words against the user's current local time: "tomorrow",
//! "Monday 10 AM", "next Friday", "in 2 hours", "on the 15th", "March 3",
//! "every 2 weeks on Tuesday", "remind me 30 minutes before".
//!
//! Each reader looks at the words from one position and says how many it
//! used, so the reader can take them out of a title. The defaults (a
//! morning is 09:00, …) are documented in `chat/READING.md`.

use chrono::{Datelike, Days, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use taskflow_core::Zone;

/// The moment a message is read: local time and zone. Instants follow
/// core's rules for wall-clock times (`Zone::resolve`).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub local: NaiveDateTime,
    pub zone: Zone,
}

impl Now {
    pub fn today(&self) -> NaiveDate {
        self.local.date()
    }

    /// The local time `minutes` real minutes from now (across a DST change
    /// too).
    pub fn after_minutes(&self, minutes: u32) -> NaiveDateTime {
        self.zone
            .local(self.zone.resolve(self.local) + Duration::minutes(i64::from(minutes)))
    }

    /// Real minutes from now until local time `then`.
    pub fn minutes_until(&self, then: NaiveDateTime) -> i64 {
        (self.zone.resolve(then) - self.zone.resolve(self.local)).num_minutes()
    }

    /// The zone's UTC offset at the start of `date`, as `+01:00`.
    pub fn offset_on(&self, date: NaiveDate) -> String {
        let start = date.and_time(NaiveTime::MIN);
        let seconds = (start - self.zone.resolve(start).naive_utc()).num_seconds();
        chrono::FixedOffset::east_opt(i32::try_from(seconds).unwrap_or(0))
            .map_or_else(|| "+00:00".into(), |offset| offset.to_string())
    }
}

/// A resolved moment: a whole day, or a local date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    /// The weekday the user named ("Monday"), if the date came from one.
    pub weekday: Option<Weekday>,
}

impl When {
    /// `2026-03-30` or `2026-03-30T10:00`, as the task tools take it.
    pub fn due_text(&self) -> String {
        match self.time {
            None => self.date.format("%Y-%m-%d").to_string(),
            Some(time) => self
                .date
                .and_time(time)
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
        }
    }

    /// The local date-time (midnight for a whole day).
    pub fn local(&self) -> NaiveDateTime {
        self.date.and_time(self.time.unwrap_or(NaiveTime::MIN))
    }
}

/// A stretch of days, for list filters: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub label: &'static str,
}

pub fn weekday(word: &str) -> Option<Weekday> {
    Some(match word.trim_end_matches('s') {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

pub fn month(word: &str) -> Option<u32> {
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = word.trim_end_matches('.');
    (0..12)
        .find(|&i| word == months[i] || word == full[i] || (word == "sept" && i == 8))
        .map(|i| i as u32 + 1)
}

/// A day of the month: `15`, `15th`, `1st`, `2nd`, `3rd`.
pub fn day_number(word: &str) -> Option<u32> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .unwrap_or(word);
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// A count: `2`, `two` (one to twelve, and a few round numbers), `a`, `an`.
pub fn count(word: &str) -> Option<u32> {
    Some(match word {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "fifteen" => 15,
        "twenty" => 20,
        "thirty" => 30,
        "other" => 2,
        _ => return word.parse().ok().filter(|n| *n > 0),
    })
}

/// A unit of time in minutes ("day" and longer are calendar units: a
/// moment that far ahead is a date).
pub fn unit_minutes(word: &str) -> Option<u32> {
    Some(match word {
        "min" | "mins" | "minute" | "minutes" | "m" => 1,
        "h" | "hr" | "hrs" | "hour" | "hours" => 60,
        "day" | "days" | "d" => 1440,
        "week" | "weeks" | "w" | "wk" | "wks" => 10_080,
        "fortnight" | "fortnights" => 20_160,
        _ => return None,
    })
}

/// A length of time at `i`: "30 minutes", "an hour", "2h", "half an hour",
/// "90 min". Returns (words used, minutes).
pub fn duration_at(words: &[&str], i: usize) -> Option<(usize, u32)> {
    let at = |k: usize| words.get(i + k).copied();
    if at(0) == Some("half")
        && at(1).is_some_and(|w| w == "an" || w == "a")
        && at(2) == Some("hour")
    {
        return Some((3, 30));
    }
    if let (Some(n), Some(unit)) = (at(0).and_then(count), at(1).and_then(unit_minutes)) {
        return Some((2, n.saturating_mul(unit)));
    }
    // "2h", "30m", "90min"
    let word = at(0)?;
    let split = word.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = word.split_at(split);
    Some((
        1,
        n.parse::<u32>().ok()?.saturating_mul(unit_minutes(unit)?),
    ))
}

/// A time of day at `i`: "10", "10am", "10 am", "10:30", "10:30 p.m.",
/// "noon", "midnight", "14:00". A bare number counts only if `bare` allows.
pub fn time_at(words: &[&str], i: usize, bare: bool) -> Option<(usize, NaiveTime)> {
    let word = *words.get(i)?;
    match word {
        "noon" | "midday" | "lunchtime" => return Some((1, hm(12, 0)?)),
        "midnight" => return Some((1, hm(0, 0)?)),
        _ => {}
    }
    // "5 o'clock"
    if words.get(i + 1) == Some(&"o'clock")
        && let Some(hour) = word.parse::<u32>().ok().filter(|h| (1..=12).contains(h))
    {
        let hour = if hour <= 6 { hour + 12 } else { hour };
        return Some((2, hm(hour, 0)?));
    }
    // "17h"
    if let Some(hour) = word
        .strip_suffix('h')
        .and_then(|h| h.parse::<u32>().ok())
        .filter(|h| *h <= 23)
        && word.len() > 1
    {
        return Some((1, hm(hour, 0)?));
    }
    let next = words.get(i + 1).copied();
    let meridiem = |w: &str| match w.replace('.', "").as_str() {
        "am" => Some(false),
        "pm" => Some(true),
        _ => None,
    };
    // "at five", "five pm"
    let spelled;
    let word = match count(word) {
        Some(hour)
            if (1..=12).contains(&hour)
                && word.chars().any(|c| c.is_ascii_alphabetic())
                && !matches!(word, "a" | "an" | "other")
                && (bare || next.and_then(meridiem).is_some()) =>
        {
            spelled = hour.to_string();
            spelled.as_str()
        }
        _ => word,
    };
    let (clock, suffix) = match word.find(|c: char| !(c.is_ascii_digit() || c == ':')) {
        Some(at) => (&word[..at], Some(&word[at..])),
        None => (word, None),
    };
    let (hour, minute) = match clock.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        Some(_) => return None,
        None => (clock.parse::<u32>().ok()?, 0),
    };
    let (used, pm) = match suffix {
        Some(suffix) => (1, Some(meridiem(suffix)?)),
        None => match next.and_then(meridiem) {
            Some(pm) => (2, Some(pm)),
            None if clock.contains(':') || bare => (1, None),
            None => return None,
        },
    };
    let hour = match pm {
        Some(_) if !(1..=12).contains(&hour) => return None,
        Some(true) if hour < 12 => hour + 12,
        Some(false) if hour == 12 => 0,
        _ => hour,
    };
    // "at 7" with no am/pm: 1–6 is afternoon, as people mean it.
    let hour = if pm.is_none() && !clock.contains(':') && (1..=6).contains(&hour) {
        hour + 12
    } else {
        hour
    };
    Some((used, hm(hour, minute)?))
}

fn hm(hour: u32, minute: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// The first `weekday` on or after `today`.
pub fn on_or_after(today: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today
        .checked_add_days(Days::new(u64::from(ahead)))
        .unwrap_or(today)
}

/// Monday of `date`'s week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

/// A date at `i`: "today", "tomorrow", "day after tomorrow", "Monday",
/// "next Friday", "this Friday", "next week", "this weekend", "the 15th",
/// "March 3", "3rd of March", "2026-03-30", "3/30", "next month".
pub fn date_at(
    words: &[&str],
    i: usize,
    today: NaiveDate,
) -> Option<(usize, NaiveDate, Option<Weekday>)> {
    let at = |k: usize| words.get(i + k).copied();
    let first = at(0)?;
    match first {
        "today" | "tonight" => return Some((1, today, None)),
        "tomorrow" | "tmrw" | "tmr" => return Some((1, today.succ_opt()?, None)),
        "day" if at(1) == Some("after") && at(2) == Some("tomorrow") => {
            return Some((3, today + Days::new(2), None));
        }
        "the" if at(1) == Some("day") && at(2) == Some("after") && at(3) == Some("tomorrow") => {
            return Some((4, today + Days::new(2), None));
        }
        "end"
            if at(1) == Some("of")
                && (at(2) == Some("week") || (at(2) == Some("the") && at(3) == Some("week"))) =>
        {
            let used = if at(2) == Some("week") { 3 } else { 4 };
            return Some((used, on_or_after(today, Weekday::Fri), None));
        }
        "next" | "this" | "coming" => {
            if let Some(day) = at(1).and_then(weekday) {
                return Some((2, on_or_after(today, day), Some(day)));
            }
            let next = first == "next";
            match at(1) {
                Some("week") if next => return Some((2, week_start(today) + Days::new(7), None)),
                Some("weekend") => {
                    let saturday = on_or_after(today, Weekday::Sat);
                    let saturday = if next {
                        saturday + Days::new(7)
                    } else {
                        saturday
                    };
                    return Some((2, saturday, None));
                }
                Some("month") if next => {
                    let first_day = today.with_day(1)?.checked_add_months(Months::new(1))?;
                    return Some((2, first_day, None));
                }
                _ => return None,
            }
        }
        "weekend" => return Some((1, on_or_after(today, Weekday::Sat), None)),
        "end" if at(1) == Some("of") && matches!(at(2), Some("month") | Some("the")) => {
            let used = if at(2) == Some("the") && at(3) == Some("month") {
                4
            } else if at(2) == Some("month") {
                3
            } else {
                return None;
            };
            let last = today
                .with_day(1)?
                .checked_add_months(Months::new(1))?
                .pred_opt()?;
            return Some((used, last, None));
        }
        _ => {}
    }
    // A weekday by its full name; an abbreviation only after "on", "by"
    // and the like ("study for the SAT" is not a Saturday).
    let led = i > 0
        && matches!(
            words[i - 1],
            "on" | "by" | "until" | "till" | "due" | "before"
        );
    if let Some(day) = weekday(first).filter(|_| first.ends_with("day") || led) {
        return Some((1, on_or_after(today, day), Some(day)));
    }
    if let Ok(date) = NaiveDate::parse_from_str(first, "%Y-%m-%d")
        && (1900..=9000).contains(&date.year())
    {
        return Some((1, date, None));
    }
    // "4/15" or "15/4": the next such date when one number is over 12
    // (otherwise it is ambiguous, and left for the reader to ask about).
    if let Some((a, b)) = first.split_once('/')
        && let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>())
    {
        let (m, d) = match (a > 12, b > 12) {
            (true, false) => (b, a),
            (false, true) => (a, b),
            _ => return None,
        };
        return upcoming(today, m, d).map(|date| (1, date, None));
    }
    // "the 15th", "15th"
    let (skip, rest) = if first == "the" {
        (1, at(1)?)
    } else {
        (0, first)
    };
    if let Some(m) = month(rest) {
        // "March 3", "March 3rd", "March 3 2027"
        let day = at(skip + 1).and_then(day_number)?;
        if let Some(year) = at(skip + 2)
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (2000..=2100).contains(y))
        {
            return NaiveDate::from_ymd_opt(year, m, day).map(|d| (skip + 3, d, None));
        }
        return upcoming(today, m, day).map(|d| (skip + 2, d, None));
    }
    if rest.ends_with("st")
        || rest.ends_with("nd")
        || rest.ends_with("rd")
        || rest.ends_with("th")
        || skip == 1
    {
        let day = day_number(rest)?;
        // "3rd of March", "3 March"
        let (of, month_word) = if at(skip + 1) == Some("of") {
            (1, at(skip + 2))
        } else {
            (0, at(skip + 1))
        };
        if let Some(m) = month_word.and_then(month) {
            return upcoming(today, m, day).map(|d| (skip + 2 + of, d, None));
        }
        // The next 15th: this month if still ahead (or today), else later.
        let mut month_start = today.with_day(1)?;
        for _ in 0..12 {
            if let Some(date) = month_start.with_day(day)
                && date >= today
            {
                return Some((skip + 1, date, None));
            }
            month_start = month_start.checked_add_months(Months::new(1))?;
        }
        return None;
    }
    if let Some(day) = day_number(rest)
        && let Some(m) = at(skip + 1).and_then(month)
    {
        return upcoming(today, m, day).map(|d| (skip + 2, d, None));
    }
    None
}

/// The next `month`/`day` on or after `today`.
fn upcoming(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    (0..=4).find_map(|ahead| {
        NaiveDate::from_ymd_opt(today.year() + ahead, month, day).filter(|date| *date >= today)
    })
}

/// Words that may lead into a moment and belong to it: "on Monday", "at 10",
/// "by Friday", "due tomorrow", "for Monday".
const LEADS: &[&str] = &["on", "at", "by", "due", "for", "before", "starting", "from"];

/// A moment at `i`, with its leading words: a date with an optional time
/// ("Monday 10 AM", "tomorrow at 5pm", "on the 15th"), a time with an
/// optional date ("at 9 tomorrow", "10:30"), "in 2 hours", or a part of the
/// day ("tonight", "this evening"). Returns (words used, moment).
pub fn when_at(words: &[&str], i: usize, now: Now) -> Option<(usize, When)> {
    let today = now.today();
    let mut lead = 0;
    while words.get(i + lead).is_some_and(|w| LEADS.contains(w)) && lead < 2 {
        lead += 1;
    }
    let j = i + lead;
    let on = |date: NaiveDate, time: Option<NaiveTime>| When {
        date,
        time,
        weekday: None,
    };
    // A time of day today, or tomorrow once it has passed.
    let next_at = |time: NaiveTime| {
        let date = if time > now.local.time() {
            today
        } else {
            today.succ_opt()?
        };
        Some(on(date, Some(time)))
    };
    // "in 2 hours", "in 3 days", "in a fortnight", "in 2 months"
    if words.get(j) == Some(&"in") {
        if let (Some(n), Some("month" | "months")) = (
            words.get(j + 1).and_then(|w| count(w)),
            words.get(j + 2).copied(),
        ) {
            let date = today.checked_add_months(Months::new(n))?;
            return Some((lead + 3, on(date, None)));
        }
        if let Some((used, minutes)) = duration_at(words, j + 1) {
            // Minutes and hours give a time; days and weeks a date.
            let clock = words[j + 1..j + 1 + used].iter().any(|w| {
                let unit = w.trim_start_matches(|c: char| c.is_ascii_digit());
                unit_minutes(unit).is_some_and(|m| m < 1440)
            });
            let when = if !clock {
                on(today + Days::new(u64::from(minutes / 1440)), None)
            } else {
                let at = now.after_minutes(minutes);
                on(at.date(), Some(at.time()))
            };
            return Some((lead + 1 + used, when));
        }
    }
    // "end of day", "eod", "close of business"
    if let Some(used) = end_of_day(words, j) {
        return Some((lead + used, next_at(hm(17, 0)?)?));
    }
    let said_at = lead > 0 && words[j - 1] == "at";
    if let Some((used, date, weekday)) = date_at(words, j, today) {
        let evening = matches!(words[j], "tonight");
        let mut used = lead + used;
        let mut time = evening.then(|| hm(20, 0)).flatten();
        let mut later = evening;
        // "Monday 10 AM", "tomorrow at 5pm", "Friday morning", "Friday at
        // midnight", "tomorrow evening at 7"
        let mut k = i + used;
        if let Some((p_used, t)) = part_of_day(words, k) {
            time = Some(t);
            later = t >= hm(12, 0)?;
            k += p_used;
            used = k - i;
        }
        let at = words.get(k) == Some(&"at");
        if at {
            k += 1;
        }
        if let Some((t_used, t)) = time_at(words, k, at || later) {
            time = Some(afternoon_if(later, t, words.get(k).copied()));
            used = k + t_used - i;
        } else if let Some(e_used) = end_of_day(words, k) {
            time = hm(17, 0);
            used = k + e_used - i;
        }
        let midnight = words[i..i + used].contains(&"midnight");
        let mut date = if midnight { date.succ_opt()? } else { date };
        // A weekday whose time today has passed is next week's.
        if let (Some(_), Some(t)) = (weekday, time)
            && date == today
            && t <= now.local.time()
        {
            date = date + Days::new(7);
        }
        return Some((
            used,
            When {
                date,
                time,
                weekday,
            },
        ));
    }
    if let Some((t_used, time)) = time_at(words, j, said_at) {
        let mut used = lead + t_used;
        let midnight = words[j] == "midnight";
        // "at 9 tomorrow", "10am on Friday", "5pm tonight"
        let mut k = i + used;
        if words.get(k) == Some(&"on") {
            k += 1;
        }
        if let Some((d_used, date, weekday)) = date_at(words, k, today) {
            used = k + d_used - i;
            let time = afternoon_if(words[k] == "tonight", time, words.get(j).copied());
            let date = if midnight { date.succ_opt()? } else { date };
            return Some((
                used,
                When {
                    date,
                    time: Some(time),
                    weekday,
                },
            ));
        }
        if midnight {
            return Some((used, on(today.succ_opt()?, Some(time))));
        }
        // "at 9 this evening", "7 in the morning"
        if let Some((p_used, part)) = part_of_day(words, k) {
            let time = afternoon_if(part >= hm(12, 0)?, time, words.get(j).copied());
            let date = next_at(part)?.date;
            return Some((k + p_used - i, on(date, Some(time))));
        }
        return Some((used, next_at(time)?));
    }
    // "this evening", "in the morning", "tonight"
    let (p_used, time) = part_of_day(words, j)?;
    let mut used = lead + p_used;
    let mut time = time;
    let mut k = i + used;
    if words.get(k) == Some(&"at") {
        k += 1;
        if let Some((t_used, t)) = time_at(words, k, true) {
            time = afternoon_if(time >= hm(12, 0)?, t, words.get(k).copied());
            used = k + t_used - i;
        }
    }
    Some((used, next_at(time)?))
}

/// After "tonight", "evening" or "afternoon", a bare hour from 1 to 11 is
/// in the afternoon or evening ("tonight at 9" is 21:00).
fn afternoon_if(later: bool, time: NaiveTime, word: Option<&str>) -> NaiveTime {
    use chrono::Timelike;
    let bare = word.is_some_and(|w| w.chars().all(|c| c.is_ascii_digit() || c == ':'));
    if later && bare && (1..12).contains(&time.hour()) {
        time + Duration::hours(12)
    } else {
        time
    }
}

/// "end of day", "end of the day", "eod", "close of business", "cob".
fn end_of_day(words: &[&str], i: usize) -> Option<usize> {
    let at = |k: usize| words.get(i + k).copied();
    match (at(0)?, at(1), at(2), at(3)) {
        ("eod" | "cob", ..) => Some(1),
        ("end", Some("of"), Some("day"), _) => Some(3),
        ("end", Some("of"), Some("the"), Some("day")) => Some(4),
        ("close", Some("of"), Some("business"), _) => Some(3),
        _ => None,
    }
}

/// "this morning", "in the afternoon", "tonight", "evening".
fn part_of_day(words: &[&str], i: usize) -> Option<(usize, NaiveTime)> {
    let skip = match words.get(i).copied() {
        Some("this") => 1,
        Some("in") if words.get(i + 1) == Some(&"the") => 2,
        _ => 0,
    };
    let time = match *words.get(i + skip)? {
        "morning" => hm(9, 0),
        "afternoon" => hm(15, 0),
        "evening" => hm(19, 0),
        "night" if skip == 0 => hm(20, 0),
        "tonight" if skip == 0 => hm(20, 0),
        _ => None,
    }?;
    Some((skip + 1, time))
}

/// A stretch of days for a list at `i`: "today", "tomorrow", "this week",
/// "next week", "this month", "this weekend".
pub fn span_at(words: &[&str], i: usize, today: NaiveDate) -> Option<(usize, Span)> {
    let at = |k: usize| words.get(i + k).copied();
    let day = |date: NaiveDate, label| Span {
        start: date,
        end: date + Days::new(1),
        label,
    };
    Some(match (at(0)?, at(1)) {
        ("today", _) | ("tonight", _) => (1, day(today, "today")),
        ("tomorrow", _) => (1, day(today.succ_opt()?, "tomorrow")),
        ("this", Some("week")) => {
            let start = week_start(today);
            (
                2,
                Span {
                    start,
                    end: start + Days::new(7),
                    label: "this week",
                },
            )
        }
        ("next", Some("week")) => {
            let start = week_start(today) + Days::new(7);
            (
                2,
                Span {
                    start,
                    end: start + Days::new(7),
                    label: "next week",
                },
            )
        }
        ("this", Some("month")) => {
            let start = today.with_day(1)?;
            (
                2,
                Span {
                    start,
                    end: start.checked_add_months(Months::new(1))?,
                    label: "this month",
                },
            )
        }
        ("next", Some("month")) => {
            let start = today.with_day(1)?.checked_add_months(Months::new(1))?;
            (
                2,
                Span {
                    start,
                    end: start.checked_add_months(Months::new(1))?,
                    label: "next month",
                },
            )
        }
        ("this", Some("weekend")) | ("weekend", _) => {
            let saturday = on_or_after(today, Weekday::Sat);
            let used = if at(0) == Some("this") { 2 } else { 1 };
            (
                used,
                Span {
                    start: saturday,
                    end: saturday + Days::new(2),
                    label: "this weekend",
                },
            )
        }
        (word, _) => {
            let weekday = weekday(word)?;
            let date = on_or_after(today, weekday);
            (1, day(date, "that day"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn times_of_day() {
        let cases = [
            ("10am", Some(10)),
            ("10 am", Some(10)),
            ("10:30", Some(10)),
            ("12pm", Some(12)),
            ("12am", Some(0)),
            ("5:30 p.m.", Some(17)),
            ("noon", Some(12)),
            ("13pm", None),
        ];
        for (text, hour) in cases {
            let got = time_at(&words(text), 0, false).map(|(_, t)| chrono::Timelike::hour(&t));
            assert_eq!(got, hour, "{text}");
        }
    }
}
