#!/usr/bin/env python3
"""Black-box test of Taskflow's MCP server, driven by the PyPI `mcp` client (2.3.0).

Two legs share one database: stdio (`taskflow mcp --user USER --toolsets all`, spawned here
with the caller's TASKFLOW_DATA_DIR) and Streamable HTTP (a running
`taskflow serve`, bearer token from $TASKFLOW_MCP_TOKEN). On each leg:

  * tools/list: every expected tool, each with annotations and an outputSchema;
  * add a weekly task (due date-time + explicit IANA zone), find it with
    list_tasks, complete it, and wait for the worker to create the next
    occurrence (previous_id = the first id, due exactly 7 days later);
  * error results: get_task on a missing id, add_task with an unknown field;
  * prompts/list and prompts/get plan_my_day;
  * a change the user must confirm (leaving a list): the client's elicitation
    callback is asked, "no" changes nothing, "yes" runs the tool;
  * subscribe to taskflow://activity on this leg, add a task through the OTHER
    transport, and expect notifications/resources/updated within 5 s.

Usually started by mcp/tests/run. Exits non-zero on any failure and ends with
the line "mcp blackbox: N passed, M failed".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import traceback
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx2
import mcp_types as types
from mcp import Client, MCPDeprecationWarning, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

EXPECTED_TOOLS = {
    "add_task",
    "list_tasks",
    "get_task",
    "update_task",
    "complete_task",
    "reopen_task",
    "delete_task",
    "snooze_task",
    "list_notifications",
    "recent_activity",
    "move_task",
    "list_lists",
    "manage_list",
    "link_tasks",
    "list_members",
    "add_comment",
    "share_list",
    "list_invitations",
    "answer_invitation",
    "manage_member",
    "transfer_list",
}
EXPECTED_PROMPTS = {"plan_my_day", "weekly_review", "triage_overdue", "capture_tasks"}
ACTIVITY_URI = "taskflow://activity"
ZONE = "Europe/Berlin"

REQUEST_TIMEOUT = 20.0  # one MCP request
CHECK_TIMEOUT = 45.0  # one check, several requests
RECURRENCE_DEADLINE = 30.0  # the worker creating the next occurrence
NOTIFY_DEADLINE = 5.0  # resources/updated after a change on the other transport
POLL_INTERVAL = 0.2


class CheckFailed(Exception):
    """A check's expectation was not met; the message says what and why."""


