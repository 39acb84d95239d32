"""The store on SQLite and PostgreSQL: migrations, incidents, the audit trail, the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from needs import need_service

from discretion.store import Store, StoreError, database_url
from discretion.store import models as m
from discretion.store.testing import reopen, temporary_store


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(request.param) as s:
        yield s


AWARE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def fields(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "platform": "slack",
        "workspace": "T0TRUST",
        "channel": "C0WARD7",
        "permalink": "https://trust.slack.com/archives/C0WARD7/p1700000000000100",
        "poster_id": "U0POSTER",
        "reporter_id": "U0POSTER",
        "source": "button",
        "aware_at": AWARE,
        "entity_counts": {"NHS_NUMBER": 1, "PERSON": 1},
        "reasons": ["This message contains an NHS number."],
        "redacted_excerpt": "pt <PERSON> NHS <NHS_NUMBER> for bloods",
        "what_happened": "Posted in the ward channel by mistake",
    }
    base.update(over)
    return base


def test_database_url_conversions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == "sqlite+aiosqlite:///./var/discretion.db"
    assert database_url("postgres://u:p@db:5432/x") == "postgresql+asyncpg://u:p@db:5432/x"
    assert database_url("postgresql://u@db/x") == "postgresql+asyncpg://u@db/x"
    assert database_url("sqlite:///tmp/a.db") == "sqlite+aiosqlite:///tmp/a.db"
    assert (
        database_url("postgres://u@db/x?sslmode=require")
        == "postgresql+asyncpg://u@db/x?ssl=require"
    )
    monkeypatch.setenv("DATABASE_URL", "postgres://h/db")
    assert database_url() == "postgresql+asyncpg://h/db"


async def test_create_gives_reference_deadline_and_audit(store: Store) -> None:
    first = await store.create_incident(fields(), actor="slack:U0POSTER")
    second = await store.create_incident(fields(), actor="slack:U0POSTER")
    assert first.reference == f"DSC-2026-{first.id:05d}"
    assert second.reference != first.reference
    assert first.deadline == AWARE + timedelta(hours=72)
    assert first.status == m.NEW
    loaded = await store.get_incident(first.reference)
    assert loaded is not None
    assert loaded.aware_at == AWARE and loaded.aware_at.tzinfo is not None
    assert loaded.entity_counts == {"NHS_NUMBER": 1, "PERSON": 1}
    trail = await store.audit_trail(first.reference)
    assert [e.action for e in trail] == ["incident.created"]
    assert trail[0].actor == "slack:U0POSTER"
    assert [n.kind for n in await store.notifications(first.reference)] == ["created"]


async def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        await store.create_incident(fields(aware_at=datetime(2026, 3, 2, 9, 30)), actor="x")


async def test_status_workflow_and_its_rules(store: Store) -> None:
    ref = (await store.create_incident(fields(), actor="a")).reference
    with pytest.raises(StoreError, match="cannot become"):
        await store.change_status(ref, m.ICO_NOTIFIED, actor="lead")
    await store.change_status(ref, m.TRIAGED, actor="lead")
    await store.update_incident(ref, {"likelihood": 5, "severity": 2}, actor="lead")
    await store.change_status(ref, m.REPORTABLE, actor="lead")
    with pytest.raises(StoreError, match="ICO's reference"):
        await store.change_status(ref, m.ICO_NOTIFIED, actor="lead")
    told = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
    done = await store.change_status(
        ref, m.ICO_NOTIFIED, actor="lead", ico_reference="IC-123456-A1B2", ico_notified_at=told
    )
    assert done.status == m.ICO_NOTIFIED and done.ico_notified_at == told
    closed = await store.change_status(ref, m.CLOSED, actor="lead")
    assert closed.closed_at is not None
    actions = [e.action for e in await store.audit_trail(ref)]
    assert actions == [
        "incident.created",
        "status.changed",
        "incident.updated",
        "status.changed",
        "status.changed",
        "status.changed",
    ]


async def test_not_reportable_needs_reasoning(store: Store) -> None:
    ref = (await store.create_incident(fields(), actor="a")).reference
    await store.change_status(ref, m.TRIAGED, actor="lead")
    with pytest.raises(StoreError, match="say why"):
        await store.change_status(ref, m.NOT_REPORTABLE, actor="lead", not_reportable_reason="  ")
    case = await store.change_status(
        ref, m.NOT_REPORTABLE, actor="lead", not_reportable_reason="Deleted within a minute."
    )
    assert case.not_reportable_reason == "Deleted within a minute."


async def test_grading_is_bounded_and_fields_are_whitelisted(store: Store) -> None:
    ref = (await store.create_incident(fields(), actor="a")).reference
    with pytest.raises(StoreError, match="1 to 5"):
        await store.update_incident(ref, {"severity": 9}, actor="lead")
    with pytest.raises(StoreError, match="cannot be changed"):
        await store.update_incident(ref, {"status": "closed"}, actor="lead")
    with pytest.raises(StoreError, match="cannot be changed"):
        await store.update_incident(ref, {"redacted_excerpt": "x"}, actor="lead")
    with pytest.raises(StoreError, match="no case"):
        await store.update_incident("DSC-2026-99999", {"severity": 1}, actor="lead")


async def test_free_text_is_not_copied_into_the_audit_trail(store: Store) -> None:
    ref = (await store.create_incident(fields(), actor="a")).reference
    words = "Spoke to the poster; she removed it"
    await store.update_incident(ref, {"reporter_actions": words, "severity": 3}, actor="lead")
    event = (await store.audit_trail(ref))[-1]
    assert event.details["changed"] == {"reporter_actions": {"chars": len(words)}, "severity": 3}


async def test_changing_awareness_moves_the_deadline(store: Store) -> None:
    ref = (await store.create_incident(fields(), actor="a")).reference
    later = AWARE + timedelta(hours=5)
    case = await store.update_incident(ref, {"aware_at": later}, actor="lead")
    assert case.deadline == later + timedelta(hours=72)
    assert "deadline" in (await store.audit_trail(ref))[-1].details["changed"]


async def test_actions_taken_are_recorded(store: Store) -> None:
    ref = (await store.create_incident(fields(), actor="a")).reference
    await store.add_action(ref, "post_deleted", actor="lead")
    case = await store.add_action(ref, "apology_sent", actor="lead", note="Letter posted")
    assert [a["action"] for a in case.actions] == ["post_deleted", "apology_sent"]
    with pytest.raises(StoreError, match="unknown action"):
        await store.add_action(ref, "shrugged", actor="lead")


async def test_audit_events_cannot_be_changed_or_deleted(store: Store) -> None:
    ref = (await store.create_incident(fields(), actor="a")).reference
    # The store has no method for it; the database refuses even raw SQL.
    assert not any(name.startswith(("delete", "update_audit", "remove")) for name in dir(store))
    for sql in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with store.engine.begin() as conn:
                await conn.execute(sa.text(sql))
    assert [e.actor for e in await store.audit_trail(ref)] == ["a"]


async def test_list_filters_and_order(store: Store) -> None:
    early = await store.create_incident(fields(aware_at=AWARE - timedelta(hours=80)), actor="a")
    late = await store.create_incident(
        fields(aware_at=AWARE, platform="teams", reporter_id="29:abc"), actor="b"
    )
    assert [i.reference for i in await store.list_incidents()] == [early.reference, late.reference]
    assert [i.reference for i in await store.list_incidents(platform="teams")] == [late.reference]
    assert [i.reference for i in await store.list_incidents(reporter_id="29:abc")] == [
        late.reference
    ]
    overdue = await store.list_incidents(overdue_at=AWARE + timedelta(hours=1))
    assert [i.reference for i in overdue] == [early.reference]
    assert await store.list_incidents(statuses=[m.CLOSED]) == []


async def test_outbox_claim_is_exclusive_and_survives_reopen(store: Store) -> None:
    case = await store.create_incident(fields(), actor="a")
    now = m.utcnow()
    [note_id] = await store.due_notifications(now)
    other = reopen(store)
    try:
        claimed = await store.claim_notification(note_id, now=now, lease=timedelta(minutes=5))
        assert claimed is not None and claimed[1].reference == case.reference
        # A second process (or the same one after a restart) cannot take it while leased.
        assert await other.claim_notification(note_id, now=now, lease=timedelta(minutes=5)) is None
        assert await other.due_notifications(now) == []
        later = now + timedelta(minutes=6)
        assert await other.due_notifications(later) == [note_id]
        await other.finish_notification(
            note_id, deliveries={"email": {"sent_at": later.isoformat()}}, status=m.SENT, now=later
        )
        assert (
            await store.claim_notification(note_id, now=later, lease=timedelta(minutes=5)) is None
        )
        added = await other.queue_notifications(case.id, {"created": m.PENDING}, at=later)
        assert added == []  # unique per incident and kind
    finally:
        await other.close()


async def test_false_positive_saved_with_audit(store: Store) -> None:
    row_id = await store.add_false_positive(
        {
            "platform": "teams",
            "channel": "19:abc@thread.tacv2",
            "reporter_id": "29:xyz",
            "entity_types": ["PERSON"],
            "recognizers": ["SpacyRecognizer"],
            "config_version": "shipped-defaults@abc",
            "flagged_text": None,
        },
        actor="teams:29:xyz",
    )
    [row] = await store.false_positives()
    assert row.id == row_id and row.flagged_text is None and row.entity_types == ["PERSON"]


async def test_migrations_match_the_models(store: Store) -> None:
    """Every table and column declared in models.py exists after migrating."""

    def columns(conn: sa.Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(conn)
        return {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }

    async with store.engine.connect() as conn:
        found = await conn.run_sync(columns)
    for table in m.Base.metadata.sorted_tables:
        assert table.name in found, table.name
        assert {c.name for c in table.columns} <= found[table.name], table.name


async def test_migrate_twice_is_harmless(store: Store) -> None:
    await store.migrate()
    assert await store.ping()


async def test_references_stay_unique_when_reports_arrive_together(store: Store) -> None:
    made = await asyncio.gather(
        *(store.create_incident(fields(), actor=f"u{i}") for i in range(12))
    )
    refs = [i.reference for i in made]
    assert len(set(refs)) == 12 and all(r and r.startswith("DSC-2026-") for r in refs)


async def test_postgres_also_refuses_truncating_the_audit_trail(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("TRUNCATE is a PostgreSQL statement")
    await store.create_incident(fields(), actor="a")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("TRUNCATE audit_events CASCADE"))


async def test_migrations_downgrade_and_upgrade_again(store: Store) -> None:
    from alembic import command
    from alembic.config import Config

    from discretion.store.db import migrations_path

    def run(connection: sa.Connection, target: str) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_path()))
        cfg.attributes["connection"] = connection
        if target == "base":
            command.downgrade(cfg, "base")
        else:
            command.upgrade(cfg, target)

    async with store.engine.begin() as conn:
        await conn.run_sync(run, "base")
    await store.migrate()
    ref = (await store.create_incident(fields(), actor="a")).reference
    assert (await store.get_incident(ref)) is not None
