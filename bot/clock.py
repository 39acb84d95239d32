"""The 72-hour clock: which reminders are due for each open case, queued once each.

Reminders are worked out from the database every time, never kept in memory: a
case that became aware at 09:00 gets its 24-hour reminder the first time the
server looks after 09:00 the next day, whether it was running all along or has
just restarted. The outbox's unique (case, kind) row is what makes each one go out
once, even with two servers looking at the same moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from discretion.logs import get_logger
from discretion.store import models as m
from discretion.store.db import Store

log = get_logger("discretion.clock")

CREATED = "created"
OVERDUE = "overdue"

# Anything that says the time now (timezone-aware UTC); tests pass a fake one.
Clock = Callable[[], datetime]


def reminder_kind(hours: float) -> str:
    """The outbox kind for a reminder ``hours`` after awareness: "reminder_24h", "reminder_66.5h"."""
    return f"reminder_{hours:g}h"


def system_clock() -> datetime:
    """The real time, UTC."""
    return m.utcnow()


def due_kinds(aware_at: datetime, now: datetime, marks: Sequence[float]) -> list[str]:
    """The reminder kinds due by ``now`` for a case aware at ``aware_at``, oldest first."""
    due = [reminder_kind(h) for h in sorted(marks) if now >= aware_at + timedelta(hours=h)]
    if now >= aware_at + m.REPORTING_WINDOW:
        due.append(OVERDUE)
    return due


async def schedule_reminders(
    store: Store, marks: Sequence[float], now: datetime
) -> list[tuple[str, str]]:
    """Queue the reminders that have come due; returns (reference, kind) for each one queued.

    If the server was down across several marks, only the latest is sent (the
    others are recorded as skipped): the lead needs to know where the clock is
    now, not three reminders at once.
    """
    earliest = min([*marks, m.REPORTING_WINDOW.total_seconds() / 3600])
    incidents = await store.open_incidents(aware_before=now - timedelta(hours=earliest))
    existing = await store.notification_kinds([i.id for i in incidents])
    queued: list[tuple[str, str]] = []
    for incident in incidents:
        due = due_kinds(incident.aware_at, now, marks)
        new = [k for k in due if k not in existing[incident.id]]
        if not new:
            continue
        latest = due[-1]
        statuses = {k: (m.PENDING if k == latest else m.SKIPPED) for k in new}
        added = await store.queue_notifications(incident.id, statuses, at=now)
        for kind in added:
            if statuses[kind] == m.PENDING:
                queued.append((str(incident.reference), kind))
                log.info("reminder.queued", reference=incident.reference, kind=kind)
    return queued


class ManualClock:
    """A clock that moves only when told: for tests, so nothing ever sleeps."""

    def __init__(self, now: datetime):
        if now.tzinfo is None:
            raise ValueError("a clock must be timezone-aware")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``; returns the new time."""
        self.now += timedelta(**delta)
        return self.now
