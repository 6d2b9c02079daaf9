//! A to-do a CalDAV client sent (`PUT` of one VCALENDAR), read into task
//! fields plus what Taskflow does not model, kept to be written back: the
//! inverse of the feed's VTODO (plan 26 §5).
//!
//! Parsing is Stalwart's `calcard`, not a reader of our own. A content-line
//! reader is short, but what makes a client's body read right is not: TZID
//! resolution needs IANA names, registry prefixes
//! (`/mozilla.org/20070129_1/Europe/Berlin`), Windows names (`W. Europe
//! Standard Time`), `X-LIC-LOCATION` and `X-MICROSOFT-CDO-TZID`, a table
//! of a few hundred names we would otherwise keep; calcard also does the
//! unfolding, quoted parameters, TEXT escapes, byte-order marks, and writes
//! the properties we keep folded and escaped. Its `Tz` wraps the same
//! chrono-tz as [`Zone`]. Built without its JMAP feature it adds three
//! small crates (`mail-parser`, `mail-builder`, `hashify`).
//!
//! A TZID no name table knows, defined only by the body's VTIMEZONE, is
//! read with that VTIMEZONE's offset at the wall time (its observances'
//! DTSTART and yearly `BYMONTH`+`BYDAY` rules) and kept as the UTC instant;
//! a TZID with no definition at all is read as floating (the default zone).

use calcard::common::PartialDateTime;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendar, ICalendarAction, ICalendarComponent, ICalendarComponentType, ICalendarEntry,
    ICalendarParameterName, ICalendarParameterValue, ICalendarProperty, ICalendarRelated,
    ICalendarRelationshipType, ICalendarStatus, ICalendarValue, ICalendarWeekday,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::reminder::MAX_MINUTES_BEFORE;
use crate::{
    Description, Due, FromIcal, Invalid, Priority, RecurrenceRule, Reminder, Tags, TaskFields,
    Title, Zone,
};

/// The most bytes of properties Taskflow keeps without modelling them.
pub const MAX_EXTRA: usize = 64 * 1024;
/// The title of a to-do sent without one.
pub const UNTITLED: &str = "Untitled";

/// Why a body was refused: each names the CalDAV precondition (RFC 4791
/// §5.3.2) a `403` reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// `supported-calendar-component`: an event or journal entry.
    #[error("only to-dos (VTODO) can be stored in a Taskflow list")]
    SupportedComponent,
    /// `valid-calendar-data`: a value that cannot be read or breaks a limit.
    #[error("{field}: {reason}")]
    ValidData {
        /// The property at fault (`SUMMARY`, `DUE`…).
        field: String,
        /// What to change.
        reason: String,
    },
    /// `valid-calendar-object-resource`: no UID, two UIDs, no to-do.
    #[error("{0}")]
    ValidObject(String),
}

impl Refused {
    fn data(field: &str, reason: impl Into<String>) -> Refused {
        Refused::ValidData {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// How a client said a to-do is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// `STATUS:COMPLETED`.
    Status,
    /// A `COMPLETED` time.
    CompletedAt,
    /// `PERCENT-COMPLETE:100`.
    Percent,
    /// `STATUS:CANCELLED`.
    Cancelled,
}

/// A `RECURRENCE-ID` override of one occurrence (Thunderbird, eM Client,
/// python-caldav): read only to see whether it completes the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Override {
    /// The occurrence it replaces.
    pub recurrence_id: Due,
    /// `RANGE=THISANDFUTURE`: it stands for the rest of the series.
    pub this_and_future: bool,
    /// It is done.
    pub completed: bool,
}

/// What the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResource {
    /// The to-do's `UID`.
    pub uid: String,
    /// The task fields, checked together.
    pub fields: TaskFields,
    /// The series anchor the RRULE implies (see [`FromIcal`]), with
    /// `fields.recurrence`.
    pub anchor: Option<Due>,
    /// Done, and how it was said; `None` for an open to-do.
    pub completed: Option<Done>,
    /// The `RELATED-TO` UID with `RELTYPE=PARENT` or no RELTYPE.
    pub parent_uid: Option<String>,
    /// The `RECURRENCE-ID` overrides, in order.
    pub overrides: Vec<Override>,
    /// What Taskflow keeps without modelling it.
    pub extra: Extra,
}

