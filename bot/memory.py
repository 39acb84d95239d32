"""What the engine remembers about recent messages in a thread: derived features only.

For each (author, conversation) the store keeps, per message, when it was sent,
its patient-context score and, per detail category, the strongest weight and
keyed hashes of the details. Never the text: the hashes use a secret key made
fresh for each process (or, when ``REDIS_URL`` makes replicas share memory, one
derived from the install key), so they cannot be reversed or matched elsewhere. Entries
expire after the window; the number of conversations and of messages per
conversation is bounded. :class:`ThreadStore` is the interface a shared store
(Redis, :mod:`discretion.memory_redis`) implements to replace :class:`InMemoryThreadStore`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from discretion.message import Message


@dataclass(frozen=True, slots=True)
class Remembered:
    """Derived features of one earlier message: never its text."""

    at: float  # seconds since the epoch
    context: float
    categories: Mapping[str, float] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    hashes: frozenset[str] = frozenset()
    identifiers: int = 0


@runtime_checkable
class ThreadStore(Protocol):
    """Where remembered features live: in this process, or a shared store later."""

    window_seconds: float

    def recall(self, key: str, now: float) -> Sequence[Remembered]:
        """Unexpired entries for a conversation, oldest first."""
        ...

    def remember(self, key: str, entry: Remembered) -> None:
        """Add one message's features to a conversation."""
        ...


class InMemoryThreadStore:
    """A bounded, expiring ThreadStore in this process (least recently used goes first)."""

    def __init__(self, window_seconds: float, max_threads: int = 10_000, max_messages: int = 50):
        self.window_seconds = float(window_seconds)
        self.max_threads = max_threads
        self.max_messages = max_messages
        self._data: OrderedDict[str, list[Remembered]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def recall(self, key: str, now: float) -> Sequence[Remembered]:
        """Unexpired entries for a conversation, oldest first."""
        with self._lock:
            entries = self._data.get(key)
            if not entries:
                return ()
            fresh = [e for e in entries if now - e.at <= self.window_seconds]
            if fresh:
                self._data[key] = fresh
                self._data.move_to_end(key)
            else:
                del self._data[key]
            return tuple(fresh)

    def remember(self, key: str, entry: Remembered) -> None:
        """Add one message's features; drop the oldest beyond the bounds."""
        with self._lock:
            entries = self._data.setdefault(key, [])
            entries.append(entry)
            del entries[: max(0, len(entries) - self.max_messages)]
            self._data.move_to_end(key)
            while len(self._data) > self.max_threads:
                self._data.popitem(last=False)


class DetailHasher:
    """Keyed hashes of details, so a repeated detail is not counted twice."""

    def __init__(self, key: bytes | None = None):
        chosen = key or (shared_key() if os.environ.get("REDIS_URL") else None)
        self._key: bytes = chosen or secrets.token_bytes(32)

    @property
    def key(self) -> bytes:
        """The secret key (to build a hasher that agrees with this one in another process)."""
        return self._key

    def __call__(self, category: str, surface: str) -> str:
        """A short keyed digest of one detail (normalised), safe to keep."""
        normal = " ".join(surface.lower().split())
        mac = hmac.new(self._key, f"{category}\x00{normal}".encode(), hashlib.sha256)
        return mac.hexdigest()[:16]


def conversation_key(message: Message) -> str | None:
    """Who said it where: None when the message has no author (nothing to join up)."""
    if not message.author:
        return None
    where = message.thread or message.channel or ""
    raw = f"{message.platform}\x00{message.channel or ''}\x00{where}\x00{message.author}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def message_time(message: Message) -> float:
    """When the message was sent (now when the platform did not say)."""
    return message.sent_at.timestamp() if message.sent_at is not None else time.time()


SHARED_PURPOSE = b"discretion thread memory v1"


def shared_key() -> bytes:
    """The details' hashing key every replica shares: derived from the install key.

    Replicas sharing thread memory in Redis must hash a detail the same way, so the
    key comes from ``DISCRETION_SECRET_KEY`` (given to every replica), not from chance.
    """
    from discretion.store.secret import load_install_key

    return hmac.new(load_install_key(), SHARED_PURPOSE, hashlib.sha256).digest()


def memory_for(settings: Any) -> ThreadStore | None:
    """The thread memory the engine should use: Redis when ``REDIS_URL`` is set, else in-process."""
    risk = getattr(settings, "risk", None)
    if risk is None:
        return None
    if os.environ.get("REDIS_URL"):
        from discretion.memory_redis import redis_thread_store

        return redis_thread_store(os.environ["REDIS_URL"], settings)
    return InMemoryThreadStore(
        risk.memory_window_hours * 3600, risk.memory_max_threads, risk.memory_max_messages
    )
