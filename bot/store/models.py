"""The tables Discretion keeps: incidents, their audit trail, false-positive reports, the outbox.

Read this module to build on the store (the dashboard does). What is here:

* :class:`Incident` - one reported breach. Never the raw message: a redacted excerpt,
  kinds and counts of data, an HMAC of the text, a permalink. ``deadline`` is always
  ``aware_at`` + 72 hours (UK GDPR Article 33(1)). ``status`` moves through
  :data:`TRANSITIONS`; use ``Store.change_status`` and ``Store.update_incident`` so
  every change writes an audit event.
* :class:`AuditEvent` - append-only: who did what, when, to which incident. The store
  has no way to change or delete one, and the database refuses (triggers on both
  SQLite and PostgreSQL).
* :class:`FalsePositiveReport` - "this was not patient data" from a chat button.
  The flagged words are kept only when the poster agreed.
* :class:`Notification` - the outbox: one row per incident and kind of message
  ("created", "reminder_24h", "overdue"...), unique, so each goes out once even
  across restarts; per-channel delivery state lives in ``deliveries``.

Every timestamp is timezone-aware UTC (see :class:`UTCDateTime`). Schema changes go
in a new Alembic revision in ``bot/migrations/versions/`` whose ``down_revision`` is
the newest one there; declare the table here too so ``Base.metadata`` stays complete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The ICO must be told within 72 hours of the organisation becoming aware (Art. 33(1)).
REPORTING_WINDOW = timedelta(hours=72)

# Statuses, in the order a case normally moves through them.
NEW = "new"
TRIAGED = "triaged"
REPORTABLE = "reportable"
ICO_NOTIFIED = "ico_notified"
NOT_REPORTABLE = "not_reportable"
CLOSED = "closed"
STATUSES: tuple[str, ...] = (NEW, TRIAGED, REPORTABLE, ICO_NOTIFIED, NOT_REPORTABLE, CLOSED)

# Where a case may go next. Going back is allowed where a lead can change their mind
# (a reportable case turns out not to be, a closed case is reopened); the ICO being
# told cannot be undone, so ico_notified only closes.
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({TRIAGED}),
    TRIAGED: frozenset({REPORTABLE, NOT_REPORTABLE}),
    REPORTABLE: frozenset({ICO_NOTIFIED, NOT_REPORTABLE}),
    NOT_REPORTABLE: frozenset({REPORTABLE, CLOSED}),
    ICO_NOTIFIED: frozenset({CLOSED}),
    CLOSED: frozenset({TRIAGED}),
}

# While a case is in one of these the 72-hour clock runs and reminders go out.
CLOCK_RUNNING: frozenset[str] = frozenset({NEW, TRIAGED, REPORTABLE})

SOURCES: tuple[str, ...] = ("button", "link", "command", "web")

# Bounds on free text, so one report cannot fill the database.
MAX_ID = 128
MAX_PERMALINK = 1000
MAX_EXCERPT = 2000
MAX_FREE_TEXT = 4000
MAX_REASONS = 20
MAX_REASON = 500
MAX_FLAGGED = 200


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores naive UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive time is ambiguous (local? UTC?): refuse rather than guess.
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base; ``Base.metadata`` describes every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


class Incident(Base):
    """One reported breach: what is known about it, never the patient data itself."""

    __tablename__ = "incidents"
    __table_args__ = (
        sa.UniqueConstraint("reference", name="uq_incidents_reference"),
        sa.CheckConstraint(
            "likelihood IS NULL OR likelihood BETWEEN 1 AND 5", name="ck_likelihood"
        ),
        sa.CheckConstraint("severity IS NULL OR severity BETWEEN 1 AND 5", name="ck_severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "DSC-2026-00042": year of awareness and the row id, so it is unique without a race.
    reference: Mapped[str | None] = mapped_column(sa.String(32))
    # Where the message was.
    platform: Mapped[str] = mapped_column(sa.String(16))
    workspace: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    channel: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    permalink: Mapped[str] = mapped_column(sa.String(MAX_PERMALINK), default="")
    poster_id: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    reporter_id: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    source: Mapped[str] = mapped_column(sa.String(16))
    # When: the message, the organisation becoming aware, the ICO deadline.
    message_at: Mapped[datetime | None]
    aware_at: Mapped[datetime]
    deadline: Mapped[datetime] = mapped_column(index=True)
    # What was found: {"NHS_NUMBER": 1, "PERSON": 2}, plain-English reasons, redacted text.
    entity_counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    redacted_excerpt: Mapped[str] = mapped_column(sa.Text, default="")
    # HMAC-SHA256 of the raw text under the install's key: matches repeats, reveals nothing.
    message_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The reporter's own words.
    what_happened: Mapped[str] = mapped_column(sa.Text, default="")
    reporter_actions: Mapped[str] = mapped_column(sa.Text, default="")
    # The data protection lead's decision.
    status: Mapped[str] = mapped_column(sa.String(16), default=NEW, index=True)
    likelihood: Mapped[int | None]  # 1 not occurred .. 5 occurred (NHS grading)
    severity: Mapped[int | None]  # 1 no adverse effect .. 5 catastrophic
    ico_reference: Mapped[str | None] = mapped_column(sa.String(64))
    ico_notified_at: Mapped[datetime | None]
    not_reportable_reason: Mapped[str | None] = mapped_column(sa.Text)
    # UK GDPR Article 34: must the patient be told, and when and how were they.
    patient_must_be_told: Mapped[bool | None]
    patient_told_at: Mapped[datetime | None]
    patient_told_how: Mapped[str | None] = mapped_column(sa.Text)
    patient_not_told_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Actions taken: [{"action": "post_deleted", "at": iso time, "by": actor, "note": ""}].
    actions: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    def time_left(self, now: datetime | None = None) -> timedelta:
        """How long until the ICO deadline (negative once it has passed)."""
        return self.deadline - (now or utcnow())

    def __repr__(self) -> str:
        return f"Incident(reference={self.reference!r}, status={self.status!r})"


class AuditEvent(Base):
    """One thing that happened to a case: append-only, never changed or deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(MAX_ID))
    # A short verb phrase: "incident.created", "status.changed", "notification.sent"...
    action: Mapped[str] = mapped_column(sa.String(64))
    # Field names and new values (no patient data), e.g. {"from": "new", "to": "triaged"}.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def __repr__(self) -> str:
        return f"AuditEvent(incident_id={self.incident_id!r}, action={self.action!r})"


