//! Calendar feeds: read-only iCalendar (RFC 5545) subscription URLs that
//! show a person's lists in any calendar app, as to-dos (`VTODO`) or, for
//! apps that show only events, as events (`VEVENT`). The request and view
//! types of `/api/calendar-feeds`, and [`render`]: a pure function of the
//! feed and its tasks (no clock, nothing random), so the same tasks always
//! give the same bytes and the same `ETag`.
//!
//! CalDAV reads and writes single to-dos: [`render_object`] writes one with
//! the client's UIDs and what it sent that Taskflow does not model,
//! [`read::parse`] reads a client's, and [`plan::plan_put`] decides what a
//! `PUT` changes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::{Due, Priority, RecurrenceRule, Reminder, Zone};

pub mod plan;
pub mod read;
mod write;
mod zone;

pub use plan::{Completion, Current, Plan, plan_put};
pub use read::{ClientResource, Done, Extra, Override, Progress, Refused, Start, parse};

use write::{Before, Content, Date, Instant, Local};

/// The most feeds one person keeps.
pub const MAX_FEEDS: usize = 25;
/// The most lists one feed names.
pub const MAX_FEED_LISTS: usize = 50;
/// Bumped whenever [`render`] writes different bytes for the same input,
/// so no client keeps an old rendering under a matching `ETag`.
pub const RENDER_VERSION: u32 = 1;
/// How long a timed task lasts as an event.
const EVENT_MINUTES: i64 = 30;

/// How a feed shows tasks. (strum's names are the serde names.)
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    IntoStaticStr,
    EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum FeedComponent {
    /// To-dos (`VTODO`): Apple Reminders, Thunderbird, DAVx⁵ with
    /// tasks.org, Evolution.
    #[default]
    Todos,
    /// Events (`VEVENT`) on their due dates, for apps that show only events
    /// (Google Calendar, iOS and macOS Calendar, Outlook, Fastmail); tasks
    /// without a due date are left out.
    Events,
}

impl FeedComponent {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Every list the person reads (`"all"`) or the lists named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FeedLists {
    /// List ids.
    Ids(Vec<i64>),
    /// `"all"`: every list the person reads when the feed is fetched,
    /// archived ones aside.
    All(AllLists),
}

/// The word `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AllLists {
    #[serde(rename = "all")]
    All,
}

/// A new feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCalendarFeed {
    /// The calendar's name in the app; default the list's title for one
    /// list, else "Taskflow".
    #[serde(default)]
    pub name: Option<String>,
    /// List ids (1 to 50), or `"all"`.
    pub lists: FeedLists,
    /// `todos` (default) or `events`.
    #[serde(default, rename = "as")]
    pub component: FeedComponent,
    /// Show completed tasks too; default false.
    #[serde(default)]
    pub include_completed: bool,
}

/// A feed as its owner sees it (never its URL, which is shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CalendarFeed {
    pub id: i64,
    pub name: String,
    pub lists: FeedLists,
    #[serde(rename = "as")]
    pub component: FeedComponent,
    pub include_completed: bool,
    /// The URL's last four characters, to tell feeds apart.
    pub url_hint: String,
    pub created_at: DateTime<Utc>,
    /// When a calendar app last fetched it (kept to the hour).
    pub last_fetched_at: Option<DateTime<Utc>>,
}

/// A feed with its URL: the answer to its creation, the only time the URL
/// is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CalendarFeedWithUrl {
    #[serde(flatten)]
    pub feed: CalendarFeed,
    /// `https://…/feeds/cal_….ics`: subscribe to it by URL. Whoever has it
    /// reads the feed; delete the feed to revoke it.
    pub url: String,
    /// The same as `webcal://…`, which opens a calendar app.
    pub webcal_url: String,
}

/// What a feed shows of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarItem {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub title: String,
    pub description: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub due: Option<Due>,
    /// The due of the series' first occurrence (recurring tasks).
    pub anchor: Option<Due>,
    pub recurrence: Option<RecurrenceRule>,
    pub reminder: Option<Reminder>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The calendar around the items.
#[derive(Debug, Clone, Copy)]
pub struct FeedHead<'a> {
    /// The calendar's name.
    pub name: &'a str,
    pub component: FeedComponent,
    /// Where the dashboard is (`URL:` of each item), without a trailing `/`.
    pub public_url: &'a str,
    /// A colour (`#rrggbb`) for the calendar, if it shows one list that has one.
    pub color: Option<&'a str>,
}

