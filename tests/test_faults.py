"""Redis and PostgreSQL restart under two running replicas: the server recovers by itself.

A short version of ``bench/replicas_load.py --restart redis|postgres`` (the bench
prints the figures; this only checks), each service on its own so that each one's
recovery is seen (with both down, either would make /readyz say "not ready"). The run brings its own Redis and PostgreSQL
(bench/private_services.py), never stopping the machine's shared ones. While they
are down the replicas keep answering: /readyz says "not ready", and an event that
cannot be queued (Redis away) gets a non-2xx so that Slack retries it. Warnings are
in flight as the service goes (the fake Slack holds its answers). Once it is
back, with no replica restarted, /readyz says "ready" and every accepted event
(retries included) gets exactly one warning.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from needs import need_service

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from replicas_load import run_replicas

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


@pytest.mark.parametrize("service", ["redis", "postgres"])
async def test_replicas_recover_from_a_restart_without_restarting(service: str) -> None:
    # The shared servers only stand for "this machine runs them": the run uses its own.
    need_service("PostgreSQL", "127.0.0.1", 5432)
    need_service("Redis", "127.0.0.1", 6379)
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed, so no private Redis can be started")
    outcome = await run_replicas(
        rate=20,
        duration=8,
        kill_at=None,
        drain=20,
        claim_seconds=2.0,
        restart=service,
        restart_at=2,
        down=1.0,
    )
    # While down: every replica answered, said "not ready", refused what it could not queue.
    assert outcome.not_ready_seen == [True, True]
    assert outcome.readyz_unanswered == 0
    assert outcome.unanswered == 0
    assert outcome.in_flight >= 1
    if service == "redis":  # nowhere to queue it: Slack must be told to retry
        assert outcome.outage_answers == [500, 500]
    else:  # the queue is in Redis: events are still taken while the database is away
        assert outcome.outage_answers == [200, 200]
    # After: ready again, without a restart; Slack's retries got everything accepted.
    assert outcome.ready_again == [True, True]
    assert outcome.exited == [None, None]
    assert outcome.not_accepted == 0
    assert outcome.accepted == outcome.sent
    # Every accepted event warned exactly once.
    assert outcome.lost == []
    assert outcome.twice == []
    assert len(outcome.latencies_ms) == outcome.accepted
    assert outcome.spec_violations == 0
