"""Storage for breach reports: incidents, the audit trail, false positives, the outbox.

``Store`` is the one way in; ``discretion.store.models`` holds the tables.
"""

from __future__ import annotations

from discretion.store.db import Store, StoreError, database_url
from discretion.store.models import AuditEvent, FalsePositiveReport, Incident, Notification

__all__ = [
    "AuditEvent",
    "FalsePositiveReport",
    "Incident",
    "Notification",
    "Store",
    "StoreError",
    "database_url",
]
