"""The work queue in Redis Streams: any replica takes work, a killed replica loses nothing.

When ``REDIS_URL`` and ``DISCRETION_QUEUE=redis`` are set, an accepted event is
added to one Redis stream (XADD) instead of this process's memory. Every replica
reads the stream through one consumer group, so the replica that received an
event is not necessarily the one that checks it. An entry stays "pending" for the
replica that read it until it has been handled, then it is acknowledged and
deleted (XACK + XDEL). If a replica dies (SIGKILL, a lost node), its pending
entries sit idle; after ``claim_after_seconds`` another replica claims them
(XAUTOCLAIM) and handles them. So nothing accepted is lost.

Events carry message text, so each entry is encrypted (Fernet: AES with an
authentication tag) under a key derived from ``DISCRETION_SECRET_KEY``, which every
replica shares; Redis never holds readable text. The stream is capped (MAXLEN,
approximate) well above the queue's size as a last guard on memory; ``submit_event``
waits for room before that is reached, so the cap never cuts unhandled work in
normal running.

A replica that is slow rather than dead keeps its entries: a heartbeat resets
their idle time while they are being handled, so only a replica that stopped
(killed, frozen for longer than ``claim_after_seconds``) has its work claimed. Graceful shutdown stops taking new entries from others only once the
stream is empty or ``drain_seconds`` have passed, finishes what it holds, and
leaves anything left in Redis for the other replicas.

Redis restarting is survived without a restart here: every loop retries, the group
is made again if Redis came back empty, a warning's "done" mark and the entry's
acknowledgement are retried until Redis answers, and nobody claims anything until
Redis has been back for ``claim_after_seconds`` (every replica's entries looked idle
while heartbeats could not reach it, not only a dead one's). Redis must persist the
stream (``appendonly yes``), or a restart loses what was queued.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from cryptography.fernet import Fernet, InvalidToken
from redis.exceptions import RedisError, ResponseError

from discretion.logs import get_logger
from discretion.store.secret import KEY_ENV, load_install_key
from discretion.work import Handler, Job

log = get_logger("discretion.work")

STREAM = "discretion:work"
GROUP = "discretion"
PURPOSE = b"discretion work queue v1"
# Marks an event seen and queues it in one step (a Lua script runs atomically in Redis):
# a replica killed between the two would otherwise leave an event "seen" but never queued,
# and the platform's retry of it would be dropped as a repeat.
SUBMIT_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'job', ARGV[3])
return 1
"""
DONE_PREFIX = "discretion:done:"  # effects (a warning sent) already carried out
SEEN_PREFIX = "discretion:seen:"  # the same keys as discretion.dedupe.RedisDeduplicator
# How long an idle consumer with nothing pending is kept in the group's list.
FORGET_CONSUMER_MS = 3_600_000
# How long a "done" mark or an acknowledgement is retried while Redis is away: longer
# than a restart, and a lost mark means a second warning once the entry is claimed.
SETTLE_SECONDS = 60.0
RETRY_PAUSE = 0.05