/// The parts of a client's to-do Taskflow does not model, written back on
/// every read (`task_ical.extra`). Lines are content lines as written:
/// escaped, folded, each ended by CRLF.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Extra {
    /// Unknown properties and components, one item each, in order.
    pub lines: Vec<String>,
    /// The mapped VALARM's other lines (`UID`, `X-WR-ALARMUID`,
    /// `ACKNOWLEDGED`…).
    pub alarm: Vec<String>,
    /// `DTSTART`, kept while the due is the one it came with.
    pub dtstart: Option<Start>,
    /// The progress of an open to-do.
    pub status: Option<Progress>,
    /// A rule outside Taskflow's subset: the RRULE line with its EXDATE
    /// and RDATE lines. The task does not recur in Taskflow.
    pub rrule: Vec<String>,
}

impl Extra {
    /// The bytes kept.
    pub fn size(&self) -> usize {
        let lines = self.lines.iter().chain(&self.alarm).chain(&self.rrule);
        lines.map(String::len).sum::<usize>() + self.dtstart.as_ref().map_or(0, |s| s.line.len())
    }
}

/// A `DTSTART` and the due it came with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    /// The line as written.
    pub line: String,
    /// [`due_key`] of the due sent with it.
    pub with_due: Option<String>,
}

/// `STATUS:IN-PROCESS` and `PERCENT-COMPLETE` 1–99 of an open to-do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub in_process: bool,
    pub percent: Option<u8>,
}

/// A due as one comparable text: its local text and zone.
pub fn due_key(due: Option<&Due>) -> Option<String> {
    due.map(|due| format!("{} {}", due.local_text(), due.zone()))
}

/// Reads one VCALENDAR holding one to-do (and its `RECURRENCE-ID`
/// overrides). Dates without a zone are read in `default_zone`: the task's
/// zone, else the owner's.
pub fn parse(text: &str, default_zone: Zone) -> Result<ClientResource, Refused> {
    // RFC 5545 allows no control characters but tab in a value (§3.3.11),
    // and XML, which carries the text back to clients, cannot hold them.
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return Err(Refused::data(
            "VCALENDAR",
            "the body holds control characters; remove them".to_owned(),
        ));
    }
    let ical = ICalendar::parse(text).map_err(|entry| {
        Refused::data(
            "VCALENDAR",
            format!("the body is not one iCalendar object ({entry:?})"),
        )
    })?;
    let root = ical
        .components
        .first()
        .filter(|c| c.component_type == ICalendarComponentType::VCalendar)
        .ok_or_else(|| Refused::ValidObject("the body must be one VCALENDAR".into()))?;
    let mut todos = Vec::new();
    for child in children(&ical, root) {
        match child.component_type {
            ICalendarComponentType::VTodo => todos.push(child),
            ICalendarComponentType::VEvent
            | ICalendarComponentType::VJournal
            | ICalendarComponentType::VFreebusy => return Err(Refused::SupportedComponent),
            _ => {}
        }
    }
    let mut uid: Option<&str> = None;
    for todo in &todos {
        let mut uids = todo
            .entries
            .iter()
            .filter(|e| e.name == ICalendarProperty::Uid);
        let this = uids
            .next()
            .and_then(text_of)
            .filter(|u| !u.trim().is_empty());
        let this = this.ok_or_else(|| Refused::ValidObject("every VTODO needs a UID".into()))?;
        if uids.any(|e| text_of(e) != Some(this)) || uid.is_some_and(|u| u != this) {
            return Err(Refused::ValidObject(
                "one resource holds one to-do: all its VTODOs must have the same UID".into(),
            ));
        }
        uid = Some(this);
    }
    let uid = uid.ok_or_else(|| Refused::ValidObject("the VCALENDAR holds no VTODO".into()))?;
    let is_override =
        |c: &ICalendarComponent| c.property(&ICalendarProperty::RecurrenceId).is_some();
    let masters: Vec<_> = todos.iter().filter(|c| !is_override(c)).collect();
    let [master] = masters.as_slice() else {
        return Err(Refused::ValidObject(
            "exactly one VTODO must be without RECURRENCE-ID".into(),
        ));
    };
    let zones = Zones {
        ical: &ical,
        resolver: ical.build_tz_resolver(),
        default: default_zone,
    };
    let mut resource = Reader::new(&ical, &zones).master(master)?;
    resource.uid = uid.to_owned();
    for todo in todos.iter().filter(|c| is_override(c)) {
        let entry = todo.property(&ICalendarProperty::RecurrenceId);
        let Some(recurrence_id) = entry.map(|e| zones.due(e, "RECURRENCE-ID")).transpose()? else {
            continue;
        };
        let this_and_future = entry.is_some_and(|e| {
            e.params.iter().any(|p| {
                p.name == ICalendarParameterName::Range
                    && matches!(p.value, ICalendarParameterValue::Bool(true))
            })
        });
        resource.overrides.push(Override {
            recurrence_id,
            this_and_future,
            completed: done(todo).is_some(),
        });
    }
    Ok(resource)
}

