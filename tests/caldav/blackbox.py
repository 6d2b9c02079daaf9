"""Black-box test of Taskflow's CalDAV server (`/dav/`) with the real
python-caldav client (PyPI `caldav`, pinned in requirements.txt) and
`caldav-server-tester`.

Parts (`--parts`, comma-separated; default all):

- read: alice, bob and carol made over REST; alice's lists and tasks made
  over REST (dated and zoned, a completed one, a subtask, tags,
  priorities; carol shares a list with her; an archived list); discovery
  from `/dav/` and from `/.well-known/caldav`; `calendars()` = alice's
  lists; privileges (own writable, shared and archived read-only); each
  to-do read back field by field with the client's icalendar objects;
  `todos()`, `search()` (time range, category, summary), lookup by UID,
  multiget; `objects_by_sync_token` initially and after each REST change
  (edit, completion, a move with a subtask to another list, a deletion) =
  exactly that change; a bearer token (auth_type and header); wrong,
  unknown and revoked passwords refused; a removed member loses the
  calendar; alice and bob syncing in two threads never see each other's
  hrefs or UIDs.
- write: `add_todo`/`save_todo`, `save()` after an edit, `complete()` on
  a plain and on a recurring to-do (`handle_rrule` False, True "safe" and
  True "this_and_future"), `delete()`, subtasks before and after their
  parent; each checked over REST and by its sync delta.
- tester: `caldav-server-tester` against alice's pre-made calendar; its
  report is compared with the saved one (`--tester-report`): a feature
  that was fully supported there and is not now fails the run
  (`--update-tester-report` rewrites it instead).

It starts `taskflow serve` itself (SQLite in a fresh data dir, or the
PostgreSQL database given with --database-url). A change counts toward a
sync token once its request is answered (decision 0044); each delta is read
after checking that the calendar's `sync-token` moved.
"""

import argparse
import ast
import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from zoneinfo import ZoneInfo

import caldav
from caldav.elements import cdav, dav, ical
from caldav.lib import error
from caldav.lib.url import URL
from lxml import etree

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from taskflow_blackbox import Api, Server, token, until  # noqa: E402

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
PARTS = ("read", "write", "tester")
UID = re.compile(r"^taskflow-task-(\d+)@")
TESTER_CALENDAR = "Server tester"


# Server problems this test knows of: each is still checked, printed as
# "known problem" while it lasts (the run passes), and one that is gone
# fails the run until it is taken off this list, so the list stays true.
KNOWN: set[str] = set()


def known(name, holds, detail):
    if holds and name in KNOWN:
        raise AssertionError(f"known problem {name!r} is gone: take it off KNOWN in tests/caldav/blackbox.py")
    if not holds and name not in KNOWN:
        raise AssertionError(detail)
    if not holds:
        print(f"  known problem {name}: {detail}")


# ---------------------------------------------------------------- helpers

def client(server, username=None, password=None, **options):
    """A python-caldav client of the server's `/dav/` (or `url`)."""
    url = options.pop("url", server.base + "/dav/")
    return caldav.DAVClient(url=url, username=username, password=password, timeout=60, **options)


def app_password(api, name):
    made = api.call("POST", "/api/app-passwords", {"name": name, "scopes": ["caldav"]})
    assert made["password"].startswith("tfap_") and made["dav_url"] == api.server.base + "/dav/", made
    return made


def raw(server, method, path, headers=None, body=None):
    """(status, headers, body) of one plain HTTP request, no redirects followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(server.base + path, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def privileges(server, path, authorization):
    """The current-user-privilege-set of `path`, by local name."""
    body = b'<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-privilege-set/></d:prop></d:propfind>'
    status, _, text = raw(server, "PROPFIND", path, {"authorization": authorization, "depth": "0",
                                                     "content-type": "application/xml"}, body)
    assert status == 207, (path, status, text[:300])
    return {etree.QName(p).localname for privilege in etree.fromstring(text).iter("{DAV:}privilege")
            for p in privilege}


def path_of(obj):
    return str(obj.url.path) if hasattr(obj.url, "path") else str(obj.url)


def list_of_calendar(calendar, username):
    """The list id in a calendar's URL `/dav/calendars/{username}/{id}/`."""
    match = re.fullmatch(rf"/dav/calendars/{re.escape(username)}/(\d+)/", path_of(calendar))
    assert match, f"calendar URL {calendar.url}"
    return int(match.group(1))


def href(username, list_id, task_id):
    return f"/dav/calendars/{username}/{list_id}/taskflow-task-{task_id}.ics"


def uid_of(obj):
    return str(obj.icalendar_component["UID"])


def task_of(obj):
    match = UID.match(uid_of(obj))
    assert match, uid_of(obj)
    return int(match.group(1))