def require(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def describe(error: BaseException) -> str:
    """An exception as text; a task group's ExceptionGroup as its leaf exceptions."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    if isinstance(error, MCPError):
        return f"JSON-RPC error {error.code}: {error.error.message}"
    return f"{type(error).__name__}: {error}"


def short(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + " …"


# ---------------------------------------------------------------- tool results


def result_text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
    return await client.call_tool(tool, arguments, read_timeout_seconds=REQUEST_TIMEOUT)


async def call_ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content (an object)."""
    result = await call(client, tool, arguments)
    require(
        not result.is_error,
        f"{tool}({short(arguments)}) returned isError: {short(result_text(result))}",
    )
    content = result.structured_content
    require(
        isinstance(content, dict),
        f"{tool} returned no structured object (structuredContent={short(content)})",
    )
    return content


def task_in(content: dict[str, Any], tool: str) -> dict[str, Any]:
    """The task object of a tool result: the result itself, or its `task` member."""
    if "id" in content and "title" in content:
        return content
    task = content.get("task")
    require(
        isinstance(task, dict) and "id" in task,
        f"{tool} result holds no task object (neither top level nor `task`): {short(content)}",
    )
    return task


async def find_tasks(client: Client, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """All tasks list_tasks returns for `arguments`, following next_cursor."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        page = await call_ok(client, "list_tasks", {**arguments, **({"cursor": cursor} if cursor else {})})
        tasks = page.get("tasks")
        require(isinstance(tasks, list), f"list_tasks result has no `tasks` array: {short(page)}")
        found.extend(task for task in tasks if isinstance(task, dict))
        cursor = page.get("next_cursor")
        if not cursor:
            return found
    raise CheckFailed("list_tasks kept returning a next_cursor after 50 pages")


def local_due(due: Any, zone: str) -> dt.date | dt.datetime:
    """A task's due as a date, or as a naive wall-clock date-time in `zone`."""
    if isinstance(due, dict):  # tolerate {"local": ...}-style objects
        due = next((due[k] for k in ("local", "date_time", "datetime", "at", "date", "value") if k in due), due)
    require(isinstance(due, str), f"due is not a string: {short(due)}")
    if len(due) == 10:
        return dt.date.fromisoformat(due)
    try:
        moment = dt.datetime.fromisoformat(due.replace("Z", "+00:00"))
    except ValueError as error:
        raise CheckFailed(f"due {due!r} is not ISO 8601: {error}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return moment.replace(second=0, microsecond=0)


# ---------------------------------------------------------------- connections


@dataclass
class Leg:
    name: str
    client: Client
    user: str
    updates: list[str] = field(default_factory=list)  # URIs of legacy resources/updated notifications
    changed: anyio.Event = field(default_factory=anyio.Event)
    answers: list[bool] = field(default_factory=list)  # what the user answers to the next questions
    asked: list[str] = field(default_factory=list)  # the questions the server put to the user

    def note_update(self, uri: str) -> None:
        self.updates.append(uri)
        self.changed.set()

    async def wait_for_update(self, uri: str) -> None:
        while uri not in self.updates:
            self.changed = anyio.Event()
            await self.changed.wait()

    @property
    def modern(self) -> bool:
        return self.client.protocol_version in MODERN_PROTOCOL_VERSIONS


def message_handler_for(box: list[Leg]) -> Callable[[Any], Awaitable[None]]:
    async def handle(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification) and box:
            box[0].note_update(str(message.params.uri))
        elif isinstance(message, Exception):
            print(f"  ({box[0].name if box else '?'}: transport reported {message!r})", file=sys.stderr)

    return handle


def elicitation_for(box: list[Leg]) -> Callable[..., Awaitable[types.ElicitResult]]:
    """The user behind the client: answers each form question with the leg's next answer."""

    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        leg = box[0]
        leg.asked.append(params.message)
        if not isinstance(params, types.ElicitRequestFormParams) or not leg.answers:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"confirm": leg.answers.pop(0)})

    return answer


@asynccontextmanager
async def open_leg(name: str, args: argparse.Namespace) -> AsyncIterator[Leg]:
    box: list[Leg] = []
    async with AsyncExitStack() as stack:
        if name == "stdio":
            env = {k: v for k, v in os.environ.items() if k.startswith(("TASKFLOW_", "RUST_"))}
            env.pop("TASKFLOW_MCP_TOKEN", None)
            server: Any = StdioServerParameters(command=args.bin, args=["mcp", "--user", args.user, "--toolsets", "all"], env=env)
            mode = args.stdio_mode
        else:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    headers={"Authorization": f"Bearer {args.token}"},
                    timeout=httpx2.Timeout(30.0, read=300.0),
                )
            )
            server = streamable_http_client(args.url, http_client=http)
            mode = args.http_mode
        client = Client(
            server,
            mode=mode,
            cache=None,  # every read goes to the server
            read_timeout_seconds=REQUEST_TIMEOUT,
            message_handler=message_handler_for(box),
            elicitation_callback=elicitation_for(box),
        )
        # No anyio.fail_after here: the client keeps task groups open past this line, and a
        # cancel scope must not outlive them. The handshake is bounded by read_timeout_seconds.
        await stack.enter_async_context(client)
        leg = Leg(name, client, args.user)
        box.append(leg)
        info = client.server_info
        print(
            f"{name}: connected, protocol {client.protocol_version}, mode {mode}, "
            f"server {info.name + ' ' + info.version if info else '(anonymous)'}"
        )
        yield leg


# ---------------------------------------------------------------- checks


@dataclass
class State:
    """What earlier checks of a leg found, for the checks that build on it."""

    first: dict[str, Any] | None = None
    completed: dict[str, Any] | None = None


