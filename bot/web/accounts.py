"""Dashboard accounts: the caller gets a created user, or the user a password signs in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from discretion.web.models import ROLES, DashboardUser
from discretion.web.passwords import hash_password, needs_rehash, verify_password

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,127}$")


class AccountError(ValueError):
    """An account that cannot be created as asked; the message says why, for a person."""


def normalise_username(username: str) -> str:
    """The stored form of a username (trimmed, lower-case)."""
    return username.strip().lower()


async def create_user(
    db: AsyncSession,
    *,
    username: str,
    role: str,
    password: str | None,
    display_name: str = "",
    chat_ids: Sequence[str] = (),
    oidc_subject: str | None = None,
) -> DashboardUser:
    """A new account, flushed (the caller commits). Raises AccountError on bad input."""
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise AccountError(
            "A username is 2 to 128 letters, digits, dots, dashes, underscores or @, "
            "starting with a letter or digit."
        )
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.")
    if password is None and oidc_subject is None:
        raise AccountError("An account needs a password or an OpenID Connect identity.")
    existing = await db.scalar(sa.select(DashboardUser.id).where(DashboardUser.username == name))
    if existing is not None:
        raise AccountError(f"There is already an account called {name!r}.")
    try:
        hashed = hash_password(password) if password is not None else None
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    user = DashboardUser(
        username=name,
        role=role,
        password_hash=hashed,
        display_name=display_name.strip()[:128],
        chat_ids=[c.strip() for c in chat_ids if c.strip()],
        oidc_subject=oidc_subject,
        disabled=False,
    )
    db.add(user)
    await db.flush()
    return user


async def authenticate(
    db: AsyncSession, username: str, password: str, now: datetime
) -> DashboardUser | None:
    """The enabled account these credentials sign in to, or None (without saying which was wrong)."""
    name = normalise_username(username)
    user = await db.scalar(sa.select(DashboardUser).where(DashboardUser.username == name))
    # verify_password spends the same time when there is no such account.
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.disabled:
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    return user


async def count_users(db: AsyncSession) -> int:
    """How many accounts exist (zero means the first one still has to be made)."""
    return int(await db.scalar(sa.select(sa.func.count(DashboardUser.id))) or 0)