/// The components directly inside `parent`.
fn children<'a>(
    ical: &'a ICalendar,
    parent: &'a ICalendarComponent,
) -> impl Iterator<Item = &'a ICalendarComponent> {
    parent
        .component_ids
        .iter()
        .filter_map(|id| ical.components.get(*id as usize))
}

fn text_of(entry: &ICalendarEntry) -> Option<&str> {
    entry.values.first().and_then(|v| v.as_text())
}

fn param<'a>(
    entry: &'a ICalendarEntry,
    name: &ICalendarParameterName,
) -> Option<&'a ICalendarParameterValue> {
    entry
        .params
        .iter()
        .find(|p| &p.name == name)
        .map(|p| &p.value)
}

/// How a to-do says it is done, if it does.
fn done(todo: &ICalendarComponent) -> Option<Done> {
    let mut done = None;
    for entry in &todo.entries {
        let this = match (&entry.name, entry.values.first()) {
            (
                ICalendarProperty::Status,
                Some(ICalendarValue::Status(ICalendarStatus::Completed)),
            ) => Some(Done::Status),
            (
                ICalendarProperty::Status,
                Some(ICalendarValue::Status(ICalendarStatus::Cancelled)),
            ) => Some(Done::Cancelled),
            (ICalendarProperty::Completed, _) => Some(Done::CompletedAt),
            (ICalendarProperty::PercentComplete, Some(value))
                if value.as_integer() == Some(100) =>
            {
                Some(Done::Percent)
            }
            _ => None,
        };
        done = done.or(this);
    }
    done
}

/// An entry as written back: escaped, folded, CRLF.
fn written(entry: &ICalendarEntry) -> String {
    let mut out = String::new();
    let _ = entry.write_to(&mut out);
    out
}

/// A component and everything in it, as written back.
fn written_component(ical: &ICalendar, component: &ICalendarComponent) -> String {
    let name = component.component_type.as_str();
    let mut out = format!("BEGIN:{name}\r\n");
    for entry in &component.entries {
        out.push_str(&written(entry));
    }
    for child in children(ical, component) {
        out.push_str(&written_component(ical, child));
    }
    out.push_str(&format!("END:{name}\r\n"));
    out
}

/// Dates and times read in the body's zones.
struct Zones<'a> {
    ical: &'a ICalendar,
    resolver: calcard::icalendar::timezone::TzResolver<&'a str>,
    default: Zone,
}

