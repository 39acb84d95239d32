"""Data retention: a scheduled job that removes records once their keeping time is over.

What is kept, and for how long (``retention:`` in the configuration, days):

* **Incidents** - kept for ever by default (``incidents_days: null``). A breach record
  must be kept to show the ICO what happened (UK GDPR Art. 33(5)). When a site sets a
  number, a *closed* case older than that (counted from when it was closed) is
  anonymised, not deleted: the reference, dates, status, kinds and counts of data and
  the decisions stay; the redacted excerpt, permalink, people's ids, the message hash
  and every free-text field are emptied, and an audit event says so. Open cases are
  never touched. Deleting the row itself is impossible while its audit events exist.
* **Audit events** - kept for ever, always. The trail is append-only on purpose: the
  database itself refuses UPDATE and DELETE (triggers on SQLite and PostgreSQL), so a
  person with access to the bot cannot hide what was done to a case, and neither can
  this job. An organisation that must remove old audit events does it as the database
  owner, the way a schema migration is done: in one transaction drop the trigger,
  delete the events of cases anonymised long enough ago, record that in a new audit
  event, and create the trigger again (see ``bot/migrations/versions/0001_incidents.py``
  for the trigger's text). That needs rights the bot's own account should not have.
* **False-positive reports** ("not patient data") - 90 days by default.
* **The warning tally** (kinds and counts, never words) - 365 days by default.
* **Dashboard sign-ins and used report links** - removed once expired, as their owners
  (discretion.web) define; nothing to configure.
* **Thread memory** - not in the database; bounded by ``risk.memory_window_hours``.

Every replica may run the job: deletions are idempotent, and on PostgreSQL the
anonymising step holds a transaction-level advisory lock so a case is anonymised once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from discretion.config import RetentionSettings
from discretion.logs import get_logger
from discretion.store import models as m
from discretion.store.db import Store

log = get_logger("discretion.retention")

ANONYMISED = "retention.anonymised"
# Any number will do, as long as nothing else in the database uses it (migrate uses 727218).
LOCK_ID = 727219
# What anonymising empties: everything that could point at a person or quote them.
CLEARED: dict[str, Any] = {
    "permalink": "",
    "poster_id": "",
    "reporter_id": "",
    "redacted_excerpt": "",
    "message_hash": None,
    "what_happened": "",
    "reporter_actions": "",
    "not_reportable_reason": None,
    "patient_told_how": None,
    "patient_not_told_reason": None,
    "created_by": "",
}


@dataclass
class RetentionReport:
    """How many records one run removed or anonymised, by kind."""

    incidents_anonymised: int = 0
    false_positive_reports: int = 0
    warnings: int = 0
    sessions: int = 0
    report_links: int = 0

    @property
    def total(self) -> int:
        """Everything this run touched."""
        return (
            self.incidents_anonymised
            + self.false_positive_reports
            + self.warnings
            + self.sessions
            + self.report_links
        )


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def anonymise_closed_incidents(store: Store, cutoff: datetime, now: datetime) -> int:
    """Anonymise cases closed before ``cutoff`` that are not yet; returns how many."""
    already = (
        sa.select(m.AuditEvent.id)
        .where(m.AuditEvent.incident_id == m.Incident.id, m.AuditEvent.action == ANONYMISED)
        .exists()
    )
    async with store.sessions.begin() as session:
        if store.dialect == "postgresql":
            # Two replicas running the job at once must not anonymise (and audit) a case twice.
            await session.execute(sa.text(f"SELECT pg_advisory_xact_lock({LOCK_ID})"))
        incidents = list(
            await session.scalars(
                sa.select(m.Incident).where(
                    m.Incident.status == m.CLOSED,
                    m.Incident.closed_at.is_not(None),
                    m.Incident.closed_at < cutoff,
                    ~already,
                )
            )
        )
        for incident in incidents:
            for field, value in CLEARED.items():
                setattr(incident, field, value)
            # Actions keep what was done and when; their notes are free text.
            incident.actions = [
                {k: v for k, v in a.items() if k != "note"} | {"note": ""}
                for a in incident.actions or []
                if isinstance(a, dict)
            ]
            incident.updated_at = now
            session.add(
                m.AuditEvent(
                    incident_id=incident.id,
                    actor="retention",
                    action=ANONYMISED,
                    details={"closed_before": cutoff.isoformat()},
                    at=now,
                )
            )
    return len(incidents)


async def enforce(
    store: Store, settings: RetentionSettings, now: datetime | None = None
) -> RetentionReport:
    """Apply the retention settings once at ``now`` (the store's clock by default)."""
    from discretion.warnings_log import forget_warnings_before
    from discretion.web.models import DashboardSession, UsedReportLink

    now = now or store.clock()
    report = RetentionReport()
    if settings.incidents_days is not None:
        cutoff = now - timedelta(days=settings.incidents_days)
        report.incidents_anonymised = await anonymise_closed_incidents(store, cutoff, now)
    if settings.warnings_days is not None:
        report.warnings = await forget_warnings_before(
            store, now - timedelta(days=settings.warnings_days)
        )
    async with store.sessions.begin() as session:
        if settings.false_positive_days is not None:
            cutoff = now - timedelta(days=settings.false_positive_days)
            report.false_positive_reports = _rows(
                await session.execute(
                    sa.delete(m.FalsePositiveReport).where(
                        m.FalsePositiveReport.created_at < cutoff
                    )
                )
            )
        report.sessions = _rows(
            await session.execute(
                sa.delete(DashboardSession).where(DashboardSession.expires_at <= now)
            )
        )
        report.report_links = _rows(
            await session.execute(sa.delete(UsedReportLink).where(UsedReportLink.expires_at < now))
        )
    return report


class RetentionJob:
    """Runs :func:`enforce` once at start and then every ``interval_seconds``."""

    def __init__(
        self,
        store: Store,
        settings: RetentionSettings,
        *,
        clock: Callable[[], datetime] | None = None,
        interval_seconds: float | None = None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock or store.clock
        self.interval = (
            interval_seconds if interval_seconds is not None else settings.check_every_hours * 3600
        )
        self.runs = 0
        self.last: RetentionReport | None = None
        # Set after every run (failed or not), so a caller can wait for one.
        self.ran = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> RetentionReport | None:
        """One pass; a failure is logged (its kind only) and the next pass tries again."""
        report: RetentionReport | None = None
        try:
            done = await enforce(self.store, self.settings, self.clock())
        except Exception as exc:  # the database may be restarting: try at the next interval
            log.error("retention.failed", error=type(exc).__name__)
        else:
            report = self.last = done
            log.info(
                "retention.ran",
                incidents_anonymised=done.incidents_anonymised,
                false_positive_reports=done.false_positive_reports,
                warnings=done.warnings,
                sessions=done.sessions,
                report_links=done.report_links,
            )
        self.runs += 1
        self.ran.set()
        return report

    async def _loop(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Start the background task (runs at once, then every interval)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        """Stop the background task (a pass in progress is cancelled and rolls back)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


JOB_KEY = "retention"


def mount(app: web.Application, services: Any) -> str | None:
    """Schedule the retention job when there is a store; returns what it will keep."""
    store = getattr(services, "store", None)
    if store is None:
        return None
    settings = services.settings.retention
    job = RetentionJob(store, settings)
    services.extras[JOB_KEY] = job

    async def _start(_: web.Application) -> None:
        job.start()

    async def _stop(_: web.Application) -> None:
        await job.stop()

    # The store's mount migrates on start-up before this runs, and closes on cleanup after.
    app.on_startup.append(_start)
    app.on_shutdown.append(_stop)

    def days(value: float | None) -> str:
        return "for ever" if value is None else f"{value:g} days"

    return (
        f"retention every {settings.check_every_hours:g} h: incidents {days(settings.incidents_days)},"
        f" false positives {days(settings.false_positive_days)},"
        f" warnings {days(settings.warnings_days)}, audit events for ever"
    )
