#!/usr/bin/env python3
"""The whole OAuth flow of the PyPI `mcp` client (2.3.0) against a running `taskflow serve`.

The client's own `OAuthClientProvider` does what a remote MCP client does: it meets /mcp's
401, discovers the protected-resource and authorization-server metadata, registers itself,
sends the person to the authorization endpoint with PKCE, exchanges the code, and refreshes.
The person is played here: `redirect_handler` loads the consent page (the dashboard), then
approves through the page's own call (`POST /api/oauth/authorize` with the person's token,
`$TASKFLOW_PERSON_TOKEN`) and hands the redirect's code, state and issuer to the client.

Checks: tool calls with the approved scopes; a refresh (forced by marking the access token
expired in the client) yields a new refresh token and working calls; a person who allows only
`tasks:read` (unticking the rest on the consent screen) gives a token that lists only reading tools and a write is a tool error naming `tasks:write`; after revocation
(RFC 7009) the access token gets 401. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

REDIRECT = "http://127.0.0.1:33418/callback"


class Memory:
    """Token storage in memory (a TokenStorage)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.history: list[OAuthToken] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.history.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Person:
    """Approves on the consent screen, as the dashboard page does."""

    def __init__(self, base: str, token: str, grant: str | None = None) -> None:
        self.base = base
        self.token = token
        self.grant = grant
        self.redirect: dict[str, str] = {}
        self.consents = 0

    async def redirect_handler(self, url: str) -> None:
        async with httpx2.AsyncClient(timeout=30) as http:
            page = await http.get(url)
            assert page.status_code == 200 and "<html" in page.text, f"consent page: {page.status_code}"
            params = dict(parse_qsl(urlsplit(url).query))
            headers = {"Authorization": f"Bearer {self.token}"}
            shown = await http.get(f"{self.base}/api/oauth/authorize", params=params, headers=headers)
            assert shown.status_code == 200, f"consent screen: {shown.status_code} {shown.text}"
            assert shown.json()["client_name"] == "Taskflow OAuth test", shown.text
            decision: dict[str, Any] = {**params, "approve": True}
            if self.grant is not None:
                decision["granted"] = self.grant
            answer = await http.post(f"{self.base}/api/oauth/authorize", json=decision, headers=headers)
            assert answer.status_code == 200, f"approval: {answer.status_code} {answer.text}"
        to = answer.json()["redirect_to"]
        assert to.startswith(REDIRECT), to
        self.redirect = dict(parse_qsl(urlsplit(to).query))
        self.consents += 1

    async def callback_handler(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(
            code=self.redirect["code"], state=self.redirect.get("state"), iss=self.redirect.get("iss")
        )


def provider(url: str, person: Person, storage: Memory) -> OAuthClientProvider:
    """The client; it asks for the scopes /mcp's challenge names (the MCP scope selection)."""
    return OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(client_name="Taskflow OAuth test", redirect_uris=[REDIRECT]),
        storage=storage,
        redirect_handler=person.redirect_handler,
        callback_handler=person.callback_handler,
    )


async def session(url: str, auth: OAuthClientProvider, work: Any) -> Any:
    async with httpx2.AsyncClient(auth=auth, timeout=httpx2.Timeout(30.0, read=120.0)) as http:
        async with Client(streamable_http_client(url, http_client=http), cache=None) as client:
            return await work(client)


async def tool_names(client: Client) -> set[str]:
    names: set[str] = set()
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor)
        names |= {t.name for t in page.tools}
        cursor = page.next_cursor
        if not cursor:
            return names


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--person-token", required=True)
    args = parser.parse_args()
    url = f"{args.base}/mcp?toolsets=all"
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    # A writing grant: discovery, registration, consent, code + PKCE, tokens, calls.
    person = Person(args.base, args.person_token)
    storage = Memory()
    auth = provider(url, person, storage)

    async def add_and_list(client: Client) -> tuple[set[str], Any, Any]:
        names = await tool_names(client)
        added = await client.call_tool("add_task", {"title": "Added over OAuth"})
        listed = await client.call_tool("list_tasks", {"q": "Added over OAuth"})
        return names, added, listed

    names, added, listed = await session(url, auth, add_and_list)
    check(person.consents == 1, "the person was asked once")
    check(storage.client is not None and storage.client.client_id.startswith("tfc_"), "the client registered")
    check(
        storage.tokens is not None and storage.tokens.scope == "tasks:read tasks:write lists:write comments:write",
        "tokens with every scope the challenge named, all approved",
    )
    check({"add_task", "manage_list", "add_comment"} <= names, "every tool is offered")
    check(not added.is_error, "add_task works")
    check("Added over OAuth" in text_of(listed), "the task is the person's")

    # A refresh: the client believes its access token expired and refreshes it.
    first_refresh = storage.tokens.refresh_token if storage.tokens else None
    auth.context.token_expiry_time = 1.0  # the epoch: expired
    names = await session(url, auth, tool_names)
    check(person.consents == 1, "a refresh asks nobody")
    check(
        storage.tokens is not None and storage.tokens.refresh_token not in (None, first_refresh),
        "the refresh token rotated",
    )
    check("add_task" in names, "calls work after the refresh")

    # Revocation: the refresh token's grant ends, and its access token with it.
    assert storage.tokens is not None and storage.client is not None
    async with httpx2.AsyncClient(timeout=30) as http:
        revoked = await http.post(
            f"{args.base}/oauth/revoke",
            data={"token": storage.tokens.refresh_token, "client_id": storage.client.client_id},
        )
        check(revoked.status_code == 200, "revocation answers 200")
        probe = await http.post(
            url,
            headers={
                "Authorization": f"Bearer {storage.tokens.access_token}",
                "Accept": "application/json, text/event-stream",
            },
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        )
        check(probe.status_code == 401, f"the revoked access token gets 401 (got {probe.status_code})")

    # The person allows reading only: only reading tools, and a write names the missing scope.
    reader = Person(args.base, args.person_token, grant="tasks:read")
    auth = provider(url, reader, Memory())

    async def try_to_write(client: Client) -> tuple[set[str], Any]:
        return await tool_names(client), await client.call_tool("add_task", {"title": "not allowed"})

    names, refused = await session(url, auth, try_to_write)
    check("list_tasks" in names and "add_task" not in names, "a tasks:read grant lists only reading tools")
    check(bool(refused.is_error) and "tasks:write" in text_of(refused), "a write names the missing scope")

    print(f"mcp oauth: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
