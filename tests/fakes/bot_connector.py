"""A fake Bot Connector service (the activity's ``serviceUrl``) on 127.0.0.1.

It records what botbuilder's ConnectorClient sends: POST /v3/conversations
(create a 1:1 chat) and POST /v3/conversations/{id}/activities[/{replyTo}]
(send a message, or reply in a thread). Tests script failures: a status to
answer the next calls with (429 with Retry-After, 500), and people who have not
installed the app personally (403 on create, as Teams answers).

Several clients (bot replicas) can be told apart by the outbound token they
present, and one of them cut off (``fake.black_hole(token)``): its requests are
then never answered nor recorded, as if they never reached Teams; what they
carried is kept in ``swallowed_calls`` so that a test can say whose work was stuck.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

FIXED_TOKEN = "fake-outbound-token"


@dataclass
class Call:
    """One request the connector received."""

    method: str
    path: str
    authorization: str
    body: Any
    at: float = field(default_factory=time.monotonic)  # when it arrived (for benchmarks)


@dataclass
class FakeBotConnector:
    """An aiohttp app on the test's loop; ``calls`` is what it received, in order."""

    calls: list[Call] = field(default_factory=list)
    not_installed: set[str] = field(default_factory=set)  # AAD ids: 403 on create
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0
    sent: asyncio.Event | None = None
    # Outbound tokens whose requests fall into the hole, and what fell in so far.
    holes: set[str] = field(default_factory=set)
    swallowed_calls: list[Call] = field(default_factory=list)
    _changed: asyncio.Condition | None = None
    # Set at stop(), so that requests held in the hole end and the server can close.
    _released: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def fail_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` calls with ``status``."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.extend([(status, headers)] * times)

    def black_hole(self, token: str) -> None:
        """From now on, never answer (nor record) requests bearing ``token``."""
        self.holes.add(token)

    @property
    def swallowed(self) -> int:
        """How many requests have fallen into a black hole."""
        return len(self.swallowed_calls)

    async def wait_swallowed(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` requests have fallen into a black hole."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.swallowed >= count), timeout)

    def created(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/v3/conversations"]

    def activities(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/activities")]

    def replies(self) -> list[Call]:
        return [c for c in self.calls if "/activities/" in c.path]

    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards sent in 1:1 messages, in order."""
        out = []
        for c in self.activities():
            for a in c.body.get("attachments") or []:
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    out.append(a["content"])
        return out

    async def start(self) -> FakeBotConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{id}/activities", self._send)
        app.router.add_post("/v3/conversations/{id}/activities/{reply}", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.sent = asyncio.Event()
        self._changed = asyncio.Condition()
        self._released = asyncio.Event()
        return self

    async def stop(self) -> None:
        if self._released is not None:
            self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, request: web.Request) -> tuple[Call, web.Response | None]:
        body = await request.json()
        call = Call(request.method, request.path, request.headers.get("Authorization", ""), body)
        if call.authorization.removeprefix("Bearer ") in self.holes:
            assert self._changed is not None and self._released is not None
            async with self._changed:
                self.swallowed_calls.append(call)
                self._changed.notify_all()
            await self._released.wait()
            # Only at stop(): the caller is long gone.
            return call, web.Response(status=503)
        self.calls.append(call)
        if self.failures:
            status, headers = self.failures.pop(0)
            return call, web.json_response(
                {"error": {"code": "Scripted", "message": "scripted failure"}},
                status=status,
                headers=headers,
            )
        return call, None

    async def _create(self, request: web.Request) -> web.Response:
        call, failure = await self._record(request)
        if failure is not None:
            return failure
        members = call.body.get("members") or [{}]
        aad = members[0].get("aadObjectId") or ""
        if aad in self.not_installed:
            return web.json_response(
                {"error": {"code": "Forbidden", "message": "app not installed for user"}},
                status=403,
            )
        return web.json_response({"id": f"a:personal-{aad}", "activityId": None}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        _, failure = await self._record(request)
        if failure is not None:
            return failure
        assert self.sent is not None
        self.sent.set()
        return web.json_response({"id": f"act-{next(self._ids)}"}, status=201)


class FixedTokenCredentials(AppCredentials):
    """Outbound credentials that always present the same token (MSAL needs https)."""

    def __init__(self, app_id: str, token: str = FIXED_TOKEN):
        super().__init__(app_id=app_id)
        self.token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self.token


class FixedTokenFactory(ServiceClientCredentialsFactory):
    """Credentials for one app id, each with the fixed token. Inbound checks are untouched."""

    def __init__(self, app_id: str, token: str = FIXED_TOKEN):
        self.app_id = app_id
        self.token = token

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self.app_id:
            return FixedTokenCredentials("")  # no app id: botbuilder sends no token at all
        if app_id != self.app_id:
            raise PermissionError("unknown app id")
        return FixedTokenCredentials(app_id, self.token)
