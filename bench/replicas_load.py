"""Two replicas, one PostgreSQL, one Redis: signed Slack events at a fixed rate; kills and restarts.

Starts two ``discretion serve`` processes on different ports of 127.0.0.1 sharing a
fresh PostgreSQL database and an empty Redis database (the work queue is the Redis
stream: ``DISCRETION_QUEUE=redis``), with their Web API pointed at the fake Slack
of tests/fakes/slack_api.py. Signed ``message`` events, each naming a made-up
NHS number (so each must warn), go to the replicas in turn at ``--rate`` per
second. At ``--kill-at`` seconds one replica is SIGKILLed; from then on a request
that cannot reach it goes to the other one, as a load balancer would. A request
cut off mid-way, or answered with anything but 2xx, is sent again with the same
event id and ``X-Slack-Retry-Num``, as Slack would (at once, then after 1 and 5
minutes; here 20 times sooner).

The kill is random by default: replica 2 may or may not hold work at that moment.
``--black-hole`` rigs it: a second before the kill the fake Slack stops answering
replica 2 (its requests are neither answered nor delivered, as if they never
reached Slack), and the kill waits until at least one of its warnings is stuck
there, so it surely dies holding accepted work that the survivor must claim.

``--restart redis|postgres|both`` restarts the services mid-run instead. The run
then uses private ones (bench/private_services.py), never the machine's shared
servers: at ``--restart-at`` seconds they are stopped (Redis with SIGTERM,
PostgreSQL with ``pg_ctl stop -m fast``), kept down until both replicas' /readyz
say "not ready" and ``--down`` seconds more, then started again on the same ports.
The replicas are not restarted; /readyz must say "ready" again, and every
accepted event must still get exactly one warning.

Prints throughput, p50/p99 event-to-warning latency, and the checks: every
accepted event (HTTP 200) warned exactly once; none lost, none twice.
Usage: ``python bench/replicas_load.py [--rate 100 --duration 60 --kill-at 30]``
or ``[--restart both --restart-at 30]``. ``tests/test_replicas.py`` and
``tests/test_faults.py`` run short versions of :func:`run_replicas`.
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
from private_services import PrivatePostgres, PrivateRedis  # noqa: E402
from slack_latency import SECRET, event, post  # noqa: E402

ADMIN_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
# Slack retries an event it got no 2xx for at once, then after 1 and 5 minutes.
# Scaled down 20 times, so that a short run sees them all.
SLACK_RETRY_DELAYS = (0.0, 3.0, 15.0)
# How long before the kill the fake Slack stops answering the doomed replica.
HOLE_LEAD = 1.0
RESTARTABLE = ("redis", "postgres", "both")


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
    retries: int = 0  # Slack's retries sent (X-Slack-Retry-Num), for any reason
    refused: int = 0  # answers other than 2xx (an event the replica could not queue)
    unanswered: int = 0  # requests to a live replica that got no HTTP answer at all
    swallowed: int = 0  # requests of the doomed replica that fell into the black hole
    restarted: str | None = None  # which services were restarted mid-run
    outage_seconds: float = 0.0  # from stopping them to both replicas ready again
    not_ready_seen: list[bool] = field(default_factory=list)  # per replica, during the outage
    # What each replica answered to an event sent it while the services were down.
    outage_answers: list[int] = field(default_factory=list)
    # Warnings Slack had taken but not yet answered when the services went down.
    in_flight: int = 0
    ready_again: list[bool] = field(default_factory=list)  # per replica, after it
    readyz_unanswered: int = 0  # /readyz polls that got no HTTP answer
    exited: list[int | None] = field(default_factory=list)  # per replica: None if still running

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
            f"  Slack retries sent: {self.retries}; non-2xx answers: {self.refused}; "
            f"no answer from a live replica: {self.unanswered}",
        ] + (
            [
                f"  {self.restarted} restarted: outage {self.outage_seconds:.1f} s "
                f"(stop to both ready); /readyz not ready during it: {self.not_ready_seen}, "
                f"ready after: {self.ready_again}, unanswered probes: {self.readyz_unanswered}",
                f"  an event sent to each replica while down was answered {self.outage_answers}; "
                f"warnings in flight as it went down: {self.in_flight}",
                f"  replicas still running, never restarted: "
                f"{[code is None for code in self.exited]}",
            ]
            if self.restarted
            else []
        )


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


async def _poll_ready(
    session: aiohttp.ClientSession, base: str, want: int, outcome: Outcome, timeout: float
) -> bool:
    """Poll ``base``/readyz until it answers ``want`` (200 or 503); False at the timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            async with session.get(f"{base}/readyz") as r:
                await r.read()
                if r.status == want:
                    return True
        except (aiohttp.ClientError, TimeoutError):
            outcome.readyz_unanswered += 1  # a replica that answers nothing is not "recovering"
        await asyncio.sleep(0.1)
    return False


