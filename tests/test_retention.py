"""Data retention: what goes when, what never goes, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from needs import need_service

from discretion.clock import ManualClock
from discretion.config import ConfigError, RetentionSettings, load_settings
from discretion.retention import ANONYMISED, RetentionJob, enforce
from discretion.store import Store
from discretion.store import models as m
from discretion.store.testing import temporary_store
from discretion.warnings_log import WarningRecord, record_warning
from discretion.web.models import DashboardSession, DashboardUser, UsedReportLink

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def clock_store(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ManualClock, Store]]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    clock = ManualClock(START)
    async with temporary_store(request.param, clock=clock) as store:
        yield clock, store


async def _count(store: Store, model: type) -> int:
    async with store.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def _closed_case(store: Store) -> str:
    incident = await store.create_incident(
        {
            "platform": "slack",
            "source": "button",
            "channel": "C01WARD",
            "poster_id": "U0POSTER",
            "reporter_id": "U0REPORTER",
            "permalink": "https://example.slack.com/archives/C01WARD/p1",
            "redacted_excerpt": "Bed 4 is <PERSON>, NHS <NHS_NUMBER>",
            "what_happened": "A colleague named the patient in the ward channel",
            "entity_counts": {"PERSON": 1, "NHS_NUMBER": 1},
        },
        actor="U0REPORTER",
        notify=(),
    )
    ref = incident.reference
    assert ref is not None
    await store.change_status(ref, m.TRIAGED, actor="dpo")
    await store.change_status(
        ref, m.NOT_REPORTABLE, actor="dpo", not_reportable_reason="Deleted within a minute"
    )
    await store.change_status(ref, m.CLOSED, actor="dpo")
    return ref


async def test_defaults_keep_incidents_and_audit_but_drop_old_false_positives(
    clock_store: tuple[ManualClock, Store],
) -> None:
    clock, store = clock_store
    ref = await _closed_case(store)
    await store.add_false_positive({"platform": "slack", "entity_types": ["PERSON"]}, actor="U1")
    clock.advance(days=60)
    await store.add_false_positive({"platform": "teams", "entity_types": ["PERSON"]}, actor="U2")
    events_before = await _count(store, m.AuditEvent)

    clock.advance(days=31)  # the first report is now 91 days old, the second 31
    report = await enforce(store, RetentionSettings())

    assert report.false_positive_reports == 1
    assert report.incidents_anonymised == 0
    async with store.sessions() as session:
        left = list(await session.scalars(sa.select(m.FalsePositiveReport.platform)))
    assert left == ["teams"]
    kept = await store.get_incident(ref)
    assert kept is not None and kept.redacted_excerpt.startswith("Bed 4")
    assert await _count(store, m.AuditEvent) == events_before


async def test_closed_cases_are_anonymised_once_after_their_time(
    clock_store: tuple[ManualClock, Store],
) -> None:
    clock, store = clock_store
    old = await _closed_case(store)
    clock.advance(days=300)
    recent = await _closed_case(store)
    still_open = await store.create_incident(
        {"platform": "teams", "source": "link", "redacted_excerpt": "<PERSON> in bay 2"},
        actor="U3",
        notify=(),
    )
    clock.advance(days=100)  # old was closed 400 days ago, recent 100, the open one is open
    settings = RetentionSettings(incidents_days=365)

    first = await enforce(store, settings)
    second = await enforce(store, settings)

    assert first.incidents_anonymised == 1
    assert second.incidents_anonymised == 0
    gone = await store.get_incident(old)
    assert gone is not None
    # The skeleton stays for the breach log; nothing that points at a person or quotes them.
    assert gone.status == m.CLOSED and gone.entity_counts == {"PERSON": 1, "NHS_NUMBER": 1}
    assert gone.redacted_excerpt == "" and gone.what_happened == "" and gone.permalink == ""
    assert gone.poster_id == "" and gone.reporter_id == "" and gone.message_hash is None
    assert gone.not_reportable_reason is None
    trail = await store.audit_trail(old)
    assert [e.action for e in trail].count(ANONYMISED) == 1
    assert trail[0].action == "incident.created"  # the history itself is untouched
    recent_case = await store.get_incident(recent)
    assert recent_case is not None and recent_case.redacted_excerpt.startswith("Bed 4")
    open_case = await store.get_incident(still_open.reference or "")
    assert open_case is not None and open_case.redacted_excerpt == "<PERSON> in bay 2"


async def test_the_database_still_refuses_to_delete_audit_events(
    clock_store: tuple[ManualClock, Store],
) -> None:
    clock, store = clock_store
    await _closed_case(store)
    clock.advance(days=4000)
    await enforce(store, RetentionSettings(incidents_days=1, false_positive_days=1))
    with pytest.raises(sa.exc.DBAPIError):
        async with store.sessions.begin() as session:
            await session.execute(sa.delete(m.AuditEvent))
    assert await _count(store, m.AuditEvent) > 0


async def test_warnings_expired_sign_ins_and_used_links_go(
    clock_store: tuple[ManualClock, Store],
) -> None:
    clock, store = clock_store
    await record_warning(store, platform="slack", channel="C1", entity_types=["PERSON"])
    async with store.sessions.begin() as session:
        user = DashboardUser(username="lead", role="dpo")
        session.add(user)
        await session.flush()
        session.add_all(
            [
                DashboardSession(token_hash="a" * 64, user_id=user.id, expires_at=START),
                DashboardSession(
                    token_hash="b" * 64, user_id=user.id, expires_at=START + timedelta(days=30)
                ),
                UsedReportLink(jti="used-1", used_at=START, expires_at=START + timedelta(days=3)),
            ]
        )
    clock.advance(days=10)
    await record_warning(store, platform="teams", channel="C2", entity_types=["NHS_NUMBER"])

    report = await enforce(store, RetentionSettings(warnings_days=5))

    assert (report.warnings, report.sessions, report.report_links) == (1, 1, 1)
    async with store.sessions() as session:
        assert list(await session.scalars(sa.select(WarningRecord.platform))) == ["teams"]
        assert list(await session.scalars(sa.select(DashboardSession.token_hash))) == ["b" * 64]
    assert await _count(store, UsedReportLink) == 0


async def test_the_job_runs_at_start_and_then_on_its_interval(
    clock_store: tuple[ManualClock, Store],
) -> None:
    clock, store = clock_store
    await store.add_false_positive({"platform": "slack"}, actor="U1")
    clock.advance(days=91)
    job = RetentionJob(store, RetentionSettings(), interval_seconds=0.01)
    job.start()
    try:
        await job.ran.wait()
        assert job.last is not None and job.last.false_positive_reports == 1
        job.ran.clear()
        await store.add_false_positive({"platform": "teams"}, actor="U2")
        clock.advance(days=91)
        await job.ran.wait()  # the next scheduled pass, with no restart
        assert job.runs >= 2
        assert await _count(store, m.FalsePositiveReport) == 0
    finally:
        await job.stop()


async def test_a_failing_pass_is_logged_and_the_job_keeps_going(
    clock_store: tuple[ManualClock, Store],
) -> None:
    _clock, store = clock_store
    # A database that does not answer (port 1 refuses), as while PostgreSQL restarts.
    down = Store("postgresql+asyncpg://nobody@127.0.0.1:1/none", clock=store.clock)
    job = RetentionJob(down, RetentionSettings(), interval_seconds=3600)
    try:
        assert await job.run_once() is None
        assert job.runs == 1 and job.last is None
        job.store = store  # the database is back: the next pass works
        assert await job.run_once() is not None
    finally:
        await down.close()


def test_the_shipped_configuration_and_its_refusals(tmp_path: object) -> None:
    settings = load_settings(None, use_env=False)
    assert settings.retention.incidents_days is None
    assert settings.retention.audit_events_days is None
    assert settings.retention.false_positive_days == 90
    from pathlib import Path

    site = Path(str(tmp_path)) / "site.yaml"
    site.write_text("retention:\n  audit_events_days: 30\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(site, use_env=False)
    assert "audit trail is kept for ever" in str(caught.value)
    site.write_text("retention:\n  false_positive_days: 0\n")
    with pytest.raises(ConfigError):
        load_settings(site, use_env=False)


async def test_the_mount_schedules_the_job_with_the_server(
    clock_store: tuple[ManualClock, Store],
) -> None:
    from types import SimpleNamespace

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from discretion import retention
    from discretion.server import EXTENSIONS

    assert "discretion.retention:mount" in EXTENSIONS
    settings = load_settings(None, use_env=False)
    nothing = SimpleNamespace(store=None, settings=settings, extras={})
    assert retention.mount(web.Application(), nothing) is None

    clock, store = clock_store
    await store.add_false_positive({"platform": "slack"}, actor="U1")
    clock.advance(days=100)
    services = SimpleNamespace(store=store, settings=settings, extras={})
    app = web.Application()
    said = retention.mount(app, services)
    assert said is not None and "incidents for ever" in said and "audit events for ever" in said
    server = TestServer(app)
    await server.start_server()
    try:
        job = services.extras[retention.JOB_KEY]
        await job.ran.wait()  # start-up ran one pass
        assert job.last.false_positive_reports == 1
    finally:
        await server.close()
    assert job._task is None  # shutdown stopped it