/// The calendar `head` shows of `items` (in the order given), as RFC 5545
/// text with CRLF line ends.
pub fn render(head: &FeedHead<'_>, items: &[CalendarItem]) -> String {
    let mut out = Content::with_capacity(4096 + items.len() * 640);
    out.begin("VCALENDAR");
    out.line("VERSION").raw("2.0");
    out.line("PRODID").text(concat!(
        "-//Taskflow//Taskflow ",
        env!("CARGO_PKG_VERSION"),
        "//EN"
    ));
    out.line("CALSCALE").raw("GREGORIAN");
    out.line("NAME").text(head.name);
    out.line("X-WR-CALNAME").text(head.name);
    out.line("REFRESH-INTERVAL")
        .param("VALUE", "DURATION")
        .raw("PT1H");
    out.line("X-PUBLISHED-TTL").raw("PT1H");
    if let Some(color) = head.color {
        out.line("X-APPLE-CALENDAR-COLOR").text(color);
    }
    for (zone, years) in zones(items).values() {
        zone::write(&mut out, *zone, years);
    }
    for item in items {
        let uids = Uids::default_for(item, head.public_url);
        let object = Object {
            public_url: head.public_url,
            uids: &uids,
            extra: None,
        };
        match head.component {
            FeedComponent::Todos => todo(&mut out, &object, item),
            FeedComponent::Events => event(&mut out, &object, item),
        }
    }
    out.end("VCALENDAR");
    out.finish()
}

/// The UIDs a to-do is written with: a client's own (`task_ical.uid`) or
/// the default [`uid`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uids {
    /// The task's.
    pub task: String,
    /// The parent task's, for a subtask.
    pub parent: Option<String>,
}

impl Uids {
    /// The default UIDs of `item` and its parent.
    pub fn default_for(item: &CalendarItem, public_url: &str) -> Uids {
        let host = host_of(public_url);
        Uids {
            task: uid(item.id, host),
            parent: item.parent_id.map(|parent| uid(parent, host)),
        }
    }
}

/// One CalDAV resource: a VCALENDAR with the item's to-do (written as the
/// feed writes it, with `uids`), the VTIMEZONE it needs, and the parts of
/// `extra` that still apply (see [`shown_extra`]) written back.
pub fn render_object(public_url: &str, item: &CalendarItem, uids: &Uids, extra: &Extra) -> String {
    let mut out = Content::with_capacity(1024 + extra.size());
    out.begin("VCALENDAR");
    out.line("VERSION").raw("2.0");
    out.line("PRODID").text(concat!(
        "-//Taskflow//Taskflow ",
        env!("CARGO_PKG_VERSION"),
        "//EN"
    ));
    out.line("CALSCALE").raw("GREGORIAN");
    for (zone, years) in zones(std::slice::from_ref(item)).values() {
        zone::write(&mut out, *zone, years);
    }
    let shown = shown_extra(item, extra);
    let object = Object {
        public_url,
        uids,
        extra: Some(&shown),
    };
    todo(&mut out, &object, item);
    out.end("VCALENDAR");
    out.finish()
}

/// The parts of `extra` written with `item`: `DTSTART` while the due is the
/// one it came with, the progress of an open task, the alarm's lines with
/// the alarm, a foreign rule while Taskflow has none; the other lines
/// always.
pub fn shown_extra(item: &CalendarItem, extra: &Extra) -> Extra {
    let open = item.completed_at.is_none();
    Extra {
        lines: extra.lines.clone(),
        alarm: if has_alarm(item) {
            extra.alarm.clone()
        } else {
            Vec::new()
        },
        dtstart: extra
            .dtstart
            .clone()
            .filter(|start| start.with_due == read::due_key(item.due.as_ref())),
        status: extra.status.filter(|_| open),
        rrule: if item.recurrence.is_none() {
            extra.rrule.clone()
        } else {
            Vec::new()
        },
    }
}

/// How one item is written.
struct Object<'a> {
    public_url: &'a str,
    uids: &'a Uids,
    /// What a client sent that Taskflow keeps (CalDAV only).
    extra: Option<&'a Extra>,
}

/// The `UID` of a task: the same in every feed, and later in CalDAV.
pub fn uid(id: i64, host: &str) -> String {
    format!("taskflow-task-{id}@{host}")
}

