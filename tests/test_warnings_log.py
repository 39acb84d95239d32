"""The warnings log on SQLite and PostgreSQL: what is kept, outcomes, and the admins' figures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from needs import need_service

from discretion import warnings_log as wl
from discretion.assessment import Assessment, Finding
from discretion.store import Store
from discretion.store.testing import temporary_store

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(request.param, clock=lambda: NOW) as s:
        yield s


async def warn(store: Store, **over: object) -> str:
    fields: dict[str, object] = {
        "platform": "slack",
        "workspace": "T0TRUST",
        "channel": "C0WARD7",
        "entity_types": ["NHS_NUMBER", "PERSON"],
        "counts": {"NHS_NUMBER": 1, "PERSON": 2},
        "risk": 0.91234,
        "recognizers": ["NhsNumberRecognizer", "PersonNameJudge"],
        "config_version": "v-abc123",
    }
    fields.update(over)
    return await wl.record_warning(store, **fields)  # type: ignore[arg-type]


async def test_a_warning_keeps_where_and_what_kinds_never_words(store: Store) -> None:
    warning_id = await warn(store)
    assert len(warning_id) >= 20 and warning_id != await warn(store)
    async with store.sessions() as session:
        row = await session.get(wl.WarningRecord, warning_id)
    assert row is not None
    assert (row.platform, row.workspace, row.channel) == ("slack", "T0TRUST", "C0WARD7")
    assert row.entity_types == ["NHS_NUMBER", "PERSON"]
    assert row.counts == {"NHS_NUMBER": 1, "PERSON": 2}
    assert row.risk == pytest.approx(0.912)
    assert row.recognizers == ["NhsNumberRecognizer", "PersonNameJudge"]
    assert row.config_version == "v-abc123"
    assert row.created_at == NOW
    assert None is row.deleted_at is row.replaced_at is row.reported_at is row.not_patient_data_at
    # The table has no column that could hold a message, redacted or not.
    columns = set(wl.WarningRecord.__table__.columns.keys())
    assert not columns & {"text", "redacted", "excerpt", "redacted_excerpt", "message"}


async def test_note_warning_takes_an_assessment_and_keeps_no_text(store: Store) -> None:
    assessment = Assessment(
        warn=True,
        risk=0.8,
        findings=(
            Finding("NHS_NUMBER", 20, 32, 1.0, "NhsNumberRecognizer"),
            Finding("PERSON", 0, 19, 0.7, "PersonNameJudge"),
            Finding("PERSON", 0, 3, 0.6, "PersonNameJudge"),
        ),
        reasons=("An NHS number",),
        redacted="<PERSON> <NHS_NUMBER>",
        config_version="v1",
    )
    assert await wl.note_warning(
        store, assessment, warning_id="w-1", platform="teams", channel="19:abc@thread.tacv2"
    )
    async with store.sessions() as session:
        row = await session.get(wl.WarningRecord, "w-1")
        dumped = json.dumps(
            [str(v) for v in (await session.execute(sa.select(wl.WarningRecord))).one()]
        )
    assert row is not None
    assert row.counts == {"NHS_NUMBER": 1, "PERSON": 2}
    assert row.recognizers == ["NhsNumberRecognizer", "PersonNameJudge"]
    # Neither the redacted version nor the reasons are kept.
    assert "<PERSON>" not in dumped and "An NHS number" not in dumped
    # No store, no id, or a broken store: nothing is saved and nothing is raised.
    assert not await wl.note_warning(None, assessment, warning_id="w-2", platform="x", channel="")
    assert not await wl.note_warning(store, assessment, warning_id="", platform="x", channel="")
    assert not await wl.note_warning(
        store, assessment, warning_id="w-1", platform="slack", channel="C1"
    )  # the id is taken: the database refuses, the helper logs and carries on


async def test_outcomes_are_noted_once_and_unknown_ids_ignored(store: Store) -> None:
    warning_id = await warn(store)
    later = NOW + timedelta(minutes=3)
    assert await wl.record_outcome(store, warning_id, wl.DELETED, at=later)
    # A second click (or a redelivered one) keeps the first time.
    assert not await wl.record_outcome(store, warning_id, wl.DELETED, at=later + timedelta(hours=1))
    assert await wl.record_outcome(
        store, warning_id, wl.REPORTED, incident_reference="DSC-2026-00007"
    )
    assert await wl.record_outcome(store, warning_id, wl.NOT_PATIENT_DATA)
    assert not await wl.record_outcome(store, "no-such-warning", wl.REPLACED)
    assert not await wl.record_outcome(store, "x" * 500, wl.REPLACED)
    with pytest.raises(ValueError, match="unknown outcome"):
        await wl.record_outcome(store, warning_id, "shrugged")
    assert not await wl.note_outcome(store, None, wl.DELETED)
    assert not await wl.note_outcome(store, warning_id, "shrugged")  # logged, not raised
    async with store.sessions() as session:
        row = await session.get(wl.WarningRecord, warning_id)
    assert row is not None
    assert row.deleted_at == later
    assert row.reported_at == NOW and row.incident_reference == "DSC-2026-00007"
    assert row.not_patient_data_at == NOW and row.replaced_at is None


async def test_figures_per_day_channel_kind_and_outcome(store: Store) -> None:
    day = timedelta(days=1)
    a = await warn(store, at=NOW, channel="C0WARD7")
    b = await warn(store, at=NOW - day, channel="C0WARD7", entity_types=["POSTCODE"])
    c = await warn(store, at=NOW - 2 * day, channel="C0THEATRE", entity_types=["PERSON"])
    # Just before midnight UTC belongs to that day, whatever the server's time zone.
    d = await warn(
        store, at=datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC), channel="", entity_types=[]
    )
    await warn(store, at=NOW - 30 * day, channel="C0OLD")  # outside the 30 days
    await wl.record_outcome(store, a, wl.DELETED)
    await wl.record_outcome(store, b, wl.REPLACED)
    await wl.record_outcome(store, b, wl.REPORTED, incident_reference="DSC-2026-00001")
    await wl.record_outcome(store, c, wl.NOT_PATIENT_DATA)

    stats = await wl.warning_stats(store, now=NOW, days=30)
    assert stats.total == 4
    assert len(stats.days) == 30 and stats.days[-1] == "2026-03-10"
    by_day = dict(zip(stats.days, stats.per_day, strict=True))
    assert by_day["2026-03-10"] == 1 and by_day["2026-03-09"] == 1
    assert by_day["2026-03-08"] == 2 and sum(stats.per_day) == 4
    assert stats.per_channel == [("C0WARD7", 2), ("(not recorded)", 1), ("C0THEATRE", 1)]
    assert dict(stats.per_type) == {
        "NHS_NUMBER": 1,
        "PERSON": 2,
        "POSTCODE": 1,
        "(not recorded)": 1,
    }
    assert stats.per_type[0] == ("PERSON", 2)
    assert stats.followed == {
        wl.DELETED: 1,
        wl.REPLACED: 1,
        wl.REPORTED: 1,
        wl.NOT_PATIENT_DATA: 1,
        "none": 1,
    }
    assert stats.share(wl.DELETED) == 0.25 and stats.share("none") == 0.25
    assert d  # recorded with an empty channel and no kinds


async def test_figures_with_no_warnings(store: Store) -> None:
    stats = await wl.warning_stats(store, now=NOW, days=7)
    assert stats.total == 0 and stats.per_day == [0] * 7
    assert stats.per_channel == [] and stats.per_type == []
    assert stats.share(wl.REPORTED) == 0.0


async def test_forgetting_old_warnings(store: Store) -> None:
    old = await warn(store, at=NOW - timedelta(days=400))
    new = await warn(store, at=NOW - timedelta(days=10))
    assert await wl.forget_warnings_before(store, NOW - timedelta(days=365)) == 1
    async with store.sessions() as session:
        assert await session.get(wl.WarningRecord, old) is None
        assert await session.get(wl.WarningRecord, new) is not None


async def test_the_migration_creates_the_table_and_downgrades(store: Store) -> None:
    from alembic import command
    from alembic.config import Config

    from discretion.store.db import migrations_path

    def tables(conn: sa.Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(conn)
        return {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }

    def run(connection: sa.Connection, target: str) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_path()))
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, target)

    async with store.engine.connect() as conn:
        found = await conn.run_sync(tables)
    assert set(wl.WarningRecord.__table__.columns.keys()) == found["warnings"]
    async with store.engine.begin() as conn:
        await conn.run_sync(run, "0003_teams_conversations")
    async with store.engine.connect() as conn:
        assert "warnings" not in await conn.run_sync(tables)
    await store.migrate()
    assert await warn(store)