def queue_key() -> bytes:
    """The Fernet key for queued events, derived from the install key (every replica's alike)."""
    derived = hmac.new(load_install_key(), PURPOSE, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(derived)


class RedisStreamQueue:
    """A work queue on a Redis stream read by a consumer group; jobs are registered kinds + data."""

    def __init__(
        self,
        client: Any,
        key: bytes,
        *,
        maxsize: int = 10_000,
        workers: int = 4,
        stream: str = STREAM,
        group: str = GROUP,
        consumer: str | None = None,
        claim_after_seconds: float = 60.0,
        block_ms: int = 1000,
        drain_seconds: float = 20.0,
    ):
        self.client = client
        self.maxsize = maxsize
        self.workers = workers
        self.stream = stream
        self.group = group
        # Unique per process: a restarted replica is a new consumer, its old entries get claimed.
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.claim_after_ms = int(claim_after_seconds * 1000)
        self.block_ms = block_ms
        self.drain_seconds = drain_seconds
        self.handlers: dict[str, Handler] = {}
        self.completed = 0
        self.failed = 0
        self.claimed = 0
        self._fernet = Fernet(key)
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight = 0
        # Entries this replica is handling; the heartbeat keeps them from looking abandoned.
        self._held: set[Any] = set()
        self._stopping = False
        self._depth = 0
        # When Redis last failed us (monotonic); claiming waits a claim period after it.
        self._failed_at = float("-inf")
        # Closures cannot go to Redis; the few jobs submitted that way run in this process.
        self._local: set[asyncio.Task[None]] = set()

    @classmethod
    def from_env(
        cls, url: str, *, maxsize: int = 10_000, workers: int = 4, stream: str | None = None
    ) -> RedisStreamQueue:
        """A queue on ``url``; refuses to start without ``DISCRETION_SECRET_KEY`` (see module doc)."""
        if not os.environ.get(KEY_ENV):
            raise RuntimeError(
                f"DISCRETION_QUEUE=redis needs {KEY_ENV}, the same on every replica, "
                "so that each can read the work the others queue"
            )
        # Each worker holds a connection in its blocking read; the rest is for everything else.
        client = aioredis.Redis.from_url(
            url, socket_timeout=10, socket_connect_timeout=5, max_connections=workers + 32
        )
        claim = float(os.environ.get("DISCRETION_QUEUE_CLAIM_SECONDS", "60"))
        return cls(
            client,
            queue_key(),
            maxsize=maxsize,
            workers=workers,
            stream=stream or STREAM,
            claim_after_seconds=claim,
        )

    # --- the WorkQueue interface ------------------------------------------------------

    @property
    def depth(self) -> int:
        """Entries in the stream when last looked (waiting or being handled, all replicas)."""
        return self._depth

    def register(self, kind: str, handler: Handler) -> None:
        """Name the coroutine that runs jobs of ``kind``; every replica registers the same."""
        self.handlers[kind] = handler

    async def submit_event(self, kind: str, payload: dict[str, Any]) -> None:
        """Add a job to the shared stream (encrypted); waits for room, retries a Redis blip.

        Raises (after about 2.5 s of retrying) when Redis cannot take it, so the
        platform is not told "accepted" for an event nobody holds.
        """
        await self._add(
            kind,
            payload,
            lambda token: self.client.xadd(
                self.stream, {"job": token}, maxlen=self.maxsize * 2, approximate=True
            ),
        )

    async def submit_once(
        self, kind: str, payload: dict[str, Any], once: str, ttl_seconds: int = 3600
    ) -> bool:
        """Queue a job unless ``once`` was seen in the last hour; marking and queueing are one step.

        Returns False for a repeat. ``once`` shares its keys with
        :class:`discretion.dedupe.RedisDeduplicator`, so either may be used for an event.
        """
        added = await self._add(
            kind,
            payload,
            lambda token: self.client.eval(
                SUBMIT_ONCE,
                2,
                self.stream,
                SEEN_PREFIX + once,
                ttl_seconds,
                self.maxsize * 2,
                token,
            ),
        )
        return bool(added)

    async def _add(
        self, kind: str, payload: dict[str, Any], add: Callable[[bytes], Awaitable[Any]]
    ) -> Any:
        """Encrypt the job and ``add`` it, waiting for room when full and retrying Redis errors.

        Gives up (raises) after about 2.5 s, so that the platform is never told
        "accepted" for an event nobody holds.
        """
        if kind not in self.handlers:
            raise KeyError(f"no handler registered for {kind!r}")
        token = self._fernet.encrypt(json.dumps({"kind": kind, "payload": payload}).encode())
        deadline = time.monotonic() + 2.5
        while True:
            try:
                self._depth = int(await self.client.xlen(self.stream))
                if self._depth >= self.maxsize and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)  # full: wait for room rather than drop
                    continue
                return await add(token)
            except RedisError as exc:
                self._failed()
                if time.monotonic() >= deadline:
                    raise
                log.warning("work.redis_retry", error=type(exc).__name__)
                await asyncio.sleep(0.1)

    async def already_done(self, key: str) -> bool:
        """True when another replica (or this one before a restart) did the effect ``key``.

        A claimed entry may belong to a replica that died after it warned the poster but
        before it acknowledged the entry; checking this first keeps the warning single.
        """
        try:
            return bool(await self.client.exists(DONE_PREFIX + key))
        except (RedisError, OSError) as exc:
            self._failed()
            log.warning("work.done_check_failed", error=type(exc).__name__)
            return False  # a repeat is better than a loss

    async def mark_done(self, key: str, ttl_seconds: int = 3600) -> None:
        """Record, straight after the effect, that ``key`` is done (see :meth:`already_done`).

        Retried while Redis is away (up to ``SETTLE_SECONDS``): the entry stays pending
        meanwhile, and without the mark whoever claims it would do the effect again.
        """
        if not await self._settle(
            lambda: self.client.set(DONE_PREFIX + key, b"1", ex=ttl_seconds), "done_mark"
        ):
            log.error("work.done_mark_failed")

    async def submit(self, job: Job) -> None:
        """Run a closure in this process (it cannot be shared); prefer :meth:`submit_event`."""
        task = asyncio.create_task(self._run_local(job))
        self._local.add(task)
        task.add_done_callback(self._local.discard)

    async def start(self) -> None:
        """Join the consumer group and start the workers and the claimer."""
        if self._tasks:
            return
        self._stopping = False
        await self._ensure_group()
        self._tasks = [asyncio.create_task(self._read(i)) for i in range(self.workers)]
        self._tasks.append(asyncio.create_task(self._claim()))
        self._tasks.append(asyncio.create_task(self._heartbeat()))

    async def join(self, timeout: float = 60.0) -> None:
        """Wait until the stream is empty and nothing is being handled here (for tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._local:
                await asyncio.gather(*self._local, return_exceptions=True)
            with contextlib.suppress(RedisError):
                self._depth = int(await self.client.xlen(self.stream))
                if self._depth == 0 and self._inflight == 0 and not self._local:
                    return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Finish what was accepted (or ``drain_seconds``), then stop; the rest stays in Redis."""
        if not self._tasks:
            return
        end = time.monotonic() + self.drain_seconds
        while time.monotonic() < end:
            try:
                waiting = int(await self.client.xlen(self.stream))
            except RedisError:
                break
            if waiting == 0 and self._inflight == 0:
                break
            await asyncio.sleep(0.05)
        self._stopping = True
        # Readers see the flag after their current block; in-flight jobs finish first.
        while self._inflight and time.monotonic() < end + self.drain_seconds:
            await asyncio.sleep(0.02)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._local:
            await asyncio.gather(*self._local, return_exceptions=True)
        self._tasks = []

    async def close(self) -> None:
        """Stop, then close the Redis connections."""
        await self.stop()
        await self.client.aclose()

    # --- inside -------------------------------------------------------------------------

    async def _ensure_group(self) -> None:
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _failed(self) -> None:
        self._failed_at = time.monotonic()

    async def _settle(self, op: Callable[[], Awaitable[Any]], what: str) -> bool:
        """Run ``op`` until Redis takes it (True), or give up after ``SETTLE_SECONDS``."""
        deadline = time.monotonic() + SETTLE_SECONDS
        tries = 0
        while True:
            try:
                await op()
                return True
            except (RedisError, OSError) as exc:
                self._failed()
                if time.monotonic() >= deadline:
                    return False
                if not tries:  # once, not every RETRY_PAUSE through an outage
                    log.warning(f"work.{what}_retry", error=type(exc).__name__)
                tries += 1
                await asyncio.sleep(RETRY_PAUSE)

    async def _read(self, n: int) -> None:
        while not self._stopping:
            try:
                got = await self.client.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: ">"},
                    count=1,
                    block=self.block_ms,
                )
            except ResponseError as exc:
                self._failed()
                if "NOGROUP" in str(exc):  # Redis restarted empty: make the group again
                    with contextlib.suppress(RedisError, OSError):
                        await self._ensure_group()
                    continue
                # Anything else (out of memory, a replica still loading): the worker must
                # outlive it, or this replica would quietly stop taking work.
                log.warning("work.redis_refused", worker=n, error=type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            except (RedisError, OSError) as exc:
                self._failed()
                log.warning("work.redis_unavailable", worker=n, error=type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            for _stream, entries in got or []:
                for entry_id, fields in entries:
                    await self._handle(entry_id, fields)

    async def _claim(self) -> None:
        """Take over entries another replica read but never finished (it died)."""
        interval = max(0.2, self.claim_after_ms / 4000)
        while not self._stopping:
            await asyncio.sleep(interval)
            if time.monotonic() - self._failed_at < self.claim_after_ms / 1000:
                # Redis was away just now: live replicas' heartbeats could not reach it, so
                # idle entries are not yet a sign of a dead one. Give them a claim period.
                continue
            try:
                start = "0-0"
                while True:
                    result = await self.client.xautoclaim(
                        self.stream,
                        self.group,
                        self.consumer,
                        min_idle_time=self.claim_after_ms,
                        start_id=start,
                        count=32,
                    )
                    start, entries = result[0], result[1]
                    # Entries trimmed away while pending come back as None-ish; Redis drops them.
                    live = [(i, f) for i, f in entries if f]
                    if live:
                        self.claimed += len(live)
                        log.warning("work.claimed", entries=len(live), consumer=self.consumer)
                    await asyncio.gather(*(self._handle(i, f) for i, f in live))
                    if start in (b"0-0", "0-0"):
                        break
                await self._forget_idle_consumers()
            except (RedisError, OSError) as exc:
                self._failed()
                log.warning("work.claim_failed", error=type(exc).__name__)

    async def _heartbeat(self) -> None:
        """Reset the idle time of entries still being handled here (slow is not dead).

        Without it a replica busy for longer than ``claim_after_seconds`` would see its
        work claimed by another and done twice.
        """
        interval = max(0.1, self.claim_after_ms / 3000)
        while not self._stopping:
            await asyncio.sleep(interval)
            held = list(self._held)
            if not held:
                continue
            try:
                await self.client.xclaim(
                    self.stream, self.group, self.consumer, 0, held, justid=True
                )
            except (RedisError, OSError) as exc:
                self._failed()
                log.warning("work.heartbeat_failed", error=type(exc).__name__)

    async def _forget_idle_consumers(self) -> None:
        for info in await self.client.xinfo_consumers(self.stream, self.group):
            name = info.get("name")
            name = name.decode() if isinstance(name, bytes) else name
            if (
                name != self.consumer
                and not info.get("pending")
                and (info.get("idle", 0) > FORGET_CONSUMER_MS)
            ):
                await self.client.xgroup_delconsumer(self.stream, self.group, name)

    async def _handle(self, entry_id: Any, fields: dict[Any, Any]) -> None:
        self._inflight += 1
        self._held.add(entry_id)
        try:
            # Cancelled here (a shutdown that ran out of time): not acknowledged, so the
            # entry stays pending and another replica claims it.
            await self._dispatch(fields)
            # Retried while Redis is away; if it never comes back in time the entry will be
            # claimed and done again (a repeat, never a loss).
            if not await self._settle(lambda: self._ack(entry_id), "ack"):
                log.error("work.ack_failed")
        finally:
            self._held.discard(entry_id)
            self._inflight -= 1

    async def _ack(self, entry_id: Any) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()

    async def _dispatch(self, fields: dict[Any, Any]) -> None:
        token = fields.get(b"job") or fields.get("job")
        try:
            data = json.loads(self._fernet.decrypt(token or b""))
            handler = self.handlers[data["kind"]]
            payload = data["payload"]
        except (InvalidToken, TypeError, ValueError, KeyError) as exc:
            # Not ours, another key, or a kind this version does not know: say so, drop it.
            self.failed += 1
            log.error("work.unreadable_entry", error=type(exc).__name__)
            return
        await self._call(lambda: handler(payload), data["kind"])

    async def _call(self, job: Callable[[], Awaitable[Any]], kind: str) -> None:
        try:
            await job()
            self.completed += 1
        except Exception as exc:  # one failed job must not stop the worker
            self.failed += 1
            log.error("job failed", kind=kind, error=type(exc).__name__)

    async def _run_local(self, job: Job) -> None:
        await self._call(job, "local")
