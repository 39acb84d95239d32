"""report_breach() and record_false_positive(): what the chat buttons call."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import need_service

from discretion.reporting import (
    BreachReport,
    FalsePositiveReport,
    ReportError,
    message_hash,
    record_false_positive,
    report_breach,
)
from discretion.store import Store
from discretion.store import models as m
from discretion.store.testing import temporary_store

KEY = b"an-install-key-that-is-long-enough!"
# Our own example, never a corpus sentence.
RAW = "Mr Tobias Quill, NHS 401 023 2137, back to bay 3 after his scan"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(request.param) as s:
        yield s


def report(**over: object) -> BreachReport:
    base = BreachReport(
        platform="slack",
        workspace="T0TRUST",
        channel="C0WARD3",
        permalink="https://trust.slack.com/archives/C0WARD3/p1700000000000200",
        poster_id="U0POSTER",
        reporter_id="U0POSTER",
        message_at=datetime(2026, 5, 4, 8, 0, tzinfo=UTC),
        entity_counts={"PERSON": 1, "NHS_NUMBER": 1},
        reasons=["This message contains a patient's name and an NHS number."],
        redacted_excerpt="<PERSON>, NHS <NHS_NUMBER>, back to bay 3 after his scan",
        message_hash=message_hash(RAW, KEY),
        what_happened="I posted a handover note in the ward channel",
        actions_taken="Deleted it straight away",
        source="button",
        aware_at=datetime(2026, 5, 4, 8, 2, tzinfo=UTC),
    )
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


def test_message_hash_is_keyed_and_normalised() -> None:
    digest = message_hash(RAW, KEY)
    assert len(digest) == 64 and RAW not in digest
    assert message_hash(RAW, KEY) == digest
    assert message_hash(RAW, b"another-install-key-also-long-enough") != digest
    # The same words with a decomposed accent hash the same.
    assert message_hash("Ren\u00e9e", KEY) == message_hash("Rene\u0301e", KEY)
    with pytest.raises(ValueError):
        message_hash(RAW, b"")


async def test_report_creates_case_and_queues_notification(store: Store) -> None:
    ref = await report_breach(store, report(), actor="slack:U0POSTER")
    assert ref.startswith("DSC-2026-")
    case = await store.get_incident(ref)
    assert case is not None
    assert case.reporter_actions == "Deleted it straight away"
    assert case.deadline == datetime(2026, 5, 7, 8, 2, tzinfo=UTC)
    assert case.message_hash == message_hash(RAW, KEY)
    assert store.outbox_waiting.is_set()
    assert [n.kind for n in await store.notifications(ref)] == ["created"]
    trail = await store.audit_trail(ref)
    assert trail[0].action == "incident.created" and trail[0].actor == "slack:U0POSTER"


async def test_the_raw_text_is_nowhere_in_the_database(store: Store) -> None:
    ref = await report_breach(store, report(), actor="slack:U0POSTER")
    case = await store.get_incident(ref)
    stored = " ".join(str(getattr(case, c.name)) for c in m.Incident.__table__.columns)
    stored += " ".join(str(e.details) for e in await store.audit_trail(ref))
    for secret in ("Tobias", "Quill", "401 023 2137", "4010232137"):
        assert secret not in stored


async def test_awareness_defaults_to_now(store: Store) -> None:
    before = m.utcnow()
    ref = await report_breach(store, report(aware_at=None), actor="web:someone")
    case = await store.get_incident(ref)
    assert case is not None and before <= case.aware_at <= m.utcnow()
    assert case.deadline - case.aware_at == timedelta(hours=72)


async def test_free_text_is_bounded_and_cleaned(store: Store) -> None:
    huge = "x" * 50_000
    ref = await report_breach(
        store,
        report(what_happened=huge + "\x00\x07", redacted_excerpt=huge, reasons=["r"] * 500),
        actor="web:someone",
    )
    case = await store.get_incident(ref)
    assert case is not None
    assert len(case.what_happened) == m.MAX_FREE_TEXT and "\x00" not in case.what_happened
    assert len(case.redacted_excerpt) == m.MAX_EXCERPT
    assert len(case.reasons) == m.MAX_REASONS


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"source": "carrier pigeon"}, "source must be"),
        ({"platform": ""}, "platform is required"),
        ({"message_hash": "not-a-hash"}, "message_hash"),
        ({"message_at": datetime(2026, 5, 4, 8, 0)}, "time zone"),
        ({"entity_counts": {"PERSON": -1}}, "whole number"),
        ({"entity_counts": {"": 1}}, "short name"),
        ({"reasons": "one reason"}, "list of text"),
        ({"what_happened": b"\xff\xfe"}, "must be text"),
    ],
)
async def test_malformed_reports_get_a_clear_answer_and_save_nothing(
    store: Store, change: dict[str, object], says: str
) -> None:
    with pytest.raises(ReportError, match=says):
        await report_breach(store, report(**change), actor="slack:U0POSTER")
    assert await store.list_incidents() == []


def test_repr_never_shows_free_text() -> None:
    shown = repr(report()) + repr(
        FalsePositiveReport(platform="slack", channel="C1", reporter_id="U1", flagged_text="Quill")
    )
    assert "bay 3" not in shown and "handover" not in shown and "Quill" not in shown


async def test_false_positive_keeps_words_only_with_consent(store: Store) -> None:
    without = await record_false_positive(
        store,
        FalsePositiveReport(
            platform="Slack",
            channel="C0THEATRE",
            reporter_id="U0A",
            entity_types=["PERSON"],
            recognizers=["SpacyRecognizer"],
            config_version="shipped-defaults@0123456789ab",
        ),
    )
    with_words = await record_false_positive(
        store,
        FalsePositiveReport(
            platform="teams",
            channel="19:x",
            reporter_id="29:b",
            entity_types=["PERSON"],
            recognizers=["SpacyRecognizer"],
            flagged_text="Theatre " * 100,
        ),
    )
    rows = {r.id: r for r in await store.false_positives()}
    assert rows[without].flagged_text is None and rows[without].platform == "slack"
    assert len(rows[with_words].flagged_text or "") == m.MAX_FLAGGED


NASTY = "\x00\ud800 \u202eRTL\u202c 🩺 \x1b[31m" + "é" * 3


async def test_awkward_characters_are_stored_cleanly_on_both_databases(store: Store) -> None:
    ref = await report_breach(
        store,
        report(what_happened=NASTY, channel=NASTY, redacted_excerpt=NASTY, reasons=[NASTY]),
        actor=NASTY,
    )
    case = await store.get_incident(ref)
    assert case is not None
    for value in (case.what_happened, case.channel, case.redacted_excerpt, case.reasons[0]):
        assert "🩺" in value and "\x00" not in value and "\ud800" not in value
        assert "\u202e" not in value and "\x1b" not in value


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=6000),
    counts=st.dictionaries(st.text(max_size=80), st.integers(-5, 10**7), max_size=60),
    reasons=st.lists(st.text(max_size=800), max_size=40),
)
def test_any_input_is_bounded_or_refused_clearly(
    text: str, counts: dict[str, int], reasons: list[str]
) -> None:
    from discretion.reporting import _breach_fields

    try:
        fields = _breach_fields(
            report(what_happened=text, channel=text, entity_counts=counts, reasons=reasons)
        )
    except ReportError as exc:
        # The answer never echoes what was typed (short strings may match words by chance).
        assert len(text) < 8 or text not in str(exc)
        return
    assert len(fields["what_happened"]) <= m.MAX_FREE_TEXT
    assert len(fields["channel"]) <= m.MAX_ID
    assert len(fields["reasons"]) <= m.MAX_REASONS
    assert all(len(r) <= m.MAX_REASON for r in fields["reasons"])
    assert all(0 <= v <= 1_000_000 for v in fields["entity_counts"].values())
