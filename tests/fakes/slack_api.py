"""A fake Slack Web API on 127.0.0.1 that records every call and checks it against Slack's spec.

The real ``slack_sdk`` client talks to it (``base_url=fake.url``). Each call is
checked against ``web-api-openapi-v2.json``: the method must exist, every argument
must be a declared parameter, and the required ones must be there. Tests can make
a method answer 429 (with Retry-After) or 500 the next N times.

Several clients can be told apart by base URL (``fake.url_for("r2")``), and one of
them can be cut off (``fake.black_hole("r2")``): its requests are then never
answered, recorded or delivered, as if they never reached Slack. ``fake.hold()``
keeps every answer back (the calls are recorded: Slack got them) until ``release()``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

SPEC = Path(__file__).resolve().parents[3] / "shared/schemas/slack/web-api-openapi-v2.json"
# Slack requires these although the 2020 spec does not say so (see the schemas README).
EXTRA_REQUIRED = {"chat.delete": {"channel", "ts"}}
# Newer than the spec: bolt's per-request client adds the workspace id (org-wide apps).
NEWER_ARGS = {"auth.test": {"team_id"}}
BOT_USER, BOT_ID, TEAM = "UDISCRETION", "BDISCRETION", "T111"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


class FakeSlackApi:
    """Start with ``await fake.start()``; read ``fake.calls``; stop with ``await fake.stop()``."""

    def __init__(self, spec_path: Path = SPEC):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        self.params: dict[str, dict[str, bool]] = {}
        for path, ops in spec["paths"].items():
            declared: dict[str, bool] = {}
            for op in ops.values():
                for p in op.get("parameters", []):
                    declared[p["name"]] = declared.get(p["name"], False) or p.get("required", False)
            self.params[path.lstrip("/")] = declared
        self.calls: list[Call] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.violations: list[str] = []
        self.failures: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self.channel_names: dict[str, str] = {}
        self.user_token = "xoxp-fake-user-token"
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Base-URL tags whose requests fall into the hole, and how many have so far.
        self.holes: set[str] = set()
        self.swallowed = 0
        # Set at stop(), so that requests held in the hole end and the server can close.
        self._released = asyncio.Event()
        # While set (hold()), answers wait for it; how many calls have waited so far.
        self._gate: asyncio.Event | None = None
        self.held = 0

    async def start(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_route("*", "/{tag}/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"
        return self

    def url_for(self, tag: str) -> str:
        """A base URL of its own for one client, so that it can be cut off alone."""
        return self.url.replace("/api/", f"/{tag}/api/")

    def black_hole(self, tag: str) -> None:
        """From now on, never answer (nor record) requests made through ``url_for(tag)``."""
        self.holes.add(tag)

    def hold(self) -> None:
        """Keep answers back (calls are still recorded) until :meth:`release`."""
        self._gate = asyncio.Event()

    def release(self) -> None:
        """Send the answers kept back, and answer at once again."""
        if self._gate is not None:
            self._gate.set()
        self._gate = None

    async def stop(self) -> None:
        self.release()
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, method: str, status: int, times: int = 1, **headers: str) -> None:
        """Answer ``method`` with ``status`` (and headers, e.g. Retry_After="1") ``times`` times."""
        for _ in range(times):
            self.failures[method].append(
                (status, {k.replace("_", "-"): v for k, v in headers.items()})
            )

    def clear(self) -> None:
        """Forget the calls so far (what a test or benchmark wants to count starts now)."""
        self.calls.clear()
        self.counts.clear()

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until ``method`` has been called ``count`` times; returns those calls."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.counts[method] >= count), timeout
            )
        return self.called(method)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info.get("tag") in self.holes:
            await self._swallow()
            return web.Response(status=503)  # only at stop(): the caller is long gone
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        auth = request.headers.get("Authorization", "")
        token = (
            auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
        )
        self._check(method, args)
        if self.failures.get(method):
            status, headers = self.failures[method].pop(0)
            await self._record(Call(f"{method}!{status}", args, token))
            return web.Response(status=status, headers=headers, text="<html>Slack is down</html>")
        await self._record(Call(method, args, token))
        gate = self._gate
        if gate is not None:
            async with self._changed:
                self.held += 1
                self._changed.notify_all()
            await gate.wait()
        return web.json_response(self._answer(method, args))

    async def _swallow(self) -> None:
        async with self._changed:
            self.swallowed += 1
            self._changed.notify_all()
        await self._released.wait()

    async def wait_swallowed(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` requests have fallen into a black hole."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.swallowed >= count), timeout)

    async def wait_held(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` answers have been kept back by :meth:`hold`."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.held >= count), timeout)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self.counts[call.method] += 1
            self._changed.notify_all()

    def _check(self, method: str, args: dict[str, Any]) -> None:
        declared = self.params.get(method)
        if declared is None:
            self.violations.append(f"{method}: not a Slack Web API method")
            return
        for name in args:
            if name not in declared and name not in NEWER_ARGS.get(method, ()):
                self.violations.append(f"{method}: unknown argument {name!r}")
        required = {n for n, r in declared.items() if r and n != "token"} | EXTRA_REQUIRED.get(
            method, set()
        )
        for name in sorted(required - set(args)):
            if not (method == "oauth.v2.access" and name in ("client_id", "client_secret")):
                self.violations.append(f"{method}: missing required argument {name!r}")

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "team_id": TEAM,
                "user": "discretion",
            }
        if method in ("chat.postEphemeral", "chat.postMessage"):
            return {"ok": True, "message_ts": f"{time.time():.6f}", "channel": args.get("channel")}
        if method == "conversations.replies":
            found = self.messages.get((args.get("channel", ""), args.get("ts", "")))
            if found is None:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": [found], "has_more": False}
        if method == "conversations.info":
            name = self.channel_names.get(args.get("channel", ""))
            return (
                {"ok": True, "channel": {"id": args.get("channel"), "name": name}}
                if name
                else {"ok": False, "error": "channel_not_found"}
            )
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "permalink": f"https://nhs-test.slack.com/archives/{args.get('channel')}/p{ts}",
            }
        if method == "oauth.v2.access":
            return {
                "ok": True,
                "app_id": "A111",
                "team": {"id": TEAM},
                "authed_user": {
                    "id": "W111",
                    "scope": "chat:write",
                    "access_token": self.user_token,
                    "token_type": "user",
                },
            }
        if method == "views.open":
            return {"ok": True, "view": {"id": "V123"}}
        return {"ok": True}
