"""The case list and the case page, and the forms that move a case along.

Every change goes through a Store method, which writes the audit event in the
same transaction; the handlers here only turn form fields into those calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from discretion.reasons import describe
from discretion.store import models as m
from discretion.store.db import ACTIONS, StoreError
from discretion.web import present, queries
from discretion.web.context import Visit, page
from discretion.web.grading import LIKELIHOOD, SEVERITY, Grade, parse_grade
from discretion.web.models import CAN_EDIT, CAN_READ_ALL, NO_ROLE, ROLES, STAFF
from discretion.web.timefmt import parse_input, time_left

LIST_LIMIT = 200


def _case_row(visit: Visit, incident: m.Incident) -> dict[str, Any]:
    words, tone = time_left(
        incident.deadline, visit.dashboard.now(), incident.status in m.CLOCK_RUNNING
    )
    return {
        "incident": incident,
        "status": present.status_name(incident.status),
        "platform": present.PLATFORM_NAMES.get(incident.platform, incident.platform),
        "kinds": present.kinds(incident.entity_counts or {}),
        "left": words,
        "tone": tone,
    }


def _own_ids(visit: Visit) -> list[str] | None:
    """None for roles that read every case; the account's chat ids for staff."""
    if visit.can_read_all:
        return None
    user = visit.user
    return [str(c) for c in (user.chat_ids if user else [])]


@page(roles=ROLES)
async def case_list(visit: Visit) -> web.StreamResponse:
    if visit.role == NO_ROLE:
        return visit.render("dashboard/no_role.html", status=403)
    q = visit.request.query
    status = q.get("status", "")
    platform = q.get("platform", "")
    overdue = q.get("overdue") == "1"
    statuses: list[str] | None
    if status == "open":
        statuses = [s for s in m.STATUSES if s != m.CLOSED]
    elif status in m.STATUSES:
        statuses = [status]
    else:
        status, statuses = "", None
    store = visit.dashboard.store
    known_platforms = await queries.platforms(store)
    if platform not in known_platforms:
        platform = ""
    incidents = await queries.list_cases(
        store,
        statuses=statuses,
        platform=platform or None,
        overdue_at=visit.dashboard.now() if overdue else None,
        reporter_ids=_own_ids(visit),
        limit=LIST_LIMIT,
    )
    return visit.render(
        "dashboard/cases.html",
        rows=[_case_row(visit, i) for i in incidents],
        limit=LIST_LIMIT,
        filters={"status": status, "platform": platform, "overdue": overdue},
        statuses=[(s, present.status_name(s)) for s in m.STATUSES],
        platforms=[(p, present.PLATFORM_NAMES.get(p, p)) for p in known_platforms],
        staff_view=visit.role == STAFF,
    )


async def _visible_case(visit: Visit) -> m.Incident | None:
    """The case named in the address, if this visitor may see it."""
    reference = visit.request.match_info["reference"][:40]
    incident = await visit.dashboard.store.get_incident(reference)
    if incident is None:
        return None
    own = _own_ids(visit)
    if own is not None and (not incident.reporter_id or incident.reporter_id not in own):
        return None  # staff: someone else's report looks exactly like no report
    return incident


def _not_found(visit: Visit) -> web.Response:
    return visit.render(
        "dashboard/problem.html",
        status=404,
        title="No such case",
        detail="There is no case with that reference that you can see.",
    )


async def _case_page(
    visit: Visit, incident: m.Incident, *, error: str | None = None, status: int = 200
) -> web.Response:
    store = visit.dashboard.store
    events = await store.audit_trail(str(incident.reference))
    grade = (
        Grade(incident.likelihood, incident.severity)
        if incident.likelihood and incident.severity
        else None
    )
    row = _case_row(visit, incident)
    next_statuses = sorted(m.TRANSITIONS.get(incident.status, frozenset()), key=m.STATUSES.index)
    return visit.render(
        "dashboard/case.html",
        status=status,
        error=error,
        row=row,
        incident=incident,
        grade=grade,
        likelihood=LIKELIHOOD,
        severity=SEVERITY,
        next_statuses=[
            (s, "Reopen the case" if incident.status == m.CLOSED else present.STATUS_VERBS[s])
            for s in next_statuses
        ],
        kinds=[(describe(k), k, c) for k, c in sorted((incident.entity_counts or {}).items())],
        timeline=[
            (e, present.describe_event(e.action, e.details or {}))
            for e in reversed(events)  # newest first: what just happened is on top
        ],
        actions=[
            {
                **a,
                "name": present.ACTION_NAMES.get(a.get("action", ""), a.get("action")),
                "when": _when(a.get("at")),
            }
            for a in (incident.actions or [])
        ],
        action_choices=[(a, present.ACTION_NAMES.get(a, a)) for a in ACTIONS],
        staff_view=not visit.can_read_all,
    )


