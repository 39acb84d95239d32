"""A fake Microsoft Graph for the Teams policyViolation call, on 127.0.0.1.

Records each PATCH of a channel or chat message (path, token, body) and answers
204 as Graph does, or a scripted failure status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

GRAPH_TOKEN = "fake-graph-token"


@dataclass
class Patch:
    path: str
    authorization: str
    body: Any


@dataclass
class FakeGraph:
    patches: list[Patch] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.0"

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_route("PATCH", "/v1.0/{tail:.*}", self._patch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _patch(self, request: web.Request) -> web.Response:
        self.patches.append(
            Patch(request.path, request.headers.get("Authorization", ""), await request.json())
        )
        if self.failures:
            return web.json_response({"error": {"code": "Scripted"}}, status=self.failures.pop(0))
        return web.Response(status=204)


async def fixed_graph_token(tenant_id: str) -> str:
    """The Graph token provider for tests (MSAL only talks to https login endpoints)."""
    return GRAPH_TOKEN