def sync_token(calendar):
    value = calendar.get_property(dav.SyncToken())
    assert value and str(value).startswith("urn:taskflow:sync:"), value
    return str(value)


def token_moved(calendar, before, what):
    """The calendar's sync-token, which a change answered has moved from
    `before`."""
    now = sync_token(calendar)
    assert now != before, f"{what}: the sync-token of {calendar.url} is still {before}"
    return now


def delta(calendar, since):
    """One `objects_by_sync_token(since, load_objects=True)`, no fallback to
    a full listing: (changed {path: loaded object}, deleted {path}, token).
    python-caldav 3.6 lists a deleted member as an object without an ETag,
    its canonical URL in `deleted_urls`, and does not load it."""
    result = calendar.objects_by_sync_token(since, load_objects=True, disable_fallback=True)
    assert not result.truncated, "a truncated sync"
    deleted_urls = {str(u) for u in result.deleted_urls}
    changed, deleted = {}, set()
    for obj in result:
        path = path_of(obj)
        if str(obj.url.canonical()) in deleted_urls:
            assert dav.GetEtag.tag not in obj.props, f"{path}: deleted, with an ETag"
            deleted.add(path)
        else:
            assert obj.props.get(dav.GetEtag.tag), f"{path}: changed, without an ETag"
            assert obj.data, f"{path}: not loaded"
            changed[path] = obj
    assert len(deleted) == len(deleted_urls), (deleted, deleted_urls)
    return changed, deleted, result.sync_token


def expect_delta(calendar, since, changed=(), deleted=(), what=""):
    """The delta since `since`, the token having moved: exactly `changed`
    (paths) and `deleted` (paths). Returns (changed objects, new token)."""
    token_moved(calendar, since, what)
    got, gone, token = delta(calendar, since)
    assert set(got) == set(changed) and gone == set(deleted), \
        f"{what}: changed {sorted(got)} (wanted {sorted(changed)}), deleted {sorted(gone)} (wanted {sorted(deleted)})"
    assert token != since, f"{what}: the same token back"
    return got, token


def settled_delta(calendar, since, check, what):
    """The delta since `since` once `check(changed, deleted)` holds (for
    changes that arrive in steps, like the next occurrence the recurrence
    worker makes)."""
    seen = []

    def ready():
        got, gone, token = delta(calendar, since)
        seen[:] = [sorted(got), sorted(gone)]
        return (got, gone, token) if check(got, gone) else None

    try:
        return until(what, ready)
    except AssertionError as err:
        raise AssertionError(f"{err}; last delta: changed {seen[0]}, deleted {seen[1]}") from None


def due_of(task):
    if task["due"] is None:
        return None
    if "T" not in task["due"]:
        return dt.date.fromisoformat(task["due"])
    return dt.datetime.fromisoformat(task["due"]).replace(tzinfo=ZoneInfo(task["timezone"]))


def same_time(got, wanted, what):
    if isinstance(wanted, dt.datetime):
        assert isinstance(got, dt.datetime) and got.tzinfo is not None, f"{what}: {got!r}"
        assert got == wanted and got.utcoffset() == wanted.utcoffset(), f"{what}: {got!r} != {wanted!r}"
    else:
        assert type(got) is dt.date and got == wanted, f"{what}: {got!r} != {wanted!r}"


def priority_of(value):
    value = int(value or 0)
    return "high" if 1 <= value <= 4 else "medium" if value == 5 else "low" if 6 <= value <= 9 else "none"


def check_todo(todo, task, uids, what):
    """A to-do read with python-caldav's icalendar objects is the task."""
    vtodo = todo.icalendar_component
    assert str(vtodo["SUMMARY"]) == task["title"], f"{what}: SUMMARY {vtodo.get('SUMMARY')!r}"
    if task["due"] is None:
        assert "DUE" not in vtodo, f"{what}: DUE {vtodo.get('DUE')!r}"
    else:
        same_time(vtodo.decoded("DUE"), due_of(task), f"{what} DUE")
    status = str(vtodo.get("STATUS", ""))
    if task["completed"]:
        assert status == "COMPLETED" and "COMPLETED" in vtodo, f"{what}: STATUS {status}"
    else:
        assert status == "NEEDS-ACTION" and "COMPLETED" not in vtodo, f"{what}: STATUS {status}"
    assert priority_of(vtodo.get("PRIORITY")) == task["priority"], f"{what}: PRIORITY {vtodo.get('PRIORITY')}"
    lines = vtodo.get("CATEGORIES", [])
    categories = [str(c) for line in (lines if isinstance(lines, list) else [lines]) for c in line.cats]
    assert sorted(categories) == sorted(task["tags"]), f"{what}: CATEGORIES {categories}"
    related = vtodo.get("RELATED-TO")
    if task["parent"]:
        assert related is not None, f"{what}: no RELATED-TO"
        assert related.params.get("RELTYPE", "PARENT") == "PARENT", f"{what}: {related.params}"
        assert str(related) == uids[task["parent"]["id"]], f"{what}: RELATED-TO {related}"
    else:
        assert related is None, f"{what}: RELATED-TO {related}"


