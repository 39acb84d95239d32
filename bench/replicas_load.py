"""Two replicas, one PostgreSQL, one Redis: signed Slack events at a fixed rate, one replica SIGKILLed.

Starts two ``discretion serve`` processes on different ports of 127.0.0.1 sharing a
fresh PostgreSQL database and an empty Redis database (the work queue is the Redis
stream: ``DISCRETION_QUEUE=redis``), with their Web API pointed at the fake Slack
of tests/fakes/slack_api.py. Signed ``message`` events, each naming a made-up
NHS number (so each must warn), go to the replicas in turn at ``--rate`` per
second. At ``--kill-at`` seconds one replica is SIGKILLed; from then on a request
that cannot reach it goes to the other one, as a load balancer would, and a
request cut off mid-way is sent again with the same event id, as Slack would.

Prints throughput, p50/p99 event-to-warning latency, and the checks: every
accepted event (HTTP 200) warned exactly once; none lost, none twice.
Usage: ``python bench/replicas_load.py [--rate 100 --duration 60 --kill-at 30]``.
``tests/test_replicas.py`` runs a short version of :func:`run_replicas`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))
from fakes.slack_api import FakeSlackApi  # noqa: E402
from loadgen import free_port, percentile  # noqa: E402
from slack_latency import SECRET, event, post  # noqa: E402

ADMIN_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Outcome:
    """What happened to the events of one run."""

    sent: int = 0
    accepted: int = 0
    resent: int = 0  # cut off by the kill and sent again to the other replica
    not_accepted: int = 0
    lost: list[str] = field(default_factory=list)  # accepted, never warned
    twice: list[str] = field(default_factory=list)  # warned more than once
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    killed_at: float | None = None
    spec_violations: int = 0
    lost_resent: int = 0  # of the lost, how many had been cut off by the kill and re-sent

    # From the first event sent to the last warning received (backlog included).
    span: float = 0.0

    @property
    def throughput(self) -> float:
        """Warned events per second, from the first event sent to the last warning."""
        return len(self.latencies_ms) / self.span if self.span else 0.0

    def lines(self) -> list[str]:
        """The figures, for a person."""
        return [
            f"  sent {self.sent} events in {self.seconds:.1f} s; accepted {self.accepted} "
            f"({self.resent} re-sent after the kill, {self.not_accepted} never accepted)",
            f"  throughput          {self.throughput:7.1f} warned events/s "
            f"(first event to last warning, {self.span:.1f} s)",
            f"  event-to-warning    p50 {percentile(self.latencies_ms, 50):7.1f} ms   "
            f"p99 {percentile(self.latencies_ms, 99):7.1f} ms   "
            f"max {max(self.latencies_ms, default=0):7.1f} ms",
            f"  lost (accepted, no warning): {len(self.lost)} ({self.lost_resent} of them re-sent)"
            f"   warned twice: {len(self.twice)}",
            f"  Web API calls outside Slack's spec: {self.spec_violations}",
        ]


async def _fresh_database() -> str:
    import asyncpg

    name = "discretion_replicas_" + secrets.token_hex(4)
    conn = await asyncpg.connect(ADMIN_POSTGRES)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_POSTGRES)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _empty_redis_db() -> int:
    """An empty Redis database number (1-15), so the run shares nothing with anyone."""
    import redis.asyncio as redis

    for db in random.sample(range(1, 16), 15):
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        try:
            if await client.dbsize() == 0:
                return db
        finally:
            await client.aclose()
    raise SystemExit("no empty Redis database among 1-15")


async def _flush_redis_db(db: int) -> None:
    import redis.asyncio as redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=db)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def _wait_ready(session: aiohttp.ClientSession, base: str, proc: subprocess.Popen) -> None:
    for _ in range(1200):
        if proc.poll() is not None:
            raise RuntimeError(f"a replica exited with status {proc.returncode}")
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{base}/readyz") as r:
                if r.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError("a replica did not become ready within 120 s")


async def run_replicas(
    *,
    rate: float,
    duration: float,
    kill_at: float | None,
    drain: float = 30.0,
    claim_seconds: float = 3.0,
    log_to: Path | None = None,
    burst: int = 0,
) -> Outcome:
    """Run the two-replica load; SIGKILL replica 2 at ``kill_at`` seconds (None: no kill).

    ``burst`` events are posted to replica 2 all at once just before the kill, so it
    surely dies holding accepted work that the other replica must take over.
    """
    fake = await FakeSlackApi().start()
    database = await _fresh_database()
    redis_db = await _empty_redis_db()
    workdir = tempfile.mkdtemp(prefix="discretion-replicas-")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-replicas",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "DISCRETION_QUEUE": "redis",
        "DISCRETION_QUEUE_CLAIM_SECONDS": str(claim_seconds),
        "DISCRETION_SECRET_KEY": secrets.token_urlsafe(40),
        "DISCRETION_LOG_LEVEL": "WARNING",
    }
    for name in (
        "SLACK_APP_TOKEN",
        "SLACK_OAUTH_CLIENT_ID",
        "SLACK_OAUTH_CLIENT_SECRET",
        "DISCRETION_CONFIG",
    ):
        env.pop(name, None)
    exe = Path(sys.executable).with_name("discretion")
    ports = [free_port(), free_port()]
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    outcome = Outcome()
    try:
        for n, port in enumerate(ports):
            folder = Path(workdir) / str(port)
            folder.mkdir()
            out = open(log_to / f"replica{n + 1}.log", "wb") if log_to else subprocess.DEVNULL  # noqa: SIM115
            logs.append(out)
            procs.append(
                subprocess.Popen(
                    [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=folder,
                    env=env,
                    stdout=out,
                    stderr=out,
                )
            )
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30)
        ) as session:
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base, proc in zip(bases, procs, strict=True):
                await _wait_ready(session, base, proc)
            urls = [f"{base}/slack/events" for base in bases]
            alive = [True, True]
            rng = random.Random(11)
            # Warm up both (first assessments load lazily); not counted.
            warm = 10
            await asyncio.gather(
                *(post(session, urls[i % 2], event(-1 - i, rng)) for i in range(warm))
            )
            await fake.wait_for("chat.postEphemeral", warm, timeout=60)
            fake.clear()

            total = int(rate * duration)
            sent_at: dict[str, float] = {}
            accepted: set[str] = set()
            resent: set[str] = set()

            async def deliver(i: int) -> None:
                body = event(i, rng)
                user = body["event"]["user"]
                sent_at[user] = time.monotonic()
                target = i % 2
                for attempt in range(3):
                    if not alive[target]:
                        target = 1 - target
                    try:
                        _done, status = await post(session, urls[target], body)
                    except (aiohttp.ClientError, TimeoutError):
                        # Cut off or refused: the balancer (or Slack's retry) tries the other.
                        if attempt == 0:
                            outcome.resent += 1
                            resent.add(user)
                        target = 1 - target
                        continue
                    if status == 200:
                        accepted.add(user)
                        return
                    target = 1 - target
                outcome.not_accepted += 1

            began = time.monotonic()
            tasks = []
            for i in range(total):
                now = time.monotonic() - began
                if kill_at is not None and outcome.killed_at is None and now >= kill_at:
                    held = [event(total + j, rng) for j in range(burst)]
                    for body in held:
                        sent_at[body["event"]["user"]] = time.monotonic()
                    answers = await asyncio.gather(*(post(session, urls[1], b) for b in held))
                    accepted.update(
                        b["event"]["user"]
                        for b, (_, status) in zip(held, answers, strict=True)
                        if status == 200
                    )
                    outcome.sent += burst
                    procs[1].send_signal(signal.SIGKILL)
                    alive[1] = False
                    outcome.killed_at = now
                delay = i / rate - now
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(deliver(i)))
            await asyncio.gather(*tasks)
            outcome.seconds = time.monotonic() - began
            outcome.sent += total
            outcome.accepted = len(accepted)
            end = time.monotonic() + drain
            while time.monotonic() < end:
                warned = {c.args["user"] for c in fake.calls if c.method == "chat.postEphemeral"}
                if accepted <= warned:
                    break
                await asyncio.sleep(0.1)
            # A little longer, so a warning sent twice has time to show.
            await asyncio.sleep(min(2.0, claim_seconds))
            warnings = [c for c in fake.calls if c.method == "chat.postEphemeral"]
            per_user = Counter(c.args["user"] for c in warnings)
            first: dict[str, float] = {}
            for c in warnings:
                first.setdefault(c.args["user"], c.at)
            outcome.lost = sorted(u for u in accepted if per_user[u] == 0)
            outcome.twice = sorted(u for u, n in per_user.items() if n > 1)
            outcome.latencies_ms = [(first[u] - sent_at[u]) * 1000 for u in accepted if u in first]
            outcome.spec_violations = len(fake.violations)
            if warnings:
                outcome.span = max(c.at for c in warnings) - began
            outcome.lost_resent = len(set(outcome.lost) & resent)
            return outcome
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for out in logs:
            if out is not subprocess.DEVNULL:
                out.close()
        await fake.stop()
        await _drop_database(database)
        await _flush_redis_db(redis_db)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="events per second (100)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending (60)")
    parser.add_argument(
        "--kill-at", type=float, default=30.0, help="SIGKILL replica 2 after this many s (30)"
    )
    parser.add_argument("--no-kill", action="store_true", help="keep both replicas running")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument(
        "--claim-seconds", type=float, default=3.0, help="idle time before work is claimed (3)"
    )
    parser.add_argument("--logs", type=Path, help="a folder for the replicas' logs")
    parser.add_argument(
        "--burst", type=int, default=30, help="events sent to replica 2 just before the kill"
    )
    args = parser.parse_args()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    outcome = asyncio.run(
        run_replicas(
            rate=args.rate,
            duration=args.duration,
            kill_at=None if args.no_kill else args.kill_at,
            drain=args.drain,
            claim_seconds=args.claim_seconds,
            log_to=args.logs,
            burst=args.burst,
        )
    )
    killed = (
        f"replica 2 SIGKILLed at {outcome.killed_at:.1f} s"
        if outcome.killed_at is not None
        else "no replica killed"
    )
    print(
        f"Two replicas (PostgreSQL + Redis stream queue), {args.rate:g} events/s for "
        f"{args.duration:g} s, {killed}; load average before: {load_before}"
    )
    for line in outcome.lines():
        print(line)
    ok = not outcome.lost and not outcome.twice and not outcome.not_accepted
    return 0 if ok and not outcome.spec_violations else 1


if __name__ == "__main__":
    sys.exit(main())
