"""Words for the dashboard: status names, actions, and audit events told in plain English."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from discretion.reasons import describe
from discretion.store import models as m
from discretion.web.timefmt import show

STATUS_NAMES: dict[str, str] = {
    m.NEW: "New",
    m.TRIAGED: "Triaged",
    m.REPORTABLE: "Reportable to the ICO",
    m.ICO_NOTIFIED: "ICO notified",
    m.NOT_REPORTABLE: "Not reportable",
    m.CLOSED: "Closed",
}
# What the button that moves a case to each status says.
STATUS_VERBS: dict[str, str] = {
    m.TRIAGED: "Mark as triaged",
    m.REPORTABLE: "Decide: reportable to the ICO",
    m.ICO_NOTIFIED: "Record that the ICO was notified",
    m.NOT_REPORTABLE: "Decide: not reportable",
    m.CLOSED: "Close the case",
}
ACTION_NAMES: dict[str, str] = {
    "post_deleted": "Post deleted",
    "apology_sent": "Apology to the patient",
    "training": "Training for the member of staff",
    "staff_reminder": "Staff reminded of the policy",
    "other": "Something else",
}
FIELD_NAMES: dict[str, str] = {
    "what_happened": "what happened",
    "reporter_actions": "what the reporter did",
    "aware_at": "time of awareness",
    "deadline": "deadline",
    "likelihood": "likelihood",
    "severity": "severity",
    "ico_reference": "ICO reference",
    "ico_notified_at": "time the ICO was told",
    "not_reportable_reason": "reason it is not reportable",
    "patient_must_be_told": "whether the patient must be told",
    "patient_told_at": "time the patient was told",
    "patient_told_how": "how the patient was told",
    "patient_not_told_reason": "reason the patient is not told",
}
PLATFORM_NAMES = {"slack": "Slack", "teams": "Microsoft Teams", "web": "Web form", "local": "Local"}


def status_name(status: str) -> str:
    """The status as a person says it."""
    return STATUS_NAMES.get(status, status)


def kinds(counts: dict[str, Any]) -> list[str]:
    """'NHS number (1)' for each kind of data found."""
    return [f"{describe(kind)} ({count})" for kind, count in sorted(counts.items())]


def _value(value: Any) -> str:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return show(datetime.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, dict) and set(value) == {"chars"}:
        return f"{value['chars']} characters of text"
    if value is None:
        return "cleared"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def describe_event(action: str, details: dict[str, Any]) -> str:
    """One line of the timeline. Free text is never in an event, only its length."""
    if action == "incident.created":
        return f"Case opened from a {details.get('source', 'report')} report."
    if action == "status.changed":
        said = (
            f"Status changed from {status_name(str(details.get('from')))} "
            f"to {status_name(str(details.get('to')))}."
        )
        changed = details.get("changed") or {}
        if changed:
            said += " Recorded: " + "; ".join(
                f"{FIELD_NAMES.get(k, k)}: {_value(v)}" for k, v in changed.items()
            )
        return said
    if action in ("incident.updated", "case.graded", "patient.recorded"):
        changed = details.get("changed") or {}
        parts = "; ".join(f"{FIELD_NAMES.get(k, k)}: {_value(v)}" for k, v in changed.items())
        return f"Updated {parts}." if parts else "Updated."
    if action == "action.recorded":
        name = ACTION_NAMES.get(str(details.get("action")), str(details.get("action")))
        return f"Action recorded: {name}."
    if action.startswith("notification."):
        kind = str(details.get("kind", "")).replace("_", " ")
        verb = action.split(".", 1)[1]
        return f"Notification to the data protection lead ({kind}): {verb}."
    if action == "log.exported":
        return f"Breach log exported as {details.get('format', '?')}."
    if action == "case.viewed":
        return "Case viewed."
    return action.replace(".", " ").capitalize() + "."
