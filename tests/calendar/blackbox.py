"""Black-box test of Taskflow's calendar feeds with independent iCalendar
readers: PyPI `icalendar` parses each feed and `recurring-ical-events`
expands its rules. Every field a feed maps is compared with the task the
API shows: summaries, descriptions, dues in their zones (VTIMEZONEs
evaluated by icalendar itself, not looked up by name), rules, alarms,
parents, completion, priorities, tags, versions and links. The rules are
expanded and compared with the occurrences Taskflow makes when each task
is completed. Conditional fetches, a removed member, deletion and a
10,000-task feed follow.

It starts `taskflow serve` itself (SQLite in a fresh data dir, or the
PostgreSQL database given with --database-url).
"""

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from taskflow_blackbox import Api, Server, token, until  # noqa: E402

UTC = dt.timezone.utc
DESCRIPTION = "Bring: milk, eggs; butter \\ flour\r\nthen bake.\r\n" + "äöü€漢字🎂" * 25


def fetch(url, etag=None):
    """(status, headers, body bytes) of a feed URL."""
    request = urllib.request.Request(url, headers={"if-none-match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def parse(body):
    """The calendar, checked as bytes first: CRLF only, lines of at most 75 octets."""
    assert b"\n" not in body.replace(b"\r\n", b""), "a bare LF"
    assert b"\r" not in body.replace(b"\r\n", b""), "a bare CR"
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, f"a line of {len(line)} octets: {line[:80]!r}"
    calendar = icalendar.Calendar.from_ical(body)
    for component in calendar.walk():
        assert not component.errors, f"{component.name}: {component.errors}"
    assert calendar.get_missing_tzids() == set(), calendar.get_missing_tzids()
    return calendar


def task_id(component):
    uid = str(component["UID"])
    assert uid.startswith("taskflow-task-") and "@" in uid, uid
    return int(uid[len("taskflow-task-"):uid.index("@")])


def due_of(task):
    """The task's due as icalendar should read it: a date, or an aware datetime."""
    if task["due"] is None:
        return None
    if "T" not in task["due"]:
        return dt.date.fromisoformat(task["due"])
    return dt.datetime.fromisoformat(task["due"]).replace(tzinfo=ZoneInfo(task["timezone"]))


def same_time(got, wanted, what):
    if isinstance(wanted, dt.datetime):
        assert isinstance(got, dt.datetime) and got.tzinfo is not None, f"{what}: {got!r}"
        assert got == wanted, f"{what}: {got.isoformat()} != {wanted.isoformat()}"
        assert got.utcoffset() == wanted.utcoffset(), f"{what}: offset {got.utcoffset()} != {wanted.utcoffset()}"
    else:
        assert type(got) is dt.date and got == wanted, f"{what}: {got!r} != {wanted!r}"


def priority_of(value):
    value = int(value or 0)
    return "high" if 1 <= value <= 4 else "medium" if value == 5 else "low" if 6 <= value <= 9 else "none"


def check_timezones(calendar):
    """Each VTIMEZONE, made into a tzinfo by icalendar from its own rules
    (not by name), gives zoneinfo's offsets through 2026–2029."""
    zones = 0
    for vtimezone in calendar.walk("VTIMEZONE"):
        name = str(vtimezone["TZID"])
        ours, real = vtimezone.to_tz(lookup_tzid=False), ZoneInfo(name)
        instant = dt.datetime(2026, 1, 1, 12, tzinfo=UTC)
        while instant.year < 2030:
            assert instant.astimezone(ours).utcoffset() == instant.astimezone(real).utcoffset(), \
                f"{name} at {instant}"
            instant += dt.timedelta(hours=13)
        zones += 1
    return zones


def check_todos(api, calendar, tasks):
    todos = {task_id(c): c for c in calendar.walk("VTODO")}
    assert set(todos) == set(tasks), f"{sorted(todos)} != {sorted(tasks)}"
    for id_, task in tasks.items():
        todo, what = todos[id_], f"task {id_} ({task['title']})"
        assert str(todo["SUMMARY"]) == task["title"], what
        description = (task["description"] or "").replace("\r\n", "\n").replace("\r", "\n")
        assert str(todo.get("DESCRIPTION", "")) == description, what
        if task["due"] is None:
            assert "DUE" not in todo and "DTSTART" not in todo, what
        else:
            same_time(todo.decoded("DUE"), due_of(task), what)
        if task["completed"]:
            assert str(todo["STATUS"]) == "COMPLETED", what
            assert todo.decoded("COMPLETED") == dt.datetime.fromisoformat(task["completed_at"]).replace(microsecond=0), what
            assert int(todo["PERCENT-COMPLETE"]) == 100, what
            assert "RRULE" not in todo and not todo.walk("VALARM"), what
        else:
            assert str(todo["STATUS"]) == "NEEDS-ACTION" and "COMPLETED" not in todo, what
        assert priority_of(todo.get("PRIORITY")) == task["priority"], what
        categories = [str(c) for c in todo["CATEGORIES"].cats] if "CATEGORIES" in todo else []
        assert categories == task["tags"], f"{what}: {categories}"
        parent = todo.get("RELATED-TO")
        if task["parent"]:
            assert parent.params["RELTYPE"] == "PARENT", what
            assert task_id({"UID": parent}) == task["parent"]["id"], what
        else:
            assert parent is None, what
        assert int(todo["SEQUENCE"]) == task["version"] - 1, what
        assert todo.decoded("LAST-MODIFIED") == dt.datetime.fromisoformat(task["updated_at"]).replace(microsecond=0), what
        assert str(todo["URL"]) == f"{api.server.base}/?task={id_}", what
        alarms = todo.walk("VALARM")
        reminder = task["reminder"] if not task["completed"] else None
        if reminder is None:
            assert not alarms, what
        elif "minutes_before" in reminder:
            trigger = alarms[0]["TRIGGER"]
            assert trigger.params["RELATED"] == "END", what
            assert alarms[0].decoded("TRIGGER") == -dt.timedelta(minutes=reminder["minutes_before"]), what
        else:
            assert alarms[0].decoded("TRIGGER") == dt.datetime.fromisoformat(reminder["at"]), what
    return todos


def settle(api):
    """Makes a task in the Inbox and finds it in the changes feed: a change
    counts (there and in feeds' ETags) once its request is answered
    (decision 0044), so every change before it counts too."""
    marker = api.call("POST", "/api/tasks", {"title": "settled"})
    until("the marker in the changes feed", lambda: any(c["task_id"] == marker["id"] for c in api.changes()))


def follow_series(api, list_id, first, component, count):
    """Expands `first`'s rule from the feed with recurring-ical-events,
    then completes the task `count` times and checks that each occurrence
    Taskflow makes is the next one the rule gave."""
    feed = api.call("POST", "/api/calendar-feeds", {"lists": [list_id], "as": component})
    calendar = parse(fetch(feed["url"])[2])
    kind = "VTODO" if component == "todos" else "VEVENT"
    field = "DUE" if component == "todos" else "DTSTART"
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    occurrences = recurring_ical_events.of(calendar, components=[kind]).between(start, start.replace(year=2031))
    dues = sorted((o.decoded(field) for o in occurrences if task_id(o) == first["id"]),
                  key=lambda d: (d if isinstance(d, dt.datetime) else dt.datetime.combine(d, dt.time(), UTC)))
    assert len(dues) > count, f"only {len(dues)} occurrences"
    same_time(dues[0], due_of(first), f"the first occurrence of {first['title']}")
    current = first
    for n in range(1, count + 1):
        api.call("POST", f"/api/tasks/{current['id']}/complete")

        def following():
            page = api.call("GET", f"/api/tasks?list_id={list_id}&status=open&limit=200")
            return next((t for t in page["tasks"] if t["previous_id"] == current["id"]), None)

        current = until(f"occurrence {n} of {first['title']}", following)
        same_time(due_of(current), dues[n], f"occurrence {n} of {first['title']}")
    api.call("DELETE", f"/api/calendar-feeds/{feed['id']}")
    return [d.isoformat() for d in dues[:count + 1]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        server = Server(args, data_dir).start()
        try:
            run(args, data_dir, server)
        finally:
            server.stop()
    print("calendar black-box: OK")


def run(args, data_dir, server):
    alice = Api(server, token(args, data_dir, "alice"))
    bob = Api(server, token(args, data_dir, "bob"))
    for api in (alice, bob):
        api.call("GET", "/api/users/me")
    plans = alice.call("POST", "/api/lists", {"title": "Plans", "color": "#3b82f6"})["id"]
    invitation = alice.call("POST", f"/api/lists/{plans}/invitations", {"username": "bob", "role": "viewer"})
    bob.call("POST", f"/api/invitations/{invitation['id']}/accept")

    def make(title, **fields):
        return alice.call("POST", "/api/tasks", {"title": title, "list_id": plans, **fields})

    made = [
        make("date due", due="2026-12-24", priority="high", tags=["home", "errands"]),
        make("berlin summer", due="2027-07-01T09:30", timezone="Europe/Berlin", priority="medium",
             reminder={"minutes_before": 30}),
        make("berlin winter", due="2027-01-15T18:00", timezone="Europe/Berlin", priority="low",
             reminder={"at": "2027-01-15T08:00:00Z"}),
        make("new york", due="2027-03-10T08:00", timezone="America/New_York"),
        make("utc", due="2027-02-01T12:00", timezone="UTC"),
        make("kolkata", due="2027-05-05T10:15", timezone="Asia/Kolkata"),
        make("lord howe", due="2027-10-03T12:00", timezone="Australia/Lord_Howe"),
        make("weekly", due="2026-12-07T10:00", timezone="Europe/Berlin",
             recurrence="FREQ=WEEKLY;BYDAY=MO,TH;COUNT=6", reminder={"minutes_before": 1500}),
        make("monthly on the 31st", due="2027-01-31", recurrence="FREQ=MONTHLY"),
        make("yearly on 29 February", due="2028-02-29T08:00", timezone="UTC", recurrence="FREQ=YEARLY"),
        make("daily until", due="2026-12-10", timezone="Asia/Tokyo", recurrence="FREQ=DAILY;UNTIL=20261215"),
        make("described", description=DESCRIPTION, tags=["a-b", "c d"]),
        make("no due"),
    ]
    parent = make("parent", due="2027-04-01")
    made += [parent, make("first child", parent_id=parent["id"]), make("second child", parent_id=parent["id"])]
    done = make("done", due="2026-11-30", reminder={"minutes_before": 5})
    alice.call("POST", f"/api/tasks/{done['id']}/complete")
    made.append(done)

    feed = alice.call("POST", "/api/calendar-feeds", {"lists": [plans], "include_completed": True})
    assert feed["url"].startswith(f"{server.base}/feeds/cal_"), feed
    status, headers, body = fetch(feed["url"])
    assert status == 200 and headers["content-type"] == "text/calendar; charset=utf-8", (status, headers)
    calendar = parse(body)
    assert str(calendar["X-WR-CALNAME"]) == "Plans" and str(calendar["X-APPLE-CALENDAR-COLOR"]) == "#3b82f6"
    tasks = {t["id"]: alice.call("GET", f"/api/tasks/{t['id']}") for t in made}
    todos = check_todos(alice, calendar, tasks)
    zones = check_timezones(calendar)
    assert zones == 4, f"{zones} VTIMEZONEs"  # Berlin, New York, Kolkata, Lord Howe
    rules = {tasks[i]["title"]: dict(todos[i]["RRULE"]) for i in todos if "RRULE" in todos[i]}
    wanted = {
        "weekly": "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=6",
        "monthly on the 31st": "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
        "yearly on 29 February": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1",
        "daily until": "FREQ=DAILY;UNTIL=20261215",
    }
    assert rules == {title: dict(icalendar.vRecur.from_ical(rule)) for title, rule in wanted.items()}, rules
    print(f"{len(todos)} to-dos read back field by field; {zones} VTIMEZONEs agree with zoneinfo")

    # Events: dated tasks only, each with an end; completed ones ticked.
    events_feed = alice.call("POST", "/api/calendar-feeds",
                             {"lists": [plans], "as": "events", "include_completed": True})
    events = {task_id(e): e for e in parse(fetch(events_feed["url"])[2]).walk("VEVENT")}
    assert set(events) == {i for i, t in tasks.items() if t["due"]}, sorted(events)
    for id_, event in events.items():
        task, start = tasks[id_], event.decoded("DTSTART")
        same_time(start, due_of(task), f"event {id_}")
        end = event.decoded("DTEND")
        step = dt.timedelta(days=1) if type(start) is dt.date else dt.timedelta(minutes=30)
        assert end - start == step, f"event {id_}: {start} to {end}"
        assert str(event["SUMMARY"]) == ("✓ " if task["completed"] else "") + task["title"]
        assert str(event["TRANSP"]) == "TRANSPARENT"
    print(f"{len(events)} events, each with its end")

    # The rules, expanded by recurring-ical-events, are the occurrences Taskflow makes.
    by_title = {t["title"]: t for t in tasks.values()}
    weekly = follow_series(alice, plans, by_title["weekly"], "todos", 5)
    monthly = follow_series(alice, plans, by_title["monthly on the 31st"], "events", 4)
    print(f"series agree: weekly {weekly}; monthly {monthly}")

    # Conditional fetches; a removed member; deletion.
    settle(alice)
    status, headers, body = fetch(feed["url"])
    etag = headers["etag"]
    assert fetch(feed["url"], etag)[0] == 304
    assert fetch(feed["url"], '"stale"')[2] == body
    make("one more")
    until("a new ETag after a change", lambda: fetch(feed["url"], etag)[0] == 200)
    bobs = bob.call("POST", "/api/calendar-feeds", {"lists": "all"})
    status, headers, body = fetch(bobs["url"])
    assert b"SUMMARY:date due" in body, body[:300]
    alice.call("DELETE", f"/api/lists/{plans}/members/bob")
    status, _, body = fetch(bobs["url"], headers["etag"])
    assert status == 200 and b"date due" not in body, (status, body[:300])
    alice.call("DELETE", f"/api/calendar-feeds/{feed['id']}")
    assert fetch(feed["url"])[0] == 404
    print("304 while unchanged, 200 after a change; a removed member's feed loses the list; deleted is 404")

    # 10,000 tasks, imported for a fresh user.
    carol = Api(server, token(args, data_dir, "carol"))
    document = {"format": "taskflow.export", "version": 1, "lists": [{"id": 1, "title": "Big"}], "tasks": [
        {"id": n, "list_id": 1, "title": f"task {n}", "due": f"2027-{n % 12 + 1:02}-{n % 28 + 1:02}T09:00",
         "timezone": ["Europe/Berlin", "America/New_York", "Asia/Tokyo"][n % 3],
         "description": "line one\nline two, with a comma", "tags": ["bulk"]}
        for n in range(1, 10_001)]}
    imported = carol.call("POST", "/api/import", document)
    big = carol.call("POST", "/api/calendar-feeds", {"lists": [imported["list_ids"]["1"]]})
    started = time.monotonic()
    status, headers, body = fetch(big["url"])
    fetched = time.monotonic() - started
    calendar = parse(body)
    uids = [str(c["UID"]) for c in calendar.walk("VTODO")]
    assert len(uids) == 10_000 and len(set(uids)) == 10_000, len(uids)
    settle(carol)
    etag = fetch(big["url"])[1]["etag"]
    started = time.monotonic()
    assert fetch(big["url"], etag)[0] == 304
    print(f"10,000 to-dos: {len(body) / 1e6:.1f} MB in {fetched * 1000:.0f} ms; "
          f"304 in {(time.monotonic() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
