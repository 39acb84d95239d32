"""A bounded queue between receiving an event and assessing it.

Platforms want an answer within seconds (Slack: 3 s); assessing can take longer
under load. Adapters acknowledge at once and hand the work here; a fixed number
of workers take it in order. When the queue is full, ``submit`` waits briefly
rather than dropping; on shutdown the workers finish what was accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from discretion.logs import get_logger

log = get_logger("discretion.work")

Job = Callable[[], Awaitable[None]]


class WorkQueue:
    """Bounded FIFO of jobs run by ``workers`` asyncio tasks."""

    def __init__(self, maxsize: int = 10_000, workers: int = 4):
        self.maxsize = maxsize
        self.workers = workers
        self._queue: asyncio.Queue[Job | None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.completed = 0
        self.failed = 0

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

    async def join(self) -> None:
        """Wait until every accepted job has run."""
        if self._queue is not None:
            await self._queue.join()

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