def rest_tasks(api, list_id):
    page = api.call("GET", f"/api/tasks?list_id={list_id}&status=all&limit=200")
    assert page.get("next_cursor") is None
    return page["tasks"]


# ---------------------------------------------------------------- read part

def read_part(ctx):
    server, alice, bob, carol = ctx.server, ctx.alice, ctx.bob, ctx.carol
    # Lists and tasks over REST.
    plans = alice.call("POST", "/api/lists", {"title": "Plans", "color": "#3b82f6"})["id"]
    errands = alice.call("POST", "/api/lists", {"title": "Errands & more <b>", "description": "small things"})["id"]
    secret = bob.call("POST", "/api/lists", {"title": "Bob's secret"})["id"]
    shared = carol.call("POST", "/api/lists", {"title": "Carol's shared"})["id"]
    invitation = carol.call("POST", f"/api/lists/{shared}/invitations", {"username": "alice", "role": "viewer"})
    alice.call("POST", f"/api/invitations/{invitation['id']}/accept")
    carol.call("POST", "/api/tasks", {"title": "carol's task", "list_id": shared})

    def make(api, list_id, title, **fields):
        return api.call("POST", "/api/tasks", {"title": title, "list_id": list_id, **fields})

    made = [
        make(alice, plans, "date due", due="2027-02-10", priority="high", tags=["home", "errands"]),
        make(alice, plans, "berlin", due="2027-07-01T09:30", timezone="Europe/Berlin", priority="medium"),
        make(alice, plans, "new york", due="2027-03-10T08:00", timezone="America/New_York", priority="low"),
        make(alice, plans, "utc", due="2027-02-01T12:00", timezone="UTC"),
        make(alice, plans, "no due", tags=["someday"]),
    ]
    parent = make(alice, plans, "parent", due="2027-04-01")
    child = make(alice, plans, "child", parent_id=parent["id"])
    done = make(alice, plans, "done", due="2026-11-30")
    alice.call("POST", f"/api/tasks/{done['id']}/complete")
    made += [parent, child, done]
    elsewhere = make(alice, errands, "in errands", due="2027-05-05T10:15", timezone="Asia/Kolkata")
    for n in range(3):
        make(bob, secret, f"bob's task {n}", tags=["bob"])
    archived = alice.call("POST", "/api/lists", {"title": "Archived"})["id"]
    make(alice, archived, "in an archived list")
    alice.call("POST", f"/api/lists/{archived}/archive")

    # Discovery: the app password as HTTP Basic, from /dav/ and from the well-known URL.
    password = app_password(alice, "python-caldav")
    status, headers, _ = raw(server, "PROPFIND", "/.well-known/caldav")
    assert status == 301 and headers["location"] == "/dav/", (status, dict(headers))
    lists = {l["id"]: l for l in alice.call("GET", "/api/lists?archived=true")}
    for url in (server.base + "/dav/", server.base + "/.well-known/caldav"):
        with client(server, "alice", password["password"], url=url) as dav_client:
            principal = dav_client.principal()
            assert path_of(principal) == "/dav/principals/alice/", principal.url
            calendars = principal.calendars()
            by_list = {list_of_calendar(c, "alice"): c for c in calendars}
            assert set(by_list) == set(lists), f"{url}: calendars {sorted(by_list)} != lists {sorted(lists)}"
            assert secret not in by_list and shared in by_list and archived in by_list
            for list_id, calendar in by_list.items():
                assert calendar.get_display_name() == lists[list_id]["title"], (calendar.get_display_name(), lists[list_id])
    print(f"discovery from /dav/ and /.well-known/caldav: {len(lists)} calendars = alice's lists "
          f"(carol's shared one and an archived one in, bob's private one out)")

    dav_client = client(server, "alice", password["password"])
    principal = dav_client.principal()
    calendars = {list_of_calendar(c, "alice"): c for c in principal.calendars()}
    home = principal.calendar_home_set
    assert path_of(home) == "/dav/calendars/alice/", home.url
    plans_cal, errands_cal = calendars[plans], calendars[errands]
    components = plans_cal.get_supported_components()
    assert list(components) == ["VTODO"], components
    assert errands_cal.get_property(cdav.CalendarDescription()) == "small things"
    assert plans_cal.get_property(ical.CalendarColor()) == "#3b82f6"
    basic = "Basic " + base64.b64encode(f"alice:{password['password']}".encode()).decode()
    writes = {"write-content", "bind", "unbind"}
    for list_id, writable in ((plans, True), (shared, False), (archived, False)):
        held = privileges(server, f"/dav/calendars/alice/{list_id}/", basic)
        assert "read" in held and (writes <= held) == writable and (not writable) == (not held & writes), \
            f"list {list_id}: privileges {sorted(held)}"

    # Every to-do, read back field by field.
    tasks = {t["id"]: t for t in rest_tasks(alice, plans)}
    assert set(tasks) == {t["id"] for t in made}, sorted(tasks)
    todos = plans_cal.todos(include_completed=True)
    uids = {task_of(t): uid_of(t) for t in todos}
    assert set(uids) == set(tasks), f"todos {sorted(uids)} != tasks {sorted(tasks)}"
    for todo in todos:
        id_ = task_of(todo)
        assert path_of(todo) == href("alice", plans, id_), todo.url
        check_todo(todo, tasks[id_], uids, f"task {id_} ({tasks[id_]['title']})")
    open_ids = {task_of(t) for t in plans_cal.todos()}
    assert open_ids == {i for i, t in tasks.items() if not t["completed"]}, sorted(open_ids)
    found = plans_cal.search(todo=True, include_completed=True, start=dt.datetime(2027, 2, 1, tzinfo=UTC),
                             end=dt.datetime(2027, 3, 1, tzinfo=UTC))
    dated = {task_of(t) for t in found if "DUE" in t.icalendar_component}
    wanted = {i for i, t in tasks.items() if t["title"] in ("date due", "utc")}
    assert dated == wanted, f"time-range search: {sorted(dated)} != {sorted(wanted)}"
    titles = sorted(tasks[task_of(t)]["title"] for t in plans_cal.search(todo=True, include_completed=True,
                                                                          category="errands"))
    assert titles == ["date due"], f"search(category='errands'): {titles}"
    titles = sorted(tasks[task_of(t)]["title"] for t in plans_cal.search(todo=True, include_completed=True,
                                                                          summary="new york"))
    known("summary-text-match", titles == ["new york"], f"search(summary='new york') gave {titles}")
    by_uid = plans_cal.get_todo_by_uid(uids[child["id"]])
    assert task_of(by_uid) == child["id"] and str(by_uid.icalendar_component["RELATED-TO"]) == uids[parent["id"]]
    objects = plans_cal.multiget([URL.objectify(server.base + href("alice", plans, i)) for i in sorted(tasks)])
    assert sorted(task_of(o) for o in objects) == sorted(tasks)
    print(f"{len(todos)} to-dos read back field by field; todos() leaves the completed one out; "
          f"time-range search and lookup by UID agree")

    # Sync: the initial sync, then each REST change as exactly that change.
    first = plans_cal.objects_by_sync_token(load_objects=True, disable_fallback=True)
    assert {path_of(o) for o in first} == {href("alice", plans, i) for i in tasks}
    assert all(o.data for o in first) and not first.deleted_urls
    token = first.sync_token
    errands_token = errands_cal.objects_by_sync_token(disable_fallback=True).sync_token
    assert token != errands_token

    target = tasks[made[1]["id"]]
    alice.call("PATCH", f"/api/tasks/{target['id']}", {"title": "berlin, edited"})
    got, token = expect_delta(plans_cal, token, [href("alice", plans, target["id"])], what="an edit")
    assert str(next(iter(got.values())).icalendar_component["SUMMARY"]) == "berlin, edited"

    alice.call("POST", f"/api/tasks/{target['id']}/complete")
    got, token = expect_delta(plans_cal, token, [href("alice", plans, target["id"])], what="a completion")
    assert str(next(iter(got.values())).icalendar_component["STATUS"]) == "COMPLETED"

    # A move of a parent takes its subtask along: gone from one calendar, in the other.
    alice.call("POST", f"/api/tasks/{parent['id']}/move", {"list_id": errands})
    moved = [parent["id"], child["id"]]
    _, token = expect_delta(plans_cal, token, deleted=[href("alice", plans, i) for i in moved], what="a move, old list")
    got, errands_token = expect_delta(errands_cal, errands_token, [href("alice", errands, i) for i in moved],
                                      what="a move, new list")
    assert {task_of(o) for o in got.values()} == set(moved)
    assert {task_of(t) for t in errands_cal.todos(include_completed=True)} == {elsewhere["id"], *moved}

    alice.call("DELETE", f"/api/tasks/{made[0]['id']}")
    _, token = expect_delta(plans_cal, token, deleted=[href("alice", plans, made[0]["id"])], what="a deletion")
    gone = caldav.Todo(client=dav_client, url=server.base + href("alice", plans, made[0]["id"]), parent=plans_cal)
    try:
        gone.load()
        raise AssertionError("a deleted task's resource loads")
    except error.NotFoundError:
        pass
    unchanged, _, same = delta(plans_cal, token)
    assert not unchanged and same == token, (sorted(unchanged), same, token)
    print("sync: initial, then an edit, a completion, a move (both lists) and a deletion, each exactly")

    # A bearer token, as the auth parameter and as a header.
    for bearer_client in (client(server, password=alice.bearer, auth_type="bearer"),
                          client(server, headers={"Authorization": f"Bearer {alice.bearer}"})):
        with bearer_client:
            ids = {list_of_calendar(c, "alice") for c in bearer_client.principal().calendars()}
            assert ids == set(lists), ids

    # Refusals: a wrong password, bob's calendars, a revoked password.
    for username, secret_word in (("alice", "tfap_wrong"), ("alice", ""), ("nobody", password["password"]),
                                  ("bob", password["password"])):
        try:
            client(server, username, secret_word).principal()
            raise AssertionError(f"{username}:{secret_word!r} signed in")
        except error.AuthorizationError:
            pass
    for path in (f"/dav/calendars/bob/{secret}/", f"/dav/calendars/alice/{secret}/"):
        try:
            caldav.Calendar(client=dav_client, url=server.base + path).todos(include_completed=True)
            raise AssertionError(f"alice read {path}")
        except error.NotFoundError:
            pass
    revoked = app_password(alice, "to revoke")
    victim = client(server, "alice", revoked["password"])
    victim_calendar = {list_of_calendar(c, "alice"): c for c in victim.principal().calendars()}[plans]
    victim_calendar.todos()
    alice.call("DELETE", f"/api/app-passwords/{revoked['id']}")
    try:
        victim_calendar.todos()
        raise AssertionError("a revoked app password still reads")
    except error.AuthorizationError:
        pass
    # A removed member loses the calendar at the next request.
    shared_cal = calendars[shared]
    assert [str(t.icalendar_component["SUMMARY"]) for t in shared_cal.todos()] == ["carol's task"]
    carol.call("DELETE", f"/api/lists/{shared}/members/alice")
    assert shared not in {list_of_calendar(c, "alice") for c in principal.calendars()}
    try:
        shared_cal.todos()
        raise AssertionError("a removed member still reads the list")
    except error.NotFoundError:
        pass
    listed = alice.call("GET", "/api/app-passwords")
    assert [p["name"] for p in listed] == ["python-caldav"] and "password" not in listed[0], listed
    print("a bearer token signs in (auth_type and header); wrong, unknown and revoked passwords "
          "are AuthorizationError; bob's calendar is NotFound for alice, and carol's once she removed her")

    isolation(ctx, password)


