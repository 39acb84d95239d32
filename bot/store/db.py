"""The store: one object that reads and writes incidents, audit events and the outbox.

Every change to a case goes through a :class:`Store` method, and each one writes an
audit event in the same transaction: if the change is saved, so is the record of it.
There is deliberately no method that changes or deletes an audit event.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from discretion.logs import get_logger
from discretion.store import models as m

log = get_logger("discretion.store")

DEFAULT_URL = "sqlite+aiosqlite:///./var/discretion.db"
URL_ENV = "DATABASE_URL"

# Fields a person may change on a case through update_incident (status has its own method).
EDITABLE: frozenset[str] = frozenset(
    {
        "what_happened",
        "reporter_actions",
        "aware_at",
        "likelihood",
        "severity",
        "ico_reference",
        "ico_notified_at",
        "not_reportable_reason",
        "patient_must_be_told",
        "patient_told_at",
        "patient_told_how",
        "patient_not_told_reason",
    }
)
# Free text is not copied into the audit trail (a reporter may have typed a name into it):
# the event says the field changed and how long it now is.
FREE_TEXT: frozenset[str] = frozenset(
    {
        "what_happened",
        "reporter_actions",
        "not_reportable_reason",
        "patient_told_how",
        "patient_not_told_reason",
    }
)
TEXT_LIMITS: dict[str, int] = {
    "what_happened": m.MAX_FREE_TEXT,
    "reporter_actions": m.MAX_FREE_TEXT,
    "not_reportable_reason": m.MAX_FREE_TEXT,
    "patient_told_how": m.MAX_FREE_TEXT,
    "patient_not_told_reason": m.MAX_FREE_TEXT,
    "ico_reference": 64,
}
ACTIONS: tuple[str, ...] = ("post_deleted", "apology_sent", "training", "staff_reminder", "other")


class StoreError(ValueError):
    """A request the store refuses (unknown case, bad transition, missing field); safe to show."""


POOL_ENV = "DISCRETION_DB_POOL_SIZE"
DEFAULT_POOL_SIZE = 10


def pool_size() -> int:
    """Connections each process keeps (``DISCRETION_DB_POOL_SIZE``, default 10)."""
    raw = os.environ.get(POOL_ENV, "").strip()
    if not raw:
        return DEFAULT_POOL_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise SystemExit(f"{POOL_ENV}={raw!r}: must be a whole number of connections") from None
    if not 1 <= size <= 200:
        raise SystemExit(f"{POOL_ENV}={raw!r}: must be between 1 and 200")
    return size


def database_url(url: str | None = None) -> str:
    """The SQLAlchemy async URL to use: ``url``, else ``$DATABASE_URL``, else the SQLite file.

    Hosting platforms hand out ``postgres://`` and ``postgresql://`` URLs; they are
    turned into ``postgresql+asyncpg://``. Plain ``sqlite://`` becomes aiosqlite.
    """
    url = url or os.environ.get(URL_ENV) or DEFAULT_URL
    for prefix in (
        "postgres://",
        "postgresql://",
        "postgresql+psycopg2://",
        "postgresql+psycopg://",
    ):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url.removeprefix(prefix)
            # libpq's "sslmode=require" is spelled "ssl=require" by asyncpg.
            return re.sub(r"([?&])sslmode=", r"\1ssl=", url)
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    return url


def migrations_path() -> Path:
    """Where the Alembic environment (env.py, versions/) is installed."""
    return Path(str(resources.files("discretion") / "migrations"))


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _audit_value(field: str, value: Any) -> Any:
    if field in FREE_TEXT:
        return {"chars": len(value)} if isinstance(value, str) else None
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class Store:
    """Async access to the database; one per process, shared through ``services.store``."""

    def __init__(
        self,
        url: str | None = None,
        *,
        schema: str | None = None,
        message_key: bytes | None = None,
        clock: Callable[[], datetime] = m.utcnow,
        echo: bool = False,
    ):
        self.url = database_url(url)
        self.schema = schema
        # The per-install key for message_hash(); set by the mount from discretion.store.secret.
        self.message_key = message_key
        # Where "now" comes from for timestamps the store sets itself; tests pass a ManualClock.
        self.clock = clock
        # Set when a notification is queued so the sender wakes at once (report_breach sets it).
        self.outbox_waiting = asyncio.Event()
        connect_args: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            self._make_sqlite_dir()
            connect_args["timeout"] = 30  # wait for another writer rather than fail
        elif schema and self.url.startswith("postgresql"):
            connect_args["server_settings"] = {"search_path": schema}
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            echo=echo,
            connect_args=connect_args,
            **self._pool_options(),
        )
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def _pool_options(self) -> dict[str, Any]:
        """A fixed set of connections, kept: under load, callers wait their turn for one
        rather than each opening (and, with SQLite, starting a thread for) a new one."""
        database = sa.engine.make_url(self.url).database or ""
        if self.url.startswith("sqlite") and (database in ("", ":memory:") or "memory" in self.url):
            return {}  # one shared in-memory connection (SQLAlchemy's StaticPool)
        # pre_ping: a connection kept across a database restart is tested (and replaced)
        # before use, so the first query after the restart does not fail on a dead one.
        return {
            "pool_size": pool_size(),
            "max_overflow": 0,
            "pool_timeout": 30,
            "pool_pre_ping": True,
        }

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def _make_sqlite_dir(self) -> None:
        path = sa.engine.make_url(self.url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    # --- life cycle ---------------------------------------------------------------

    async def migrate(self) -> None:
        """Bring the schema up to the newest revision (safe to run at every start-up)."""
        from alembic import command
        from alembic.config import Config

        def upgrade(connection: sa.Connection) -> None:
            if connection.dialect.name == "postgresql":
                # Two processes starting together must not both create the tables.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(727218)"))
            cfg = Config()
            cfg.set_main_option("script_location", str(migrations_path()))
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade)
        log.info("store.migrated", dialect=self.dialect)

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return True

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    # --- audit -------------------------------------------------------------------

    def _event(
        self,
        session: AsyncSession,
        *,
        actor: str,
        action: str,
        incident_id: int | None = None,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> m.AuditEvent:
        ev = m.AuditEvent(
            incident_id=incident_id,
            actor=_clip(actor, m.MAX_ID) or "",
            action=action[:64],
            details=dict(details or {}),
            at=at or self.clock(),
        )
        session.add(ev)
        return ev

    async def record_event(
        self,
        *,
        actor: str,
        action: str,
        reference: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> m.AuditEvent:
        """Append an audit event (e.g. "case.viewed", "log.exported"); returns it."""
        async with self.sessions.begin() as session:
            incident_id = None
            if reference is not None:
                incident_id = (await self._get(session, reference)).id
            return self._event(
                session, actor=actor, action=action, incident_id=incident_id, details=details
            )

    async def audit_trail(self, reference: str) -> list[m.AuditEvent]:
        """Every audit event for a case, oldest first."""
        async with self.sessions() as session:
            incident = await self._get(session, reference)
            rows = await session.scalars(
                sa.select(m.AuditEvent)
                .where(m.AuditEvent.incident_id == incident.id)
                .order_by(m.AuditEvent.at, m.AuditEvent.id)
            )
            return list(rows)

    # --- incidents ---------------------------------------------------------------

    async def create_incident(
        self, fields: Mapping[str, Any], *, actor: str, notify: Sequence[str] = ("created",)
    ) -> m.Incident:
        """Save a new case, its "incident.created" event and its outbox rows; returns it.

        ``fields`` are Incident columns; ``aware_at`` defaults to now and ``deadline``
        is always computed from it. ``notify`` names the notifications to queue.
        """
        values = dict(fields)
        unknown = set(values) - set(m.Incident.__table__.columns.keys())
        if unknown:
            raise StoreError(f"unknown incident fields: {', '.join(sorted(unknown))}")
        for forbidden in ("id", "reference", "deadline", "status"):
            values.pop(forbidden, None)
        aware_at = values.get("aware_at") or self.clock()
        values["aware_at"] = aware_at
        values["deadline"] = aware_at + m.REPORTING_WINDOW
        values.setdefault("created_by", actor)
        now = self.clock()
        async with self.sessions.begin() as session:
            incident = m.Incident(**values, status=m.NEW, created_at=now, updated_at=now)
            session.add(incident)
            await session.flush()
            # The row id makes the reference unique with no counter to race on.
            incident.reference = f"DSC-{aware_at.year}-{incident.id:05d}"
            self._event(
                session,
                actor=actor,
                action="incident.created",
                incident_id=incident.id,
                details={
                    "reference": incident.reference,
                    "source": incident.source,
                    "platform": incident.platform,
                    "entity_counts": incident.entity_counts,
                    "deadline": incident.deadline.isoformat(),
                },
                at=now,
            )
            for kind in notify:
                session.add(
                    m.Notification(
                        incident_id=incident.id, kind=kind, next_attempt_at=now, created_at=now
                    )
                )
        log.info("incident.created", reference=incident.reference, source=incident.source)
        return incident

    async def _get(self, session: AsyncSession, reference: str) -> m.Incident:
        incident = await session.scalar(
            sa.select(m.Incident).where(m.Incident.reference == reference)
        )
        if incident is None:
            raise StoreError(f"no case with reference {reference[:40]!r}")
        return incident

    async def get_incident(self, reference: str) -> m.Incident | None:
        """The case with this reference, or None."""
        async with self.sessions() as session:
            return await session.scalar(
                sa.select(m.Incident).where(m.Incident.reference == reference)
            )

    async def get_incident_by_id(self, incident_id: int) -> m.Incident | None:
        """The case with this row id, or None."""
        async with self.sessions() as session:
            return await session.get(m.Incident, incident_id)

    async def list_incidents(
        self,
        *,
        statuses: Sequence[str] | None = None,
        platform: str | None = None,
        reporter_id: str | None = None,
        overdue_at: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[m.Incident]:
        """Cases, nearest deadline first, filtered by status, platform, reporter or overdue."""
        query = sa.select(m.Incident)
        if statuses:
            query = query.where(m.Incident.status.in_(list(statuses)))
        if platform:
            query = query.where(m.Incident.platform == platform)
        if reporter_id:
            query = query.where(m.Incident.reporter_id == reporter_id)
        if overdue_at is not None:
            query = query.where(
                m.Incident.deadline < overdue_at, m.Incident.status.in_(list(m.CLOCK_RUNNING))
            )
        query = query.order_by(m.Incident.deadline, m.Incident.id).limit(limit).offset(offset)
        async with self.sessions() as session:
            return list(await session.scalars(query))

    async def update_incident(
        self,
        reference: str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        action: str = "incident.updated",
    ) -> m.Incident:
        """Change editable fields of a case and audit which ones changed; returns the case."""
        bad = set(changes) - EDITABLE
        if bad:
            raise StoreError(f"these fields cannot be changed here: {', '.join(sorted(bad))}")
        for field, value in changes.items():
            if (
                field in ("likelihood", "severity")
                and value is not None
                and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5)
            ):
                raise StoreError(f"{field} must be a whole number from 1 to 5")
        async with self.sessions.begin() as session:
            incident = await self._get(session, reference)
            changed: dict[str, Any] = {}
            for field, value in changes.items():
                if isinstance(value, str) and field in TEXT_LIMITS:
                    value = _clip(value.strip(), TEXT_LIMITS[field])
                if getattr(incident, field) == value:
                    continue
                setattr(incident, field, value)
                changed[field] = _audit_value(field, value)
            if "aware_at" in changed:
                if incident.aware_at is None:
                    raise StoreError("the time the organisation became aware cannot be removed")
                incident.deadline = incident.aware_at + m.REPORTING_WINDOW
                changed["deadline"] = incident.deadline.isoformat()
            if changed:
                incident.updated_at = self.clock()
                self._event(
                    session,
                    actor=actor,
                    action=action,
                    incident_id=incident.id,
                    details={"changed": changed},
                )
            return incident

    async def change_status(
        self, reference: str, status: str, *, actor: str, **fields: Any
    ) -> m.Incident:
        """Move a case to ``status`` (see models.TRANSITIONS), with the fields it needs.

        ``ico_notified`` needs ``ico_reference`` and ``ico_notified_at``;
        ``not_reportable`` needs ``not_reportable_reason``. Other editable fields may
        be given too and are saved in the same step.
        """
        if status not in m.STATUSES:
            raise StoreError(f"unknown status {status[:32]!r}")
        bad = set(fields) - EDITABLE
        if bad:
            raise StoreError(f"these fields cannot be changed here: {', '.join(sorted(bad))}")
        async with self.sessions.begin() as session:
            incident = await self._get(session, reference)
            before = incident.status
            if status not in m.TRANSITIONS[before]:
                raise StoreError(f"a case that is {before} cannot become {status}")
            merged = {
                f: fields.get(f, getattr(incident, f))
                for f in ("ico_reference", "ico_notified_at", "not_reportable_reason")
            }
            if status == m.ICO_NOTIFIED and not (
                merged["ico_reference"] and merged["ico_notified_at"]
            ):
                raise StoreError("give the ICO's reference and the date the ICO was told")
            if status == m.NOT_REPORTABLE and not (merged["not_reportable_reason"] or "").strip():
                raise StoreError("say why this breach does not need reporting to the ICO")
            changed: dict[str, Any] = {}
            for field, value in fields.items():
                if isinstance(value, str) and field in TEXT_LIMITS:
                    value = _clip(value.strip(), TEXT_LIMITS[field])
                if getattr(incident, field) != value:
                    setattr(incident, field, value)
                    changed[field] = _audit_value(field, value)
            now = self.clock()
            incident.status = status
            incident.updated_at = now
            incident.closed_at = now if status == m.CLOSED else None
            self._event(
                session,
                actor=actor,
                action="status.changed",
                incident_id=incident.id,
                details={"from": before, "to": status, "changed": changed},
                at=now,
            )
            return incident

    async def add_action(
        self,
        reference: str,
        action: str,
        *,
        actor: str,
        at: datetime | None = None,
        note: str = "",
    ) -> m.Incident:
        """Record something done about a case (post deleted, apology, training...)."""
        if action not in ACTIONS:
            raise StoreError(f"unknown action {action[:32]!r}; one of {', '.join(ACTIONS)}")
        at = at or self.clock()
        async with self.sessions.begin() as session:
            incident = await self._get(session, reference)
            note_text = _clip(note.strip(), 1000) or ""
            entry = {
                "action": action,
                "at": at.isoformat(),
                "by": _clip(actor, m.MAX_ID),
                "note": note_text,
            }
            # A new list, so SQLAlchemy sees the JSON column change.
            incident.actions = [*incident.actions, entry]
            incident.updated_at = self.clock()
            self._event(
                session,
                actor=actor,
                action="action.recorded",
                incident_id=incident.id,
                details={"action": action, "at": entry["at"], "note_chars": len(note_text)},
            )
            return incident

    # --- false positives ---------------------------------------------------------

    async def add_false_positive(self, fields: Mapping[str, Any], *, actor: str) -> int:
        """Save a false-positive report and its audit event; returns its id."""
        async with self.sessions.begin() as session:
            row = m.FalsePositiveReport(**fields, created_at=self.clock())
            session.add(row)
            await session.flush()
            self._event(
                session,
                actor=actor,
                action="false_positive.reported",
                details={
                    "id": row.id,
                    "platform": row.platform,
                    "entity_types": row.entity_types,
                    "with_text": row.flagged_text is not None,
                },
            )
            return row.id

    async def false_positives(self, *, limit: int = 500) -> list[m.FalsePositiveReport]:
        """False-positive reports, newest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                sa.select(m.FalsePositiveReport)
                .order_by(m.FalsePositiveReport.created_at.desc(), m.FalsePositiveReport.id.desc())
                .limit(limit)
            )
            return list(rows)

    # --- outbox ------------------------------------------------------------------

    async def queue_notifications(
        self, incident_id: int, kinds: Mapping[str, str], *, at: datetime
    ) -> list[str]:
        """Add outbox rows ``{kind: status}`` that do not exist yet; returns the kinds added.

        The unique (incident, kind) constraint is what makes a reminder go out once:
        whichever process inserts the row first owns it, even across restarts.
        """
        added: list[str] = []
        for kind, status in kinds.items():
            try:
                async with self.sessions.begin() as session:
                    session.add(
                        m.Notification(
                            incident_id=incident_id,
                            kind=kind,
                            status=status,
                            next_attempt_at=at,
                            created_at=at,
                        )
                    )
                    await session.flush()
                    self._event(
                        session,
                        actor="discretion",
                        action="notification.queued",
                        incident_id=incident_id,
                        details={"kind": kind, "status": status},
                        at=at,
                    )
                added.append(kind)
            except sa.exc.IntegrityError:
                continue  # already queued, here or by another process
        return added

    async def notification_kinds(self, incident_ids: Sequence[int]) -> dict[int, set[str]]:
        """Which notification kinds each incident already has."""
        out: dict[int, set[str]] = {i: set() for i in incident_ids}
        if not incident_ids:
            return out
        async with self.sessions() as session:
            rows = await session.execute(
                sa.select(m.Notification.incident_id, m.Notification.kind).where(
                    m.Notification.incident_id.in_(list(incident_ids))
                )
            )
            for incident_id, kind in rows:
                out[incident_id].add(kind)
        return out

    async def due_notifications(self, now: datetime, *, limit: int = 50) -> list[int]:
        """Ids of pending notifications whose next attempt is due and not leased."""
        async with self.sessions() as session:
            rows = await session.scalars(
                sa.select(m.Notification.id)
                .where(
                    m.Notification.status == m.PENDING,
                    m.Notification.next_attempt_at <= now,
                    sa.or_(
                        m.Notification.claimed_until.is_(None),
                        m.Notification.claimed_until < now,
                    ),
                )
                .order_by(m.Notification.next_attempt_at, m.Notification.id)
                .limit(limit)
            )
            return list(rows)

    async def claim_notification(
        self, notification_id: int, *, now: datetime, lease: timedelta
    ) -> tuple[m.Notification, m.Incident] | None:
        """Take a lease on a due notification; None when someone else holds it or it is done.

        One conditional UPDATE decides: only one process can move ``claimed_until``
        from expired to the future, on SQLite and PostgreSQL alike.
        """
        N = m.Notification
        async with self.sessions.begin() as session:
            result = await session.execute(
                sa.update(N)
                .where(
                    N.id == notification_id,
                    N.status == m.PENDING,
                    N.next_attempt_at <= now,
                    sa.or_(N.claimed_until.is_(None), N.claimed_until < now),
                )
                .values(claimed_until=now + lease, attempts=N.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            note = await session.get(N, notification_id, populate_existing=True)
            assert note is not None
            incident = await session.get(m.Incident, note.incident_id)
            assert incident is not None
            return note, incident

    async def save_deliveries(self, notification_id: int, deliveries: Mapping[str, Any]) -> None:
        """Record per-channel progress while a notification is still being sent (no audit yet)."""
        async with self.sessions.begin() as session:
            await session.execute(
                sa.update(m.Notification)
                .where(m.Notification.id == notification_id)
                .values(deliveries=dict(deliveries))
                .execution_options(synchronize_session=False)
            )

    async def finish_notification(
        self,
        notification_id: int,
        *,
        deliveries: Mapping[str, Any],
        status: str,
        now: datetime,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        """Save the outcome of one sending attempt and audit it; releases the lease."""
        async with self.sessions.begin() as session:
            note = await session.get(m.Notification, notification_id)
            if note is None:
                raise StoreError(f"no notification {notification_id}")
            note.deliveries = dict(deliveries)
            note.status = status
            note.claimed_until = None
            note.last_error = _clip(error, 500)
            if next_attempt_at is not None:
                note.next_attempt_at = next_attempt_at
            if status == m.SENT:
                note.sent_at = now
            action = {m.SENT: "notification.sent", m.FAILED: "notification.failed"}.get(
                status, "notification.retrying"
            )
            self._event(
                session,
                actor="discretion",
                action=action,
                incident_id=note.incident_id,
                details={
                    "kind": note.kind,
                    "attempt": note.attempts,
                    "channels": {
                        name: ("sent" if d.get("sent_at") else "failed")
                        for name, d in deliveries.items()
                    },
                    "error": note.last_error,
                },
                at=now,
            )

    async def notifications(self, reference: str) -> list[m.Notification]:
        """Every notification queued for a case, oldest first."""
        async with self.sessions() as session:
            incident = await self._get(session, reference)
            rows = await session.scalars(
                sa.select(m.Notification)
                .where(m.Notification.incident_id == incident.id)
                .order_by(m.Notification.created_at, m.Notification.id)
            )
            return list(rows)

    async def open_incidents(self, *, aware_before: datetime) -> list[m.Incident]:
        """Cases whose clock is running and who became aware before a time (for reminders)."""
        async with self.sessions() as session:
            rows = await session.scalars(
                sa.select(m.Incident)
                .where(
                    m.Incident.status.in_(list(m.CLOCK_RUNNING)),
                    m.Incident.aware_at <= aware_before,
                )
                .order_by(m.Incident.id)
            )
            return list(rows)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Readers do not block the writer; the dashboard reads while the bot writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still survives a crash of the server; only a power cut can lose the
    # last commits. One fsync per commit (FULL) made every warning wait on the disk.
    # Production sites use PostgreSQL; the embedded SQLite file is for small sites and trials.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
