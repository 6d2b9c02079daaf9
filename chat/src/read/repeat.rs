//! Repeats: "daily", "every weekday", "every 2 weeks on Tuesday", "every
//! Monday and Thursday", "every morning at 7", with an end: "10 times",
//! "for 30 days", "until June 30", "until December 2026". The rule is
//! core's `RecurrenceRule`; the reader never writes RRULE text itself.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime, Weekday};
use taskflow_core::{End, Frequency, Invalid, RecurrenceRule};

use super::when::{self, Now};
use super::words::Words;

/// What a repeat phrase says.
#[derive(Debug, Clone)]
pub struct Repeat {
    pub freq: Frequency,
    pub interval: u32,
    pub days: Vec<Weekday>,
    /// The hour of "every morning", "every evening".
    pub time: Option<NaiveTime>,
    pub count: Option<u32>,
    pub until: Option<NaiveDate>,
    /// "for N <unit>": resolved against the first due.
    pub lasting: Option<(u32, Frequency)>,
}

impl Repeat {
    fn new(freq: Frequency, interval: u32, days: Vec<Weekday>) -> Self {
        Repeat {
            freq,
            interval,
            days,
            time: None,
            count: None,
            until: None,
            lasting: None,
        }
    }

    /// The first date on or after `from` the rule falls on.
    pub fn first_on_or_after(&self, from: NaiveDate) -> NaiveDate {
        self.days
            .iter()
            .map(|day| when::on_or_after(from, *day))
            .min()
            .unwrap_or(from)
    }

    /// The rule from its first due: a weekly repeat without named days
    /// falls on the weekday the user named for the due date.
    pub fn rule(
        &self,
        first: NaiveDate,
        named: Option<Weekday>,
    ) -> Result<RecurrenceRule, Invalid> {
        let mut days = self.days.clone();
        if days.is_empty()
            && self.freq == Frequency::Weekly
            && let Some(day) = named
        {
            days.push(day);
        }
        let end = match (self.count, self.until, self.lasting) {
            (Some(count), ..) => Some(End::Count(count)),
            (None, Some(until), _) => Some(End::UntilDate(until)),
            (None, None, Some((n, unit))) => Some(self.lasting_end(first, n, unit, days.len())),
            (None, None, None) => None,
        };
        RecurrenceRule::new(self.freq, self.interval.max(1), &days, end)
    }

    /// "for N <unit>": a count when the unit is the repeat's own and it falls
    /// once per interval, else the last day of the span.
    fn lasting_end(&self, first: NaiveDate, n: u32, unit: Frequency, days: usize) -> End {
        if unit == self.freq && days <= 1 {
            return End::Count(n.div_ceil(self.interval.max(1)));
        }
        let after = match unit {
            Frequency::Daily => first.checked_add_days(Days::new(u64::from(n))),
            Frequency::Weekly => first.checked_add_days(Days::new(u64::from(n) * 7)),
            Frequency::Monthly => first.checked_add_months(Months::new(n)),
            Frequency::Yearly => first.checked_add_months(Months::new(n.saturating_mul(12))),
        };
        End::UntilDate(after.and_then(|d| d.pred_opt()).unwrap_or(first))
    }
}

fn workdays() -> Vec<Weekday> {
    vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
}

fn unit(word: &str) -> Option<Frequency> {
    Some(match word {
        "day" | "days" => Frequency::Daily,
        "week" | "weeks" => Frequency::Weekly,
        "month" | "months" => Frequency::Monthly,
        "year" | "years" => Frequency::Yearly,
        _ => return None,
    })
}

/// A plural day name: "mondays" (a repeat, where "monday" is a date).
fn plural_day(word: &str) -> Option<Weekday> {
    word.ends_with("days")
        .then(|| when::weekday(word))
        .flatten()
}