def isolation(ctx, alice_password):
    """alice and bob, each in a thread with their own client, 100 sync and
    list operations each: neither ever sees the other's hrefs or UIDs."""
    server = ctx.server
    bob_password = app_password(ctx.bob, "bob's phone")
    owners = {}
    for name, api in (("alice", ctx.alice), ("bob", ctx.bob)):
        uids = set()
        for l in api.call("GET", "/api/lists?archived=true"):
            uids |= {t["id"] for t in rest_tasks(api, l["id"])}
        owners[name] = uids
    failures = []

    def work(name, password):
        try:
            other = "bob" if name == "alice" else "alice"
            with client(server, name, password) as dav_client:
                calendars = dav_client.principal().calendars()
                tokens = {}
                for n in range(100):
                    calendar = calendars[n % len(calendars)]
                    kind = n % 4
                    if kind == 0:
                        seen = [path_of(c) for c in dav_client.principal().calendars()]
                        objects = []
                    elif kind == 1:
                        result = calendar.objects_by_sync_token(load_objects=True, disable_fallback=True)
                        tokens[path_of(calendar)] = result.sync_token
                        objects, seen = list(result), []
                    elif kind == 2:
                        objects, seen = calendar.todos(include_completed=True), []
                    else:
                        since = tokens.get(path_of(calendar))
                        result = calendar.objects_by_sync_token(since, load_objects=True, disable_fallback=True)
                        objects, seen = list(result), []
                    for obj in objects:
                        seen.append(path_of(obj))
                        if obj.data:
                            id_ = task_of(obj)
                            assert id_ not in owners[other] or id_ in owners[name], f"{name} saw {other}'s task {id_}"
                    for path in seen:
                        assert path.startswith(f"/dav/calendars/{name}/"), f"{name} saw {path}"
                        assert f"/{other}/" not in path, f"{name} saw {path}"
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            failures.append(f"{name}: {err!r}")

    threads = [threading.Thread(target=work, args=("alice", alice_password["password"])),
               threading.Thread(target=work, args=("bob", bob_password["password"]))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
        assert not thread.is_alive(), "an isolation thread hangs"
    assert not failures, failures
    print(f"alice and bob, 100 operations each at once: only their own hrefs and UIDs "
          f"({time.monotonic() - started:.1f}s)")


# ---------------------------------------------------------------- write part

def write_part(ctx):
    server, alice = ctx.server, ctx.alice
    written = alice.call("POST", "/api/lists", {"title": "Written by caldav"})["id"]
    password = app_password(alice, "python-caldav writes")
    dav_client = client(server, "alice", password["password"])
    calendar = {list_of_calendar(c, "alice"): c for c in dav_client.principal().calendars()}[written]
    token = calendar.objects_by_sync_token(disable_fallback=True).sync_token

    def by_title(title):
        return [t for t in rest_tasks(alice, written) if t["title"] == title]

    def one(title):
        found = until(f"{title!r} over REST", lambda: by_title(title) or None)
        assert len(found) == 1, found
        return found[0]

    # Create.
    todo = calendar.save_todo(summary="made by caldav", due=dt.datetime(2027, 3, 1, 9, 0, tzinfo=BERLIN),
                              priority=1, categories=["dav", "Phone"], description="line one\nline two")
    path = path_of(todo)
    assert path.startswith(f"/dav/calendars/alice/{written}/") and path.endswith(".ics"), path
    task = one("made by caldav")
    assert task["due"] == "2027-03-01T09:00:00" and task["timezone"] == "Europe/Berlin", task
    assert task["priority"] == "high" and sorted(task["tags"]) == ["dav", "phone"], task
    assert task["description"] == "line one\nline two" and not task["completed"], task
    got, token = expect_delta(calendar, token, [path], what="a create")
    assert uid_of(got[path]) == uid_of(todo)

    # Update: edit the summary, then save.
    todo.load()
    todo.icalendar_component["SUMMARY"] = "made by caldav, edited"
    todo.save()
    task = one("made by caldav, edited")
    assert not by_title("made by caldav"), "the old title is still there"
    _, token = expect_delta(calendar, token, [path], what="an update")

    # An echo (the resource saved back unchanged) changes nothing.
    todo.load()
    version = task["version"]
    todo.save(increase_seqno=False)
    assert one("made by caldav, edited")["version"] == version, "an echo bumped the version"
    echoed, gone, same = delta(calendar, token)
    assert not echoed and not gone and same == token, f"an echo in the sync: {sorted(echoed)} {sorted(gone)}"

    # complete() on a plain to-do.
    todo.load()
    todo.complete()
    assert one("made by caldav, edited")["completed"], "not completed over REST"
    _, token = expect_delta(calendar, token, [path], what="a completion")
    assert str(calendar.get_todo_by_uid(uid_of(todo)).icalendar_component["STATUS"]) == "COMPLETED"

    # Recurring to-dos (RRULE weekly COUNT=3, due two days ago): each way
    # python-caldav completes one leaves exactly one open occurrence, the
    # next one. plain: the master marked done (plan §6 a); this_and_future:
    # a done RECURRENCE-ID override (b); both complete the task, and the
    # recurrence worker makes the next occurrence (asynchronously). safe: a
    # completed copy under a new UID, then the master moved to the next
    # occurrence with COUNT one lower, which is how tasks.org completes
    # (c): the task completes and the worker makes the next one, so the
    # history holds the client's copy beside it (two completed).
    # In UTC: python-caldav 3.6's this_and_future takes the calendar's first
    # component for the to-do, and a zoned due puts its VTIMEZONE first.
    start = dt.datetime.combine(dt.date.today() - dt.timedelta(days=2), dt.time(9), dt.timezone.utc)
    for title, how in (("weekly plain", {"handle_rrule": False}),
                       ("weekly safe", {"handle_rrule": True, "rrule_mode": "safe"}),
                       ("weekly this_and_future", {"handle_rrule": True, "rrule_mode": "this_and_future"})):
        safe = how.get("rrule_mode") == "safe"
        series = calendar.save_todo(summary=title, dtstart=start, due=start + dt.timedelta(hours=1),
                                    rrule={"FREQ": "WEEKLY", "COUNT": 3})
        series_path = path_of(series)
        made = one(title)
        assert made["recurrence"] and not made["completed"], made
        _, token = expect_delta(calendar, token, [series_path], what=f"{title}: the create")
        series.load()
        series.complete(**how)
        completed = 2 if safe else 1

        def settled():
            tasks = by_title(title)
            done = [t for t in tasks if t["completed"]]
            open_ = [t for t in tasks if not t["completed"]]
            return (open_, done) if len(done) == completed and len(open_) == 1 else None

        until(f"{title}: one open occurrence and {completed} completed", settled)
        got, _, token = settled_delta(calendar, token, lambda got, gone: len(got) == completed + 1 and not gone,
                                      f"{title}: the completion and the open occurrence in the sync")
        assert series_path in got, f"{title}: {sorted(got)}"
        status = {path: str(o.icalendar_component["STATUS"]) for path, o in got.items()}
        open_, done = settled()  # still exactly so, the worker done
        # Over REST a completed occurrence keeps its series' rule (the feed
        # and CalDAV leave it out).
        assert open_[0]["recurrence"], f"{title}: {open_} {done}"
        next_due = (start + dt.timedelta(days=7, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        assert open_[0]["due"] == next_due, f"{title}: {open_[0]['due']} is not the next occurrence"
        assert status[series_path] == "COMPLETED", f"{title}: {status}"
        assert "RRULE" not in got[series_path].icalendar_component, f"{title}: the done one still recurs"
        nexts = [o for path, o in got.items() if UID.match(uid_of(o)) and task_of(o) == open_[0]["id"]]
        assert len(nexts) == 1 and str(nexts[0].icalendar_component["STATUS"]) == "NEEDS-ACTION", status
        assert "RRULE" in nexts[0].icalendar_component, f"{title}: the next occurrence does not recur"
        statuses = sorted(str(o.icalendar_component.get("STATUS")) for o in calendar.todos(include_completed=True)
                          if str(o.icalendar_component["SUMMARY"]) == title)
        assert statuses == ["COMPLETED"] * completed + ["NEEDS-ACTION"], f"{title}: {statuses}"
    print("create, update, an echo, complete() and each recurring completion style, over REST and in the sync")

    # Delete.
    victim = calendar.save_todo(summary="to delete")
    victim_path = path_of(victim)
    one("to delete")
    _, token = expect_delta(calendar, token, [victim_path], what="a create before a delete")
    victim.delete()
    until("the deleted task gone over REST", lambda: not by_title("to delete"))
    _, token = expect_delta(calendar, token, deleted=[victim_path], what="a delete")

    # Subtasks: after their parent (python-caldav also writes RELATED-TO;RELTYPE=CHILD
    # into the parent), and before it (RELATED-TO a UID not there yet).
    parent = calendar.save_todo(summary="parent first", uid="parent-first@example.org")
    _, token = expect_delta(calendar, token, [path_of(parent)], what="a parent")
    child = calendar.save_todo(summary="child after", uid="child-after@example.org",
                               parent=["parent-first@example.org"])
    # Two PUTs (the child, then the parent with RELTYPE=CHILD): the delta settles on both.
    _, _, token = settled_delta(calendar, token, lambda got, gone: set(got) == {path_of(child), path_of(parent)}
                                and not gone, "a subtask after its parent: both in the sync")
    assert one("child after")["parent"]["id"] == one("parent first")["id"]

    orphan = calendar.save_todo(summary="child before", uid="child-before@example.org",
                                parent=["parent-later@example.org"])
    assert one("child before")["parent"] is None
    _, token = expect_delta(calendar, token, [path_of(orphan)], what="a subtask before its parent")
    late = calendar.save_todo(summary="parent later", uid="parent-later@example.org")
    until("the waiting subtask under its parent",
          lambda: (one("child before")["parent"] or {}).get("id") == one("parent later")["id"])
    _, _, token = settled_delta(calendar, token, lambda got, gone: set(got) == {path_of(late), path_of(orphan)}
                                and not gone, "the parent of a waiting subtask: both in the sync")
    related = calendar.get_todo_by_uid("child-before@example.org").icalendar_component["RELATED-TO"]
    assert str(related) == "parent-later@example.org", related
    print("delete; subtasks after and before their parent")


# ---------------------------------------------------------------- caldav-server-tester

def tester_part(ctx):
    """caldav-server-tester, one process per check (`--run-checks NAME`):
    one check that raises ends a whole run of it (`check_all` does not go
    on past an AssertionError, which a server without writes provokes), and
    the report is still printed. `--format hints` prints every feature the
    checks set, fully supported ones too (`--format json` collapses them and
    leaves the fully supported ones out, so a check that passed could not be
    told from one that never ran); it is kept as JSON."""
    server, alice = ctx.server, ctx.alice
    alice.call("POST", "/api/lists", {"title": TESTER_CALENDAR})
    password = app_password(alice, "caldav-server-tester")
    program = os.path.join(os.path.dirname(sys.executable), "caldav-server-tester")
    names = subprocess.run([program, "--list-checks"], capture_output=True, text=True, check=True,
                           timeout=60).stdout.split()
    from caldav_server_tester import checks as tester_checks
    started = time.monotonic()
    report = {"caldav": caldav.__version__, "caldav-server-tester": version("caldav-server-tester"), "checks": {}}
    for name in names:
        command = [program, "--caldav-url", server.base + "/dav/", "--caldav-username", "alice",
                   "--caldav-password", password["password"], "--caldav-calendar", TESTER_CALENDAR,
                   "--format", "hints", "--run-checks", name]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=ctx.args.tester_timeout)
        except subprocess.TimeoutExpired:
            report["checks"][name] = {"error": f"timed out after {ctx.args.tester_timeout:.0f}s", "features": {}}
            continue
        declared = getattr(tester_checks, name).features_to_be_checked
        features = {}
        if "{" in done.stdout:
            every = ast.literal_eval(done.stdout[done.stdout.index("{"):])
            features = {f: every[f] for f in sorted(every)
                        if any(f == d or f.startswith(d + ".") for d in declared)}
        entry = {"features": features}
        if done.returncode != 0:
            lines = [l for l in done.stderr.splitlines() if l.strip()]
            entry["error"] = lines[-1] if lines else f"exit {done.returncode}"
        report["checks"][name] = entry
    passed, failed = [], []
    for name, entry in report["checks"].items():
        bad = {f: i.get("support") for f, i in entry["features"].items() if i.get("support", "full") != "full"}
        (failed if entry.get("error") or bad or not entry["features"] else passed).append(name)
    print(f"caldav-server-tester, {len(names)} checks in {time.monotonic() - started:.0f}s: "
          f"{len(passed)} pass, {len(failed)} do not")
    print("  pass: " + " ".join(passed))
    for name in failed:
        entry = report["checks"][name]
        bad = sorted(f"{f}={i.get('support')}" for f, i in entry["features"].items() if i.get("support", "full") != "full")
        notes = ([entry["error"][:160]] if entry.get("error") else []) + bad[:6]
        if not entry["features"] and not entry.get("error"):
            notes = ["set none of its features (a check it depends on could not run)"]
        print(f"  FAIL {name}: " + "; ".join(notes) + (f" (+{len(bad) - 6} more)" if len(bad) > 6 else ""))
    path = ctx.args.tester_report
    if ctx.args.update_tester_report or not os.path.exists(path):
        with open(path, "w") as out:
            json.dump(report, out, indent=2, sort_keys=True)
            out.write("\n")
        print(f"wrote {path}")
        return
    with open(path) as saved_file:
        saved = json.load(saved_file)
    worse, better = [], []
    for name, before in saved["checks"].items():
        now = report["checks"].get(name, {"error": "no longer run", "features": {}})
        if not before.get("error") and now.get("error"):
            worse.append(f"{name}: ran before, now {now['error'][:200]}")
        for feature, info in before["features"].items():
            if "support" not in info:
                continue  # a value found (like get-current-user-principal.has-calendar), not a support level
            was, is_ = info["support"], now["features"].get(feature, {}).get("support", "not checked")
            if was == "full" and is_ != "full":
                worse.append(f"{name}: {feature}: full -> {is_}")
            elif was != "full" and is_ == "full":
                better.append(f"{name}: {feature}: {was} -> full")
    if better:
        print("now full (regenerate server-tester.json with CALDAV_TESTER_UPDATE=1):")
        for line in better:
            print(f"  {line}")
    assert not worse, "worse than tests/caldav/server-tester.json:\n  " + "\n  ".join(worse)
    print(f"no feature worse than in {path}")


def version(package):
    from importlib.metadata import version as installed
    return installed(package)


# ---------------------------------------------------------------- main

class Context:
    def __init__(self, args, data_dir, server):
        self.args, self.server = args, server
        self.alice = Api(server, token(args, data_dir, "alice"))
        self.bob = Api(server, token(args, data_dir, "bob"))
        self.carol = Api(server, token(args, data_dir, "carol"))
        for api in (self.alice, self.bob, self.carol):
            api.call("GET", "/api/users/me")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--parts", default=",".join(PARTS), help="read,write,tester")
    parser.add_argument("--tester-report", default=os.path.join(os.path.dirname(__file__), "server-tester.json"))
    parser.add_argument("--update-tester-report", action="store_true")
    parser.add_argument("--tester-timeout", type=float, default=300, help="per check")
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    assert parts and all(p in PARTS for p in parts), f"--parts: {args.parts}"
    failed = []
    with tempfile.TemporaryDirectory() as data_dir:
        server = Server(args, data_dir).start()
        try:
            ctx = Context(args, data_dir, server)
            for part in PARTS:
                if part not in parts:
                    continue
                print(f"## {part}", flush=True)
                try:
                    globals()[f"{part}_part"](ctx)
                except Exception as err:  # noqa: BLE001 - every part runs; the run fails at the end
                    import traceback
                    traceback.print_exc()
                    failed.append(f"{part}: {err}")
        finally:
            server.stop()
    if failed:
        print("caldav black-box: FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    print(f"caldav black-box ({', '.join(parts)}): OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
