"""The dashboard's small parts on their own: the grading grid, times, the CSV, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from limiters import BOTH_LIMITERS, limiters

from discretion.web.export import COLUMNS, to_csv
from discretion.web.grading import Grade, parse_grade
from discretion.web.ratelimit import (
    MemorySignInLimiter,
    RedisSignInLimiter,
    limiter_from_env,
    redis_client,
)
from discretion.web.timefmt import duration, parse_input, show, time_left


@pytest.mark.parametrize(
    ("likelihood", "severity", "reportable", "tell"),
    [
        (1, 5, False, False),  # nobody saw it: however bad it could have been, no risk
        (2, 4, False, False),  # unlikely anyone could identify the patient
        (3, 1, False, False),  # likely seen, but no adverse effect on anyone
        (3, 2, True, False),  # likely seen, minor effect: tell the ICO
        (3, 3, True, True),  # likely seen, adverse effect: tell the patient too
        (5, 5, True, True),
    ],
)
def test_the_grid_suggests_what_the_dspt_tool_would(
    likelihood: int, severity: int, reportable: bool, tell: bool
) -> None:
    grade = Grade(likelihood, severity)
    assert grade.reportable is reportable
    assert grade.tell_patient is tell
    advice = " ".join(grade.advice())
    assert ("is reportable to the ICO" in advice) is reportable
    assert ("Record why" in advice) is not reportable


def test_every_cell_of_the_grid_has_an_answer() -> None:
    for likelihood in range(1, 6):
        for severity in range(1, 6):
            grade = Grade(likelihood, severity)
            assert grade.score == likelihood * severity
            assert grade.tell_dhsc <= grade.reportable  # DHSC only ever alongside the ICO
            assert grade.tell_patient <= grade.reportable


def test_bad_grades_are_refused() -> None:
    assert parse_grade("3", "4") == Grade(3, 4)
    for bad in (("0", "3"), ("3", "6"), ("", "3"), ("three", "3"), (None, None)):
        assert parse_grade(*bad) is None
    with pytest.raises(ValueError):
        Grade(6, 1)


def test_times_are_uk_time_and_plain_words() -> None:
    summer = datetime(2026, 7, 1, 11, 30, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
    assert show(summer) == "Wed 01 Jul 2026, 12:30 BST"
    assert show(winter) == "Tue 01 Dec 2026, 11:30 GMT"
    assert show(None) == "—"
    # A time typed in a form is UK time, stored as UTC.
    assert parse_input("2026-07-01T12:30") == summer
    assert parse_input("not a time") is None and parse_input("") is None
    assert duration(timedelta(hours=71, minutes=5)) == "71 h 5 min"
    assert duration(timedelta(minutes=-7)) == "7 min"
    assert duration(timedelta(days=5, hours=2)) == "5 days 2 h"
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert time_left(now + timedelta(hours=30), now, True) == ("30 h 0 min left", "ok")
    assert time_left(now + timedelta(hours=3), now, True) == ("3 h 0 min left", "urgent")
    assert time_left(now - timedelta(hours=2), now, True) == ("overdue by 2 h 0 min", "overdue")
    assert time_left(now - timedelta(hours=2), now, False) == ("clock stopped", "stopped")


def test_csv_cells_never_become_spreadsheet_formulas() -> None:
    record = dict.fromkeys(COLUMNS)
    record.update(
        reference="DSC-2026-00009",
        what_happened="=cmd|'/c calc'!A1",
        reporter_actions="+44 plus sign first",
        kinds_of_data={"PERSON": 2},
        actions_taken=[{"action": "training", "at": "2026-11-23T10:00:00+00:00", "note": "-"}],
        patient_must_be_told=False,
    )
    text = to_csv([record])
    lines = text.splitlines()
    assert lines[0].split(",")[0] == "reference"
    assert "'=cmd" in text and "'+44" in text
    assert "PERSON x2" in text and "training 2026-11-23T10:00:00+00:00 (-)" in text
    assert ",no," in lines[1]


@pytest.mark.parametrize("kind", BOTH_LIMITERS)
async def test_the_limiter_counts_names_and_addresses_separately(kind: str) -> None:
    clock = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    async with limiters(kind) as make:
        limiter = make(3, timedelta(minutes=15), lambda: clock[0])
        other = make(3, timedelta(minutes=15), lambda: clock[0])  # another replica's
        for _ in range(3):
            assert await limiter.blocked("user:a", "ip:1") is None
            await limiter.failed("user:a", "ip:1")
        # The name is locked from anywhere, and on every replica.
        assert await other.blocked("user:a", "ip:2") == timedelta(minutes=15)
        assert await other.blocked("user:b", "ip:1") is not None  # and the address for any name
        assert await other.blocked("user:b", "ip:2") is None
        clock[0] += timedelta(minutes=5)
        await limiter.failed("user:a")
        # The oldest failure but one now decides when three fall below the limit.
        assert await other.blocked("user:a") == timedelta(minutes=10)
        clock[0] += timedelta(minutes=15, seconds=1)
        assert await other.blocked("user:a", "ip:1") is None
        await limiter.failed("user:a")
        await other.succeeded("user:a")
        assert await limiter.blocked("user:a") is None


async def test_the_memory_limiter_is_bounded() -> None:
    clock = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    limiter = MemorySignInLimiter(3, timedelta(minutes=15), lambda: clock[0], max_keys=10)
    for n in range(50):
        await limiter.failed(f"user:{n}", "ip:1")
    assert len(limiter._failures) <= 10
    assert all(len(times) <= 3 for times in limiter._failures.values())


async def test_redis_holds_hashed_names_bounded_and_expiring() -> None:
    clock = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    async with limiters("redis") as make:
        limiter = make(3, timedelta(minutes=15), lambda: clock[0])
        assert isinstance(limiter, RedisSignInLimiter)
        for _ in range(10):
            await limiter.failed("user:alice.smith", "ip:10.1.2.3")
        client = limiter.client
        names = [k async for k in client.scan_iter(match=limiter.prefix + "*")]
        assert len(names) == 2
        for name in names:
            assert b"alice" not in name and b"10.1.2.3" not in name
            assert await client.zcard(name) == 3
            assert 0 < await client.pttl(name) <= 15 * 60 * 1000


async def test_when_redis_is_down_this_process_still_counts() -> None:
    clock = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    down = redis_client("redis://127.0.0.1:1/0")  # nothing listens there
    limiter = RedisSignInLimiter(down, 2, timedelta(minutes=15), lambda: clock[0], "k" * 32)
    try:
        for _ in range(2):
            assert await limiter.blocked("user:a") is None
            await limiter.failed("user:a")
        assert await limiter.blocked("user:a") is not None
        await limiter.succeeded("user:a")
        assert await limiter.blocked("user:a") is None
    finally:
        await limiter.close()


def test_redis_is_chosen_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    args = (3, timedelta(minutes=15), lambda: datetime.now(UTC), "k" * 32)
    assert isinstance(limiter_from_env(*args), MemorySignInLimiter)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert isinstance(limiter_from_env(*args), RedisSignInLimiter)
