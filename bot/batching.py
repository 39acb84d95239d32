"""Assess messages in small batches: under load, one pass of the language model serves many.

spaCy costs much less per message when it reads several at once, and the core's
``Engine.assess_many`` does exactly that. Messages that arrive while a batch is
being assessed wait for the next one, so a quiet server still answers each
message at once (a batch of one) and a busy one keeps up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from discretion import metrics
from discretion.assessment import Assessment
from discretion.message import Message

# Under overload, batches of 32 gave two replicas on two cores 188 mixed events a second
# against 144 with 16 (bench/replicas_load.py); 64 gained nothing and waited longer.
MAX_BATCH = 32


class AssessBatcher:
    """``await batcher.assess(message)``: the same answer as ``services.assess``, batched."""

    def __init__(self, services: Any, memory: Any = None, max_batch: int = MAX_BATCH):
        self.services = services
        self.memory = memory
        self.max_batch = max_batch
        # Waiting messages per platform, each in arrival order (so a thread's messages are
        # read in the order they were posted).
        self._waiting: dict[str, deque[tuple[Message, asyncio.Future[Assessment]]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def assess(self, message: Message) -> Assessment:
        """The assessment of one message, made in a batch with whatever else is waiting."""
        future: asyncio.Future[Assessment] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(message.platform, deque()).append((message, future))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        return await future

    def _take(self) -> list[tuple[Message, asyncio.Future[Assessment]]]:
        """The next batch, taken in turn from each platform's waiting messages.

        Under overload each platform gets an equal share of the model, however many
        messages it has waiting: a flood in one must not hold up warnings in another.
        """
        batch: list[tuple[Message, asyncio.Future[Assessment]]] = []
        while len(batch) < self.max_batch and self._waiting:
            for platform in list(self._waiting):
                queue = self._waiting[platform]
                batch.append(queue.popleft())
                if not queue:
                    del self._waiting[platform]
                if len(batch) == self.max_batch:
                    break
        # Next time, start with the platform after the last one served.
        if batch and batch[-1][0].platform in self._waiting:
            last = batch[-1][0].platform
            self._waiting[last] = self._waiting.pop(last)
        return batch

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch = self._take()
            messages = [m for m, _ in batch]
            engine = self.services.engine  # read once: a reload may swap it
            try:
                started = loop.time()
                results = await loop.run_in_executor(
                    self.services.executor,
                    _assess_all,
                    engine,
                    messages,
                    self.memory,
                    getattr(self.services, "assessor", None),
                )
                each = (loop.time() - started) / len(messages)
            except Exception as exc:  # every waiting caller hears about it; none hangs
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (message, future), assessment in zip(batch, results, strict=True):
                metrics.ASSESS_SECONDS.labels(message.platform).observe(each)
                metrics.EVENTS_ASSESSED.labels(message.platform).inc()
                if assessment.warn:
                    metrics.WARNINGS.labels(message.platform).inc()
                if not future.done():
                    future.set_result(assessment)


def _assess_all(
    engine: Any, messages: list[Message], memory: Any, assessor: Any = None
) -> list[Assessment]:
    if assessor is not None:  # the engine's twin in a child process does the reading
        return assessor.assess_many(engine, messages, memory)
    return list(engine.assess_many(messages, memory=memory))
