"""Seen-before checks for platform event ids (Slack retries, Teams redeliveries).

The in-process store is the embedded default; a shared store (Redis) implements
the same protocol so that any replica can tell an event was already taken.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from typing import Any, Protocol


class Deduplicator(Protocol):
    async def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen within the window, False after that."""
        ...


class MemoryDeduplicator:
    """Bounded, expiring set of keys held in this process."""

    def __init__(self, ttl_seconds: float = 3600.0, max_keys: int = 100_000):
        self.ttl = ttl_seconds
        self.max_keys = max_keys
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def first_time(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen:
            _oldest, at = next(iter(self._seen.items()))
            if now - at < self.ttl and len(self._seen) < self.max_keys:
                break
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class RedisDeduplicator:
    """Keys held in Redis (SET NX with expiry), shared by every replica."""

    def __init__(self, client: Any, ttl_seconds: float = 3600.0, prefix: str = "discretion:seen:"):
        self.client = client
        self.ttl = int(ttl_seconds)
        self.prefix = prefix

    async def first_time(self, key: str) -> bool:
        return bool(await self.client.set(self.prefix + key, b"1", nx=True, ex=self.ttl))


def deduplicator_from_env(ttl_seconds: float = 3600.0) -> Deduplicator:
    """Redis when ``REDIS_URL`` is set (replicas share what they have seen), else in-process."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return MemoryDeduplicator(ttl_seconds)
    import redis.asyncio as redis

    return RedisDeduplicator(redis.Redis.from_url(url), ttl_seconds)