impl Zones<'_> {
    /// The due a DATE or DATE-TIME property names.
    fn due(&self, entry: &ICalendarEntry, field: &str) -> Result<Due, Refused> {
        let unreadable = || {
            Refused::data(
                field,
                "not a date (`20261124`) or a date-time (`20261124T100000`, `…Z`, or with TZID)",
            )
        };
        let value = match entry.values.first() {
            Some(ICalendarValue::PartialDateTime(value)) => value,
            _ => return Err(unreadable()),
        };
        let (date, time) = date_time(value).ok_or_else(unreadable)?;
        let due = match time {
            None => Due::Date {
                date,
                zone: self.default,
            },
            Some(local) if value.tz_hour.is_some() => self.at(local - offset(value)),
            Some(local) => match param(entry, &ICalendarParameterName::Tzid)
                .and_then(|v| v.as_text())
            {
                None => self.wall(local, self.default),
                Some(tzid) => match self.resolver.resolve(tzid) {
                    Some(Tz::Tz(tz)) => match Zone::parse(tz.name(), field) {
                        Ok(zone) => self.wall(local, zone),
                        Err(_) => self.wall(local, self.default),
                    },
                    Some(Tz::Fixed(fixed)) => {
                        self.utc(local - Duration::seconds(i64::from(fixed.local_minus_utc())))
                    }
                    Some(Tz::Floating) => self.wall(local, self.default),
                    None => match vtimezone_offset(self.ical, tzid, local) {
                        Some(seconds) => self.utc(local - Duration::seconds(i64::from(seconds))),
                        None => self.wall(local, self.default),
                    },
                },
            },
        };
        if !crate::due::YEARS.contains(&due.date().year()) {
            return Err(Refused::data(
                field,
                format!(
                    "the year must be between {} and {}",
                    crate::due::YEARS.start(),
                    crate::due::YEARS.end()
                ),
            ));
        }
        Ok(due)
    }

    fn wall(&self, local: NaiveDateTime, zone: Zone) -> Due {
        Due::DateTime { local, zone }
    }

    fn utc(&self, utc: NaiveDateTime) -> Due {
        Due::DateTime {
            local: utc,
            zone: Zone::UTC,
        }
    }

    /// A UTC instant, as the wall time of the default zone when that names
    /// the same instant (no zone churn), else in UTC.
    fn at(&self, utc: NaiveDateTime) -> Due {
        let local = self.default.local(utc.and_utc());
        if self.default.resolve(local) == utc.and_utc() {
            self.wall(local, self.default)
        } else {
            self.utc(utc)
        }
    }
}

/// The date, and the wall time if any, of a DATE or DATE-TIME value.
fn date_time(value: &PartialDateTime) -> Option<(NaiveDate, Option<NaiveDateTime>)> {
    let date = NaiveDate::from_ymd_opt(
        i32::from(value.year?),
        u32::from(value.month?),
        u32::from(value.day?),
    )?;
    let Some(hour) = value.hour else {
        return Some((date, None));
    };
    let time = chrono::NaiveTime::from_hms_opt(
        u32::from(hour),
        u32::from(value.minute.unwrap_or(0)),
        u32::from(value.second.unwrap_or(0).min(59)),
    )?;
    Some((date, Some(date.and_time(time))))
}

/// A UTC-OFFSET value, or the offset of a date-time, as a duration.
fn offset(value: &PartialDateTime) -> Duration {
    let seconds =
        i64::from(value.tz_hour.unwrap_or(0)) * 3600 + i64::from(value.tz_minute.unwrap_or(0)) * 60;
    Duration::seconds(if value.tz_minus { -seconds } else { seconds })
}

/// The offset (seconds east of UTC) the body's own VTIMEZONE `tzid` gives
/// at the wall time `local`: the observance with the latest onset not
/// after it, onsets being each DTSTART and, for yearly `BYMONTH`+`BYDAY`
/// rules, that day in `local`'s year and the year before.
fn vtimezone_offset(ical: &ICalendar, tzid: &str, local: NaiveDateTime) -> Option<i32> {
    let zone = ical.timezones().find(|tz| {
        tz.property(&ICalendarProperty::Tzid)
            .and_then(text_of)
            .is_some_and(|id| id == tzid)
    })?;
    let mut best: Option<(NaiveDateTime, i32)> = None;
    for observance in children(ical, zone) {
        let start = observance
            .property(&ICalendarProperty::Dtstart)
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_partial_date_time())
            .and_then(date_time)
            .and_then(|(date, time)| time.or(date.and_hms_opt(0, 0, 0)));
        let to = observance
            .property(&ICalendarProperty::Tzoffsetto)
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_partial_date_time())
            .map(offset);
        let (Some(start), Some(to)) = (start, to) else {
            continue;
        };
        let mut onsets = vec![start];
        let rule = observance
            .property(&ICalendarProperty::Rrule)
            .and_then(|e| e.values.first());
        if let Some(ICalendarValue::RecurrenceRule(rule)) = rule
            && let ([month], [day]) = (rule.bymonth.as_slice(), rule.byday.as_slice())
        {
            for year in [local.year() - 1, local.year()] {
                let date = nth_weekday(
                    year,
                    u32::from(month.month()),
                    weekday(day.weekday),
                    day.ordwk,
                );
                if let Some(date) = date.filter(|d| *d >= start.date()) {
                    onsets.push(date.and_time(start.time()));
                }
            }
        }
        for onset in onsets.into_iter().filter(|o| *o <= local) {
            if best.is_none_or(|(at, _)| onset > at) {
                best = Some((onset, i32::try_from(to.num_seconds()).ok()?));
            }
        }
    }
    best.map(|(_, seconds)| seconds)
}

