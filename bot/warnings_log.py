"""A record of every private warning sent and what the poster did next; never the message.

Each warning gets an opaque random id that travels in its buttons, so a click on
Delete, Replace, Report or "Not patient data" can be tied back to the warning
without keeping anything about the message itself. A row holds where (platform,
workspace, channel), what kinds of detail and how many, the risk, which recognizers
fired and the configuration version: enough for the admins' charts, never the words,
not even redacted ones.

Adapters call :func:`new_warning_id` before sending, :func:`note_warning` once the
warning went out and :func:`note_outcome` from the buttons; the ``note_`` helpers
never raise, because a lost tally must never cost a poster their warning or their
confirmation. The tuning page reads :func:`warning_stats`; retention calls
:func:`forget_warnings_before`.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from discretion.grouping import Grouped
from discretion.logs import get_logger
from discretion.store.models import MAX_ID, Base

log = get_logger("discretion.warnings_log")

DELETED = "deleted"
REPLACED = "replaced"
REPORTED = "reported"
NOT_PATIENT_DATA = "not_patient_data"
OUTCOMES: tuple[str, ...] = (DELETED, REPLACED, REPORTED, NOT_PATIENT_DATA)

MAX_WARNING_ID = 40
MAX_TYPES = 20
MAX_RECOGNIZERS = 20
MAX_NAME = 64


class WarningRecord(Base):
    """One private warning: where, what kinds of detail, and what followed (no text)."""

    __tablename__ = "warnings"

    # Random, so a button's payload reveals nothing and cannot be guessed from another.
    id: Mapped[str] = mapped_column(sa.String(MAX_WARNING_ID), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    workspace: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    channel: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    # ["NHS_NUMBER", "PERSON"] and {"NHS_NUMBER": 1, "PERSON": 2}.
    entity_types: Mapped[list[Any]] = mapped_column(default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    risk: Mapped[float] = mapped_column(sa.Float, default=0.0)
    recognizers: Mapped[list[Any]] = mapped_column(default=list)
    config_version: Mapped[str] = mapped_column(sa.String(MAX_NAME), default="")
    # What followed; the first time each happened (a second click changes nothing).
    deleted_at: Mapped[datetime | None]
    replaced_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    incident_reference: Mapped[str | None] = mapped_column(sa.String(32))
    not_patient_data_at: Mapped[datetime | None]


_COLUMN = {
    DELETED: WarningRecord.deleted_at,
    REPLACED: WarningRecord.replaced_at,
    REPORTED: WarningRecord.reported_at,
    NOT_PATIENT_DATA: WarningRecord.not_patient_data_at,
}


def new_warning_id() -> str:
    """A fresh opaque warning id (22 URL-safe characters, 128 random bits)."""
    return secrets.token_urlsafe(16)


def _names(values: Sequence[str], limit: int) -> list[str]:
    return [str(v)[:MAX_NAME] for v in dict.fromkeys(values)][:limit]


async def record_warning(
    store: Any,
    *,
    platform: str,
    channel: str,
    entity_types: Sequence[str],
    counts: Mapping[str, int] | None = None,
    risk: float = 0.0,
    recognizers: Sequence[str] = (),
    config_version: str = "",
    workspace: str = "",
    warning_id: str | None = None,
    at: datetime | None = None,
) -> str:
    """Save one sent warning; returns its id (``warning_id`` when given, else a new one)."""
    warning_id = warning_id or new_warning_id()
    if len(warning_id) > MAX_WARNING_ID:
        raise ValueError("warning id too long")
    row = {
        "id": warning_id,
        "created_at": at or store.clock(),
        "platform": platform[:16],
        "workspace": (workspace or "")[:MAX_ID],
        "channel": (channel or "")[:MAX_ID],
        "entity_types": _names(entity_types, MAX_TYPES),
        "counts": {str(k)[:MAX_NAME]: int(n) for k, n in list((counts or {}).items())[:MAX_TYPES]},
        "risk": round(float(risk), 3),
        "recognizers": _names(recognizers, MAX_RECOGNIZERS),
        "config_version": (config_version or "")[:MAX_NAME],
    }
    await _writer(store)(row)
    return warning_id


def _writer(store: Any) -> Grouped[dict[str, Any], None]:
    """The store's grouped insert of warning rows (see :mod:`discretion.grouping`)."""
    writer = getattr(store, "_warning_writer", None)
    if writer is None:

        async def insert(rows: list[dict[str, Any]]) -> list[None]:
            async with store.sessions.begin() as session:
                await session.execute(sa.insert(WarningRecord), rows)
            return [None] * len(rows)

        writer = store._warning_writer = Grouped(insert)
    return writer