async def check_capabilities(leg: Leg, other: Leg, state: State) -> str:
    caps = leg.client.server_capabilities
    missing = [
        what
        for what, ok in (
            ("tools", caps.tools is not None),
            ("prompts", caps.prompts is not None),
            ("resources.subscribe", caps.resources is not None and caps.resources.subscribe),
            ("completions", caps.completions is not None),
        )
        if not ok
    ]
    require(not missing, f"server does not declare {', '.join(missing)}: {short(caps.model_dump(exclude_none=True))}")
    return f"logging {'declared' if caps.logging is not None else 'not declared'}"


async def check_tools(leg: Leg, other: Leg, state: State) -> str:
    tools: list[types.Tool] = []
    cursor = None
    for _ in range(20):
        page = await leg.client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    by_name = {tool.name: tool for tool in tools}
    problems = [f"missing tool {name}" for name in sorted(EXPECTED_TOOLS - by_name.keys())]
    for name in sorted(EXPECTED_TOOLS & by_name.keys()):
        tool = by_name[name]
        if tool.annotations is None:
            problems.append(f"{name} has no annotations")
        if not tool.output_schema:
            problems.append(f"{name} has no outputSchema")
        if not tool.description:
            problems.append(f"{name} has no description")
    require(not problems, "; ".join(problems))
    extra = sorted(by_name.keys() - EXPECTED_TOOLS)
    return f"{len(tools)} tools" + (f" (also {', '.join(extra)})" if extra else "")


async def check_add_weekly(leg: Leg, other: Leg, state: State) -> str:
    title = f"blackbox {leg.name} weekly {uuid.uuid4().hex[:10]}"
    day = dt.date.today() + dt.timedelta(days=14)
    due = f"{day.isoformat()}T09:30"
    arguments = {
        "title": title,
        "description": "created by mcp/tests/blackbox.py",
        "priority": "medium",
        "tags": ["blackbox"],
        "due": due,
        "timezone": ZONE,
        "recurrence": "FREQ=WEEKLY",
        "reminder": {"minutes_before": 15},
        "idempotency_key": str(uuid.uuid4()),
    }
    task = task_in(await call_ok(leg.client, "add_task", arguments), "add_task")
    require(task.get("title") == title, f"add_task echoed title {task.get('title')!r}, sent {title!r}")
    require(task.get("completed") is False, f"a new task has completed={task.get('completed')!r}")
    require(task.get("timezone") == ZONE, f"add_task echoed timezone {task.get('timezone')!r}, sent {ZONE!r}")
    require(
        "WEEKLY" in str(task.get("recurrence", "")).upper(),
        f"add_task echoed recurrence {task.get('recurrence')!r}, sent 'FREQ=WEEKLY'",
    )
    got = local_due(task.get("due"), ZONE)
    want = dt.datetime.fromisoformat(due)
    require(got == want, f"add_task echoed due {task.get('due')!r} (= {got} in {ZONE}), sent {due!r}")
    state.first = task
    return f"task {task['id']} due {task['due']} {ZONE}"


async def check_list(leg: Leg, other: Leg, state: State) -> str:
    require(state.first is not None, "skipped: add_task failed")
    assert state.first is not None
    tasks = await find_tasks(leg.client, {"q": state.first["title"]})
    ids = [task.get("id") for task in tasks]
    require(
        state.first["id"] in ids,
        f"list_tasks q={state.first['title']!r} did not return task {state.first['id']} (got ids {ids})",
    )
    return f"found among {len(tasks)}"


async def check_complete(leg: Leg, other: Leg, state: State) -> str:
    require(state.first is not None, "skipped: add_task failed")
    assert state.first is not None
    content = await call_ok(leg.client, "complete_task", {"id": state.first["id"]})
    task = task_in(content, "complete_task")
    require(
        task.get("id") == state.first["id"], f"complete_task returned task {task.get('id')}, not {state.first['id']}"
    )
    require(task.get("completed") is True, f"complete_task returned completed={task.get('completed')!r}")
    state.completed = content
    return f"next_occurrence in result: {'yes' if content.get('next_occurrence') else 'not yet'}"