fn weekday(day: ICalendarWeekday) -> Weekday {
    match day {
        ICalendarWeekday::Monday => Weekday::Mon,
        ICalendarWeekday::Tuesday => Weekday::Tue,
        ICalendarWeekday::Wednesday => Weekday::Wed,
        ICalendarWeekday::Thursday => Weekday::Thu,
        ICalendarWeekday::Friday => Weekday::Fri,
        ICalendarWeekday::Saturday => Weekday::Sat,
        ICalendarWeekday::Sunday => Weekday::Sun,
    }
}

/// The `n`th (from the end when negative) `day` of a month.
fn nth_weekday(year: i32, month: u32, day: Weekday, n: Option<i16>) -> Option<NaiveDate> {
    let n = n.unwrap_or(1);
    let n8 = u8::try_from(n.unsigned_abs()).ok()?;
    if n > 0 {
        NaiveDate::from_weekday_of_month_opt(year, month, day, n8)
    } else {
        let next =
            NaiveDate::from_ymd_opt(year, month, 1)?.checked_add_months(chrono::Months::new(1))?;
        let last = next.pred_opt()?;
        let back = (last.weekday().num_days_from_monday() + 7 - day.num_days_from_monday()) % 7;
        last.checked_sub_days(chrono::Days::new(u64::from(back) + 7 * u64::from(n8 - 1)))
    }
}

/// Reads the master VTODO.
struct Reader<'a> {
    ical: &'a ICalendar,
    zones: &'a Zones<'a>,
}

impl<'a> Reader<'a> {
    fn new(ical: &'a ICalendar, zones: &'a Zones<'a>) -> Self {
        Reader { ical, zones }
    }

