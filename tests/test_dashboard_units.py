"""The dashboard's small parts on their own: the grading grid, times, the CSV, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from discretion.web.export import COLUMNS, to_csv
from discretion.web.grading import Grade, parse_grade
from discretion.web.ratelimit import SignInLimiter
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


def test_the_limiter_counts_names_and_addresses_separately() -> None:
    clock = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    limiter = SignInLimiter(3, timedelta(minutes=15), now=lambda: clock[0])
    for _ in range(3):
        assert limiter.blocked("user:a", "ip:1") is None
        limiter.failed("user:a", "ip:1")
    assert limiter.blocked("user:a", "ip:2") is not None  # the name is locked from anywhere
    assert limiter.blocked("user:b", "ip:1") is not None  # and the address for any name
    assert limiter.blocked("user:b", "ip:2") is None
    clock[0] += timedelta(minutes=15, seconds=1)
    assert limiter.blocked("user:a", "ip:1") is None
    limiter.failed("user:a")
    limiter.succeeded("user:a")
    assert limiter.blocked("user:a") is None
