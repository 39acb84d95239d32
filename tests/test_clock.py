"""The 72-hour clock: reminders at 24, 48 and 66 hours and an overdue alert, each sent once.

Scheduled from the database, so a restart (a new Store and a new service on the same
database) sends nothing twice. The clock is a ManualClock: no test sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from needs import need_service

from discretion.clock import ManualClock, due_kinds, reminder_kind, schedule_reminders
from discretion.config import EscalationSettings
from discretion.escalation import Alert, Escalation
from discretion.reporting import BreachReport, report_breach
from discretion.store import Store
from discretion.store import models as m
from discretion.store.testing import reopen, temporary_store

AWARE = datetime(2026, 2, 9, 9, 0, tzinfo=UTC)
SETTINGS = EscalationSettings(dashboard_url="https://dpo.trust.example")


class Inbox:
    """A chat notifier that remembers what it was sent."""

    name = "teams"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)

    @property
    def kinds(self) -> list[str]:
        return [a.kind for a in self.alerts]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(AWARE)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(request.param, clock=clock) as s:
        yield s


REPORT = BreachReport(
    platform="slack",
    workspace="T0TRUST",
    channel="C0PHARMACY",
    permalink="",
    poster_id="U0A",
    reporter_id="U0B",
    message_at=None,
    entity_counts={"HOSPITAL_NUMBER": 1},
    reasons=[],
    redacted_excerpt="MRN <HOSPITAL_NUMBER> needs a repeat prescription",
    message_hash=None,
    what_happened="",
    actions_taken="",
    source="command",
    aware_at=AWARE,
)


def test_due_kinds_at_each_mark() -> None:
    marks = [24, 48, 66]
    assert due_kinds(AWARE, AWARE + timedelta(hours=23, minutes=59), marks) == []
    assert due_kinds(AWARE, AWARE + timedelta(hours=24), marks) == ["reminder_24h"]
    assert due_kinds(AWARE, AWARE + timedelta(hours=67), marks) == [
        "reminder_24h",
        "reminder_48h",
        "reminder_66h",
    ]
    assert due_kinds(AWARE, AWARE + timedelta(hours=72), marks)[-1] == "overdue"
    assert reminder_kind(66.5) == "reminder_66.5h"


async def test_each_reminder_once_across_a_restart(store: Store, clock: ManualClock) -> None:
    inbox = Inbox()
    service = Escalation(store, SETTINGS, registered=[inbox], clock=clock)
    ref = await report_breach(store, REPORT, actor="slack:U0B")
    await service.tick()
    assert inbox.kinds == ["created"]

    clock.advance(hours=23, minutes=59)
    await service.tick()
    assert inbox.kinds == ["created"]

    clock.advance(minutes=1)
    await service.tick()
    await service.tick()
    assert inbox.kinds == ["created", "reminder_24h"]
    assert inbox.alerts[-1].subject == f"Reminder: 48 hours left to decide on {ref}"

    # The server restarts: a new store and a new service, nothing in memory carried over.
    again = reopen(store)
    try:
        inbox_after = Inbox()
        restarted = Escalation(again, SETTINGS, registered=[inbox_after], clock=clock)
        clock.advance(hours=1)
        await restarted.tick()
        assert inbox_after.kinds == []  # 24 h was already sent before the restart

        clock.now = AWARE + timedelta(hours=48)
        await restarted.tick()
        clock.now = AWARE + timedelta(hours=66)
        await restarted.tick()
        clock.now = AWARE + timedelta(hours=72, seconds=1)
        await restarted.tick()
        await restarted.tick()
        assert inbox_after.kinds == ["reminder_48h", "reminder_66h", "overdue"]
        assert inbox_after.alerts[1].subject == f"Reminder: 6 hours left to decide on {ref}"
        assert inbox_after.alerts[2].subject.startswith(f"Overdue: {ref}")
    finally:
        await again.close()
    kinds = [(n.kind, n.status) for n in await store.notifications(ref)]
    assert kinds == [
        ("created", m.SENT),
        ("reminder_24h", m.SENT),
        ("reminder_48h", m.SENT),
        ("reminder_66h", m.SENT),
        ("overdue", m.SENT),
    ]


async def test_two_servers_at_once_send_each_reminder_once(
    store: Store, clock: ManualClock
) -> None:
    inboxes = [Inbox(), Inbox()]
    other = reopen(store)
    try:
        services = [
            Escalation(store, SETTINGS, registered=[inboxes[0]], clock=clock),
            Escalation(other, SETTINGS, registered=[inboxes[1]], clock=clock),
        ]
        for _ in range(3):
            await report_breach(store, REPORT, actor="slack:U0B")
        clock.advance(hours=24)
        await asyncio.gather(*(s.tick() for s in services))
        await asyncio.gather(*(s.tick() for s in services))
    finally:
        await other.close()
    sent = sorted((a.reference, a.kind) for inbox in inboxes for a in inbox.alerts)
    assert len(sent) == len(set(sent)) == 6  # 3 cases × (created, 24 h), none twice


async def test_after_downtime_only_the_latest_mark_is_sent(
    store: Store, clock: ManualClock
) -> None:
    ref = await report_breach(store, REPORT, actor="slack:U0B")
    clock.advance(hours=50)  # the server was off for two days
    inbox = Inbox()
    await Escalation(store, SETTINGS, registered=[inbox], clock=clock).tick()
    assert inbox.kinds == ["created", "reminder_48h"]
    statuses = {n.kind: n.status for n in await store.notifications(ref)}
    assert statuses == {"created": m.SENT, "reminder_24h": m.SKIPPED, "reminder_48h": m.SENT}


async def test_a_decided_case_gets_no_more_reminders(store: Store, clock: ManualClock) -> None:
    inbox = Inbox()
    service = Escalation(store, SETTINGS, registered=[inbox], clock=clock)
    ref = await report_breach(store, REPORT, actor="slack:U0B")
    clock.advance(hours=24)
    # The reminder is queued, then the lead decides before it goes out.
    assert await schedule_reminders(store, SETTINGS.reminder_hours, clock.now) == [
        (ref, "reminder_24h")
    ]
    await store.change_status(ref, m.TRIAGED, actor="lead")
    await store.change_status(ref, m.NOT_REPORTABLE, actor="lead", not_reportable_reason="No harm")
    await service.tick()
    clock.advance(hours=60)
    await service.tick()
    assert inbox.kinds == ["created"]
    statuses = {n.kind: n.status for n in await store.notifications(ref)}
    assert statuses == {"created": m.SENT, "reminder_24h": m.SKIPPED}


async def test_site_marks_are_used(store: Store, clock: ManualClock) -> None:
    custom = SETTINGS.model_copy(update={"reminder_hours": [12.0, 60.0]})
    inbox = Inbox()
    service = Escalation(store, custom, registered=[inbox], clock=clock)
    await report_breach(store, REPORT, actor="slack:U0B")
    for hours in (11, 12, 48, 60):
        clock.now = AWARE + timedelta(hours=hours)
        await service.tick()
    assert inbox.kinds == ["created", "reminder_12h", "reminder_60h"]
