"""Two replicas, one PostgreSQL, one Redis: signed Slack events and Teams activities; kills, restarts.

Starts two replicas on different ports of 127.0.0.1 sharing a fresh PostgreSQL
database and an empty Redis database (the work queues are Redis streams:
``DISCRETION_QUEUE=redis``; Slack and Teams each have their own). Each replica is
``discretion serve`` as it is (bench/replica_serve.py), with Slack configured by
the environment and its Web API pointed at the fake Slack of
tests/fakes/slack_api.py, and Teams mounted against a fake Bot Framework issuer
(tests/fakes/openid.py: inbound tokens are checked for real) with a fixed outbound
token per replica, sending to the fake Bot Connector of tests/fakes/bot_connector.py.

Signed Slack ``message`` events and Teams channel messages (real activity JSON
from shared/schemas/teams/activities), each naming a made-up NHS number (so each
must warn) and each from a poster of its own (the worst case: every Teams warning
opens a new 1:1 chat), go to the replicas in turn at ``--rate`` per second in
all; ``--teams-share`` of them are Teams (spread evenly; 0 gives the Slack-only
run). Warnings are counted per event: a Slack ephemeral names its poster, a Teams
card carries its message's activity id in its buttons.

At ``--kill-at`` seconds one replica is SIGKILLed; from then on a request that
cannot reach it goes to the other one, as a load balancer would. A request cut
off mid-way, or answered with anything but 2xx, is sent again with the same event
or activity id: Slack adds ``X-Slack-Retry-Num`` (at once, then after 1 and 5
minutes; here 20 times sooner), and the Bot Framework channel is given the same
schedule.

The kill is random by default: replica 2 may or may not hold work at that moment.
``--black-hole`` rigs it: a second before the kill the fake Slack and the fake
Bot Connector stop answering replica 2 (the connector knows it by its outbound
token, since any replica may send for any activity; its requests are neither
answered nor delivered, as if they never reached Slack or Teams), and the kill
waits until at least one warning of each platform is stuck there, so it surely
dies holding accepted work that the survivor must claim.

``--restart redis|postgres|both`` restarts the services mid-run instead. The run
then uses private ones (bench/private_services.py), never the machine's shared
servers: at ``--restart-at`` seconds they are stopped (Redis with SIGTERM,
PostgreSQL with ``pg_ctl stop -m fast``), kept down until both replicas' /readyz
say "not ready" and ``--down`` seconds more, then started again on the same ports.
The replicas are not restarted; /readyz must say "ready" again, and every
accepted event must still get exactly one warning.

Prints, for Slack, Teams and both: throughput, p50/p99 event-to-warning latency,
and the checks: every accepted event (HTTP 2xx) warned exactly once; none lost,
none twice. Usage: ``python bench/replicas_load.py [--rate 100 --duration 60
--kill-at 30 --teams-share 0.5]`` or ``[--restart both --restart-at 30]``.
``tests/test_replicas.py`` and ``tests/test_faults.py`` run short versions of
:func:`run_replicas`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))
from fakes.bot_connector import Call as ConnectorCall  # noqa: E402
from fakes.bot_connector import FakeBotConnector  # noqa: E402
from fakes.openid import FakeOpenId  # noqa: E402
from fakes.slack_api import FakeSlackApi  # noqa: E402
from loadgen import free_port, percentile  # noqa: E402
from private_services import PrivatePostgres, PrivateRedis  # noqa: E402
from replica_serve import OPENID_ENV, TOKEN_ENV  # noqa: E402
from slack_latency import SECRET, event, post  # noqa: E402
from teams_latency import ACTIVITY, APP_ID, activity  # noqa: E402

ADMIN_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
# Slack retries an event it got no 2xx for at once, then after 1 and 5 minutes.
# Scaled down 20 times, so that a short run sees them all.
SLACK_RETRY_DELAYS = (0.0, 3.0, 15.0)
# The Bot Framework channel also re-sends an activity that got no 2xx (same id); it
# documents no schedule, so it is given Slack's.
TEAMS_RETRY_DELAYS = SLACK_RETRY_DELAYS
# How long before the kill the fakes stop answering the doomed replica.
HOLE_LEAD = 1.0
RESTARTABLE = ("redis", "postgres", "both")
SLACK, TEAMS = "slack", "teams"
# Each replica's outbound token: how the fake Bot Connector tells the senders apart.
TEAMS_TOKENS = ("bench-outbound-r1", "bench-outbound-r2")


@dataclass
class Tally:
    """What happened to one platform's events in a run (or to all of them, added up)."""

    sent: int = 0
    accepted: int = 0
    resent: int = 0  # cut off by the kill and sent again to the other replica
    not_accepted: int = 0
    lost: list[str] = field(default_factory=list)  # accepted, never warned
    twice: list[str] = field(default_factory=list)  # warned more than once
    latencies_ms: list[float] = field(default_factory=list)
    lost_resent: int = 0  # of the lost, how many had been cut off by the kill and re-sent
    retries: int = 0  # the platform's retries sent, for any reason
    refused: int = 0  # answers other than 2xx (an event the replica could not queue)
    unanswered: int = 0  # requests to a live replica that got no HTTP answer at all
    swallowed: int = 0  # requests of the doomed replica that fell into the black hole
    # Events whose warning fell into the hole (so the dead replica held them), and of
    # those, how many the survivor then warned for exactly once (Teams only: the fake
    # Slack does not say what it swallowed).
    stuck: int = 0
    rescued: int = 0
    # From the first event sent to the last warning received (backlog included).
    span: float = 0.0

    @property
    def throughput(self) -> float:
        """Warned events per second, from the first event sent to the last warning."""
        return len(self.latencies_ms) / self.span if self.span else 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            sent=self.sent + other.sent,
            accepted=self.accepted + other.accepted,
            resent=self.resent + other.resent,
            not_accepted=self.not_accepted + other.not_accepted,
            lost=self.lost + other.lost,
            twice=self.twice + other.twice,
            latencies_ms=self.latencies_ms + other.latencies_ms,
            lost_resent=self.lost_resent + other.lost_resent,
            retries=self.retries + other.retries,
            refused=self.refused + other.refused,
            unanswered=self.unanswered + other.unanswered,
            swallowed=self.swallowed + other.swallowed,
            stuck=self.stuck + other.stuck,
            rescued=self.rescued + other.rescued,
            span=max(self.span, other.span),
        )

    def row(self, name: str) -> str:
        """One line of the figures table."""
        lat = self.latencies_ms
        return (
            f"  {name:<6}{self.sent:>7}{self.accepted:>9}{self.resent:>8}{self.not_accepted:>6}"
            f"{len(self.lost):>6}{len(self.twice):>6}{self.throughput:>10.1f}"
            f"{percentile(lat, 50):>9.1f}{percentile(lat, 99):>9.1f}{max(lat, default=0):>9.1f}"
        )


