"""Sign-in sessions kept in the database: the cookie holds a random token, the table its hash.

A stolen database therefore cannot be replayed as cookies, and signing out (or
an administrator disabling an account) ends the session everywhere at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from discretion.web.models import DashboardSession, DashboardUser

COOKIE = "discretion_session"
# How often last_seen_at is written: every request would be a write per page view.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """A signed-in user and the token of their session cookie."""

    user: DashboardUser
    token: str


async def start_session(
    db: AsyncSession, user: DashboardUser, now: datetime, lifetime: timedelta
) -> str:
    """A new session for ``user``; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    db.add(
        DashboardSession(
            token_hash=_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
            last_seen_at=now,
        )
    )
    # Old sessions are removed on the way, so the table does not grow without end.
    await db.execute(sa.delete(DashboardSession).where(DashboardSession.expires_at <= now))
    return token


async def load_session(db: AsyncSession, token: str | None, now: datetime) -> SignedIn | None:
    """The signed-in user for a cookie token, or None when it is unknown, expired or disabled."""
    if not token or len(token) > 200:
        return None
    row = await db.get(DashboardSession, _hash(token))
    if row is None or row.expires_at <= now:
        return None
    user = await db.get(DashboardUser, row.user_id)
    if user is None or user.disabled:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return SignedIn(user=user, token=token)


async def end_session(db: AsyncSession, token: str | None) -> None:
    """Forget a session (signing out)."""
    if token:
        await db.execute(
            sa.delete(DashboardSession).where(DashboardSession.token_hash == _hash(token))
        )