/// The host of the public URL (`taskflow.example.com`), which every UID
/// names.
pub fn host_of(public_url: &str) -> &str {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// The zones the items' times are written in, with the years each needs
/// (a year either side, for events that end in the next year and for
/// clients that look around a date).
fn zones(items: &[CalendarItem]) -> BTreeMap<&'static str, (Zone, BTreeSet<i32>)> {
    let mut zones: BTreeMap<&'static str, (Zone, BTreeSet<i32>)> = BTreeMap::new();
    for item in items {
        let Some(due @ Due::DateTime { zone, .. }) = item.due else {
            continue;
        };
        if zone == Zone::UTC {
            continue;
        }
        let year = due.date().year();
        zones
            .entry(zone.name())
            .or_insert_with(|| (zone, BTreeSet::new()))
            .1
            .extend([year - 1, year, year + 1]);
    }
    zones
}

/// The lines every item has, whatever its component.
fn common(out: &mut Content, object: &Object<'_>, item: &CalendarItem) {
    out.line("UID").text(&object.uids.task);
    out.line("DTSTAMP").raw(Instant(item.updated_at));
    out.line("CREATED").raw(Instant(item.created_at));
    out.line("LAST-MODIFIED").raw(Instant(item.updated_at));
    out.line("SEQUENCE")
        .raw(item.version.saturating_sub(1).max(0));
}

/// The lines after the summary and the times, whatever the component.
fn details(out: &mut Content, object: &Object<'_>, item: &CalendarItem) {
    if let Some(description) = &item.description {
        out.line("DESCRIPTION").text(description);
    }
    if item.priority != Priority::None {
        out.line("PRIORITY").raw(item.priority.to_ical());
    }
    if !item.tags.is_empty() {
        out.line("CATEGORIES")
            .texts(item.tags.iter().map(String::as_str));
    }
    if let Some(parent) = &object.uids.parent {
        out.line("RELATED-TO")
            .param("RELTYPE", "PARENT")
            .text(parent);
    }
    out.line("URL")
        .raw(format_args!("{}/?task={}", object.public_url, item.id));
    if item.completed_at.is_none()
        && let (Some(rule), Some(due)) = (&item.recurrence, &item.due)
    {
        out.line("RRULE")
            .raw(rule.to_ical(item.anchor.as_ref().unwrap_or(due), due));
    }
    if let Some(extra) = object.extra {
        out.written(&extra.rrule.concat());
    }
}

fn todo(out: &mut Content, object: &Object<'_>, item: &CalendarItem) {
    let extra = object.extra;
    out.begin("VTODO");
    common(out, object, item);
    out.line("SUMMARY").text(&item.title);
    if let Some(due) = &item.due {
        time(out, "DUE", due);
    }
    if let Some(start) = extra.and_then(|e| e.dtstart.as_ref()) {
        out.written(&start.line);
    }
    let progress = extra.and_then(|e| e.status).unwrap_or_default();
    match item.completed_at {
        Some(at) => {
            out.line("STATUS").raw("COMPLETED");
            out.line("COMPLETED").raw(Instant(at));
            out.line("PERCENT-COMPLETE").raw(100);
        }
        None if progress.in_process => out.line("STATUS").raw("IN-PROCESS"),
        None => out.line("STATUS").raw("NEEDS-ACTION"),
    }
    if let Some(percent) = progress.percent.filter(|_| item.completed_at.is_none()) {
        out.line("PERCENT-COMPLETE").raw(percent);
    }
    details(out, object, item);
    alarm(out, item, true, extra.map_or(&[], |e| e.alarm.as_slice()));
    if let Some(extra) = extra {
        out.written(&extra.lines.concat());
    }
    out.end("VTODO");
}

fn event(out: &mut Content, object: &Object<'_>, item: &CalendarItem) {
    let Some(due) = &item.due else {
        return;
    };
    out.begin("VEVENT");
    common(out, object, item);
    match item.completed_at {
        Some(_) => out.line("SUMMARY").text(&format!("✓ {}", item.title)),
        None => out.line("SUMMARY").text(&item.title),
    }
    time(out, "DTSTART", due);
    match due {
        Due::Date { date, .. } => {
            let next = date.checked_add_days(Days::new(1)).unwrap_or(*date);
            out.line("DTEND").param("VALUE", "DATE").raw(Date(next));
        }
        Due::DateTime { zone, .. } => {
            let end = due.instant() + Duration::minutes(EVENT_MINUTES);
            if *zone == Zone::UTC {
                out.line("DTEND").raw(Instant(end));
            } else {
                out.line("DTEND")
                    .param("TZID", zone.name())
                    .raw(Local(zone.local(end)));
            }
        }
    }
    out.line("TRANSP").raw("TRANSPARENT");
    details(out, object, item);
    alarm(out, item, false, &[]);
    out.end("VEVENT");
}

