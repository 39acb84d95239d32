"""Teams test helpers: real activities, the app on a real port, and a client that posts to it.

Activities are the real payloads in ../shared/schemas/teams/activities/, with
``serviceUrl`` pointed at the fake connector, posted with tokens the tests sign.
:func:`redis_queue_env` points the app at a shared Redis queue (DISCRETION_QUEUE=redis)
in a Redis database of its own.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fakes.bot_connector import FakeBotConnector, FixedTokenFactory
from fakes.openid import ISSUER, FakeOpenId
from needs import need_service

from discretion.adapters.teams.config import TeamsConfig
from discretion.adapters.teams.mount import TEAMS, mount_teams
from discretion.server import SERVICES, Services

SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "teams"
if not SCHEMAS.is_dir():
    SCHEMAS = Path("/work/shared/schemas/teams")
ACTIVITIES = SCHEMAS / "activities"
APP_ID = "3f1c2a9e-5b7d-4e8f-9a1b-2c3d4e5f6a7b"
# Held in the Redis database a test uses, so that no other test (or bench run, which
# takes only empty databases) picks the same one meanwhile.
REDIS_LOCK = "discretion-test:teams"
# Params for a module's own ``queue`` fixture: the in-process queue and Redis Streams.
BOTH_QUEUES = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


def activity(name: str, **changes: Any) -> dict[str, Any]:
    """A real Teams activity from the shared payloads, with top-level fields changed."""
    data = json.loads((ACTIVITIES / f"{name}.json").read_text())
    data = copy.deepcopy(data)
    data.update(changes)
    return data


class TeamsServer:
    """The app on a real port, and helpers to post activities to it."""

    def __init__(
        self, url: str, app: web.Application, openid: FakeOpenId, connector: FakeBotConnector
    ):
        self.url = url
        self.app = app
        self.openid = openid
        self.connector = connector
        self.session = aiohttp.ClientSession()

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    @property
    def handler(self) -> Any:
        return self.app[TEAMS]

    def token(self, service_url: str | None = None, **overrides: Any) -> str:
        return self.openid.token(
            audience=overrides.pop("audience", APP_ID),
            service_url=service_url or self.connector.url,
            **overrides,
        )

    async def post(
        self, body: Any, *, token: str | None = "auto", headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        sent_headers = {"Content-Type": "application/json"}
        if token == "auto":
            token = self.token(body.get("serviceUrl") if isinstance(body, dict) else None)
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        sent_headers.update(headers or {})
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        async with self.session.post(
            self.url + "/api/messages", data=data, headers=sent_headers
        ) as r:
            await r.read()
            return r

    async def settle(self) -> None:
        """Wait until every queued job (assess, warn) has run, in this process or Redis."""
        await self.services.work.join()
        if self.handler.work is not self.services.work:
            await self.handler.work.join()

    async def close(self) -> None:
        await self.session.close()


async def start_server(
    settings: Any,
    engine: Any,
    openid: FakeOpenId,
    connector: FakeBotConnector,
    *,
    store: Any = None,
    config: TeamsConfig | None = None,
    prepare: Any = None,
    graph_tokens: Any = None,
) -> tuple[TeamsServer, web.AppRunner]:
    app = web.Application()
    services = Services(settings=settings, engine=engine)
    services.store = store
    app[SERVICES] = services
    config = config or TeamsConfig(
        app_id=APP_ID,
        app_password="not-used-outbound-is-faked",
        openid_metadata_url=openid.metadata_url,
        token_issuer=ISSUER,
    )
    mount_teams(
        app,
        services,
        config,
        credentials_factory=FixedTokenFactory(config.app_id),
        messenger_options={"base_delay": 0.01, "max_delay": 0.05},
        graph_tokens=graph_tokens,
    )

    async def _work(_: web.Application) -> None:
        await services.work.start()

    async def _stop(_: web.Application) -> None:
        await services.work.stop()

    if prepare is not None:
        prepare(app, services)
    app.on_startup.append(_work)
    app.on_shutdown.append(_stop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return TeamsServer(f"http://127.0.0.1:{port}", app, openid, connector), runner


@contextlib.asynccontextmanager
async def redis_queue_env(monkeypatch: Any) -> AsyncIterator[str]:
    """Set the environment for the shared Redis queue on a database (1-15) no one else uses.

    Yields the ``REDIS_URL``. Dedupe, thread memory and the queue all live in that
    database, so tests that post the same activity ids do not see each other's; what
    Discretion wrote there is deleted afterwards (never the whole database).
    """
    import redis.asyncio as redis

    for db in random.sample(range(1, 16), 15):
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        try:
            if await client.set(REDIS_LOCK, b"1", nx=True, ex=600):
                if await client.dbsize() == 1:
                    break
                await client.delete(REDIS_LOCK)  # someone else's database: leave it be
        except BaseException:
            await client.aclose()
            raise
        await client.aclose()
    else:
        raise RuntimeError("no unused Redis database among 1-15")
    url = f"redis://127.0.0.1:6379/{db}"
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("DISCRETION_QUEUE", "redis")
    monkeypatch.setenv("DISCRETION_SECRET_KEY", secrets.token_urlsafe(32))
    try:
        yield url
    finally:
        keys = [k async for k in client.scan_iter(match="discretion:*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.delete(REDIS_LOCK)
        await client.aclose()


@contextlib.asynccontextmanager
async def queue_env(kind: str, monkeypatch: Any) -> AsyncIterator[str]:
    """The environment for work queue ``kind`` ("memory" or "redis"); yields the kind."""
    if kind == "memory":
        yield kind
        return
    need_service("Redis", "127.0.0.1", 6379)
    async with redis_queue_env(monkeypatch):
        yield kind
