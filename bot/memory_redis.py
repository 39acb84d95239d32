"""Thread memory in Redis, shared by every replica: derived features only, bounded and expiring.

Each conversation is one Redis list of JSON entries (a :class:`Remembered` each:
times, scores, categories, our labels, keyed hashes of details - never text),
newest last. Every write trims the list to ``max_messages`` (LTRIM) and sets its
expiry to the window (EXPIRE), so Redis forgets a quiet conversation by itself
and nothing grows without bound. The list's name is a keyed hash of the
conversation key, so Redis holds nothing that could be matched to a user id.

Replicas must agree on the hashing key: it is derived from the install key
(``DISCRETION_SECRET_KEY``, see :mod:`discretion.store.secret`), which every replica
is given. Calls are synchronous because the engine calls the store from its
executor thread; redis-py's client is thread-safe through its connection pool.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import redis

from discretion.keyed_names import keyed_names
from discretion.logs import get_logger
from discretion.memory import Remembered

log = get_logger("discretion.memory")

PREFIX = "discretion:thread:"
# A key derived for naming conversations in Redis, separate from the details' hashing key.
NAME_PURPOSE = b"discretion thread memory names v1"


def encode(entry: Remembered) -> str:
    """The JSON Redis keeps for one message (its derived features)."""
    return json.dumps(
        {
            "at": entry.at,
            "context": entry.context,
            "categories": dict(entry.categories),
            "labels": dict(entry.labels),
            "hashes": sorted(entry.hashes),
            "identifiers": entry.identifiers,
        },
        separators=(",", ":"),
    )


def decode(raw: bytes | str) -> Remembered | None:
    """One stored entry back, or None when it is not one of ours (skipped, never fatal)."""
    try:
        data = json.loads(raw)
        return Remembered(
            at=float(data["at"]),
            context=float(data["context"]),
            categories={str(k): float(v) for k, v in data.get("categories", {}).items()},
            labels={str(k): str(v) for k, v in data.get("labels", {}).items()},
            hashes=frozenset(str(h) for h in data.get("hashes", [])),
            identifiers=int(data.get("identifiers", 0)),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


class RedisThreadStore:
    """A ThreadStore in Redis: one bounded, expiring list per conversation."""

    def __init__(
        self,
        client: Any,
        key: bytes,
        window_seconds: float,
        max_messages: int = 50,
        prefix: str = PREFIX,
    ):
        self.client = client
        self.window_seconds = float(window_seconds)
        self.max_messages = max_messages
        self.prefix = prefix
        self._name = keyed_names(key, NAME_PURPOSE, prefix, 32)

    def recall(self, key: str, now: float) -> Sequence[Remembered]:
        """Unexpired entries for a conversation, oldest first."""
        try:
            raw = self.client.lrange(self._name(key), 0, -1)
        except redis.RedisError as exc:
            # Redis restarting: assess this message on its own rather than not at all.
            log.warning("memory.recall_failed", error=type(exc).__name__)
            return ()
        entries = [e for e in map(decode, raw) if e is not None]
        return tuple(e for e in entries if now - e.at <= self.window_seconds)

    def remember(self, key: str, entry: Remembered) -> None:
        """Add one message's features; keep the newest ``max_messages``; expire after the window."""
        name = self._name(key)
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(name, encode(entry))
        pipe.ltrim(name, -self.max_messages, -1)
        pipe.expire(name, max(1, math.ceil(self.window_seconds)))
        try:
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("memory.remember_failed", error=type(exc).__name__)


def redis_thread_store(url: str, settings: Any) -> RedisThreadStore:
    """A RedisThreadStore at ``url`` sized by ``settings.risk``, keyed from the install key."""
    from discretion.memory import shared_key

    risk = settings.risk
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return RedisThreadStore(
        client, shared_key(), risk.memory_window_hours * 3600, risk.memory_max_messages
    )