async def run_replicas(
    *,
    rate: float,
    duration: float,
    kill_at: float | None,
    drain: float = 30.0,
    claim_seconds: float = 3.0,
    log_to: Path | None = None,
    burst: int = 0,
    black_hole: bool = False,
    restart: str | None = None,
    restart_at: float | None = None,
    down: float = 2.0,
) -> Outcome:
    """Run the two-replica load; SIGKILL replica 2 at ``kill_at`` seconds (None: no kill).

    ``burst`` events are posted to replica 2 all at once just before the kill.
    ``black_hole`` cuts replica 2 off from the fake Slack shortly before the kill and
    kills it only once a warning of its own is stuck, so it surely dies holding
    accepted work that the other replica must take over. ``restart`` ("redis",
    "postgres" or "both") stops those (private) services at ``restart_at`` seconds
    and starts them again once both replicas report not ready and ``down`` s passed.
    """
    if restart is not None and restart not in RESTARTABLE:
        raise ValueError(f"restart must be one of {RESTARTABLE}")
    restarting = {"redis", "postgres"} if restart == "both" else {restart} - {None}
    fake = await FakeSlackApi().start()
    private_redis = private_pg = None
    database = None
    redis_db = None
    outcome = Outcome(restarted=restart)
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        # The shared servers are never stopped: a run that restarts one brings its own.
        if "redis" in restarting:
            private_redis = PrivateRedis()
            await asyncio.to_thread(private_redis.start)
            redis_url = private_redis.url
        else:
            redis_db = await _empty_redis_db()
            redis_url = f"redis://127.0.0.1:6379/{redis_db}"
        if "postgres" in restarting:
            private_pg = await asyncio.to_thread(PrivatePostgres)
            await asyncio.to_thread(private_pg.start)
            database_url = private_pg.url
        else:
            database = await _fresh_database()
            database_url = f"postgresql://postgres@127.0.0.1:5432/{database}"
        workdir = tempfile.mkdtemp(prefix="discretion-replicas-")
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-replicas",
            "SLACK_SIGNING_SECRET": SECRET,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
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
        for n, port in enumerate(ports):
            folder = Path(workdir) / str(port)
            folder.mkdir()
            out = open(log_to / f"replica{n + 1}.log", "wb") if log_to else subprocess.DEVNULL  # noqa: SIM115
            logs.append(out)
            procs.append(
                subprocess.Popen(
                    [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=folder,
                    # Each replica its own base URL on the fake, so one can be cut off alone.
                    env={**env, "SLACK_API_URL": fake.url_for(f"r{n + 1}")},
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

            async def deliver(body: dict, target: int, tried: int = 0, reason: str = "") -> None:
                """Send one event as Slack does: retried, same id, until a 2xx or out of tries.

                ``tried``: attempts already made (with ``reason``), so this goes on from there.
                """
                user = body["event"]["user"]
                for retry in range(tried, 1 + len(SLACK_RETRY_DELAYS)):
                    if retry:
                        await asyncio.sleep(SLACK_RETRY_DELAYS[retry - 1])
                        outcome.retries += 1
                    if not alive[target]:
                        target = 1 - target
                    extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": reason}
                    try:
                        _done, status = await post(
                            session, urls[target], body, extra if retry else None
                        )
                    except (aiohttp.ClientError, TimeoutError):
                        if alive[target]:
                            outcome.unanswered += 1
                        elif user not in resent:  # cut off by the kill
                            outcome.resent += 1
                            resent.add(user)
                        # The balancer (or Slack's retry) tries the other.
                        reason, target = "http_timeout", 1 - target
                        continue
                    if 200 <= status < 300:
                        accepted.add(user)
                        return
                    outcome.refused += 1
                    reason, target = "http_error", 1 - target
                outcome.not_accepted += 1

            began = time.monotonic()

            async def until(at: float) -> None:
                await asyncio.sleep(max(0.0, began + at - time.monotonic()))

            async def kill() -> None:
                assert kill_at is not None
                if black_hole:
                    await until(kill_at - HOLE_LEAD)
                    fake.black_hole("r2")
                await until(kill_at)
                held = [event(total + j, rng) for j in range(burst)]
                for body in held:
                    sent_at[body["event"]["user"]] = time.monotonic()
                outcome.sent += burst
                sending = [asyncio.create_task(deliver(b, 1)) for b in held]
                if black_hole:
                    # Replica 2 now holds a warning it cannot finish; a moment more lets
                    # anything answered before the hole be marked done, as it would be.
                    await asyncio.gather(*sending)
                    await fake.wait_swallowed(1, timeout=30)
                    await asyncio.sleep(0.5)
                    outcome.swallowed = fake.swallowed
                else:
                    await asyncio.gather(*sending)
                procs[1].send_signal(signal.SIGKILL)
                alive[1] = False
                outcome.killed_at = time.monotonic() - began

            async def outage() -> None:
                assert restart_at is not None
                await until(restart_at)
                # Slack holds its answers, so warnings are surely in flight as the services
                # go: their "done" marks and acknowledgements then meet a Redis that is away.
                fake.hold()
                await fake.wait_held(1, timeout=30)
                stopped = time.monotonic()
                if private_redis is not None:
                    await asyncio.to_thread(private_redis.stop)
                if private_pg is not None:
                    await asyncio.to_thread(private_pg.stop)
                outcome.in_flight = fake.held
                outcome.not_ready_seen = list(
                    await asyncio.gather(
                        *(_poll_ready(session, b, 503, outcome, timeout=30) for b in bases)
                    )
                )
                fake.release()
                # One event to each replica while down, answered before anything comes back:
                # with Redis away it cannot be queued, so it must not be a 2xx (Slack retries).
                probes = [event(total + burst + n, rng) for n in range(2)]
                for body in probes:
                    sent_at[body["event"]["user"]] = time.monotonic()
                outcome.sent += len(probes)
                answers = await asyncio.gather(
                    *(post(session, urls[n], b) for n, b in enumerate(probes)),
                    return_exceptions=True,
                )
                outcome.outage_answers = [a[1] if isinstance(a, tuple) else -1 for a in answers]
                retried = []
                for n, (body, status) in enumerate(
                    zip(probes, outcome.outage_answers, strict=True)
                ):
                    if 200 <= status < 300:
                        accepted.add(body["event"]["user"])
                    else:
                        # Slack's retries, from the first on; they go on after the recovery.
                        retried.append(asyncio.create_task(deliver(body, n, 1, "http_error")))
                await asyncio.sleep(down)
                if private_redis is not None:
                    await asyncio.to_thread(private_redis.start)
                if private_pg is not None:
                    await asyncio.to_thread(private_pg.start)
                outcome.ready_again = list(
                    await asyncio.gather(
                        *(_poll_ready(session, b, 200, outcome, timeout=60) for b in bases)
                    )
                )
                outcome.outage_seconds = time.monotonic() - stopped
                await asyncio.gather(*retried)

            faults = []
            if kill_at is not None:
                faults.append(asyncio.create_task(kill()))
            if restart is not None and restart_at is not None:
                faults.append(asyncio.create_task(outage()))
            tasks = []
            for i in range(total):
                await until(i / rate)
                body = event(i, rng)
                sent_at[body["event"]["user"]] = time.monotonic()
                tasks.append(asyncio.create_task(deliver(body, i % 2)))
            await asyncio.gather(*tasks, *faults)
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
            outcome.exited = [proc.poll() for proc in procs]
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
        if database is not None:
            await _drop_database(database)
        if redis_db is not None:
            await _flush_redis_db(redis_db)
        if private_redis is not None:
            await asyncio.to_thread(private_redis.close)
        if private_pg is not None:
            await asyncio.to_thread(private_pg.close)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="events per second (100)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending (60)")
    parser.add_argument(
        "--kill-at",
        type=float,
        help="SIGKILL replica 2 after this many s (30; with --restart, no kill unless given)",
    )
    parser.add_argument("--no-kill", action="store_true", help="keep both replicas running")
    parser.add_argument(
        "--black-hole",
        action="store_true",
        help="cut replica 2 off from Slack just before the kill, so it dies holding work",
    )
    parser.add_argument(
        "--restart", choices=RESTARTABLE, help="restart (private) services mid-run instead"
    )
    parser.add_argument(
        "--restart-at", type=float, default=30.0, help="stop the services after this many s (30)"
    )
    parser.add_argument(
        "--down", type=float, default=2.0, help="s kept down once the replicas say not ready (2)"
    )
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument(
        "--claim-seconds", type=float, default=3.0, help="idle time before work is claimed (3)"
    )
    parser.add_argument("--logs", type=Path, help="a folder for the replicas' logs")
    parser.add_argument(
        "--burst", type=int, default=30, help="events sent to replica 2 just before the kill"
    )
    args = parser.parse_args()
    kill_at = args.kill_at
    if kill_at is None and not args.restart:
        kill_at = 30.0
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    outcome = asyncio.run(
        run_replicas(
            rate=args.rate,
            duration=args.duration,
            kill_at=None if args.no_kill else kill_at,
            drain=args.drain,
            claim_seconds=args.claim_seconds,
            log_to=args.logs,
            burst=args.burst,
            black_hole=args.black_hole,
            restart=args.restart,
            restart_at=args.restart_at if args.restart else None,
            down=args.down,
        )
    )
    killed = (
        f"replica 2 SIGKILLed at {outcome.killed_at:.1f} s"
        + (f" (black hole: {outcome.swallowed} warning(s) stuck)" if args.black_hole else "")
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
    if args.restart:
        ok = ok and recovered(outcome)
    return 0 if ok and not outcome.spec_violations else 1


def recovered(outcome: Outcome) -> bool:
    """The restart checks: readiness went down and came back, and no replica stopped."""
    return (
        outcome.not_ready_seen == [True, True]
        and outcome.ready_again == [True, True]
        and outcome.exited == [None, None]
        and not outcome.unanswered
        and not outcome.readyz_unanswered
    )


if __name__ == "__main__":
    sys.exit(main())
