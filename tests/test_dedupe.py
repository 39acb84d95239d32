"""The same event id is taken once, in process and across replicas through Redis."""

from __future__ import annotations

import uuid

import pytest
from needs import need_service

from discretion.dedupe import MemoryDeduplicator, RedisDeduplicator, deduplicator_from_env


@pytest.fixture(params=["memory", "redis"])
async def dedupers(request):
    """Two deduplicators that should share what they have seen (two 'replicas')."""
    if request.param == "memory":
        one = MemoryDeduplicator(ttl_seconds=60)
        yield one, one
        return
    need_service("Redis", "127.0.0.1", 6379)
    import redis.asyncio as redis

    a, b = redis.Redis(host="127.0.0.1", port=6379), redis.Redis(host="127.0.0.1", port=6379)
    prefix = f"test:{uuid.uuid4().hex}:"
    yield RedisDeduplicator(a, 60, prefix), RedisDeduplicator(b, 60, prefix)
    keys = await a.keys(prefix + "*")
    if keys:
        await a.delete(*keys)
    await a.aclose()
    await b.aclose()


async def test_an_event_is_taken_once(dedupers):
    first, second = dedupers
    assert await first.first_time("Ev1") is True
    assert await second.first_time("Ev1") is False
    assert await first.first_time("Ev1") is False
    assert await second.first_time("Ev2") is True


async def test_memory_is_bounded_and_expires():
    d = MemoryDeduplicator(ttl_seconds=60, max_keys=3)
    for key in "abcd":
        assert await d.first_time(key)
    assert len(d._seen) <= 3
    expired = MemoryDeduplicator(ttl_seconds=0)
    assert await expired.first_time("x")
    assert await expired.first_time("x")


def test_redis_is_chosen_when_configured(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(deduplicator_from_env(), MemoryDeduplicator)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert isinstance(deduplicator_from_env(), RedisDeduplicator)
