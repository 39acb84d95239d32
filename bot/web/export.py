"""The breach log (UK GDPR Article 33(5)) as CSV and JSON, and the Article 33(3) summary.

Article 33(5) asks for a record of every breach, reported or not: the facts,
its effects and the remedial action taken. Each case is one row; the redacted
excerpt is the only part of the message there is, and it is redacted.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from discretion.reasons import describe
from discretion.store import models as m
from discretion.web import present, queries
from discretion.web.context import Visit, page
from discretion.web.grading import LIKELIHOOD, SEVERITY, Grade
from discretion.web.models import CAN_READ_ALL
from discretion.web.timefmt import show

COLUMNS: tuple[str, ...] = (
    "reference",
    "status",
    "platform",
    "workspace",
    "channel",
    "permalink",
    "source",
    "message_at",
    "aware_at",
    "deadline",
    "reported_at",
    "kinds_of_data",
    "redacted_excerpt",
    "what_happened",
    "reporter_actions",
    "likelihood",
    "severity",
    "grid_suggests_reportable",
    "decision",
    "not_reportable_reason",
    "ico_reference",
    "ico_notified_at",
    "ico_told_within_72_hours",
    "patient_must_be_told",
    "patient_told_at",
    "patient_told_how",
    "patient_not_told_reason",
    "actions_taken",
    "closed_at",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _decision(incident: m.Incident) -> str:
    if incident.ico_notified_at:
        return "reported to the ICO"
    if incident.not_reportable_reason:
        return "not reportable"
    if incident.status == m.REPORTABLE:
        return "reportable, ICO not yet told"
    return "not yet decided"


def log_record(incident: m.Incident) -> dict[str, Any]:
    """One case as a breach-log record (JSON types; times in ISO 8601 UTC)."""
    grade = (
        Grade(incident.likelihood, incident.severity)
        if incident.likelihood and incident.severity
        else None
    )
    notified = incident.ico_notified_at
    return {
        "reference": incident.reference,
        "status": incident.status,
        "platform": incident.platform,
        "workspace": incident.workspace,
        "channel": incident.channel,
        "permalink": incident.permalink,
        "source": incident.source,
        "message_at": _iso(incident.message_at),
        "aware_at": _iso(incident.aware_at),
        "deadline": _iso(incident.deadline),
        "reported_at": _iso(incident.created_at),
        "kinds_of_data": dict(sorted((incident.entity_counts or {}).items())),
        "redacted_excerpt": incident.redacted_excerpt,
        "what_happened": incident.what_happened,
        "reporter_actions": incident.reporter_actions,
        "likelihood": incident.likelihood,
        "severity": incident.severity,
        "grid_suggests_reportable": grade.reportable if grade else None,
        "decision": _decision(incident),
        "not_reportable_reason": incident.not_reportable_reason,
        "ico_reference": incident.ico_reference,
        "ico_notified_at": _iso(notified),
        "ico_told_within_72_hours": (notified <= incident.deadline) if notified else None,
        "patient_must_be_told": incident.patient_must_be_told,
        "patient_told_at": _iso(incident.patient_told_at),
        "patient_told_how": incident.patient_told_how,
        "patient_not_told_reason": incident.patient_not_told_reason,
        "actions_taken": [
            {"action": a.get("action"), "at": a.get("at"), "by": a.get("by"), "note": a.get("note")}
            for a in (incident.actions or [])
        ],
        "closed_at": _iso(incident.closed_at),
    }


def _cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, dict):
        text = "; ".join(f"{k} x{v}" for k, v in value.items())
    elif isinstance(value, list):
        text = "; ".join(
            f"{a.get('action')} {a.get('at')}" + (f" ({a['note']})" if a.get("note") else "")
            for a in value
        )
    else:
        text = str(value)
    # A spreadsheet runs a cell that starts with these as a formula: keep it as text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def to_csv(records: list[dict[str, Any]]) -> str:
    """The breach log as CSV text, one case a row, with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow([_cell(record[c]) for c in COLUMNS])
    return out.getvalue()


