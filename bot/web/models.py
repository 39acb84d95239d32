"""The dashboard's own tables: accounts, sign-in sessions, report links already used.

They share the store's declarative ``Base`` (and so its UTC timestamps); the
Alembic revision that creates them is ``0002_dashboard`` in bot/migrations/versions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from discretion.store.models import MAX_ID, Base, utcnow

# Re-exported: the roles are part of what an account is.
from discretion.web.roles import (  # noqa: F401
    ADMIN,
    CAN_EDIT,
    CAN_READ_ALL,
    DPO,
    NO_ROLE,
    ROLE_NAMES,
    ROLES,
    STAFF,
    VIEWER,
)


class DashboardUser(Base):
    """Someone who may sign in to the dashboard."""

    __tablename__ = "dashboard_users"
    __table_args__ = (
        sa.CheckConstraint("role IN ('dpo', 'admin', 'viewer', 'staff', 'none')", name="ck_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case: people type their name in whatever case they like.
    username: Mapped[str] = mapped_column(sa.String(MAX_ID), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(MAX_ID), default="")
    role: Mapped[str] = mapped_column(sa.String(16))
    # None for accounts that sign in only through OpenID Connect.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # "issuer subject" of the OpenID Connect account linked to this one.
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(512), unique=True)
    # The person's Slack/Teams user ids: a staff account sees reports made by these ids.
    chat_ids: Mapped[list[Any]] = mapped_column(default=list)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        """How to show this person: their display name, else their username."""
        return self.display_name or self.username


class DashboardSession(Base):
    """One signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "dashboard_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dashboard_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsedReportLink(Base):
    """A report link that has been submitted; its id can never be used again."""

    __tablename__ = "used_report_links"

    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    reference: Mapped[str | None] = mapped_column(sa.String(32))