async def check_next_occurrence(leg: Leg, other: Leg, state: State) -> str:
    require(state.first is not None and state.completed is not None, "skipped: add or complete failed")
    assert state.first is not None and state.completed is not None
    first = state.first
    nxt = state.completed.get("next_occurrence")
    polls = 0
    with anyio.move_on_after(RECURRENCE_DEADLINE):
        while not (isinstance(nxt, dict) and nxt.get("previous_id") == first["id"]):
            polls += 1
            matches = [
                t for t in await find_tasks(leg.client, {"q": first["title"]}) if t.get("previous_id") == first["id"]
            ]
            if matches:
                require(len(matches) == 1, f"{len(matches)} tasks have previous_id {first['id']}: {short(matches)}")
                nxt = matches[0]
                break
            await anyio.sleep(POLL_INTERVAL)
    require(
        isinstance(nxt, dict) and nxt.get("previous_id") == first["id"],
        f"no task with previous_id {first['id']} appeared within {RECURRENCE_DEADLINE:.0f} s "
        f"({polls} polls of list_tasks q={first['title']!r}); is the recurrence worker running in this process?",
    )
    assert isinstance(nxt, dict)
    require(nxt.get("id") != first["id"], "the next occurrence has the first occurrence's id")
    require(nxt.get("completed") is False, f"next occurrence has completed={nxt.get('completed')!r}")
    require(nxt.get("title") == first["title"], f"next occurrence has title {nxt.get('title')!r}")
    if first.get("series_id") is not None:
        require(
            nxt.get("series_id") == first["series_id"],
            f"next occurrence has series_id {nxt.get('series_id')!r}, first has {first['series_id']!r}",
        )
    zone = nxt.get("timezone") or ZONE
    require(zone == ZONE, f"next occurrence has timezone {zone!r}, the series has {ZONE!r}")
    want = local_due(first["due"], ZONE) + dt.timedelta(days=7)
    got = local_due(nxt.get("due"), zone)
    require(
        got == want,
        f"next occurrence is due {nxt.get('due')!r} (= {got} in {zone}); "
        f"expected {want} (7 days after {first['due']!r})",
    )

    again = task_in(await call_ok(leg.client, "get_task", {"id": first["id"]}), "get_task")
    require(
        again.get("completed") is True, f"get_task {first['id']} after completing: completed={again.get('completed')!r}"
    )

    resource = await leg.client.read_resource(f"taskflow://tasks/{nxt['id']}")
    text = "\n".join(c.text for c in resource.contents if isinstance(c, types.TextResourceContents))
    require(first["title"] in text, f"taskflow://tasks/{nxt['id']} does not mention the title: {short(text)}")
    return f"task {nxt['id']} due {nxt.get('due')} after {polls} polls"


async def check_errors(leg: Leg, other: Leg, state: State) -> str:
    known = state.first["id"] if state.first else 1
    missing: Any = 999999 if not isinstance(known, str) else str(uuid.uuid4())
    result = await call(leg.client, "get_task", {"id": missing})
    text = result_text(result)
    require(result.is_error, f"get_task id={missing!r} did not return isError: {short(text)}")
    require(
        str(missing) in text
        or any(w in text.lower() for w in ("not found", "no task", "does not exist", "unknown task")),
        f"get_task id={missing!r}: the error does not name the id or say 'not found': {short(text)}",
    )
    result = await call(leg.client, "add_task", {"title": "blackbox unknown field", "bogus_field": 1})
    text = result_text(result)
    require(result.is_error, f"add_task with an unknown field did not return isError: {short(text)}")
    require(
        "bogus_field" in text or "unknown field" in text.lower(),
        f"add_task with an unknown field: the error does not name `bogus_field`: {short(text)}",
    )
    return "both isError with a helpful message"