HEADER = (
    f"  {'':<6}{'sent':>7}{'accepted':>9}{'re-sent':>8}{'never':>6}{'lost':>6}{'twice':>6}"
    f"{'warned/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
)


@dataclass
class Outcome:
    """What happened to the events of one run: per platform, and for the run."""

    slack: Tally = field(default_factory=Tally)
    teams: Tally = field(default_factory=Tally)
    seconds: float = 0.0
    killed_at: float | None = None
    spec_violations: int = 0
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

    def tally(self, kind: str) -> Tally:
        return self.slack if kind == SLACK else self.teams

    @property
    def total(self) -> Tally:
        """Both platforms together."""
        return self.slack + self.teams

    # The run's figures, both platforms together (what the checks look at first).
    sent = property(lambda self: self.total.sent)
    accepted = property(lambda self: self.total.accepted)
    resent = property(lambda self: self.total.resent)
    not_accepted = property(lambda self: self.total.not_accepted)
    lost = property(lambda self: self.total.lost)
    twice = property(lambda self: self.total.twice)
    latencies_ms = property(lambda self: self.total.latencies_ms)
    lost_resent = property(lambda self: self.total.lost_resent)
    retries = property(lambda self: self.total.retries)
    refused = property(lambda self: self.total.refused)
    unanswered = property(lambda self: self.total.unanswered)
    swallowed = property(lambda self: self.total.swallowed)
    span = property(lambda self: self.total.span)
    throughput = property(lambda self: self.total.throughput)

    def lines(self) -> list[str]:
        """The figures, for a person."""
        total = self.total
        shown = [(n, t) for n, t in (("Slack", self.slack), ("Teams", self.teams)) if t.sent]
        out = [
            f"  sent {total.sent} events in {self.seconds:.1f} s; throughput counts warned "
            f"events from the first sent to the last warning ({total.span:.1f} s); latency is "
            "event to warning; re-sent: cut off by the kill; never: never accepted",
            HEADER,
            *(t.row(n) for n, t in shown),
            total.row("all"),
        ]
        for name, t in shown:
            out.append(
                f"  {name}: retries sent {t.retries}; non-2xx answers {t.refused}; "
                f"no answer from a live replica {t.unanswered}; lost after a re-send "
                f"{t.lost_resent}"
                + (f"; black hole: {t.swallowed} request(s)" if t.swallowed else "")
                + (
                    f", {t.stuck} event(s) stuck, {t.rescued} of them warned once by the survivor"
                    if t.stuck
                    else ""
                )
            )
        out.append(f"  Web API calls outside Slack's spec: {self.spec_violations}")
        if self.restarted:
            out += [
                f"  {self.restarted} restarted: outage {self.outage_seconds:.1f} s "
                f"(stop to both ready); /readyz not ready during it: {self.not_ready_seen}, "
                f"ready after: {self.ready_again}, unanswered probes: {self.readyz_unanswered}",
                f"  an event sent to each replica while down was answered {self.outage_answers}; "
                f"warnings in flight as it went down: {self.in_flight}",
                f"  replicas still running, never restarted: "
                f"{[code is None for code in self.exited]}",
            ]
        return out