/// `DUE` or `DTSTART`: a date, a UTC time, or a wall-clock time with its
/// zone.
fn time(out: &mut Content, name: &str, due: &Due) {
    match due {
        Due::Date { date, .. } => out.line(name).param("VALUE", "DATE").raw(Date(*date)),
        Due::DateTime { zone, .. } if *zone == Zone::UTC => {
            out.line(name).raw(Instant(due.instant()));
        }
        Due::DateTime { local, zone } => {
            out.line(name).param("TZID", zone.name()).raw(Local(*local));
        }
    }
}

/// The reminder of an open task. A to-do's relative reminder is relative
/// to its `DUE` (`RELATED=END`): it has no `DTSTART`.
fn alarm(out: &mut Content, item: &CalendarItem, to_do: bool, lines: &[String]) {
    let Some(reminder) = item.reminder.filter(|_| has_alarm(item)) else {
        return;
    };
    out.begin("VALARM");
    out.line("ACTION").raw("DISPLAY");
    out.line("DESCRIPTION").text(&item.title);
    match reminder {
        Reminder::Before { minutes_before } if to_do => out
            .line("TRIGGER")
            .param("RELATED", "END")
            .raw(Before(minutes_before)),
        Reminder::Before { minutes_before } => out.line("TRIGGER").raw(Before(minutes_before)),
        Reminder::At { at } => out
            .line("TRIGGER")
            .param("VALUE", "DATE-TIME")
            .raw(Instant(at)),
    }
    out.written(&lines.concat());
    out.end("VALARM");
}

/// Whether `item` is written with a VALARM: an open task with a reminder
/// that can fire.
fn has_alarm(item: &CalendarItem) -> bool {
    match item.reminder {
        _ if item.completed_at.is_some() => false,
        Some(Reminder::Before { .. }) => item.due.is_some(),
        Some(Reminder::At { .. }) => true,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn item(id: i64, title: &str) -> CalendarItem {
        CalendarItem {
            id,
            parent_id: None,
            title: title.into(),
            description: None,
            completed_at: None,
            priority: Priority::None,
            tags: Vec::new(),
            due: None,
            anchor: None,
            recurrence: None,
            reminder: None,
            version: 1,
            created_at: at("2026-11-01T08:00:00Z"),
            updated_at: at("2026-11-02T09:30:00Z"),
        }
    }

    fn items() -> Vec<CalendarItem> {
        let berlin = Zone::parse("Europe/Berlin", "timezone").unwrap();
        let weekly = CalendarItem {
            description: Some("Bring: milk, eggs; \\ and\r\nmore".into()),
            priority: Priority::High,
            tags: vec!["home".into(), "errands".into()],
            due: Some(Due::parse("2026-11-24T10:00", berlin).unwrap()),
            recurrence: Some("FREQ=WEEKLY;COUNT=4".parse().unwrap()),
            reminder: Some(Reminder::Before { minutes_before: 15 }),
            version: 3,
            ..item(1, "Shop")
        };
        let dated = CalendarItem {
            parent_id: Some(1),
            due: Some(Due::parse("2026-11-25", berlin).unwrap()),
            completed_at: Some(at("2026-11-03T10:00:00Z")),
            reminder: Some(Reminder::At {
                at: at("2026-11-24T07:00:00Z"),
            }),
            ..item(2, "List")
        };
        let utc = CalendarItem {
            due: Some(Due::parse("2026-11-26T18:00", Zone::UTC).unwrap()),
            reminder: Some(Reminder::At {
                at: at("2026-11-26T17:00:00Z"),
            }),
            ..item(3, "Call")
        };
        vec![weekly, dated, utc, item(4, "Someday")]
    }

    fn head(component: FeedComponent) -> FeedHead<'static> {
        FeedHead {
            name: "Home, etc.",
            component,
            public_url: "https://tasks.example.com",
            color: Some("#3b82f6"),
        }
    }

    /// Everything but the VTIMEZONE (tested in `zone`).
    fn without_zones(text: &str) -> String {
        let start = text.find("BEGIN:VTIMEZONE").unwrap();
        let end = text.find("END:VTIMEZONE\r\n").unwrap() + "END:VTIMEZONE\r\n".len();
        assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1, "{text}");
        assert!(text[start..end].contains("TZID:Europe/Berlin\r\n"));
        format!("{}{}", &text[..start], &text[end..])
    }

    const CALENDAR: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Taskflow//Taskflow VERSION//EN\r