async def check_prompts(leg: Leg, other: Leg, state: State) -> str:
    listed = await leg.client.list_prompts()
    names = {prompt.name for prompt in listed.prompts}
    require(names >= EXPECTED_PROMPTS, f"missing prompts {sorted(EXPECTED_PROMPTS - names)} (listed {sorted(names)})")
    focus = f"focus-{uuid.uuid4().hex[:8]}"
    prompt = await leg.client.get_prompt("plan_my_day", {"focus": focus, "timezone": ZONE})
    require(prompt.messages, "plan_my_day returned no messages")
    text = "\n".join(m.content.text for m in prompt.messages if isinstance(m.content, types.TextContent))
    require(focus in text, f"plan_my_day did not fill in the focus argument: {short(text)}")
    return f"{len(names)} prompts; plan_my_day has {len(prompt.messages)} message(s)"


async def check_confirmation(leg: Leg, other: Leg, state: State) -> str:
    title = f"blackbox {leg.name} shared {uuid.uuid4().hex[:10]}"
    made = await call_ok(leg.client, "manage_list", {"action": "create", "title": title})
    leave = {"list_id": made["id"], "user": leg.user, "action": "remove"}
    leg.asked.clear()
    leg.answers[:] = [False]
    refused = await call(leg.client, "manage_member", leave)
    require(len(leg.asked) == 1, f"the user was asked {len(leg.asked)} question(s), not one: {leg.asked}")
    require(title in leg.asked[0], f"the question does not name the list: {leg.asked[0]!r}")
    require(
        refused.is_error and "did not confirm" in result_text(refused),
        f"a 'no' did not stop manage_member: {short(result_text(refused))}",
    )
    leg.answers[:] = [True]
    ran = await call(leg.client, "manage_member", leave)
    require(len(leg.asked) == 2, f"the second call asked {len(leg.asked) - 1} question(s), not one")
    require(
        ran.is_error and "owner_cannot_leave" in result_text(ran),
        f"after a 'yes' the tool did not run (the owner leaving is refused by the store): {short(result_text(ran))}",
    )
    return f"asked {leg.asked[0]!r}; no stopped it, yes ran it"


async def add_on_other(other: Leg, tag: str) -> dict[str, Any]:
    title = f"blackbox {tag} via {other.name} {uuid.uuid4().hex[:10]}"
    return task_in(await call_ok(other.client, "add_task", {"title": title}), "add_task")


async def check_activity_subscription(leg: Leg, other: Leg, state: State) -> str:
    require(other is not leg, "skipped: needs both legs")
    client = leg.client
    if leg.modern:
        # 2026-07-28 has no resources/subscribe: subscriptions/listen instead.
        async with client.listen(resource_subscriptions=[ACTIVITY_URI]) as subscription:
            honored = subscription.honored.resource_subscriptions or []
            require(ACTIVITY_URI in honored, f"subscriptions/listen did not honor {ACTIVITY_URI} (honored {honored})")
            task = await add_on_other(other, leg.name)
            got = None
            with anyio.move_on_after(NOTIFY_DEADLINE):
                async for event in subscription:
                    if isinstance(event, ResourceUpdated) and event.uri == ACTIVITY_URI:
                        got = event
                        break
            require(
                got,
                f"no resources/updated for {ACTIVITY_URI} on the listen stream within {NOTIFY_DEADLINE:.0f} s "
                f"after add_task via {other.name}",
            )
        how = "subscriptions/listen"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.subscribe_resource(ACTIVITY_URI)
        try:
            leg.updates.clear()
            task = await add_on_other(other, leg.name)
            with anyio.move_on_after(NOTIFY_DEADLINE):
                await leg.wait_for_update(ACTIVITY_URI)
            require(
                ACTIVITY_URI in leg.updates,
                f"no notifications/resources/updated for {ACTIVITY_URI} within {NOTIFY_DEADLINE:.0f} s after add_task "
                f"via {other.name} (got {leg.updates or 'none'})",
            )
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await client.unsubscribe_resource(ACTIVITY_URI)
        how = "resources/subscribe"
    # The notification should be about this change: the activity now shows the new task.
    resource = await client.read_resource(ACTIVITY_URI)
    text = "\n".join(c.text for c in resource.contents if isinstance(c, types.TextResourceContents))
    require(
        str(task["id"]) in text or task["title"] in text,
        f"{ACTIVITY_URI} read after the notification does not mention task {task['id']}: {short(text)}",
    )
    return f"{how}; updated after add_task via {other.name}"


