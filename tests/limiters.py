"""Sign-in limiters of either kind for tests, sharing their counts as replicas' would.

Import it as ``from limiters import ...`` (a module of its own, like ``needs``).
Redis ones use a fresh key prefix each, so runs side by side never meet; what
they wrote is deleted afterwards.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from needs import need_service

from discretion.web.context import DASHBOARD
from discretion.web.ratelimit import MemorySignInLimiter, RedisSignInLimiter, SignInLimiter

# Params for a ``limiter_kind`` fixture: in process, and in Redis.
BOTH_LIMITERS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]
SECRET = "a-test-key-for-limiter-names-0123456789"

Factory = Callable[[int, timedelta, Callable[[], datetime]], SignInLimiter]


@contextlib.asynccontextmanager
async def limiters(kind: str) -> AsyncIterator[Factory]:
    """Yields a maker of limiters that share counts: one object in process, one prefix in Redis."""
    if kind == "memory":
        made: list[SignInLimiter] = []

        def memory(attempts: int, window: timedelta, now: Callable[[], datetime]) -> SignInLimiter:
            # One process: "another replica" is the same limiter.
            if not made:
                made.append(MemorySignInLimiter(attempts, window, now))
            return made[0]

        yield memory
        return
    need_service("Redis", "127.0.0.1", 6379)
    import redis.asyncio as redis

    prefix = f"test:signin:{uuid.uuid4().hex}:"
    clients: list[Any] = []

    def in_redis(attempts: int, window: timedelta, now: Callable[[], datetime]) -> SignInLimiter:
        client = redis.Redis(host="127.0.0.1", port=6379)
        clients.append(client)
        return RedisSignInLimiter(client, attempts, window, now, SECRET, prefix=prefix)

    try:
        yield in_redis
    finally:
        if clients:
            keys = [k async for k in clients[0].scan_iter(match=prefix + "*", count=500)]
            if keys:
                await clients[0].delete(*keys)
        for client in clients:
            await client.aclose()


def use_limiter(app: Any, make: Factory) -> SignInLimiter:
    """Give a dashboard app a limiter from ``make``, on the app's clock, as its mount would."""
    dashboard = app[DASHBOARD]
    settings = dashboard.settings
    limiter = make(
        settings.signin_attempts,
        timedelta(minutes=settings.signin_window_minutes),
        lambda: dashboard.now(),
    )
    limiter.now = lambda: dashboard.now()
    dashboard.limiter = limiter
    return limiter
