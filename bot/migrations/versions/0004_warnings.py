"""Warnings: one row per private warning sent, and what the poster did next.

Revision ID: 0004_warnings
Revises: 0003_teams_conversations
Create Date: 2026-11-23

Where, kinds and counts of detail, risk, recognizers, configuration version and the
times of the outcomes: never the message, not even redacted. Read and written by
discretion.warnings_log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_warnings"
down_revision = "0003_teams_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("entity_types", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("recognizers", sa.JSON(), nullable=False),
        sa.Column("config_version", sa.String(64), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("incident_reference", sa.String(32), nullable=True),
        sa.Column("not_patient_data_at", sa.DateTime(timezone=True), nullable=True),
    )
    # The charts and retention both pick warnings by when they were sent.
    op.create_index("ix_warnings_created_at", "warnings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_warnings_created_at", table_name="warnings")
    op.drop_table("warnings")