CHECKS: list[tuple[str, Callable[[Leg, Leg, State], Awaitable[str]]]] = [
    ("capabilities", check_capabilities),
    ("tools/list", check_tools),
    ("add_task weekly", check_add_weekly),
    ("list_tasks", check_list),
    ("complete_task", check_complete),
    ("next occurrence", check_next_occurrence),
    ("error results", check_errors),
    ("prompts", check_prompts),
    ("confirmation", check_confirmation),
    ("activity subscription", check_activity_subscription),
]


# ---------------------------------------------------------------- driver


@dataclass
class Tally:
    passed: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, label: str, message: str) -> None:
        self.failures.append(f"{label}: {message}")
        print(f"FAIL {label}: {message}")


async def run_checks(legs: list[Leg], tally: Tally) -> None:
    for index, leg in enumerate(legs):
        other = legs[(index + 1) % len(legs)]
        state = State()
        print(f"\n== {leg.name} leg ({leg.client.protocol_version})")
        for name, check in CHECKS:
            label = f"[{leg.name}] {name}"
            try:
                with anyio.fail_after(CHECK_TIMEOUT):
                    detail = await check(leg, other, state)
            except CheckFailed as error:
                tally.fail(label, str(error))
            except TimeoutError:
                tally.fail(label, f"timed out after {CHECK_TIMEOUT:.0f} s")
            except MCPError as error:
                tally.fail(label, describe(error))
            except Exception as error:  # a client-side failure is a failed check too
                traceback.print_exc()
                tally.fail(label, describe(error))
            else:
                tally.passed += 1
                print(f"ok   {label}: {detail}")


async def main(args: argparse.Namespace) -> int:
    tally = Tally()
    try:
        async with AsyncExitStack() as stack:
            legs = []
            for name in args.legs:
                try:
                    legs.append(await stack.enter_async_context(open_leg(name, args)))
                except Exception as error:
                    traceback.print_exc()
                    tally.fail(f"[{name}] connect", describe(error))
                    break
            else:
                await run_checks(legs, tally)
    except Exception as error:  # e.g. a server that died under a connection
        traceback.print_exc()
        tally.fail("connections", describe(error))
    print()
    for failure in tally.failures:
        print(f"FAILED {failure}")
    print(f"mcp blackbox: {tally.passed} passed, {len(tally.failures)} failed")
    return 1 if tally.failures else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="target/debug/taskflow", help="taskflow binary for the stdio leg")
    parser.add_argument("--user", default="local", help="user of the stdio leg (the token's user on HTTP)")
    parser.add_argument("--url", help="Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp")
    parser.add_argument("--legs", default="stdio,http", help="comma-separated: stdio, http (default both)")
    parser.add_argument(
        "--stdio-mode", default="auto", help="Client mode on stdio: auto (2026-07-28 if offered) or legacy"
    )
    parser.add_argument(
        "--http-mode", default="legacy", help="Client mode on HTTP: legacy (initialize + session) or auto"
    )
    args = parser.parse_args()
    args.legs = [leg.strip() for leg in args.legs.split(",") if leg.strip()]
    unknown = set(args.legs) - {"stdio", "http"}
    if unknown or not args.legs:
        parser.error(f"--legs takes stdio and/or http, not {sorted(unknown) or 'nothing'}")
    args.token = os.environ.get("TASKFLOW_MCP_TOKEN", "")
    if "http" in args.legs and not (args.url and args.token):
        parser.error("the http leg needs --url and the bearer token in $TASKFLOW_MCP_TOKEN")
    if "stdio" in args.legs and not os.environ.get("TASKFLOW_DATA_DIR"):
        parser.error("the stdio leg needs $TASKFLOW_DATA_DIR (the data dir of the running serve)")
    return args


if __name__ == "__main__":
    sys.exit(anyio.run(main, parse_args()))
