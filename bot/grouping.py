"""Group small database calls: whatever arrives while one runs goes together in the next.

At a quiet time each call runs at once, alone. At a hundred warnings a second the
calls share one statement and one transaction, so the database (and the event
loop driving it) does one round of work for many. Each caller still waits for,
and gets, its own answer; if a group fails, its items are tried one by one so a
bad one costs only its own caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_GROUP = 500


class Grouped(Generic[T, R]):
    """``await grouped(item)`` runs ``run([item, ...])`` with the items waiting alongside."""

    def __init__(
        self, run: Callable[[list[T]], Awaitable[Sequence[R]]], *, max_group: int = MAX_GROUP
    ):
        self.run = run
        self.max_group = max_group
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): what waited on the old one is gone
            self._loop, self._pending, self._task = loop, [], None
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            group = self._pending[: self.max_group]
            self._pending = self._pending[self.max_group :]
            try:
                results = await self.run([item for item, _ in group])
                if len(results) != len(group):
                    raise RuntimeError("a grouped call must answer each item")
            except Exception:
                for item, future in group:
                    try:
                        [result] = await self.run([item])
                    except Exception as exc:
                        _settle(future, error=exc)
                    else:
                        _settle(future, result)
            else:
                for (_, future), result in zip(group, results, strict=True):
                    _settle(future, result)


def _settle(
    future: asyncio.Future[R], result: R | None = None, *, error: Exception | None = None
) -> None:
    if future.done():  # the caller gave up waiting (cancelled); the work was done regardless
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