CALSCALE:GREGORIAN\r
NAME:Home\\, etc.\r
X-WR-CALNAME:Home\\, etc.\r
REFRESH-INTERVAL;VALUE=DURATION:PT1H\r
X-PUBLISHED-TTL:PT1H\r
X-APPLE-CALENDAR-COLOR:#3b82f6\r
";

    #[test]
    fn a_todo_feed_is_written_field_by_field() {
        let text = render(&head(FeedComponent::Todos), &items());
        let expected = format!(
            "{}{}",
            CALENDAR.replace("VERSION//", concat!(env!("CARGO_PKG_VERSION"), "//")),
            "BEGIN:VTODO\r
UID:taskflow-task-1@tasks.example.com\r
DTSTAMP:20261102T093000Z\r
CREATED:20261101T080000Z\r
LAST-MODIFIED:20261102T093000Z\r
SEQUENCE:2\r
SUMMARY:Shop\r
DUE;TZID=Europe/Berlin:20261124T100000\r
STATUS:NEEDS-ACTION\r
DESCRIPTION:Bring: milk\\, eggs\\; \\\\ and\\nmore\r
PRIORITY:1\r
CATEGORIES:home,errands\r
URL:https://tasks.example.com/?task=1\r
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:Shop\r
TRIGGER;RELATED=END:-PT15M\r
END:VALARM\r
END:VTODO\r
BEGIN:VTODO\r
UID:taskflow-task-2@tasks.example.com\r
DTSTAMP:20261102T093000Z\r
CREATED:20261101T080000Z\r
LAST-MODIFIED:20261102T093000Z\r
SEQUENCE:0\r
SUMMARY:List\r
DUE;VALUE=DATE:20261125\r
STATUS:COMPLETED\r
COMPLETED:20261103T100000Z\r
PERCENT-COMPLETE:100\r
RELATED-TO;RELTYPE=PARENT:taskflow-task-1@tasks.example.com\r
URL:https://tasks.example.com/?task=2\r
END:VTODO\r
BEGIN:VTODO\r
UID:taskflow-task-3@tasks.example.com\r
DTSTAMP:20261102T093000Z\r
CREATED:20261101T080000Z\r
LAST-MODIFIED:20261102T093000Z\r
SEQUENCE:0\r
SUMMARY:Call\r
DUE:20261126T180000Z\r
STATUS:NEEDS-ACTION\r
URL:https://tasks.example.com/?task=3\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:Call\r
TRIGGER;VALUE=DATE-TIME:20261126T170000Z\r
END:VALARM\r
END:VTODO\r
BEGIN:VTODO\r
UID:taskflow-task-4@tasks.example.com\r
DTSTAMP:20261102T093000Z\r
CREATED:20261101T080000Z\r
LAST-MODIFIED:20261102T093000Z\r
SEQUENCE:0\r
SUMMARY:Someday\r
STATUS:NEEDS-ACTION\r
URL:https://tasks.example.com/?task=4\r
END:VTODO\r
END:VCALENDAR\r
"
        );
        assert_eq!(without_zones(&text), expected);
        assert_eq!(render(&head(FeedComponent::Todos), &items()), text);
    }

    #[test]
    fn an_event_feed_leaves_out_undated_tasks_and_gives_each_an_end() {
        let text = render(&head(FeedComponent::Events), &items());
        let body = without_zones(&text);
        let events: Vec<&str> = body.split("BEGIN:VEVENT\r\n").skip(1).collect();
        assert_eq!(events.len(), 3, "{body}");
        assert!(events[0].contains(
            "SUMMARY:Shop\r\nDTSTART;TZID=Europe/Berlin:20261124T100000\r\n\
             DTEND;TZID=Europe/Berlin:20261124T103000\r\nTRANSP:TRANSPARENT\r\n"
        ));
        assert!(events[0].contains("TRIGGER:-PT15M\r\n"));
        assert!(events[1].contains(
            "SUMMARY:✓ List\r\nDTSTART;VALUE=DATE:20261125\r\nDTEND;VALUE=DATE:20261126\r\n"
        ));
        assert!(!events[1].contains("STATUS"));
        assert!(events[2].contains("DTSTART:20261126T180000Z\r\nDTEND:20261126T183000Z\r\n"));
        assert!(!body.contains("Someday"));
    }

    #[test]
    fn uids_name_the_public_host() {
        assert_eq!(
            host_of("https://tasks.example.com:8443/base"),
            "tasks.example.com:8443"
        );
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(uid(7, "h"), "taskflow-task-7@h");
    }
}