@page(roles=ROLES)
async def case_page(visit: Visit) -> web.StreamResponse:
    if visit.role == NO_ROLE:
        return visit.render("dashboard/no_role.html", status=403)
    incident = await _visible_case(visit)
    if incident is None:
        return _not_found(visit)
    return await _case_page(visit, incident)


async def _after_change(visit: Visit, reference: str, error: str | None) -> web.StreamResponse:
    if error is None:
        return visit.redirect(f"/dashboard/cases/{reference}#decision")
    incident = await visit.dashboard.store.get_incident(reference)
    if incident is None:
        return _not_found(visit)
    return await _case_page(visit, incident, error=error, status=400)


@page(roles=CAN_EDIT)
async def grade_case(visit: Visit) -> web.StreamResponse:
    incident = await _visible_case(visit)
    if incident is None:
        return _not_found(visit)
    reference = str(incident.reference)
    grade = parse_grade(visit.field("likelihood", 2), visit.field("severity", 2))
    if grade is None:
        return await _after_change(
            visit, reference, "Choose both a likelihood and a severity, from 1 to 5."
        )
    await visit.dashboard.store.update_incident(
        reference,
        {"likelihood": grade.likelihood, "severity": grade.severity},
        actor=visit.actor,
        action="case.graded",
    )
    return await _after_change(visit, reference, None)


@page(roles=CAN_EDIT)
async def change_status(visit: Visit) -> web.StreamResponse:
    incident = await _visible_case(visit)
    if incident is None:
        return _not_found(visit)
    reference = str(incident.reference)
    target = visit.field("to", 32)
    fields: dict[str, Any] = {}
    if target == m.ICO_NOTIFIED:
        when = parse_input(visit.field("ico_notified_at", 40))
        if when is None:
            return await _after_change(visit, reference, "Give the date and time the ICO was told.")
        if when > visit.dashboard.now():
            return await _after_change(
                visit, reference, "The time the ICO was told cannot be in the future."
            )
        fields = {"ico_reference": visit.field("ico_reference", 64), "ico_notified_at": when}
    elif target == m.NOT_REPORTABLE:
        fields = {"not_reportable_reason": visit.field("not_reportable_reason")}
    if target not in m.STATUSES:
        return await _after_change(visit, reference, "Choose what to do with the case.")
    try:
        await visit.dashboard.store.change_status(reference, target, actor=visit.actor, **fields)
    except StoreError as exc:
        return await _after_change(visit, reference, _sentence(str(exc)))
    return await _after_change(visit, reference, None)


@page(roles=CAN_EDIT)
async def record_patient(visit: Visit) -> web.StreamResponse:
    incident = await _visible_case(visit)
    if incident is None:
        return _not_found(visit)
    reference = str(incident.reference)
    must = {"yes": True, "no": False, "undecided": None}.get(visit.field("must_be_told", 10), "?")
    if must == "?":
        return await _after_change(visit, reference, "Say whether the patient must be told.")
    told_at_text = visit.field("patient_told_at", 40)
    told_at = parse_input(told_at_text)
    if told_at_text and told_at is None:
        return await _after_change(visit, reference, "The date the patient was told is not a date.")
    if told_at is not None and told_at > visit.dashboard.now():
        return await _after_change(
            visit, reference, "The time the patient was told cannot be in the future."
        )
    not_told = visit.field("patient_not_told_reason")
    if must is False and not not_told:
        return await _after_change(
            visit, reference, "Say why the patient does not need to be told (Article 34(3))."
        )
    changes: dict[str, Any] = {
        "patient_must_be_told": must,
        "patient_told_at": told_at,
        "patient_told_how": visit.field("patient_told_how") or None,
        "patient_not_told_reason": not_told or None,
    }
    await visit.dashboard.store.update_incident(
        reference, changes, actor=visit.actor, action="patient.recorded"
    )
    return await _after_change(visit, reference, None)


@page(roles=CAN_EDIT)
async def record_action(visit: Visit) -> web.StreamResponse:
    incident = await _visible_case(visit)
    if incident is None:
        return _not_found(visit)
    reference = str(incident.reference)
    action = visit.field("action", 32)
    at_text = visit.field("at", 40)
    at = parse_input(at_text) if at_text else visit.dashboard.now()
    if at is None:
        return await _after_change(visit, reference, "The date of the action is not a date.")
    if action not in ACTIONS:
        return await _after_change(visit, reference, "Choose which action was taken.")
    await visit.dashboard.store.add_action(
        reference, action, actor=visit.actor, at=at, note=visit.field("note", 1000)
    )
    return await _after_change(visit, reference, None)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


@page(roles=CAN_READ_ALL)
async def ico_summary(visit: Visit) -> web.StreamResponse:
    from discretion.web.export import article_33_3

    incident = await _visible_case(visit)
    if incident is None:
        return _not_found(visit)
    settings = visit.dashboard.services.settings
    summary = article_33_3(
        incident,
        organisation=settings.organisation.name,
        contact=visit.user.label if visit.user else "",
        now=visit.dashboard.now(),
    )
    return visit.render("dashboard/ico_summary.html", incident=incident, summary=summary)
