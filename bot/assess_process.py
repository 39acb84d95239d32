"""Assess in a separate process, so the language model never holds up the event loop.

Python runs one thread of a process at a time. With spaCy in a thread beside the
event loop, every batch it reads slows the loop that acknowledges Slack and Teams
and sends the warnings, and under load both fall behind. ``discretion serve``
therefore runs the engine in a child process (``nlp.separate_process``, on by
default): the loop keeps a core to itself, the model the other.

The child builds its own :class:`~discretion.engine.Engine` from the same settings,
with the parent engine's key for hashing details. Thread memory stays in the parent
(or in Redis): for each batch the parent recalls what memory holds for the batch's
conversations, the child assesses against that snapshot, and the parent remembers
what the child added. Only messages, assessments and derived features cross the
pipe; nothing is written anywhere on the way.

A child that dies (killed, out of memory) is replaced and the batch tried once
more. A reloaded configuration gets a new child, warmed before it takes over.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from discretion.assessment import Assessment
from discretion.logs import get_logger
from discretion.memory import Remembered, ThreadStore, conversation_key, message_time
from discretion.message import Message

log = get_logger("discretion.assess_process")

# The child reads this warm-up message once, so the first real batch does not pay for
# lazily loaded parts. Made up; nothing identifying.
_WARM_UP = Message(text="Warm-up: bed 4 is ready for the next admission.", platform="internal")


@dataclass
class MemorySnapshot:
    """What thread memory held for one batch's conversations; records what the batch adds.

    A :class:`~discretion.memory.ThreadStore` in its own right, so the engine in the
    child uses it exactly as it would the real memory.
    """

    window_seconds: float
    entries: dict[str, list[Remembered]] = field(default_factory=dict)
    added: list[tuple[str, Remembered]] = field(default_factory=list)

    def recall(self, key: str, now: float) -> Sequence[Remembered]:
        """Entries for a conversation that are still within the window at ``now``."""
        return tuple(e for e in self.entries.get(key, ()) if now - e.at <= self.window_seconds)

    def remember(self, key: str, entry: Remembered) -> None:
        """Keep an entry for later messages of the batch, and for the parent to store."""
        self.entries.setdefault(key, []).append(entry)
        self.added.append((key, entry))


def snapshot(memory: ThreadStore, messages: Sequence[Message]) -> MemorySnapshot:
    """Recall, once per conversation, what ``memory`` holds for these messages."""
    earliest: dict[str, float] = {}
    for m in messages:
        key = conversation_key(m)
        if key is not None:
            at = message_time(m)
            earliest[key] = min(at, earliest.get(key, at))
    return MemorySnapshot(
        memory.window_seconds,
        {key: list(memory.recall(key, now)) for key, now in earliest.items()},
    )


# --- in the child process ----------------------------------------------------------------

_engine: Any = None


def _start_child(settings: Any, hash_key: bytes, log_level: int = logging.WARNING) -> None:
    """Build the child's engine (the pool's initializer)."""
    global _engine
    # The same JSON logs, level and content filter as the server (a spawned child starts
    # with none of the parent's logging set up).
    from discretion import logs

    logs.configure(log_level)
    # Ctrl-C reaches the whole process group; the parent decides when the child stops,
    # after the work it accepted has been assessed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent killed outright (SIGKILL, out of memory) cannot stop its child: go with it.
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    from discretion.engine import Engine

    _engine = Engine(settings, hash_key=hash_key)
    _engine.assess(_WARM_UP)


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)


def _assess_in_child(
    messages: list[Message], memory: MemorySnapshot | None
) -> tuple[list[Assessment], list[tuple[str, Remembered]]]:
    results = list(_engine.assess_many(messages, memory=memory))
    return results, (memory.added if memory is not None else [])


def _ready() -> bool:
    return _engine is not None


# --- in the server -----------------------------------------------------------------------


class ProcessAssessor:
    """Runs ``engine.assess_many`` in a child process built from the engine's settings.

    Call :meth:`prepare` (from a thread: it waits for the child to load its model)
    before using a new engine, and :meth:`assess_many` from the thread that batches.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0

    @property
    def ready(self) -> bool:
        """True once a child has loaded its engine."""
        return self._pool is not None

    def prepare(self, engine: Any) -> None:
        """Start a child for ``engine`` and wait until it can assess; then it takes over."""
        pool = self._new_pool(engine)
        try:
            pool.submit(_ready).result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        with self._lock:
            old, self._pool, self._engine = self._pool, pool, engine
        if old is not None:
            old.shutdown(wait=False)  # a batch it is reading still finishes
        log.info("assess_process.ready", config=getattr(engine, "config_version", ""))

    def assess_many(
        self, engine: Any, messages: list[Message], memory: ThreadStore | None
    ) -> list[Assessment]:
        """The engine's assessments of ``messages``, made in the child; memory is updated."""
        with self._lock:
            pool, current = self._pool, self._engine
        if pool is None or current is not engine:
            # A new engine nobody prepared (or none yet): start its child now.
            self.prepare(engine)
            with self._lock:
                pool = self._pool
        assert pool is not None
        shot = snapshot(memory, messages) if memory is not None else None
        try:
            results, added = pool.submit(_assess_in_child, messages, shot).result()
        except BrokenProcessPool:
            # The child died (killed, or out of memory): start another and try once more.
            self.restarts += 1
            log.error("assess_process.child_died", restarts=self.restarts)
            self.prepare(engine)
            with self._lock:
                pool = self._pool
            assert pool is not None
            results, added = pool.submit(_assess_in_child, messages, shot).result()
        if memory is not None:
            for key, entry in added:
                memory.remember(key, entry)
        return results

    def close(self) -> None:
        """Stop the child (after the batch it is reading, if any)."""
        with self._lock:
            pool, self._pool, self._engine = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True)

    @staticmethod
    def _new_pool(engine: Any) -> ProcessPoolExecutor:
        # spawn, not fork: the server has threads, and a forked copy of a held lock deadlocks.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_child,
            initargs=(engine.settings, engine.hash_key, logging.getLogger().getEffectiveLevel()),
        )
