"""What the data protection lead is told: reference, deadline, kinds of data, where, and a link.

An :class:`Alert` is built from a case and carries no patient data: no names, no
numbers, not even the redacted excerpt - only the kinds of data found and where.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from discretion.clock import CREATED, OVERDUE
from discretion.config import EscalationSettings
from discretion.reasons import describe, join_words
from discretion.store import models as m

PUBLIC_URL_ENV = "DISCRETION_PUBLIC_URL"
DEFAULT_DASHBOARD = "http://127.0.0.1:3978"
PLATFORM_NAMES = {"slack": "Slack", "teams": "Microsoft Teams", "web": "the web form"}


def case_url(settings: EscalationSettings, reference: str) -> str:
    """The dashboard address of a case."""
    base = settings.dashboard_url or os.environ.get(PUBLIC_URL_ENV) or DEFAULT_DASHBOARD
    return base.rstrip("/") + settings.case_path.format(reference=reference)


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%a %d %b %Y %H:%M UTC")


def _hours(delta_hours: float) -> str:
    whole = int(abs(delta_hours))
    if whole == 0:
        return "less than an hour"
    return "1 hour" if whole == 1 else f"{whole} hours"


def _time_left(left: float) -> str:
    """'48 hours left' or, once the deadline has gone, 'the deadline passed 3 hours ago'."""
    return f"{_hours(left)} left" if left >= 0 else f"the deadline passed {_hours(left)} ago"


@dataclass(frozen=True)
class Alert:
    """One message for the lead, ready for any channel to lay out."""

    reference: str
    kind: str  # "created", "reminder_24h"..., "overdue"
    delivery_id: str  # the same on every retry, so a receiver can drop repeats
    subject: str
    summary: str
    deadline: datetime
    hours_left: float
    kinds_of_data: tuple[str, ...]
    entity_counts: dict[str, int]
    platform: str
    workspace: str
    channel: str
    status: str
    case_url: str
    sent_at: datetime
    lines: tuple[str, ...] = field(default=())

    @property
    def event(self) -> str:
        """ "incident.created", "incident.reminder" or "incident.overdue"."""
        if self.kind.startswith("reminder_"):
            return "incident.reminder"
        return f"incident.{self.kind}"

    def text(self) -> str:
        """The alert as plain text (email body, chat message)."""
        return "\n".join((self.summary, "", *self.lines, "", f"Open the case: {self.case_url}"))

    def as_json(self) -> dict[str, Any]:
        """The alert as a JSON object (webhook body)."""
        return {
            "event": self.event,
            "kind": self.kind,
            "delivery_id": self.delivery_id,
            "reference": self.reference,
            "summary": self.summary,
            "deadline": self.deadline.isoformat(),
            "hours_left": round(self.hours_left, 1),
            "kinds_of_data": list(self.kinds_of_data),
            "entity_counts": dict(self.entity_counts),
            "platform": self.platform,
            "workspace": self.workspace,
            "channel": self.channel,
            "status": self.status,
            "case_url": self.case_url,
            "sent_at": self.sent_at.isoformat(),
        }


def build_alert(
    incident: m.Incident, kind: str, settings: EscalationSettings, now: datetime
) -> Alert:
    """The alert for ``kind`` about ``incident`` at ``now``."""
    reference = str(incident.reference)
    left = (incident.deadline - now).total_seconds() / 3600
    counts = {str(k): int(v) for k, v in (incident.entity_counts or {}).items()}
    kinds = tuple(describe(k) for k in sorted(counts))
    where = PLATFORM_NAMES.get(incident.platform, incident.platform)
    if kind == CREATED:
        subject = f"Possible patient data breach reported: {reference}"
        summary = (
            f"A possible breach of patient confidentiality was reported in {where}. "
            f"If it must be reported to the ICO, that has to happen by {_when(incident.deadline)} "
            f"({_time_left(left)})."
        )
    elif kind == OVERDUE:
        subject = f"Overdue: {reference} passed the 72-hour ICO deadline"
        summary = (
            f"The 72-hour deadline for {reference} passed at {_when(incident.deadline)} and the case "
            "is still open. If the breach is reportable, tell the ICO now and record why it was late; "
            "if it is not, record your reasoning and close the case."
        )
    else:
        subject = f"Reminder: {_time_left(left)} to decide on {reference}"
        if left < 0:
            subject = f"Reminder: {reference} is past its 72-hour ICO deadline"
        summary = (
            f"{reference} is still open: {_time_left(left)} "
            f"(the 72-hour ICO deadline is {_when(incident.deadline)})."
        )
    lines = (
        f"Reference: {reference}",
        f"Deadline: {_when(incident.deadline)}",
        f"Kinds of data: {join_words(kinds) or 'details that together could identify a patient'}",
        f"Where: {where}, channel {incident.channel or 'unknown'}",
        f"Status: {incident.status.replace('_', ' ')}",
    )
    return Alert(
        reference=reference,
        kind=kind,
        delivery_id=f"{reference}:{kind}",
        subject=subject,
        summary=summary,
        deadline=incident.deadline,
        hours_left=left,
        kinds_of_data=kinds,
        entity_counts=counts,
        platform=incident.platform,
        workspace=incident.workspace,
        channel=incident.channel,
        status=incident.status,
        case_url=case_url(settings, reference),
        sent_at=now,
        lines=lines,
    )
