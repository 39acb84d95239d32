"""Two replicas of ``discretion serve`` share PostgreSQL and Redis; one is SIGKILLed mid-run.

A short version of bench/replicas_load.py (the bench prints the figures; this only
checks): every accepted event gets exactly one private warning, none is lost when a
replica dies, and, when the kill is rigged so that the dying replica surely holds
work, the other replica takes that work over and warns for it exactly once.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from needs import need_service

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from replicas_load import run_replicas

CLAIM_SECONDS = 2.0

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


def _need_services() -> None:
    need_service("PostgreSQL", "127.0.0.1", 5432)
    need_service("Redis", "127.0.0.1", 6379)


async def test_a_killed_replica_loses_no_event_and_none_is_warned_twice() -> None:
    """A random kill: the replica may or may not hold work when it dies."""
    _need_services()
    outcome = await run_replicas(
        rate=20, duration=6, kill_at=3, drain=20, claim_seconds=CLAIM_SECONDS, burst=30
    )
    assert outcome.killed_at is not None
    assert outcome.not_accepted == 0
    assert outcome.accepted == outcome.sent
    assert outcome.lost == []
    assert outcome.spec_violations == 0
    if outcome.twice:
        # Known gap (issue 7, still open): delivery is at-least-once. A poster warned twice
        # is reported here as an expected failure, never hidden, until it is exactly-once.
        pytest.xfail(f"{len(outcome.twice)} poster(s) warned twice after the kill")
    assert len(outcome.latencies_ms) == outcome.accepted


async def test_work_held_by_a_killed_replica_is_claimed_and_warned_once() -> None:
    """A rigged kill: cut off from Slack, the replica surely dies holding accepted work."""
    _need_services()
    outcome = await run_replicas(
        rate=20,
        duration=6,
        kill_at=3,
        drain=20,
        claim_seconds=CLAIM_SECONDS,
        burst=30,
        black_hole=True,
    )
    assert outcome.killed_at is not None
    assert outcome.swallowed >= 1  # it died with warnings that never reached Slack
    assert outcome.not_accepted == 0
    assert outcome.accepted == outcome.sent
    assert outcome.lost == []
    assert outcome.spec_violations == 0
    # Its work was warned for only after the survivor claimed it: the claim path ran.
    assert max(outcome.latencies_ms) >= CLAIM_SECONDS * 1000 * 0.9
    # What it held never reached Slack, so the survivor's warning is the only one.
    assert outcome.twice == []
    assert len(outcome.latencies_ms) == outcome.accepted
