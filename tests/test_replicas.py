"""Two replicas of ``discretion serve`` share PostgreSQL and Redis; one is SIGKILLed mid-run.

A short version of bench/replicas_load.py (the bench prints the figures; this only
checks), with Slack events and Teams activities mixed half and half: every accepted
event gets exactly one private warning (a Slack ephemeral, a Teams card), none is
lost when a replica dies, and, when the kill is rigged so that the dying replica
surely holds work of both platforms, the other replica takes that work over and
warns for it exactly once.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from needs import need_service

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from replicas_load import run_replicas

CLAIM_SECONDS = 2.0
TEAMS_SHARE = 0.5

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


def _need_services() -> None:
    need_service("PostgreSQL", "127.0.0.1", 5432)
    need_service("Redis", "127.0.0.1", 6379)


async def _run_with_kill(**options: object):
    """A short mixed run with replica 2 SIGKILLed at 3 s; checks nothing accepted was lost."""
    outcome = await run_replicas(
        rate=20,
        duration=6,
        kill_at=3,
        drain=20,
        claim_seconds=CLAIM_SECONDS,
        burst=30,
        teams_share=TEAMS_SHARE,
        **options,
    )
    assert outcome.killed_at is not None
    assert outcome.slack.accepted > 0 and outcome.teams.accepted > 0
    assert outcome.not_accepted == 0
    assert outcome.accepted == outcome.sent
    assert outcome.lost == []  # both platforms together
    assert outcome.spec_violations == 0
    return outcome


async def test_a_killed_replica_loses_no_event_and_none_is_warned_twice() -> None:
    """A random kill: the replica may or may not hold work when it dies."""
    _need_services()
    outcome = await _run_with_kill()
    if outcome.twice:  # both platforms together
        # Known limit: delivery is at-least-once. A replica killed after Slack or Teams took
        # a warning but before it was marked sent leaves it to be sent again: neither API
        # can be asked whether it already has it. Reported as an expected failure, never
        # hidden.
        pytest.xfail(f"{len(outcome.twice)} poster(s) warned twice after the kill")
    assert len(outcome.latencies_ms) == outcome.accepted


async def test_work_held_by_a_killed_replica_is_claimed_and_warned_once() -> None:
    """A rigged kill: cut off from Slack, the replica surely dies holding accepted work."""
    _need_services()
    outcome = await _run_with_kill(black_hole=True)
    # It died with warnings that never reached Slack, nor Teams.
    assert outcome.slack.swallowed >= 1
    assert outcome.teams.swallowed >= 1
    # Slack: its work was warned for only after the survivor claimed it: the claim path ran.
    assert max(outcome.slack.latencies_ms) >= CLAIM_SECONDS * 1000 * 0.9
    # Teams: each activity the dead replica was warning for when cut off got its one card
    # from the survivor (only a claim moves an entry another consumer has read).
    assert outcome.teams.stuck >= 1
    assert outcome.teams.rescued == outcome.teams.stuck
    # What it held never reached Slack or Teams, so the survivor's warning is the only one.
    assert outcome.twice == []
    assert outcome.teams.twice == []
    assert len(outcome.latencies_ms) == outcome.accepted
    assert len(outcome.teams.latencies_ms) == outcome.teams.accepted