/// "Monday and Thursday", "tue, thu": (words used, days).
fn weekdays_at(w: &[&str], from: usize) -> (usize, Vec<Weekday>) {
    let mut k = from;
    let mut days = Vec::new();
    while let Some(day) = w.get(k).and_then(|x| when::weekday(x)) {
        if !days.contains(&day) {
            days.push(day);
        }
        k += 1;
        if matches!(w.get(k).copied(), Some("and" | "&" | "or"))
            && w.get(k + 1).and_then(|x| when::weekday(x)).is_some()
        {
            k += 1;
        }
    }
    (k - from, days)
}

/// The hour of a part of the day in a repeat: "every morning".
fn part_hour(word: &str) -> Option<NaiveTime> {
    let hour = match word {
        "morning" => 9,
        "afternoon" => 15,
        "evening" => 19,
        "night" => 20,
        _ => return None,
    };
    NaiveTime::from_hms_opt(hour, 0, 0)
}

/// Takes a repeat and its end.
pub fn take_repeat(words: &mut Words, now: Now) -> Option<Repeat> {
    let lower = words.lower.clone();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    let mut repeat = every(words, &w).or_else(|| single_word(words, &w))?;
    // "on Tuesday and Thursday" after a weekly repeat; one named day is
    // left to the due date ("weekly on Tuesday").
    if repeat.freq == Frequency::Weekly
        && repeat.days.is_empty()
        && let Some(i) = (0..w.len()).find(|&i| {
            w[i] == "on"
                && words.is_free(i, 1)
                && w.get(i + 1).and_then(|x| when::weekday(x)).is_some()
        })
    {
        let (used, days) = weekdays_at(&w, i + 1);
        if days.len() > 1 {
            words.take(i, used + 1);
            repeat.days = days;
        }
    }
    take_end(words, &w, now, &mut repeat);
    Some(repeat)
}

/// "every …", "each …".
fn every(words: &mut Words, w: &[&str]) -> Option<Repeat> {
    for i in 0..w.len() {
        if !words.is_free(i, 1) || !matches!(w[i], "every" | "each") {
            continue;
        }
        let mut k = i + 1;
        let mut interval = 1;
        if let Some(n) = w
            .get(k)
            .and_then(|x| when::count(x))
            .filter(|_| !matches!(w.get(k).copied(), Some("a" | "an")))
        {
            interval = n;
            k += 1;
        }
        let Some(word) = w.get(k).copied() else {
            continue;
        };
        let mut repeat = if let Some(freq) = unit(word) {
            Repeat::new(freq, interval, Vec::new())
        } else if matches!(word, "weekday" | "weekdays") {
            Repeat::new(Frequency::Weekly, 1, workdays())
        } else if matches!(word, "weekend" | "weekends") {
            Repeat::new(Frequency::Weekly, 1, vec![Weekday::Sat, Weekday::Sun])
        } else if let Some(time) = part_hour(word) {
            let mut repeat = Repeat::new(Frequency::Daily, 1, Vec::new());
            repeat.time = Some(time);
            repeat
        } else if when::weekday(word).is_some() {
            let (used, days) = weekdays_at(w, k);
            k += used - 1;
            let mut repeat = Repeat::new(Frequency::Weekly, interval, days);
            // "every Monday morning"
            if let Some(time) = w.get(k + 1).and_then(|x| part_hour(x)) {
                repeat.time = Some(time);
                k += 1;
            }
            repeat
        } else {
            continue;
        };
        // "every week on …" is handled by the caller; "every day at 7" by
        // the moment reader.
        if repeat.time.is_none()
            && repeat.freq == Frequency::Daily
            && let Some(time) = w.get(k + 1).and_then(|x| part_hour(x))
            && w.get(k + 1) != Some(&"night")
        {
            // "every day in the morning" is rare; "every day morning" rarer.
            repeat.time = Some(time);
            k += 1;
        }
        words.take(i, k + 1 - i);
        return Some(repeat);
    }
    None
}

