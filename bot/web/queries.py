"""Database questions the dashboard asks that the store does not: staff's own cases, used links.

Reads and writes here use the store's tables and its session factory; every change
to a case itself still goes through a Store method, so it is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from discretion.store import models as m
from discretion.store.db import Store
from discretion.web.models import UsedReportLink


async def list_cases(
    store: Store,
    *,
    statuses: Sequence[str] | None = None,
    platform: str | None = None,
    overdue_at: datetime | None = None,
    reporter_ids: Sequence[str] | None = None,
    limit: int = 200,
) -> list[m.Incident]:
    """Cases, nearest deadline first; ``reporter_ids`` limits them to those people's reports.

    An empty ``reporter_ids`` list means "nobody's": a staff account with no chat
    ids linked sees no cases at all, rather than everyone's.
    """
    query = sa.select(m.Incident)
    if statuses:
        query = query.where(m.Incident.status.in_(list(statuses)))
    if platform:
        query = query.where(m.Incident.platform == platform)
    if overdue_at is not None:
        query = query.where(
            m.Incident.deadline < overdue_at, m.Incident.status.in_(list(m.CLOCK_RUNNING))
        )
    if reporter_ids is not None:
        query = query.where(m.Incident.reporter_id.in_(list(reporter_ids) or [""]))
        query = query.where(m.Incident.reporter_id != "")
    query = query.order_by(m.Incident.deadline, m.Incident.id).limit(limit)
    async with store.sessions() as session:
        return list(await session.scalars(query))


async def platforms(store: Store) -> list[str]:
    """The platforms cases have come from, for the filter."""
    async with store.sessions() as session:
        rows = await session.scalars(sa.select(m.Incident.platform).distinct())
        return sorted(rows)


async def all_cases_for_log(store: Store) -> list[m.Incident]:
    """Every case, oldest first: the Article 33(5) breach log."""
    async with store.sessions() as session:
        rows = await session.scalars(
            sa.select(m.Incident).order_by(m.Incident.aware_at, m.Incident.id)
        )
        return list(rows)


async def claim_link(store: Store, jti: str, expires_at: datetime, now: datetime) -> bool:
    """Mark a report link used; False when it already was (the primary key decides races)."""
    try:
        async with store.sessions.begin() as session:
            session.add(UsedReportLink(jti=jti, used_at=now, expires_at=expires_at))
            await session.flush()
    except sa.exc.IntegrityError:
        return False
    # A link past its expiry is refused by its signature check alone, so its row can go.
    async with store.sessions.begin() as session:
        await session.execute(sa.delete(UsedReportLink).where(UsedReportLink.expires_at < now))
    return True


async def release_link(store: Store, jti: str) -> None:
    """Give a link back when saving its report failed, so the reporter can try again."""
    async with store.sessions.begin() as session:
        await session.execute(
            sa.delete(UsedReportLink).where(
                UsedReportLink.jti == jti, UsedReportLink.reference.is_(None)
            )
        )


async def link_used_for(store: Store, jti: str, reference: str) -> None:
    """Remember which case a used link became (shown if someone opens it again)."""
    async with store.sessions.begin() as session:
        await session.execute(
            sa.update(UsedReportLink).where(UsedReportLink.jti == jti).values(reference=reference)
        )


async def used_link(store: Store, jti: str) -> UsedReportLink | None:
    """The record of a used link, or None when it has not been used."""
    async with store.sessions() as session:
        return await session.get(UsedReportLink, jti)
