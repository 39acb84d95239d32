"""Incidents, their append-only audit trail, false-positive reports and the outbox.

Revision ID: 0001_incidents
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_incidents"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# The database itself refuses to change or remove an audit event, whatever code runs.
PG_APPEND_ONLY = [
    """
    CREATE FUNCTION discretion_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION discretion_audit_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION discretion_audit_append_only()
    """,
]
SQLITE_APPEND_ONLY = [
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END
    """,
]


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(32), nullable=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("permalink", sa.String(1000), nullable=False),
        sa.Column("poster_id", sa.String(128), nullable=False),
        sa.Column("reporter_id", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("message_at", TS, nullable=True),
        sa.Column("aware_at", TS, nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("entity_counts", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("redacted_excerpt", sa.Text, nullable=False),
        sa.Column("message_hash", sa.String(64), nullable=True),
        sa.Column("what_happened", sa.Text, nullable=False),
        sa.Column("reporter_actions", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("likelihood", sa.Integer, nullable=True),
        sa.Column("severity", sa.Integer, nullable=True),
        sa.Column("ico_reference", sa.String(64), nullable=True),
        sa.Column("ico_notified_at", TS, nullable=True),
        sa.Column("not_reportable_reason", sa.Text, nullable=True),
        sa.Column("patient_must_be_told", sa.Boolean, nullable=True),
        sa.Column("patient_told_at", TS, nullable=True),
        sa.Column("patient_told_how", sa.Text, nullable=True),
        sa.Column("patient_not_told_reason", sa.Text, nullable=True),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.UniqueConstraint("reference", name="uq_incidents_reference"),
        sa.CheckConstraint("likelihood IS NULL OR likelihood BETWEEN 1 AND 5", name="ck_likelihood"),
        sa.CheckConstraint("severity IS NULL OR severity BETWEEN 1 AND 5", name="ck_severity"),
    )
    op.create_index("ix_incidents_deadline", "incidents", ["deadline"])
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_index("ix_incidents_message_hash", "incidents", ["message_hash"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_events_incident_id", "audit_events", ["incident_id"])

    op.create_table(
        "false_positive_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("reporter_id", sa.String(128), nullable=False),
        sa.Column("entity_types", sa.JSON, nullable=False),
        sa.Column("recognizers", sa.JSON, nullable=False),
        sa.Column("config_version", sa.String(128), nullable=False),
        sa.Column("flagged_text", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("deliveries", sa.JSON, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.UniqueConstraint("incident_id", "kind", name="uq_notification_kind"),
    )
    op.create_index("ix_notifications_incident_id", "notifications", ["incident_id"])
    op.create_index("ix_notifications_status", "notifications", ["status"])
    op.create_index("ix_notifications_next_attempt_at", "notifications", ["next_attempt_at"])

    statements = PG_APPEND_ONLY if op.get_bind().dialect.name == "postgresql" else SQLITE_APPEND_ONLY
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS discretion_audit_append_only()")
    op.drop_table("notifications")
    op.drop_table("false_positive_reports")
    op.drop_table("audit_events")
    op.drop_table("incidents")