def to_json(records: list[dict[str, Any]], *, generated_at: datetime, organisation: str) -> str:
    """The breach log as a JSON document."""
    doc = {
        "record": "UK GDPR Article 33(5) breach log",
        "organisation": organisation,
        "generated_at": generated_at.isoformat(),
        "cases": records,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


async def _export(visit: Visit, fmt: str) -> web.StreamResponse:
    dash = visit.dashboard
    now = dash.now()
    records = [log_record(i) for i in await queries.all_cases_for_log(dash.store)]
    await dash.store.record_event(
        actor=visit.actor, action="log.exported", details={"format": fmt, "cases": len(records)}
    )
    stamp = now.strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        body, ctype = to_csv(records), "text/csv"
    else:
        body = to_json(
            records, generated_at=now, organisation=dash.services.settings.organisation.name
        )
        ctype = "application/json"
    return web.Response(
        text=body,
        content_type=ctype,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="breach-log-{stamp}.{fmt}"'},
    )


@page(roles=CAN_READ_ALL)
async def export_csv(visit: Visit) -> web.StreamResponse:
    return await _export(visit, "csv")


@page(roles=CAN_READ_ALL)
async def export_json(visit: Visit) -> web.StreamResponse:
    return await _export(visit, "json")


def article_33_3(
    incident: m.Incident, *, organisation: str, contact: str, now: datetime
) -> list[tuple[str, str]]:
    """The Article 33(3) content for the ICO's form, pre-filled: (heading, text) pairs."""
    kinds = ", ".join(
        f"{describe(k)} ({c})" for k, c in sorted((incident.entity_counts or {}).items())
    )
    where = present.PLATFORM_NAMES.get(incident.platform, incident.platform)
    nature = (
        f"A member of staff posted details that could identify a patient in a {where} "
        f"conversation (channel {incident.channel or 'not recorded'}). "
        f"The message was posted {show(incident.message_at)}; the organisation became aware "
        f"{show(incident.aware_at)}. Kinds of personal data: {kinds or 'not recorded'}; these "
        "are health data (special category). Approximate number of people affected: one "
        "patient, unless the case notes say otherwise. Approximate number of records: one "
        "message."
    )
    if incident.what_happened:
        nature += f" The reporter said: {incident.what_happened}"
    if incident.likelihood and incident.severity:
        grade = Grade(incident.likelihood, incident.severity)
        consequences = (
            f"Likelihood of harm graded {grade.likelihood} ({LIKELIHOOD[grade.likelihood][0]}), "
            f"severity {grade.severity} ({SEVERITY[grade.severity][0]}): "
            f"{SEVERITY[grade.severity][1]}"
        )
    else:
        consequences = "Not yet graded: grade the case on its page first."
    done = [
        f"{present.ACTION_NAMES.get(a.get('action', ''), a.get('action'))} "
        f"({show(datetime.fromisoformat(a['at'])) if a.get('at') else 'date not recorded'})"
        + (f": {a['note']}" if a.get("note") else "")
        for a in (incident.actions or [])
    ]
    if incident.reporter_actions:
        done.append(f"The reporter said they did: {incident.reporter_actions}")
    if incident.patient_must_be_told is True:
        told = (
            f"The patient was told {show(incident.patient_told_at)}"
            + (f" ({incident.patient_told_how})" if incident.patient_told_how else "")
            if incident.patient_told_at
            else "The patient must be told and has not been yet."
        )
    elif incident.patient_must_be_told is False:
        told = f"The patient is not being told: {incident.patient_not_told_reason or ''}"
    else:
        told = "Not yet decided whether the patient must be told."
    late = ""
    reported = incident.ico_notified_at or now
    if reported > incident.deadline:
        late = (
            "This report is later than 72 hours after the organisation became aware "
            f"(deadline {show(incident.deadline)}): give the reasons for the delay (Article 33(1))."
        )
    sections = [
        ("Our reference", str(incident.reference)),
        ("(a) Nature of the breach", nature),
        (
            "(b) Data protection officer or other contact point",
            f"{contact}{', ' + organisation if organisation else ''}. Add a telephone number "
            "and email address the ICO can use.",
        ),
        ("(c) Likely consequences", consequences),
        (
            "(d) Measures taken or proposed",
            ("; ".join(done) if done else "None recorded yet.") + f" {told}",
        ),
    ]
    if late:
        sections.append(("Reasons for delay", late))
    return sections
