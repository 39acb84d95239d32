"""A bounded queue between receiving an event and assessing it.

Platforms want an answer within seconds (Slack: 3 s); assessing can take longer
under load. Adapters acknowledge at once and hand the work here; a fixed number
of workers take it in order. When the queue is full, ``submit`` waits briefly
rather than dropping; on shutdown the workers finish what was accepted.

Jobs may also be data: ``register(kind, handler)`` once, then
``submit_event(kind, payload)`` with a JSON-able dict. That is the form a shared
queue needs (``discretion.work_redis``: a Redis stream any replica can take work
from); :func:`queue_from_env` picks one by ``DISCRETION_QUEUE``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from discretion.logs import get_logger

log = get_logger("discretion.work")

Job = Callable[[], Awaitable[None]]
# A job given as data: the handler registered for its kind gets the payload.
Handler = Callable[[dict[str, Any]], Awaitable[Any]]
QUEUE_ENV = "DISCRETION_QUEUE"


class WorkQueue:
    """Bounded FIFO of jobs run by ``workers`` asyncio tasks."""

    def __init__(self, maxsize: int = 10_000, workers: int = 4):
        self.maxsize = maxsize
        self.workers = workers
        self._queue: asyncio.Queue[Job | None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.completed = 0
        self.failed = 0
        self.handlers: dict[str, Handler] = {}

    @property
    def depth(self) -> int:
        """How many jobs are waiting."""
        return self._queue.qsize() if self._queue is not None else 0

    async def start(self) -> None:
        if self._queue is not None:
            return
        self._queue = asyncio.Queue(self.maxsize)
        self._tasks = [asyncio.create_task(self._run(i)) for i in range(self.workers)]

    async def submit(self, job: Job) -> None:
        """Queue a job; waits for room when full (the caller has already acknowledged)."""
        if self._queue is None:
            await self.start()
        assert self._queue is not None
        await self._queue.put(job)

    def register(self, kind: str, handler: Handler) -> None:
        """Name the coroutine that runs jobs of ``kind`` (see :meth:`submit_event`)."""
        self.handlers[kind] = handler

    async def submit_event(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue a job given as data: ``handler(payload)`` for the registered ``kind``."""
        if kind not in self.handlers:
            raise KeyError(f"no handler registered for {kind!r}")
        await self.submit(partial(self.handlers[kind], payload))

    async def already_done(self, key: str) -> bool:
        """True when the effect named ``key`` already happened (never, in one process)."""
        return False

    async def mark_done(self, key: str) -> None:
        """Record that the effect named ``key`` happened (nothing to share in one process)."""
        return None

    async def join(self) -> None:
        """Wait until every accepted job has run."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        """Stop (there are no connections to let go of), as a shared queue's ``close``."""
        await self.stop()

    async def stop(self) -> None:
        """Finish accepted work, then stop the workers."""
        if self._queue is None:
            return
        await self._queue.join()
        for _ in self._tasks:
            await self._queue.put(None)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._queue = None
        self._tasks = []

    async def _run(self, n: int) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            job = await queue.get()
            try:
                if job is None:
                    return
                await job()
                self.completed += 1
            except Exception as exc:  # one failed job must not stop the worker
                self.failed += 1
                log.error("job failed", worker=n, error=type(exc).__name__)
            finally:
                queue.task_done()


async def queue_once(work: Any, dedupe: Any, kind: str, payload: dict[str, Any], key: str) -> bool:
    """Queue a job given as data unless ``key`` was seen before; False for a repeat.

    A shared queue marks and queues in one Redis step (``submit_once``): a replica killed
    between the two must not leave the platform's retry dropped as a repeat. Otherwise
    ``dedupe`` is asked first; a de-duplication store that is down counts as "first
    time", since a repeated warning is better than a missed one.
    """
    shared = getattr(work, "submit_once", None)
    if shared is not None:
        return bool(await shared(kind, payload, key))
    try:
        first = bool(await dedupe.first_time(key))
    except Exception as exc:
        log.error("work.dedupe_unavailable", error=type(exc).__name__)
        first = True
    if first:
        await work.submit_event(kind, payload)
    return first


def queue_from_env(maxsize: int = 10_000, workers: int = 4, *, stream: str | None = None) -> Any:
    """A Redis Streams queue when ``REDIS_URL`` and ``DISCRETION_QUEUE=redis`` are set, else this one.

    The Redis one is shared by every replica (see :mod:`discretion.work_redis`); it
    needs ``DISCRETION_SECRET_KEY``, the same on every replica, to encrypt what it holds.
    ``stream`` names its stream: each adapter keeps its own, because a consumer drops
    entries of kinds it has no handler for.
    """
    url = os.environ.get("REDIS_URL")
    if url and os.environ.get(QUEUE_ENV, "").strip().lower() == "redis":
        from discretion.work_redis import RedisStreamQueue

        return RedisStreamQueue.from_env(url, maxsize=maxsize, workers=workers, stream=stream)
    return WorkQueue(maxsize=maxsize, workers=workers)