async def record_outcome(
    store: Any,
    warning_id: str,
    outcome: str,
    *,
    incident_reference: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Note what followed a warning; True if newly noted, False if already noted or unknown.

    Only the first time counts: clicking Delete twice, or a button delivered twice,
    leaves the first time in place. An id we never issued (an old button, a forged
    payload) is ignored with a log line.
    """
    column = _COLUMN.get(outcome)
    if column is None:
        raise ValueError(f"unknown outcome {outcome!r}")
    if not warning_id or len(warning_id) > MAX_WARNING_ID:
        log.warning("warnings.unknown_id", outcome=outcome)
        return False
    values: dict[str, Any] = {column.key: at or store.clock()}
    if outcome == REPORTED and incident_reference:
        values["incident_reference"] = incident_reference[:32]
    async with store.sessions.begin() as session:
        # One conditional UPDATE: two replicas handling the same click cannot both win.
        result = await session.execute(
            sa.update(WarningRecord)
            .where(WarningRecord.id == warning_id, column.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return True
        known = await session.scalar(
            sa.select(sa.func.count())
            .select_from(WarningRecord)
            .where(WarningRecord.id == warning_id)
        )
    if not known:
        log.warning("warnings.unknown_id", outcome=outcome)
    return False


async def note_warning(
    store: Any,
    assessment: Any,
    *,
    warning_id: str,
    platform: str,
    channel: str,
    workspace: str = "",
) -> bool:
    """Record a sent warning from its assessment; True if saved. Never raises."""
    if store is None or not warning_id:
        return False
    counts: dict[str, int] = Counter(f.entity_type for f in assessment.findings)
    try:
        await record_warning(
            store,
            warning_id=warning_id,
            platform=platform,
            workspace=workspace,
            channel=channel,
            entity_types=assessment.entity_types,
            counts=counts,
            risk=assessment.risk,
            recognizers=[f.recognizer for f in assessment.findings],
            config_version=assessment.config_version,
        )
    except Exception as exc:  # the warning has gone out; a lost tally must not undo that
        log.error("warnings.record_failed", platform=platform, error=type(exc).__name__)
        return False
    return True


async def note_outcome(
    store: Any, warning_id: str | None, outcome: str, *, incident_reference: str | None = None
) -> bool:
    """Record what followed a warning, if the button carried its id; never raises."""
    if store is None or not warning_id:
        return False
    try:
        return await record_outcome(
            store, warning_id, outcome, incident_reference=incident_reference
        )
    except Exception as exc:  # the poster still gets their confirmation
        log.error("warnings.outcome_failed", outcome=outcome, error=type(exc).__name__)
        return False


async def forget_warnings_before(store: Any, cutoff: datetime) -> int:
    """Delete warnings created before ``cutoff``; returns how many went."""
    async with store.sessions.begin() as session:
        result = await session.execute(
            sa.delete(WarningRecord)
            .where(WarningRecord.created_at < cutoff)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the admins' figures -----------------------------------------------------------------


@dataclass
class WarningStats:
    """Figures for the charts: warnings per day, channel and kind, and what followed them."""

    since: date
    days: list[str]
    per_day: list[int]
    per_channel: list[tuple[str, int]]
    per_type: list[tuple[str, int]]
    total: int
    # Outcome -> number of warnings it followed; "none" is warnings with none of them.
    followed: dict[str, int] = field(default_factory=dict)

    def share(self, outcome: str) -> float:
        """The share (0-1) of warnings ``outcome`` followed; 0 when there were none."""
        return self.followed.get(outcome, 0) / self.total if self.total else 0.0


def _day(dialect: str) -> Any:
    if dialect == "postgresql":
        # The session's time zone must not move a warning to another day.
        return sa.cast(sa.func.timezone("UTC", WarningRecord.created_at), sa.Date)
    # SQLite keeps naive UTC text ("2026-03-02 09:30:00.000000"); its date() reads that.
    return sa.func.date(WarningRecord.created_at)


async def warning_stats(
    store: Any,
    *,
    now: datetime | None = None,
    days: int = 30,
    top_channels: int = 10,
    top_types: int = 15,
) -> WarningStats:
    """Counts over the last ``days`` days (today included), in UTC days."""
    now = now or store.clock()
    first = now.date() - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    W = WarningRecord
    recent = W.created_at >= start
    day = _day(store.dialect).label("day")
    async with store.sessions() as session:
        by_day = {
            (d if isinstance(d, str) else d.isoformat()): n
            for d, n in (
                await session.execute(sa.select(day, sa.func.count()).where(recent).group_by(day))
            ).all()
        }
        channel_count = sa.func.count().label("n")
        by_channel = (
            await session.execute(
                sa.select(W.channel, channel_count)
                .where(recent)
                .group_by(W.channel)
                .order_by(channel_count.desc(), W.channel)
                .limit(top_channels)
            )
        ).all()
        totals = (
            await session.execute(
                sa.select(
                    sa.func.count(),
                    *(sa.func.count(c) for c in _COLUMN.values()),
                    sa.func.count().filter(sa.and_(*(c.is_(None) for c in _COLUMN.values()))),
                ).where(recent)
            )
        ).one()
        # Kinds are a JSON list per row; counting them here works the same on both databases.
        types: Counter[str] = Counter()
        for listed in await session.scalars(sa.select(W.entity_types).where(recent)):
            types.update(listed or ["(not recorded)"])
    labels = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    return WarningStats(
        since=first,
        days=labels,
        per_day=[by_day.get(d, 0) for d in labels],
        per_channel=[(c or "(not recorded)", n) for c, n in by_channel],
        per_type=sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))[:top_types],
        total=totals[0],
        followed={
            **{o: totals[i + 1] for i, o in enumerate(OUTCOMES)},
            "none": totals[len(OUTCOMES) + 1],
        },
    )