    fn master(&self, todo: &ICalendarComponent) -> Result<ClientResource, Refused> {
        let mut extra = Extra::default();
        let (mut title, mut description, mut priority) = (None, None, Priority::None);
        let (mut tags, mut parent_uid) = (Vec::new(), None);
        let (mut due, mut start, mut duration) = (None, None, None);
        let mut rules: Vec<&ICalendarEntry> = Vec::new();
        let mut progress = Progress::default();
        for entry in &todo.entries {
            match &entry.name {
                ICalendarProperty::Uid
                | ICalendarProperty::Sequence
                | ICalendarProperty::Dtstamp
                | ICalendarProperty::Created
                | ICalendarProperty::LastModified
                | ICalendarProperty::Completed => {}
                ICalendarProperty::Url if text_of(entry).is_some_and(is_our_url) => {}
                ICalendarProperty::Summary => title = text_of(entry),
                ICalendarProperty::Description => description = text_of(entry),
                ICalendarProperty::Priority => {
                    let value = entry.values.first().and_then(|v| v.as_integer());
                    priority =
                        Priority::from_ical(value.and_then(|v| u8::try_from(v).ok()).unwrap_or(0));
                }
                ICalendarProperty::Categories => {
                    tags.extend(entry.values.iter().filter_map(|v| v.as_text()));
                }
                ICalendarProperty::Due => due = Some(self.zones.due(entry, "DUE")?),
                ICalendarProperty::Dtstart => {
                    start = Some((self.zones.due(entry, "DTSTART")?, entry))
                }
                ICalendarProperty::Duration => match entry.values.first() {
                    Some(ICalendarValue::Duration(d)) => duration = Some(d.as_seconds()),
                    _ => return Err(Refused::data("DURATION", "not a duration (`PT1H`)")),
                },
                ICalendarProperty::Status => {
                    let value = entry.values.first();
                    if let Some(ICalendarValue::Status(ICalendarStatus::InProcess)) = value {
                        progress.in_process = true;
                    }
                }
                ICalendarProperty::PercentComplete => {
                    let value = entry.values.first().and_then(|v| v.as_integer());
                    progress.percent = value
                        .and_then(|v| u8::try_from(v).ok())
                        .filter(|p| (1..=99).contains(p));
                }
                ICalendarProperty::Rrule
                | ICalendarProperty::Rdate
                | ICalendarProperty::Exdate
                | ICalendarProperty::Exrule => rules.push(entry),
                ICalendarProperty::RelatedTo if parent_uid.is_none() && is_parent(entry) => {
                    parent_uid = text_of(entry).map(str::to_owned);
                }
                _ => extra.lines.push(written(entry)),
            }
        }
        let completed = done(todo);
        if completed.is_none() && progress != Progress::default() {
            extra.status = Some(progress);
        }
        // DTSTART + DURATION without DUE: the end is the due.
        if due.is_none()
            && let (Some((start, _)), Some(seconds)) = (start, duration)
        {
            due = Some(plus(start, seconds));
        }
        if let Some((start, entry)) = start {
            let same_kind = due.is_none_or(|due| {
                matches!(
                    (due, start),
                    (Due::Date { .. }, Due::Date { .. })
                        | (Due::DateTime { .. }, Due::DateTime { .. })
                ) && start.instant() <= due.instant()
            });
            if same_kind {
                extra.dtstart = Some(Start {
                    line: written(entry),
                    with_due: due_key(due.as_ref()),
                });
            }
        }
        let (recurrence, anchor) = self.rules(&rules, due.as_ref(), &mut extra);
        let (reminder, alarm_lines) = self.alarms(todo, due.as_ref(), start.is_some(), &mut extra);
        extra.alarm = alarm_lines;
        let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(title) => Title::parse(title).map_err(as_data("SUMMARY"))?,
            None => Title::parse(UNTITLED).map_err(as_data("SUMMARY"))?,
        };
        let description = description
            .unwrap_or_default()
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        let fields = TaskFields {
            title,
            description: Description::parse(&description).map_err(as_data("DESCRIPTION"))?,
            priority,
            tags: Tags::parse(&tags).map_err(as_data("CATEGORIES"))?,
            due,
            recurrence,
            reminder,
        }
        .check()
        .map_err(as_data("VTODO"))?;
        if extra.size() > MAX_EXTRA {
            return Err(Refused::data(
                "VTODO",
                format!(
                    "the properties Taskflow keeps without using them take {} bytes; at most {MAX_EXTRA} are kept (remove attachments or long X- properties)",
                    extra.size()
                ),
            ));
        }
        Ok(ClientResource {
            uid: String::new(),
            fields,
            anchor,
            completed,
            parent_uid,
            overrides: Vec::new(),
            extra,
        })
    }

    /// The task's rule, or the lines of one Taskflow cannot follow (kept).
    fn rules(
        &self,
        rules: &[&ICalendarEntry],
        due: Option<&Due>,
        extra: &mut Extra,
    ) -> (Option<RecurrenceRule>, Option<Due>) {
        if let ([only], Some(due)) = (rules, due)
            && let Some(ICalendarValue::RecurrenceRule(rule)) = only.values.first()
            && let FromIcal::Rule { rule, anchor } =
                RecurrenceRule::from_ical(&rule.to_string(), due)
        {
            return (Some(rule), Some(anchor));
        }
        let (rrules, others): (Vec<&&ICalendarEntry>, _) = rules.iter().partition(|e| {
            e.name == ICalendarProperty::Rrule || e.name == ICalendarProperty::Exrule
        });
        if rrules.is_empty() {
            extra.lines.extend(others.iter().map(|e| written(e)));
        } else {
            extra.rrule = rules.iter().map(|e| written(e)).collect();
        }
        (None, None)
    }

    /// The reminder (the first VALARM Taskflow can follow) and that
    /// VALARM's other lines; every other VALARM goes to `extra.lines`.
    fn alarms(
        &self,
        todo: &ICalendarComponent,
        due: Option<&Due>,
        has_start: bool,
        extra: &mut Extra,
    ) -> (Option<Reminder>, Vec<String>) {
        let mut mapped = None;
        for child in children(self.ical, todo) {
            if mapped.is_none()
                && child.component_type == ICalendarComponentType::VAlarm
                && let Some(reminder) = reminder_of(child, due, has_start)
            {
                let lines = child
                    .entries
                    .iter()
                    .filter(|e| {
                        !matches!(
                            e.name,
                            ICalendarProperty::Action
                                | ICalendarProperty::Trigger
                                | ICalendarProperty::Description
                        )
                    })
                    .map(written)
                    .chain(children(self.ical, child).map(|c| written_component(self.ical, c)));
                mapped = Some((reminder, lines.collect()));
            } else {
                extra.lines.push(written_component(self.ical, child));
            }
        }
        match mapped {
            Some((reminder, lines)) => (Some(reminder), lines),
            None => (None, Vec::new()),
        }
    }
}

