//! CalDAV's to-do reading and writing: `parse` of what clients send,
//! `render_object` of what they get, and `plan_put` of the two (plan 26
//! §5–§6). The recurring-completion bodies under `fixtures/vtodo/` are
//! reconstructed from each client's source, not captured.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use taskflow_core::calendar::{
    CalendarItem, ClientResource, Completion, Current, Done, Extra, Plan, Refused, Uids, parse,
    plan_put, render_object,
};
use taskflow_core::{Due, Priority, RecurrenceRule, Reminder, Zone};

const URL: &str = "https://tasks.example.com";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn zone(name: &str) -> Zone {
    Zone::parse(name, "timezone").unwrap()
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

/// One to-do in a VCALENDAR.
fn body(lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VTODO\r\nUID:u1\r\n{}END:VTODO\r\nEND:VCALENDAR\r\n",
        lines.replace('\n', "\r\n")
    )
}

fn read(lines: &str) -> ClientResource {
    parse(&body(lines), zone("Europe/Berlin")).unwrap()
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/vtodo/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// Renders `item`, reads it back, and plans the echo.
fn echo(item: &CalendarItem, extra: &Extra) -> (ClientResource, Plan) {
    let uids = Uids::default_for(item, URL);
    let text = render_object(URL, item, &uids, extra);
    let zone = item.due.map_or(Zone::UTC, |d| d.zone());
    let client = parse(&text, zone).unwrap_or_else(|e| panic!("{e}: {text}"));
    let current = Current {
        item,
        uids: &uids,
        extra,
    };
    let plan = plan_put(Some(&current), &client, at("2026-11-10T12:00:00Z"));
    (client, plan)
}

// ---- DUE forms ----

#[test]
fn every_due_form_reads_as_the_wall_time_or_instant_it_names() {
    let berlin = zone("Europe/Berlin");
    let ten = |zone| Due::parse("2026-11-24T10:00", zone).unwrap();
    let cases = [
        ("DUE;TZID=Europe/Berlin:20261124T100000", ten(berlin)),
        (
            "DUE;TZID=/mozilla.org/20070129_1/Europe/Berlin:20261124T100000",
            ten(berlin),
        ),
        (
            "DUE;TZID=W. Europe Standard Time:20261124T100000",
            ten(berlin),
        ),
        (
            "DUE;TZID=\"W. Europe Standard Time\":20261124T100000",
            ten(berlin),
        ),
        (
            "DUE;TZID=America/New_York:20261124T100000",
            ten(zone("America/New_York")),
        ),
        // An instant: the default zone's wall time when it names it exactly.
        ("DUE:20261124T090000Z", ten(berlin)),
        // Floating: the default zone.
        ("DUE:20261124T100000", ten(berlin)),
        (
            "DUE;VALUE=DATE:20261124",
            Due::parse("2026-11-24", berlin).unwrap(),
        ),
        (
            "DTSTART;TZID=Europe/Berlin:20261124T080000\nDURATION:PT2H",
            ten(berlin),
        ),
        (
            "DTSTART;VALUE=DATE:20261122\nDURATION:P2D",
            Due::parse("2026-11-24", berlin).unwrap(),
        ),
    ];
    for (lines, expected) in cases {
        assert_eq!(
            read(&format!("{lines}\n")).fields.due,
            Some(expected),
            "{lines}"
        );
    }
}

#[test]
fn a_zone_only_the_body_defines_is_read_with_its_offset_as_an_instant() {
    let zone_def = "BEGIN:VTIMEZONE\r\nTZID:Custom Berlin\r\n\
        BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
        TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
        BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
        TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";
    for (local, utc) in [("20261124T100000", "09:00"), ("20260701T100000", "08:00")] {
        let text = body(&format!("DUE;TZID=Custom Berlin:{local}\n"))
            .replace("BEGIN:VTODO", &format!("{zone_def}BEGIN:VTODO"));
        let due = parse(&text, Zone::UTC).unwrap().fields.due.unwrap();
        assert_eq!(due.zone(), Zone::UTC);
        assert_eq!(due.instant().format("%H:%M").to_string(), utc, "{local}");
    }
}

#[test]
fn priorities_zero_to_nine_read_by_band() {
    let read_as: Vec<Priority> = (0..=9)
        .map(|p| read(&format!("PRIORITY:{p}\n")).fields.priority)
        .collect();
    use Priority::*;
    assert_eq!(
        read_as,
        [None, High, High, High, High, Medium, Low, Low, Low, Low]
    );
    assert_eq!(read("").fields.priority, None);
}

#[test]
fn titles_descriptions_and_categories_across_lines() {
    let client = read(
        "SUMMARY:  \nDESCRIPTION:one\\r\\ntwo\\rthree\nCATEGORIES:Home,Errands\nCATEGORIES:home\nCATEGORIES:Garden\n",
    );
    assert_eq!(client.fields.title.as_str(), "Untitled");
    assert_eq!(
        client.fields.description.unwrap().as_str(),
        "one\ntwo\nthree"
    );
    assert_eq!(client.fields.tags.as_slice(), ["home", "errands", "garden"]);
    assert_eq!(
        read("SUMMARY:Shop\\, then cook\n").fields.title.as_str(),
        "Shop, then cook"
    );
}

// ---- VALARM ----

#[test]
fn each_alarm_kind_maps_to_a_reminder_or_is_kept() {
    let due = "DUE;TZID=Europe/Berlin:20261124T100000\n";
    let alarm = |lines: &str| format!("{due}BEGIN:VALARM\nACTION:DISPLAY\n{lines}END:VALARM\n");
    let before = |minutes| {
        Some(Reminder::Before {
            minutes_before: minutes,
        })
    };
    let cases = [
        ("TRIGGER;RELATED=END:-PT15M\n", before(15)),
        ("TRIGGER:-P1DT2H\n", before(1440 + 120)),
        ("TRIGGER;RELATED=END:PT0S\n", before(0)),
        (
            "TRIGGER;VALUE=DATE-TIME:20261124T070000Z\n",
            Some(Reminder::At {
                at: at("2026-11-24T07:00:00Z"),
            }),
        ),
        // After the due: not a Taskflow reminder.
        ("TRIGGER;RELATED=END:PT15M\n", None),
    ];
    for (lines, expected) in cases {
        let client = read(&alarm(lines));
        assert_eq!(client.fields.reminder, expected, "{lines}");
        assert_eq!(client.extra.lines.is_empty(), expected.is_some(), "{lines}");
    }
    // Relative to a start the to-do has: kept, not mapped.
    let started = read(&format!(
        "DTSTART;TZID=Europe/Berlin:20261124T080000\n{}",
        alarm("TRIGGER:-PT5M\n")
    ));
    assert_eq!(started.fields.reminder, None);
    let to_end = read(&format!(
        "DTSTART;TZID=Europe/Berlin:20261124T080000\n{}",
        alarm("TRIGGER;RELATED=END:-PT5M\n")
    ));
    assert_eq!(to_end.fields.reminder, before(5));
    // An e-mail alarm is kept; the display alarm after it is the reminder.
    let two = read(&format!(
        "{due}BEGIN:VALARM\nACTION:EMAIL\nTRIGGER:-PT1H\nSUMMARY:x\nATTENDEE:mailto:a@example.com\nDESCRIPTION:x\nEND:VALARM\n\
         BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;RELATED=END:-PT10M\nDESCRIPTION:old\nUID:alarm-1\nX-WR-ALARMUID:alarm-1\nACKNOWLEDGED:20261124T084000Z\nEND:VALARM\n"
    ));
    assert_eq!(two.fields.reminder, before(10));
    assert_eq!(two.extra.lines.len(), 1);
    assert!(two.extra.lines[0].starts_with("BEGIN:VALARM\r\nACTION:EMAIL\r\n"));
    assert_eq!(
        two.extra.alarm,
        [
            "UID:alarm-1\r\n",
            "X-WR-ALARMUID:alarm-1\r\n",
            "ACKNOWLEDGED:20261124T084000Z\r\n"
        ]
    );
    // Written back inside the VALARM Taskflow writes.
    let mut task = item(7, "Shop");
    task.due = two.fields.due;
    task.reminder = two.fields.reminder;
    let text = render_object(URL, &task, &Uids::default_for(&task, URL), &two.extra);
    assert!(text.contains(
        "TRIGGER;RELATED=END:-PT10M\r\nUID:alarm-1\r\nX-WR-ALARMUID:alarm-1\r\nACKNOWLEDGED:20261124T084000Z\r\nEND:VALARM\r\n"
    ), "{text}");
}

// ---- extras ----

#[test]
fn unknown_properties_come_back_in_order_and_folded_before_the_end() {
    let long = "x".repeat(200);
    let client = read(&format!(
        "SUMMARY:Shop\nX-FIRST;X-P=\"a:b\":one\\, two\nLOCATION:Market\nX-LONG:{long}\nRELATED-TO;RELTYPE=SIBLING:other\nATTENDEE;CN=Bob:mailto:bob@example.com\nSEQUENCE:4\nDTSTAMP:20261101T000000Z\nURL:https://tasks.example.com/?task=7\n"
    ));
    assert_eq!(client.extra.lines.len(), 5, "{:?}", client.extra.lines);
    let task = item(7, "Shop");
    let text = render_object(URL, &task, &Uids::default_for(&task, URL), &client.extra);
    let first = text.find("X-FIRST;X-P=\"a:b\":one\\, two\r\n").unwrap();
    let location = text.find("LOCATION:Market\r\n").unwrap();
    let long_at = text.find("X-LONG:").unwrap();
    let sibling = text.find("RELATED-TO;RELTYPE=SIBLING:other\r\n").unwrap();
    let attendee = text
        .find("ATTENDEE;CN=Bob:mailto:bob@example.com\r\n")
        .unwrap();
    let end = text.find("END:VTODO").unwrap();
    assert!(
        first < location
            && location < long_at
            && long_at < sibling
            && sibling < attendee
            && attendee < end
    );
    assert!(text.lines().all(|l| l.len() <= 76), "{text}");
    assert!(
        text.contains(&format!("X-LONG:{}\r\n {}", &long[..68], &long[68..142])),
        "{text}"
    );
    assert_eq!(text.matches("URL:").count(), 1);
    assert_eq!(text.matches("SEQUENCE:").count(), 1);
}

#[test]
fn a_rule_outside_the_subset_is_kept_with_its_exceptions() {
    let client =
        read("DUE;VALUE=DATE:20261102\nRRULE:FREQ=MONTHLY;BYDAY=1MO\nEXDATE;VALUE=DATE:20261207\n");
    assert_eq!(client.fields.recurrence, None);
    assert_eq!(
        client.extra.rrule,
        [
            "RRULE:FREQ=MONTHLY;BYDAY=1MO\r\n",
            "EXDATE;VALUE=DATE:20261207\r\n"
        ]
    );
    let mut task = item(7, "Shop");
    task.due = client.fields.due;
    let text = render_object(URL, &task, &Uids::default_for(&task, URL), &client.extra);
    assert!(text.contains("RRULE:FREQ=MONTHLY;BYDAY=1MO\r\nEXDATE;VALUE=DATE:20261207\r\n"));
}

#[test]
fn dtstart_and_progress_come_back_only_while_they_still_apply() {
    let client = read(
        "DTSTART;TZID=Europe/Berlin:20261124T080000\nDUE;TZID=Europe/Berlin:20261124T100000\nSTATUS:IN-PROCESS\nPERCENT-COMPLETE:40\n",
    );
    assert_eq!(client.completed, None);
    let mut task = item(7, "Shop");
    task.due = client.fields.due;
    let uids = Uids::default_for(&task, URL);
    let text = render_object(URL, &task, &uids, &client.extra);
    assert!(text.contains("DTSTART;TZID=Europe/Berlin:20261124T080000\r\n"));
    assert!(text.contains("STATUS:IN-PROCESS\r\nPERCENT-COMPLETE:40\r\n"));
    // The due moved (by REST): the start no longer goes with it.
    task.due = Some(Due::parse("2026-11-25T10:00", zone("Europe/Berlin")).unwrap());
    let moved = render_object(URL, &task, &uids, &client.extra);
    assert!(!moved.contains("DTSTART;TZID=Europe/Berlin:20261124"));
    // Done: the progress is not shown.
    task.completed_at = Some(at("2026-11-25T12:00:00Z"));
    let done = render_object(URL, &task, &uids, &client.extra);
    assert!(!done.contains("IN-PROCESS") && !done.contains("PERCENT-COMPLETE:40"));
    // A start after the due is not kept.
    let late = read("DTSTART;VALUE=DATE:20261130\nDUE;VALUE=DATE:20261124\n");
    assert_eq!(late.extra.dtstart, None);
}

#[test]
fn completion_is_read_from_each_way_of_saying_it() {
    let cases = [
        ("STATUS:COMPLETED\n", Some(Done::Status)),
        ("COMPLETED:20261110T120000Z\n", Some(Done::CompletedAt)),
        ("PERCENT-COMPLETE:100\n", Some(Done::Percent)),
        ("STATUS:CANCELLED\n", Some(Done::Cancelled)),
        ("STATUS:NEEDS-ACTION\n", None),
        ("STATUS:IN-PROCESS\nPERCENT-COMPLETE:50\n", None),
    ];
    for (lines, expected) in cases {
        assert_eq!(read(lines).completed, expected, "{lines}");
    }
}

#[test]
fn client_uids_and_the_parent_are_written_and_read() {
    let client = read("RELATED-TO:parent-uid\nRELATED-TO;RELTYPE=CHILD:child-uid\n");
    assert_eq!(client.uid, "u1");
    assert_eq!(client.parent_uid.as_deref(), Some("parent-uid"));
    assert_eq!(
        client.extra.lines,
        ["RELATED-TO;RELTYPE=CHILD:child-uid\r\n"]
    );
    let mut task = item(7, "Shop");
    task.parent_id = Some(3);
    let uids = Uids {
        task: "u1".into(),
        parent: Some("parent-uid".into()),
    };
    let text = render_object(URL, &task, &uids, &Extra::default());
    assert!(text.contains("UID:u1\r\n"));
    assert!(text.contains("RELATED-TO;RELTYPE=PARENT:parent-uid\r\n"));
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Taskflow//Taskflow "));
    assert!(text.contains("CALSCALE:GREGORIAN\r\nBEGIN:VTODO\r\n"));
}

// ---- refusals ----

#[test]
fn bodies_taskflow_cannot_store_are_refused_with_the_precondition() {
    let event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e\r\nDTSTART:20261124T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(parse(event, Zone::UTC), Err(Refused::SupportedComponent));
    let no_uid = body("").replace("UID:u1\r\n", "");
    assert!(matches!(
        parse(&no_uid, Zone::UTC),
        Err(Refused::ValidObject(_))
    ));
    let two = body("").replace(
        "END:VTODO\r\n",
        "END:VTODO\r\nBEGIN:VTODO\r\nUID:u2\r\nRECURRENCE-ID:20261124T100000Z\r\nEND:VTODO\r\n",
    );
    assert!(matches!(
        parse(&two, Zone::UTC),
        Err(Refused::ValidObject(_))
    ));
    let empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
    assert!(matches!(
        parse(empty, Zone::UTC),
        Err(Refused::ValidObject(_))
    ));
    let refused = |lines: &str| match parse(&body(lines), Zone::UTC) {
        Err(Refused::ValidData { field, reason }) => (field, reason),
        other => panic!("{lines}: {other:?}"),
    };
    let (field, reason) = refused(&format!("SUMMARY:{}\n", "t".repeat(201)));
    assert_eq!(
        (field.as_str(), reason.as_str()),
        ("SUMMARY", "the title must be at most 200 characters")
    );
    let tags: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let (field, reason) = refused(&format!("CATEGORIES:{}\n", tags.join(",")));
    assert_eq!(
        (field.as_str(), reason.as_str()),
        ("CATEGORIES", "a task can have at most 10 tags")
    );
    assert_eq!(refused("DUE:tomorrow\n").0, "DUE");
    assert_eq!(
        refused(&format!("DESCRIPTION:{}\n", "d".repeat(4001))).0,
        "DESCRIPTION"
    );
    let (field, reason) = refused(&format!("X-BIG:{}\n", "b".repeat(70_000)));
    assert_eq!(field, "VTODO");
    assert!(reason.contains("at most 65536"), "{reason}");
}

// ---- recurring completion, rules (a)–(d) ----

/// Weekly on Tuesdays at 09:00 Berlin, five in all, at the second
/// (10 November): written `FREQ=WEEKLY;BYDAY=TU;COUNT=4`.
fn weekly() -> CalendarItem {
    let berlin = zone("Europe/Berlin");
    CalendarItem {
        due: Some(Due::parse("2026-11-10T09:00", berlin).unwrap()),
        anchor: Some(Due::parse("2026-11-03T09:00", berlin).unwrap()),
        recurrence: Some("FREQ=WEEKLY;COUNT=5".parse().unwrap()),
        ..item(7, "Water plants")
    }
}

fn plan_fixture(name: &str) -> Plan {
    let task = weekly();
    let uids = Uids::default_for(&task, URL);
    let client = parse(&fixture(name), zone("Europe/Berlin")).unwrap();
    let extra = Extra::default();
    let current = Current {
        item: &task,
        uids: &uids,
        extra: &extra,
    };
    plan_put(Some(&current), &client, at("2026-11-10T12:00:00Z"))
}

fn written(plan: Plan) -> (taskflow_core::TaskFields, Completion) {
    match plan {
        Plan::Write {
            fields, completion, ..
        } => (fields, completion),
        Plan::Unchanged => panic!("unchanged"),
    }
}

#[test]
fn rendered_weekly_task_says_what_the_fixtures_assume() {
    let task = weekly();
    let text = render_object(
        URL,
        &task,
        &Uids::default_for(&task, URL),
        &Extra::default(),
    );
    assert!(text.contains("DUE;TZID=Europe/Berlin:20261110T090000\r\n"));
    assert!(text.contains("RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4\r\n"));
}

#[test]
fn a_to_do_marked_done_completes_the_occurrence() {
    let (fields, completion) = written(plan_fixture("python-caldav-complete.ics"));
    assert_eq!(completion, Completion::Complete);
    assert_eq!(fields.due, weekly().due);
    assert_eq!(fields.recurrence, weekly().recurrence);
}

#[test]
fn a_done_override_of_this_occurrence_completes_it() {
    let (fields, completion) = written(plan_fixture("thunderbird-override-done.ics"));
    assert_eq!(completion, Completion::Complete);
    assert_eq!(fields.due, weekly().due);
    assert_eq!(fields.recurrence, weekly().recurrence);
    // An override of a later occurrence, or of the rest, completes nothing.
    for (from, to) in [
        (
            "RECURRENCE-ID;TZID=Europe/Berlin:20261110T090000",
            "RECURRENCE-ID;TZID=Europe/Berlin:20261124T090000",
        ),
        (
            "RECURRENCE-ID;TZID=Europe/Berlin:20261110T090000",
            "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261110T090000",
        ),
    ] {
        let text = fixture("thunderbird-override-done.ics").replace(from, to);
        let task = weekly();
        let uids = Uids::default_for(&task, URL);
        let client = parse(&text, zone("Europe/Berlin")).unwrap();
        let extra = Extra::default();
        let current = Current {
            item: &task,
            uids: &uids,
            extra: &extra,
        };
        let plan = plan_put(Some(&current), &client, at("2026-11-10T12:00:00Z"));
        assert!(
            matches!(
                plan,
                Plan::Unchanged
                    | Plan::Write {
                        completion: Completion::None,
                        ..
                    }
            ),
            "{to}: {plan:?}"
        );
    }
}

#[test]
fn a_due_moved_to_the_next_occurrence_with_count_one_lower_completes_this_one() {
    let (fields, completion) = written(plan_fixture("tasks-org-rescheduled.ics"));
    assert_eq!(completion, Completion::Complete);
    // X keeps its due; the worker makes the next one.
    assert_eq!(fields.due, weekly().due);
    assert_eq!(fields.recurrence, weekly().recurrence);
    assert_eq!(fields.priority, Priority::Low);
    // The same with the rule sent back unchanged.
    let text = fixture("tasks-org-rescheduled.ics").replace("COUNT=3", "COUNT=4");
    let task = weekly();
    let uids = Uids::default_for(&task, URL);
    let client = parse(&text, zone("Europe/Berlin")).unwrap();
    let extra = Extra::default();
    let current = Current {
        item: &task,
        uids: &uids,
        extra: &extra,
    };
    let (_, completion) = written(plan_put(
        Some(&current),
        &client,
        at("2026-11-10T12:00:00Z"),
    ));
    assert_eq!(completion, Completion::Complete);
}

#[test]
fn any_other_move_of_the_due_is_an_edit() {
    let (fields, completion) = written(plan_fixture("python-caldav-safe.ics"));
    assert_eq!(completion, Completion::None);
    assert_eq!(
        fields.due,
        Some(Due::parse("2026-11-17T13:00", zone("Europe/Berlin")).unwrap())
    );
}

#[test]
fn reopening_a_done_task_and_an_extras_only_change_are_writes() {
    let mut task = weekly();
    task.completed_at = Some(at("2026-11-10T12:00:00Z"));
    let (client, plan) = echo(&task, &Extra::default());
    assert_eq!(plan, Plan::Unchanged);
    let mut reopened = client.clone();
    reopened.completed = None;
    let uids = Uids::default_for(&task, URL);
    let extra = Extra::default();
    let current = Current {
        item: &task,
        uids: &uids,
        extra: &extra,
    };
    let (fields, completion) = written(plan_put(
        Some(&current),
        &reopened,
        at("2026-11-11T00:00:00Z"),
    ));
    assert_eq!(completion, Completion::Reopen);
    // The rule a done to-do is written without is kept.
    assert_eq!(fields.recurrence, task.recurrence);
    let mut tagged = client;
    tagged.extra.lines.push("X-NEW:1\r\n".into());
    let plan = plan_put(Some(&current), &tagged, at("2026-11-11T00:00:00Z"));
    assert!(
        matches!(plan, Plan::Write { completion: Completion::None, ref extra, .. } if extra.lines == ["X-NEW:1\r\n"]),
        "{plan:?}"
    );
}

// ---- echo ----

fn arb_due() -> impl Strategy<Value = Option<Due>> {
    let zones = prop::sample::select(vec![
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",
    ]);
    (
        0u32..3,
        2020i32..2030,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        zones,
    )
        .prop_map(|(kind, y, m, d, h, min, tz)| {
            let date = format!("{y:04}-{m:02}-{d:02}");
            match kind {
                0 => None,
                1 => Some(Due::parse(&date, zone(tz)).unwrap()),
                _ => Some(Due::parse(&format!("{date}T{h:02}:{min:02}"), zone(tz)).unwrap()),
            }
        })
}

fn arb_item() -> impl Strategy<Value = CalendarItem> {
    let rules = prop::sample::select(vec![
        None,
        Some("FREQ=DAILY"),
        Some("FREQ=WEEKLY;INTERVAL=2;COUNT=10"),
        Some("FREQ=WEEKLY;BYDAY=MO,FR"),
        Some("FREQ=MONTHLY;UNTIL=20311231"),
        Some("FREQ=YEARLY;COUNT=3"),
    ]);
    (
        "[A-Za-z0-9 ,;:\\\\é]{1,40}",
        prop::option::of("[a-z ,;\\n]{1,60}"),
        prop::sample::select(vec![
            Priority::None,
            Priority::Low,
            Priority::Medium,
            Priority::High,
        ]),
        prop::collection::vec("[a-z]{1,8}", 0..4),
        arb_due(),
        rules,
        0u32..3,
        any::<bool>(),
        prop::option::of(1i64..100),
    )
        .prop_map(
            |(title, description, priority, tags, due, rule, reminder, done, parent)| {
                let mut tags: Vec<String> = tags;
                tags.dedup();
                let tags = taskflow_core::Tags::parse(&tags)
                    .unwrap()
                    .as_slice()
                    .to_vec();
                let title = title.trim().to_owned();
                let recurrence = rule
                    .filter(|_| due.is_some())
                    .map(|r| r.parse::<RecurrenceRule>().unwrap());
                let reminder = match reminder {
                    1 if due.is_some() => Some(Reminder::Before { minutes_before: 30 }),
                    2 => Some(Reminder::At {
                        at: at("2026-11-24T07:00:00Z"),
                    }),
                    _ => None,
                };
                CalendarItem {
                    parent_id: parent,
                    title: if title.is_empty() { "T".into() } else { title },
                    description: description
                        .map(|d| d.trim_end().to_owned())
                        .filter(|d| !d.trim().is_empty()),
                    priority,
                    tags,
                    due,
                    anchor: due,
                    recurrence,
                    reminder,
                    completed_at: done.then(|| at("2026-11-03T10:00:00Z")),
                    ..item(7, "T")
                }
            },
        )
}

fn arb_extra() -> impl Strategy<Value = Extra> {
    prop::sample::select(vec![
        "",
        "X-A:1\nLOCATION:Market\\, stall 3\n",
        "STATUS:IN-PROCESS\nPERCENT-COMPLETE:30\nX-APPLE-SORT-ORDER:12\n",
        "DUE:20261124T100000Z\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;RELATED=END:-PT30M\nUID:a1\nEND:VALARM\nBEGIN:VALARM\nACTION:AUDIO\nTRIGGER:-PT1H\nEND:VALARM\n",
        "RRULE:FREQ=HOURLY;COUNT=3\nDUE:20261124T100000Z\n",
    ])
    .prop_map(|lines| read(lines).extra)
}

proptest! {
    #[test]
    fn a_rendered_object_reads_back_as_its_item_and_its_echo_changes_nothing(
        item in arb_item(), extra in arb_extra(),
    ) {
        let (client, plan) = echo(&item, &extra);
        prop_assert_eq!(client.fields.title.as_str(), item.title.as_str());
        prop_assert_eq!(client.fields.description.as_ref().map(|d| d.as_str()), item.description.as_deref());
        prop_assert_eq!(client.fields.priority, item.priority);
        prop_assert_eq!(client.fields.tags.as_slice(), item.tags.as_slice());
        prop_assert_eq!(client.fields.due, item.due);
        prop_assert_eq!(client.completed.is_some(), item.completed_at.is_some());
        if item.completed_at.is_none() {
            prop_assert_eq!(client.fields.reminder, item.reminder);
            let shown = |rule: &Option<RecurrenceRule>, anchor: &Option<Due>| {
                rule.as_ref().zip(anchor.as_ref()).map(|(r, a)| r.to_ical(a, item.due.as_ref().unwrap()))
            };
            prop_assert_eq!(shown(&client.fields.recurrence, &client.anchor), shown(&item.recurrence, &item.anchor));
        }
        prop_assert_eq!(client.parent_uid, Uids::default_for(&item, URL).parent);
        prop_assert_eq!(plan, Plan::Unchanged);
    }
}
