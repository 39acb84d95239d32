"""Jobs as data: the in-process queue and the Redis stream shared by replicas run them alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from needs import need_service

from discretion.work import WorkQueue, queue_from_env
from discretion.work_redis import RedisStreamQueue

KEY = Fernet.generate_key()
SECRET_TEXT = "Mrs Pemberton in bay 6, NHS 943 476 5919"


def _client() -> Any:
    import redis.asyncio as redis

    return redis.Redis(host="127.0.0.1", port=6379)


@pytest.fixture
async def redis_queues() -> AsyncIterator[Callable[..., RedisStreamQueue]]:
    """Makes queues on one fresh stream, as separate replicas would (own client, own consumer)."""
    need_service("Redis", "127.0.0.1", 6379)
    stream = f"test:work:{uuid.uuid4().hex}"
    made: list[RedisStreamQueue] = []

    def make(**options: Any) -> RedisStreamQueue:
        options.setdefault("block_ms", 100)
        options.setdefault("drain_seconds", 10)
        queue = RedisStreamQueue(_client(), options.pop("key", KEY), stream=stream, **options)
        made.append(queue)
        return queue

    yield make
    for queue in made:
        await queue.close()
    admin = _client()
    await admin.delete(stream)
    await admin.aclose()


@pytest.fixture(params=["memory", "redis"])
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "memory":
        q: Any = WorkQueue(maxsize=100, workers=3)
        yield q
        await q.stop()
        return
    need_service("Redis", "127.0.0.1", 6379)
    stream = f"test:work:{uuid.uuid4().hex}"
    q = RedisStreamQueue(_client(), KEY, stream=stream, workers=3, block_ms=100)
    yield q
    await q.close()
    admin = _client()
    await admin.delete(stream)
    await admin.aclose()


async def test_registered_jobs_get_their_payload(queue: Any) -> None:
    seen: list[dict[str, Any]] = []

    async def note(payload: dict[str, Any]) -> None:
        seen.append(payload)

    queue.register("note", note)
    await queue.start()
    for i in range(10):
        await queue.submit_event("note", {"n": i, "text": SECRET_TEXT})
    await queue.join()
    assert sorted(p["n"] for p in seen) == list(range(10))
    assert all(p["text"] == SECRET_TEXT for p in seen)
    assert queue.completed == 10


async def test_an_unknown_kind_is_refused_at_once(queue: Any) -> None:
    await queue.start()
    with pytest.raises(KeyError):
        await queue.submit_event("nobody-handles-this", {})


async def test_a_failing_job_is_counted_and_the_rest_still_run(queue: Any) -> None:
    done: list[int] = []

    async def sometimes(payload: dict[str, Any]) -> None:
        if payload["n"] == 2:
            raise RuntimeError("boom")
        done.append(payload["n"])

    queue.register("job", sometimes)
    await queue.start()
    for i in range(5):
        await queue.submit_event("job", {"n": i})
    await queue.join()
    assert sorted(done) == [0, 1, 3, 4] and queue.failed == 1


async def test_stop_finishes_what_was_accepted(queue: Any) -> None:
    done: list[int] = []

    async def slow(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0.02)
        done.append(payload["n"])

    queue.register("slow", slow)
    await queue.start()
    for i in range(30):
        await queue.submit_event("slow", {"n": i})
    await queue.stop()
    assert sorted(done) == list(range(30))


async def test_replicas_share_the_work_and_each_job_runs_once(redis_queues) -> None:
    ran: list[tuple[str, int]] = []
    one, two = redis_queues(workers=2), redis_queues(workers=2)
    for name, q in (("one", one), ("two", two)):

        async def handler(payload: dict[str, Any], name: str = name) -> None:
            await asyncio.sleep(0.005)
            ran.append((name, payload["n"]))

        q.register("job", handler)
        await q.start()
    for i in range(60):
        await (one if i % 2 else two).submit_event("job", {"n": i})
    await one.join()
    await two.join()
    assert sorted(n for _, n in ran) == list(range(60))  # every job, none twice
    assert {name for name, _ in ran} == {"one", "two"}  # both replicas took work


async def test_redis_holds_only_ciphertext(redis_queues) -> None:
    q = redis_queues()

    async def nothing(payload: dict[str, Any]) -> None:
        return None

    q.register("job", nothing)
    await q.submit_event("job", {"text": SECRET_TEXT})  # not started: it stays in the stream
    raw = await q.client.xrange(q.stream)
    assert len(raw) == 1
    blob = repr(raw)
    for word in ("Pemberton", "bay 6", "943", "text"):
        assert word not in blob


async def test_a_killed_replicas_work_is_claimed_by_another(redis_queues) -> None:
    dead = redis_queues(consumer="dead-replica")
    alive = redis_queues(claim_after_seconds=0.3)
    done: list[int] = []

    async def record(payload: dict[str, Any]) -> None:
        done.append(payload["n"])

    for q in (dead, alive):
        q.register("job", record)
    await dead._ensure_group()
    for i in range(5):
        await dead.submit_event("job", {"n": i})
    # The dead replica read them (so they are pending for it) and then was SIGKILLed.
    got = await dead.client.xreadgroup(dead.group, dead.consumer, {dead.stream: ">"}, count=10)
    assert len(got[0][1]) == 5 and done == []
    await alive.start()
    for _ in range(100):
        if len(done) == 5:
            break
        await asyncio.sleep(0.05)
    assert sorted(done) == list(range(5))
    assert alive.claimed == 5
    await alive.join()
    pending = await alive.client.xpending(alive.stream, alive.group)
    assert pending["pending"] == 0 and await alive.client.xlen(alive.stream) == 0


async def test_an_entry_under_another_key_is_dropped_not_fatal(redis_queues) -> None:
    stranger = redis_queues(key=Fernet.generate_key())
    ours = redis_queues()
    done: list[int] = []

    async def record(payload: dict[str, Any]) -> None:
        done.append(payload["n"])

    stranger.register("job", record)
    ours.register("job", record)
    await stranger.submit_event("job", {"n": 1})
    await ours.submit_event("job", {"n": 2})
    await ours.start()
    await ours.join()
    assert done == [2] and ours.failed == 1


async def test_the_queue_is_chosen_by_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DISCRETION_QUEUE", "redis")
    assert isinstance(queue_from_env(), WorkQueue)  # no Redis to share
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("DISCRETION_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="DISCRETION_SECRET_KEY"):
        queue_from_env()
    monkeypatch.setenv("DISCRETION_SECRET_KEY", "q" * 40)
    shared = queue_from_env(maxsize=50, workers=2)
    assert isinstance(shared, RedisStreamQueue) and shared.maxsize == 50
    await shared.client.aclose()
    monkeypatch.setenv("DISCRETION_QUEUE", "memory")
    assert isinstance(queue_from_env(), WorkQueue)


async def test_submit_once_marks_seen_and_queues_in_one_step(redis_queues) -> None:
    from discretion.dedupe import RedisDeduplicator

    one, two = redis_queues(), redis_queues()
    done: list[int] = []

    async def record(payload: dict[str, Any]) -> None:
        done.append(payload["n"])

    for q in (one, two):
        q.register("job", record)
    event_id = f"slack:Ev{uuid.uuid4().hex}"
    assert await one.submit_once("job", {"n": 1}, event_id) is True
    assert await two.submit_once("job", {"n": 1}, event_id) is False  # the platform's retry
    # The same "seen" keys as the deduplicator, so either can be asked.
    assert await RedisDeduplicator(two.client).first_time(event_id) is False
    assert await two.client.xlen(two.stream) == 1
    await one.start()
    await one.join()
    assert done == [1]
    await one.client.delete("discretion:seen:" + event_id)


async def test_a_slow_replica_keeps_its_work(redis_queues) -> None:
    slow = redis_queues(claim_after_seconds=0.3)
    other = redis_queues(claim_after_seconds=0.3)
    ran: list[str] = []

    async def long_job(payload: dict[str, Any]) -> None:
        ran.append("slow")
        await asyncio.sleep(1.2)  # four times the claim timeout, still alive

    async def quick(payload: dict[str, Any]) -> None:
        ran.append("other")

    slow.register("job", long_job)
    other.register("job", quick)
    await slow.start()
    await slow.submit_event("job", {})
    for _ in range(50):
        if ran:
            break
        await asyncio.sleep(0.02)
    await other.start()
    await slow.join()
    await asyncio.sleep(0.3)
    assert ran == ["slow"]  # never claimed and done again by the other replica


async def test_an_effect_done_by_one_replica_is_seen_by_the_other(redis_queues) -> None:
    one, two = redis_queues(), redis_queues()
    key = f"slack-warned:Ev{uuid.uuid4().hex}"
    assert await two.already_done(key) is False
    await one.mark_done(key)
    assert await two.already_done(key) is True


async def test_in_one_process_nothing_is_done_elsewhere() -> None:
    from discretion.work import WorkQueue

    q = WorkQueue()
    await q.mark_done("k")
    assert await q.already_done("k") is False
