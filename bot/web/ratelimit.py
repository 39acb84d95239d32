"""Sign-in throttling: how many failed attempts a name or address may make in a window.

In-process counts are the embedded default. With ``REDIS_URL`` set, replicas share
the counts through Redis, so two replicas behind a load balancer do not give a
guesser twice the attempts. Both implement :class:`SignInLimiter`.
"""

from __future__ import annotations

import os
import secrets
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from discretion.keyed_names import keyed_names
from discretion.logs import get_logger

log = get_logger("discretion.web.ratelimit")

PREFIX = "discretion:signin:"
NAME_PURPOSE = b"discretion sign-in limiter names v1"


class SignInLimiter(Protocol):
    """Counts failed sign-ins per key (account name, and separately client address)."""

    now: Callable[[], datetime]

    async def blocked(self, *keys: str) -> timedelta | None:
        """How long until another try is allowed, or None when any try is allowed now."""
        ...

    async def failed(self, *keys: str) -> None:
        """Record one failed attempt against each key."""
        ...

    async def succeeded(self, *keys: str) -> None:
        """Forget failures for these keys after a good sign-in."""
        ...

    async def close(self) -> None:
        """Let go of any connections."""
        ...


def _wait(times: list[float], attempts: int, window: float, now: float) -> float | None:
    """Seconds until fewer than ``attempts`` of ``times`` (ascending) are in the window."""
    recent = [t for t in times if t > now - window]
    if len(recent) < attempts:
        return None
    # Once this one leaves the window, fewer than ``attempts`` remain.
    return recent[len(recent) - attempts] + window - now


class MemorySignInLimiter:
    """Counts kept in this process.

    A restart forgets the count, which is acceptable because the argon2 hash already
    makes each guess slow; it is there to stop a stream of guesses.
    """

    def __init__(
        self, attempts: int, window: timedelta, now: Callable[[], datetime], max_keys: int = 50_000
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.now = now
        self.max_keys = max_keys
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str) -> deque[datetime]:
        cutoff = self.now() - self.window
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    async def blocked(self, *keys: str) -> timedelta | None:
        """How long until another try is allowed, or None when any try is allowed now."""
        now = self.now()
        waits = [
            _wait(
                [t.timestamp() for t in self._recent(key)],
                self.attempts,
                self.window.total_seconds(),
                now.timestamp(),
            )
            for key in keys
        ]
        found = [w for w in waits if w is not None]
        return timedelta(seconds=max(found)) if found else None

    async def failed(self, *keys: str) -> None:
        """Record one failed attempt against each key."""
        excess = len(self._failures) + len(keys) - self.max_keys
        if excess > 0:
            # Under a flood of distinct names, forget the oldest entries rather than grow forever.
            for old in list(self._failures)[: max(excess, self.max_keys // 10)]:
                del self._failures[old]
        for key in keys:
            times = self._failures.setdefault(key, deque())
            times.append(self.now())
            while len(times) > self.attempts:
                times.popleft()  # more than ``attempts`` never changes the answer

    async def succeeded(self, *keys: str) -> None:
        """Forget failures for these keys after a good sign-in."""
        for key in keys:
            self._failures.pop(key, None)

    async def close(self) -> None:
        """Nothing to let go of."""


class RedisSignInLimiter:
    """Counts shared by every replica: one sorted set of failure times per key in Redis.

    Key names are keyed hashes (HMAC with a key derived from the install secret, which
    every replica shares), so Redis holds no account names or addresses. Each set keeps
    at most ``attempts`` entries and expires with the window. Times come from ``now``
    (the dashboard's clock), so replicas need synchronised clocks, as they do anyway.
    When Redis cannot be reached, this process's own counts stand in, rather than
    either locking everyone out or dropping the limit.
    """

    def __init__(
        self,
        client: Any,
        attempts: int,
        window: timedelta,
        now: Callable[[], datetime],
        secret: str | bytes,
        prefix: str = PREFIX,
    ) -> None:
        self.client = client
        self.attempts = attempts
        self.window = window
        self.now = now
        self.prefix = prefix
        raw = secret.encode() if isinstance(secret, str) else secret
        self._name = keyed_names(raw, NAME_PURPOSE, prefix, 40)
        self.fallback = MemorySignInLimiter(attempts, window, lambda: self.now())

    def name(self, key: str) -> str:
        """The Redis key for a limiter key: a keyed hash, never the name or address."""
        return self._name(key)

    async def blocked(self, *keys: str) -> timedelta | None:
        """How long until another try is allowed, or None when any try is allowed now."""
        now = self.now().timestamp()
        window = self.window.total_seconds()
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zrangebyscore(self.name(key), f"({now - window}", "+inf", withscores=True)
                found = await pipe.execute()
        except RedisError as error:
            log.warning("web.signin_limiter_unavailable", error=type(error).__name__)
            return await self.fallback.blocked(*keys)
        waits = [
            _wait(sorted(score for _member, score in entries), self.attempts, window, now)
            for entries in found
        ]
        present = [w for w in waits if w is not None]
        return timedelta(seconds=max(present)) if present else None

    async def failed(self, *keys: str) -> None:
        """Record one failed attempt against each key (one MULTI/EXEC for all of them)."""
        now = self.now().timestamp()
        window = self.window.total_seconds()
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                for key in keys:
                    name = self.name(key)
                    # A random member: two failures at the same instant are two failures.
                    pipe.zadd(name, {secrets.token_hex(8): now})
                    pipe.zremrangebyscore(name, "-inf", now - window)
                    pipe.zremrangebyrank(name, 0, -(self.attempts + 1))
                    pipe.pexpire(name, max(1, int(window * 1000)))
                await pipe.execute()
        except RedisError as error:
            log.warning("web.signin_limiter_unavailable", error=type(error).__name__)
            await self.fallback.failed(*keys)

    async def succeeded(self, *keys: str) -> None:
        """Forget failures for these keys after a good sign-in."""
        await self.fallback.succeeded(*keys)
        try:
            await self.client.delete(*(self.name(key) for key in keys))
        except RedisError as error:
            log.warning("web.signin_limiter_unavailable", error=type(error).__name__)

    async def close(self) -> None:
        """Close the Redis connections."""
        await self.client.aclose()


def limiter_from_env(
    attempts: int, window: timedelta, now: Callable[[], datetime], secret: str | bytes
) -> SignInLimiter:
    """Redis when ``REDIS_URL`` is set (replicas share the counts), else in-process."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return MemorySignInLimiter(attempts, window, now)
    return RedisSignInLimiter(redis_client(url), attempts, window, now, secret)


def redis_client(url: str) -> Any:
    """A client that gives up within about a second, so a Redis outage never stalls sign-in."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 2),
    )