def kind_of(n: int, teams_share: float) -> str:
    """The platform of the ``n``-th event: ``teams_share`` of them Teams, spread evenly."""
    return TEAMS if math.floor((n + 1) * teams_share) > math.floor(n * teams_share) else SLACK


def _card_message_id(card: dict[str, Any]) -> str | None:
    """The activity id a warning card is about (its buttons carry the message's reference)."""
    for action in card.get("actions") or []:
        ref = (action.get("data") or {}).get("ref")
        if isinstance(ref, dict) and ref.get("message_id"):
            return str(ref["message_id"])
    return None


def teams_warnings(calls: list[ConnectorCall]) -> list[tuple[str, ConnectorCall]]:
    """(activity id, call) for each warning sent: a card in a 1:1 chat, or a fallback reply."""
    out = []
    for c in calls:
        if c.path.endswith("/activities"):
            for a in c.body.get("attachments") or []:
                found = _card_message_id(a.get("content") or {})
                if found:
                    out.append((found, c))
        elif "/activities/" in c.path:  # the no-data reply in the message's own thread
            out.append((unquote(c.path.rsplit("/", 1)[1]), c))
    return out


async def post_activity(
    session: aiohttp.ClientSession, url: str, body: dict, headers: dict[str, str]
) -> int:
    """Send one activity as the Bot Framework channel does; the HTTP status."""
    async with session.post(url, data=json.dumps(body), headers=headers) as r:
        await r.read()
        return r.status


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
    teams_share: float = 0.0,
    teams_posters: int = 0,
) -> Outcome:
    """Run the two-replica load; SIGKILL replica 2 at ``kill_at`` seconds (None: no kill).

    ``teams_share`` of the events (0 to 1) are Teams activities, the rest Slack events.
    ``teams_posters``: how many people post them, in turn (0: a new poster each time, so
    every card first opens a 1:1 chat; the worst case). With a pool, most cards go to a
    chat the server already knows, as when the same staff post all day.
    ``burst`` events are posted to replica 2 all at once just before the kill.
    ``black_hole`` cuts replica 2 off from the fake Slack and Bot Connector shortly
    before the kill and kills it only once a warning of its own is stuck (one of each
    platform sent), so it surely dies holding accepted work that the other replica must
    take over. ``restart`` ("redis", "postgres" or "both") stops those (private)
    services at ``restart_at`` seconds and starts them again once both replicas report
    not ready and ``down`` s passed.
    """
    if restart is not None and restart not in RESTARTABLE:
        raise ValueError(f"restart must be one of {RESTARTABLE}")
    if not 0.0 <= teams_share <= 1.0:
        raise ValueError("teams_share must be between 0 and 1")
    restarting = {"redis", "postgres"} if restart == "both" else {restart} - {None}
    fake = await FakeSlackApi().start()
    # Teams is mounted on every run, so Slack-only and mixed runs start the same servers.
    openid = FakeOpenId().start()  # its own thread: botbuilder's key fetch is blocking
    connector = await FakeBotConnector().start()
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
            OPENID_ENV: openid.metadata_url,
        }
        for name in (
            "SLACK_APP_TOKEN",
            "SLACK_OAUTH_CLIENT_ID",
            "SLACK_OAUTH_CLIENT_SECRET",
            "DISCRETION_CONFIG",
            "MICROSOFT_APP_ID",
            "MICROSOFT_APP_PASSWORD",
        ):
            env.pop(name, None)
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            folder = Path(workdir) / str(port)
            folder.mkdir()
            out = open(log_to / f"replica{n + 1}.log", "wb") if log_to else subprocess.DEVNULL  # noqa: SIM115
            logs.append(out)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(BENCH / "replica_serve.py"),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                    ],
                    cwd=folder,
                    # Each replica its own base URL on the fake Slack and its own token to
                    # the fake Bot Connector, so that one can be cut off alone.
                    env={
                        **env,
                        "SLACK_API_URL": fake.url_for(f"r{n + 1}"),
                        TOKEN_ENV: TEAMS_TOKENS[n],
                    },
                    stdout=out,
                    stderr=out,
                )
            )
        template = json.loads(ACTIVITY.read_text())
        # One channel token for the whole run, as the Bot Framework signs them (3 h life).
        token = openid.token(audience=APP_ID, service_url=connector.url, lifetime=3 * 3600)
        teams_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30)
        ) as session:
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base, proc in zip(bases, procs, strict=True):
                await _wait_ready(session, base, proc)
            urls = {
                SLACK: [f"{base}/slack/events" for base in bases],
                TEAMS: [f"{base}/api/messages" for base in bases],
            }
            alive = [True, True]
            rng = random.Random(11)
            # A poster per activity (as Slack's events have), so a card's 1:1 chat names it.
            poster_of: dict[str, str] = {}

            def make(kind: str, i: int) -> tuple[str, dict]:
                """The ``i``-th event of ``kind``, and the id its warnings are counted by."""
                if kind == SLACK:
                    body = event(i, rng)
                    return body["event"]["user"], body
                body = activity(template, i, connector.url, rng)
                if teams_posters:
                    body["from"]["aadObjectId"] = str(uuid.UUID(int=(i % teams_posters) + 1))
                poster_of[body["from"]["aadObjectId"]] = body["id"]
                return body["id"], body

            # Warm up both (first assessments load lazily); not counted.
            warm = 10
            warming = [(SLACK, urls[SLACK][i % 2], make(SLACK, -1 - i)[1]) for i in range(warm)]
            if teams_share:
                warming += [
                    (TEAMS, urls[TEAMS][i % 2], make(TEAMS, -1 - i)[1]) for i in range(warm)
                ]
            await asyncio.gather(
                *(
                    post(session, url, body)
                    if kind == SLACK
                    else post_activity(session, url, body, teams_headers)
                    for kind, url, body in warming
                )
            )
            await fake.wait_for("chat.postEphemeral", warm, timeout=60)
            if teams_share:
                end = time.monotonic() + 60
                while len(teams_warnings(connector.calls)) < warm and time.monotonic() < end:
                    await asyncio.sleep(0.05)
            fake.clear()
            connector.calls.clear()
            poster_of.clear()

            total = int(rate * duration)
            sent_at: dict[str, dict[str, float]] = {SLACK: {}, TEAMS: {}}
            accepted: dict[str, set[str]] = {SLACK: set(), TEAMS: set()}
            resent: dict[str, set[str]] = {SLACK: set(), TEAMS: set()}
            # How many of each platform have gone out: each platform's own turn-taking.
            turns: Counter[str] = Counter()

            def new_event(n: int) -> tuple[str, str, dict]:
                """(kind, id, body) of the ``n``-th event of the run; counted as sent now."""
                kind = kind_of(n, teams_share)
                key, body = make(kind, n)
                sent_at[kind][key] = time.monotonic()
                outcome.tally(kind).sent += 1
                return kind, key, body

            async def deliver(
                kind: str, key: str, body: dict, target: int, tried: int = 0, reason: str = ""
            ) -> None:
                """Send one event as its platform does: retried, same id, until a 2xx.

                ``tried``: attempts already made (with ``reason``), so this goes on from there.
                """
                tally = outcome.tally(kind)
                delays = SLACK_RETRY_DELAYS if kind == SLACK else TEAMS_RETRY_DELAYS
                for retry in range(tried, 1 + len(delays)):
                    if retry:
                        await asyncio.sleep(delays[retry - 1])
                        tally.retries += 1
                    if not alive[target]:
                        target = 1 - target
                    try:
                        if kind == SLACK:
                            extra = {
                                "X-Slack-Retry-Num": str(retry),
                                "X-Slack-Retry-Reason": reason,
                            }
                            _done, status = await post(
                                session, urls[SLACK][target], body, extra if retry else None
                            )
                        else:
                            status = await post_activity(
                                session, urls[TEAMS][target], body, teams_headers
                            )
                    except (aiohttp.ClientError, TimeoutError):
                        if alive[target]:
                            tally.unanswered += 1
                        elif key not in resent[kind]:  # cut off by the kill
                            tally.resent += 1
                            resent[kind].add(key)
                        # The balancer (or the platform's retry) tries the other.
                        reason, target = "http_timeout", 1 - target
                        continue
                    if 200 <= status < 300:
                        accepted[kind].add(key)
                        return
                    tally.refused += 1
                    reason, target = "http_error", 1 - target
                tally.not_accepted += 1

            began = time.monotonic()

            async def until(at: float) -> None:
                await asyncio.sleep(max(0.0, began + at - time.monotonic()))

            async def kill() -> None:
                assert kill_at is not None
                if black_hole:
                    await until(kill_at - HOLE_LEAD)
                    fake.black_hole("r2")
                    connector.black_hole(TEAMS_TOKENS[1])
                await until(kill_at)
                held = [new_event(total + j) for j in range(burst)]
                sending = [asyncio.create_task(deliver(k, key, b, 1)) for k, key, b in held]
                if black_hole:
                    # Replica 2 now holds a warning it cannot finish (one of each platform
                    # it was sent); a moment more lets anything answered before the hole be
                    # marked done, as it would be.
                    await asyncio.gather(*sending)
                    kinds = {k for k, _key, _b in held} or (
                        {SLACK} if teams_share < 1 else set()
                    ) | ({TEAMS} if teams_share > 0 else set())
                    if SLACK in kinds:
                        await fake.wait_swallowed(1, timeout=30)
                    if TEAMS in kinds:
                        await connector.wait_swallowed(1, timeout=30)
                    await asyncio.sleep(0.5)
                    outcome.slack.swallowed = fake.swallowed
                    outcome.teams.swallowed = connector.swallowed
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
                # One Slack event to each replica while down, answered before anything comes
                # back: with Redis away it cannot be queued, so it must not be a 2xx.
                probes: list[tuple[str, dict]] = []
                for _ in range(2):
                    key, body = make(SLACK, total + burst + len(probes))
                    sent_at[SLACK][key] = time.monotonic()
                    outcome.slack.sent += 1
                    probes.append((key, body))
                answers = await asyncio.gather(
                    *(post(session, urls[SLACK][n], b) for n, (_k, b) in enumerate(probes)),
                    return_exceptions=True,
                )
                outcome.outage_answers = [a[1] if isinstance(a, tuple) else -1 for a in answers]
                retried = []
                for n, ((key, body), status) in enumerate(
                    zip(probes, outcome.outage_answers, strict=True)
                ):
                    if 200 <= status < 300:
                        accepted[SLACK].add(key)
                    else:
                        # Slack's retries, from the first on; they go on after the recovery.
                        retried.append(
                            asyncio.create_task(deliver(SLACK, key, body, n, 1, "http_error"))
                        )
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
                kind, key, body = new_event(i)
                target = turns[kind] % 2
                turns[kind] += 1
                tasks.append(asyncio.create_task(deliver(kind, key, body, target)))
            await asyncio.gather(*tasks, *faults)
            outcome.seconds = time.monotonic() - began

            def slack_warnings() -> list[tuple[str, Any]]:
                return [(c.args["user"], c) for c in fake.calls if c.method == "chat.postEphemeral"]

            end = time.monotonic() + drain
            while time.monotonic() < end:
                if accepted[SLACK] <= {u for u, _c in slack_warnings()} and accepted[TEAMS] <= {
                    a for a, _c in teams_warnings(connector.calls)
                }:
                    break
                await asyncio.sleep(0.1)
            # A little longer, so a warning sent twice has time to show.
            await asyncio.sleep(min(2.0, claim_seconds))
            for kind, warnings in (
                (SLACK, slack_warnings()),
                (TEAMS, teams_warnings(connector.calls)),
            ):
                tally = outcome.tally(kind)
                tally.accepted = len(accepted[kind])
                per_event = Counter(key for key, _c in warnings)
                first: dict[str, float] = {}
                for key, c in warnings:
                    first.setdefault(key, c.at)
                tally.lost = sorted(k for k in accepted[kind] if per_event[k] == 0)
                tally.twice = sorted(k for k, n in per_event.items() if n > 1)
                tally.latencies_ms = [
                    (first[k] - sent_at[kind][k]) * 1000 for k in accepted[kind] if k in first
                ]
                if warnings:
                    tally.span = max(c.at for _k, c in warnings) - began
                tally.lost_resent = len(set(tally.lost) & resent[kind])
            # What replica 2 was sending when it was cut off: work it surely held.
            stuck = set()
            for c in connector.swallowed_calls:
                if c.path == "/v3/conversations":  # the 1:1 chat for a poster: their activity
                    members = c.body.get("members") or [{}]
                    stuck.add(poster_of.get(members[0].get("aadObjectId") or "", ""))
                else:
                    stuck.update(a for a, _c in teams_warnings([c]))
            stuck.discard("")
            by_survivor = f"Bearer {TEAMS_TOKENS[0]}"
            warned_by: dict[str, list[str]] = {}
            for a, c in teams_warnings(connector.calls):
                warned_by.setdefault(a, []).append(c.authorization)
            outcome.teams.stuck = len(stuck)
            outcome.teams.rescued = sum(warned_by.get(a) == [by_survivor] for a in stuck)
            outcome.spec_violations = len(fake.violations)
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
        await connector.stop()
        openid.stop()
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
    parser.add_argument(
        "--rate", type=float, default=100.0, help="events per second, both platforms (100)"
    )
    parser.add_argument(
        "--teams-share",
        type=float,
        default=0.5,
        help="fraction of the events that are Teams activities (0.5; 0: Slack only)",
    )
    parser.add_argument(
        "--teams-posters",
        type=int,
        default=0,
        help="people posting the Teams activities in turn (0: a new one each time, the worst case)",
    )
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
            teams_share=args.teams_share,
            teams_posters=args.teams_posters,
        )
    )
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    killed = (
        f"replica 2 SIGKILLed at {outcome.killed_at:.1f} s"
        + (
            f" (black hole: {outcome.swallowed} warning request(s) stuck)"
            if args.black_hole
            else ""
        )
        if outcome.killed_at is not None
        else "no replica killed"
    )
    print(
        f"Two replicas (PostgreSQL + Redis stream queues), {args.rate:g} events/s "
        f"({args.teams_share:.0%} Teams) for {args.duration:g} s, {killed}; "
        f"load average before: {load_before}, after: {load_after}"
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