/// The reminder a DISPLAY alarm sets: before the due (`RELATED=END`, or
/// relative to a start the to-do does not have), or at an instant.
fn reminder_of(alarm: &ICalendarComponent, due: Option<&Due>, has_start: bool) -> Option<Reminder> {
    let action = alarm.property(&ICalendarProperty::Action)?.values.first();
    if !matches!(
        action,
        Some(ICalendarValue::Action(ICalendarAction::Display))
    ) {
        return None;
    }
    let trigger = alarm.property(&ICalendarProperty::Trigger)?;
    match trigger.values.first()? {
        ICalendarValue::Duration(offset) => {
            let to_end = matches!(
                param(trigger, &ICalendarParameterName::Related),
                Some(ICalendarParameterValue::Related(ICalendarRelated::End))
            );
            let before = -offset.as_seconds() / 60;
            let fits =
                (0..=i64::from(MAX_MINUTES_BEFORE)).contains(&before) && offset.as_seconds() <= 0;
            (due.is_some() && fits && (to_end || !has_start)).then(|| Reminder::Before {
                minutes_before: u32::try_from(before).unwrap_or(0),
            })
        }
        ICalendarValue::PartialDateTime(at) if at.tz_hour.is_some() => {
            let (_, local) = date_time(at)?;
            let at: DateTime<Utc> = (local? - offset(at)).and_utc();
            crate::due::YEARS
                .contains(&at.year())
                .then_some(Reminder::At { at })
        }
        _ => None,
    }
}

fn is_parent(entry: &ICalendarEntry) -> bool {
    match param(entry, &ICalendarParameterName::Reltype) {
        None => true,
        Some(ICalendarParameterValue::Reltype(kind)) => *kind == ICalendarRelationshipType::Parent,
        Some(_) => false,
    }
}

/// The `URL` the feed writes (`…/?task=7`): ours, rewritten on every read.
fn is_our_url(url: &str) -> bool {
    url.rsplit_once("/?task=")
        .is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn as_data(field: &'static str) -> impl Fn(Invalid) -> Refused {
    move |invalid| Refused::data(field, invalid.reason)
}

/// The due `seconds` after `start` (DTSTART + DURATION), a date again when
/// the duration is whole days.
fn plus(start: Due, seconds: i64) -> Due {
    match start {
        Due::Date { date, zone } if seconds % 86_400 == 0 => Due::Date {
            date: date
                .checked_add_signed(Duration::days(seconds / 86_400))
                .unwrap_or(date),
            zone,
        },
        Due::Date { date, zone } => Due::DateTime {
            local: date.and_time(chrono::NaiveTime::MIN) + Duration::seconds(seconds),
            zone,
        },
        Due::DateTime { local, zone } => Due::DateTime {
            local: local + Duration::seconds(seconds),
            zone,
        },
    }
}
