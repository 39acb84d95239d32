"""Telling the data protection lead: email, a signed webhook, and chat channels the adapters add.

As soon as a case is created (``discretion.reporting.report_breach``) a "created"
notification is queued in the same transaction; the 72-hour clock
(``discretion.clock``) queues reminders and the overdue alert. The service sends
them through every channel and retries failures with backoff, so the case is
saved whatever happens and nothing is lost.

What the lead is told is an :class:`Alert`: reference, deadline, kinds of data,
platform and channel id, status and a link to the case. Never patient data.

Adding a channel (the Slack and Teams adapters do this; the core never imports them)::

    class SlackNotifier:
        name = "slack"                      # unique; deliveries are tracked by name

        async def send(self, alert: Alert) -> None:
            ...                             # post alert.subject / alert.text(); raise on failure

    services.extras.setdefault("notifiers", []).append(SlackNotifier())

Register only when the site configured a destination (``settings.escalation.chat.
slack_channel`` / ``teams_channel``). ``send`` must raise when the post fails (it is
retried) and should finish within two minutes. The same ``alert.delivery_id`` is
passed on every retry.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from discretion.clock import reminder_kind
from discretion.escalation.alert import Alert, build_alert, case_url
from discretion.escalation.service import Escalation, builtin_notifiers


@runtime_checkable
class Notifier(Protocol):
    """A channel alerts go through: a unique ``name`` and ``async send(alert)``."""

    name: str

    async def send(self, alert: Alert) -> None:
        """Deliver the alert; raise on failure so it is tried again later."""
        ...


__all__ = [
    "Alert",
    "Escalation",
    "Notifier",
    "build_alert",
    "builtin_notifiers",
    "case_url",
    "reminder_kind",
]