class FalsePositiveReport(Base):
    """Someone said a warning was wrong; kept so the recognizers can be tuned."""

    __tablename__ = "false_positive_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    channel: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    reporter_id: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    entity_types: Mapped[list[Any]] = mapped_column(default=list)
    recognizers: Mapped[list[Any]] = mapped_column(default=list)
    config_version: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    # Only when the poster agreed to share the flagged word(s); None otherwise.
    flagged_text: Mapped[str | None] = mapped_column(sa.String(MAX_FLAGGED))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Outbox states.
PENDING = "pending"
SENT = "sent"
SKIPPED = "skipped"  # superseded by a later reminder, or no channel configured
FAILED = "failed"  # gave up after the configured attempts; kept, visible, never deleted


class Notification(Base):
    """One message to the data protection lead, sent once through every configured channel."""

    __tablename__ = "notifications"
    __table_args__ = (sa.UniqueConstraint("incident_id", "kind", name="uq_notification_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    # "created", "reminder_24h", "reminder_48h", "reminder_66h", "overdue".
    kind: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # A sender holds a lease until this time; another process may take over after it.
    claimed_until: Mapped[datetime | None]
    # {"email": {"sent_at": iso, "attempts": 1}, "webhook": {"error": "HTTP 500", ...}}
    deliveries: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Notification(incident_id={self.incident_id!r}, kind={self.kind!r}, status={self.status!r})"