/// "daily", "weekly", "biweekly", "monthly", "yearly", "weekdays",
/// "on Mondays".
fn single_word(words: &mut Words, w: &[&str]) -> Option<Repeat> {
    for (i, word) in w.iter().enumerate() {
        if !words.is_free(i, 1) {
            continue;
        }
        let repeat = match *word {
            "daily" | "nightly" => Repeat::new(Frequency::Daily, 1, Vec::new()),
            "weekly" => Repeat::new(Frequency::Weekly, 1, Vec::new()),
            "biweekly" | "fortnightly" | "bi-weekly" => {
                Repeat::new(Frequency::Weekly, 2, Vec::new())
            }
            "monthly" => Repeat::new(Frequency::Monthly, 1, Vec::new()),
            "yearly" | "annually" => Repeat::new(Frequency::Yearly, 1, Vec::new()),
            "weekdays" => Repeat::new(Frequency::Weekly, 1, workdays()),
            "weekends" => Repeat::new(Frequency::Weekly, 1, vec![Weekday::Sat, Weekday::Sun]),
            other if plural_day(other).is_some() => {
                let (used, days) = weekdays_at(w, i);
                let from = if i > 0 && matches!(w[i - 1], "on" | "the") && words.is_free(i - 1, 1) {
                    i - 1
                } else {
                    i
                };
                words.take(from, i + used - from);
                return Some(Repeat::new(Frequency::Weekly, 1, days));
            }
            _ => continue,
        };
        let from = if i > 0 && w[i - 1] == "on" && *word == "weekdays" && words.is_free(i - 1, 1) {
            i - 1
        } else {
            i
        };
        words.take(from, i + 1 - from);
        return Some(repeat);
    }
    None
}

/// "10 times", "for 6 weeks", "until June 30", "until December 2026",
/// "until the end of May".
fn take_end(words: &mut Words, w: &[&str], now: Now, repeat: &mut Repeat) {
    let today = now.today();
    for i in 0..w.len() {
        if !words.is_free(i, 2) {
            continue;
        }
        if matches!(w[i + 1], "times" | "time" | "occurrences")
            && let Some(n) = when::count(w[i])
        {
            let start = if i > 0 && w[i - 1] == "for" && words.is_free(i - 1, 1) {
                i - 1
            } else {
                i
            };
            words.take(start, i + 2 - start);
            repeat.count = Some(n);
        } else if w[i] == "for"
            && let Some(n) = when::count(w[i + 1])
            && let Some(unit) = w.get(i + 2).and_then(|x| unit(x))
            && words.is_free(i, 3)
        {
            words.take(i, 3);
            repeat.lasting = Some((n, unit));
        } else if matches!(
            w[i],
            "until" | "till" | "til" | "through" | "thru" | "ending"
        ) && let Some((used, date)) = until_at(w, i + 1, today)
            && words.is_free(i, used + 1)
        {
            words.take(i, used + 1);
            repeat.until = Some(date);
        }
    }
}

/// The end date after "until": a date, a month ("June", "June 2027"), or
/// "the end of June".
fn until_at(w: &[&str], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let skip = match (
        w.get(i).copied(),
        w.get(i + 1).copied(),
        w.get(i + 2).copied(),
    ) {
        (Some("the"), Some("end"), Some("of")) => 3,
        (Some("end"), Some("of"), _) => 2,
        _ => 0,
    };
    if let Some(month) = w.get(i + skip).and_then(|x| when::month(x)) {
        let next = w.get(i + skip + 1).copied();
        // "June 30" is a date; "June" or "June 2027" is the month's end.
        let given = next
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (2000..=2100).contains(y));
        if given.is_some() || next.and_then(when::day_number).is_none() {
            let year = given.unwrap_or_else(|| {
                if month >= today.month() {
                    today.year()
                } else {
                    today.year() + 1
                }
            });
            let last = NaiveDate::from_ymd_opt(year, month, 1)?
                .checked_add_months(Months::new(1))?
                .pred_opt()?;
            return Some((skip + 1 + usize::from(given.is_some()), last));
        }
    }
    // "the end of the month": the date reader knows "end of …".
    let start = if skip == 3 { i + 1 } else { i };
    let (used, date, _) = when::date_at(w, start, today)?;
    Some((used + start - i, date))
}
