"""Teams: each person's 1:1 conversation with the bot, so private warnings can reach them.

Revision ID: 0003_teams_conversations
Revises: 0002_dashboard
Create Date: 2026-11-23

Ids only (tenant, Azure AD object id, conversation id, service URL): no message content.
The table is read and written by discretion.adapters.teams.references.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_teams_conversations"
down_revision = "0002_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("service_url", sa.String(512), nullable=False),
        sa.Column("bot_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("teams_conversations")
