"""A webhook receiver on 127.0.0.1 that checks our signature and can be told to fail.

``async with FakeWebhook(secret) as hook:`` serves ``hook.url``; every POST lands in
``hook.received`` with whether its signature was valid. ``hook.fail_next(2)`` makes
the next two calls answer HTTP 500, as a receiver having a bad day would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from discretion.escalation.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)


@dataclass
class Call:
    """One POST the receiver got."""

    body: dict[str, Any]
    raw: bytes
    signature_ok: bool
    delivery_id: str
    status: int


class FakeWebhook:
    """An aiohttp server that verifies HMAC-SHA256 signatures."""

    def __init__(self, secret: bytes):
        self.secret = secret
        self.received: list[Call] = []
        self._failures = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    def fail_next(self, times: int) -> None:
        """Answer the next ``times`` calls with HTTP 500."""
        self._failures = times

    @property
    def accepted(self) -> list[Call]:
        """Calls that were answered 200."""
        return [c for c in self.received if c.status == 200]

    async def _receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        ok = verify(
            self.secret,
            request.headers.get(TIMESTAMP_HEADER, ""),
            raw,
            request.headers.get(SIGNATURE_HEADER, ""),
        )
        status = 200 if ok else 401
        if ok and self._failures:
            self._failures -= 1
            status = 500
        self.received.append(
            Call(json.loads(raw), raw, ok, request.headers.get(DELIVERY_HEADER, ""), status)
        )
        return web.json_response({"ok": status == 200}, status=status)

    async def __aenter__(self) -> FakeWebhook:
        app = web.Application()
        app.router.add_post("/hook", self._receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
