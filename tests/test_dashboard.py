"""The data protection lead's dashboard through its real routes: list, case, decisions, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from needs import need_service

from discretion.reporting import BreachReport, report_breach
from discretion.store import Store
from discretion.store.testing import temporary_store
from discretion.web.context import DASHBOARD
from discretion.web.testing import add_user, csrf_from, dashboard_app, sign_in

PASSWORD = "correct horse battery staple"
# Our own made-up details; only the redacted excerpt is ever stored.
SECRET_WORDS = "Ottoline Varga"


def breach(**over: object) -> BreachReport:
    now = datetime.now(UTC)
    fields: dict[str, object] = {
        "platform": "slack",
        "workspace": "T0TRUST",
        "channel": "C0WARD7",
        "permalink": "https://trust.slack.com/archives/C0WARD7/p1700000000000300",
        "poster_id": "U0POSTER",
        "reporter_id": "U0POSTER",
        "message_at": now - timedelta(minutes=5),
        "entity_counts": {"PERSON": 1, "NHS_NUMBER": 1},
        "reasons": ["A patient's name with an NHS number identifies them."],
        "redacted_excerpt": "<PERSON> in side room 2, NHS <NHS_NUMBER>, for review",
        "message_hash": None,
        "what_happened": "Posted a handover note in the team channel",
        "actions_taken": "Deleted it",
        "source": "button",
        "aware_at": now - timedelta(minutes=3),
    }
    fields.update(over)
    return BreachReport(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(request.param) as s:
        yield s


@pytest.fixture
async def client(store: Store) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(dashboard_app(store))) as c:
        yield c


async def signed_in(client: TestClient, store: Store, role: str, **more: object) -> str:
    await add_user(store, f"{role}-person", role, PASSWORD, **more)
    response = await sign_in(client, f"{role}-person", PASSWORD)
    assert response.status == 303, await response.text()
    return f"{role}-person"


async def form_token(client: TestClient, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200
    return csrf_from(await response.text())


async def test_nobody_signed_in_is_sent_to_sign_in(client: TestClient, store: Store) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    for path in ("/dashboard/", f"/dashboard/cases/{ref}", "/dashboard/export.csv"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/dashboard/sign-in?next=")
    response = await client.post(f"/dashboard/cases/{ref}/grade", data={"likelihood": "3"})
    assert response.status == 401
    case = await store.get_incident(ref)
    assert case is not None and case.likelihood is None


async def test_list_shows_time_left_and_filters(client: TestClient, store: Store) -> None:
    fresh = await report_breach(store, breach(), actor="slack:U0POSTER")
    late = await report_breach(
        store,
        breach(platform="teams", aware_at=datetime.now(UTC) - timedelta(hours=80)),
        actor="teams:29:abc",
    )
    await signed_in(client, store, "dpo")
    html = await (await client.get("/dashboard/")).text()
    assert fresh in html and late in html
    assert "71 h" in html  # the fresh case has almost all of its 72 hours left
    assert "overdue by 8 h" in html
    assert html.index(late) < html.index(fresh)  # nearest deadline first
    overdue = await (await client.get("/dashboard/?overdue=1")).text()
    assert late in overdue and fresh not in overdue
    slack = await (await client.get("/dashboard/?platform=slack")).text()
    assert fresh in slack and late not in slack
    triaged = await (await client.get("/dashboard/?status=triaged")).text()
    assert "No cases match" in triaged
    # A made-up filter value is ignored, not an error.
    assert (await client.get("/dashboard/?status=%3Cscript%3E&platform=x")).status == 200


async def test_case_page_has_timeline_and_never_the_message(
    client: TestClient, store: Store
) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await signed_in(client, store, "viewer")
    response = await client.get(f"/dashboard/cases/{ref}")
    html = await response.text()
    assert response.status == 200
    assert "&lt;PERSON&gt; in side room 2" in html  # the redacted excerpt, escaped
    assert SECRET_WORDS not in html
    assert "Case opened from a button report." in html and "slack:U0POSTER" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # A viewer sees no forms that change the case.
    assert "/grade" not in html and "/status" not in html
    assert (await client.get("/dashboard/cases/DSC-1999-99999")).status == 404


async def test_lead_grades_decides_and_records_the_ico(client: TestClient, store: Store) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await signed_in(client, store, "dpo")
    page = f"/dashboard/cases/{ref}"
    token = await form_token(client, page)

    async def post(form: str, **data: str) -> tuple[int, str]:
        response = await client.post(f"{page}/{form}", data={"csrf_token": token, **data})
        return response.status, await response.text()

    status, html = await post("grade", likelihood="3", severity="3")
    assert status == 200 and "reportable to the ICO" in html
    assert "Article 34 says tell them" in html
    status, html = await post("status", to="triaged")
    assert status == 200
    status, html = await post("status", to="reportable")
    assert status == 200
    # The ICO step needs its reference; the form says so and nothing changes.
    status, html = await post("status", to="ico_notified", ico_notified_at="2026-01-01T09:00")
    assert status == 400 and "give the ico" in html.lower()
    told = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    status, html = await post(
        "status", to="ico_notified", ico_reference="IC-123456-A1B2", ico_notified_at=told
    )
    assert status == 200 and "IC-123456-A1B2" in html and "within 72 hours" in html
    status, html = await post(
        "patient",
        must_be_told="yes",
        patient_told_at=told,
        patient_told_how="Letter of apology",
    )
    assert status == 200
    status, html = await post("actions", action="post_deleted", note="Removed by the poster")
    assert status == 200 and "Post deleted" in html
    status, html = await post("actions", action="made_up")
    assert status == 400
    case = await store.get_incident(ref)
    assert case is not None
    assert (case.status, case.likelihood, case.severity) == ("ico_notified", 3, 3)
    assert case.ico_reference == "IC-123456-A1B2" and case.patient_must_be_told is True
    assert [a["action"] for a in case.actions] == ["post_deleted"]
    trail = [e.action for e in await store.audit_trail(ref)]
    assert trail.count("status.changed") == 3 and "case.graded" in trail
    assert all(e.actor == "web:dpo-person" for e in (await store.audit_trail(ref))[1:])


async def test_not_reportable_needs_a_reason(client: TestClient, store: Store) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await signed_in(client, store, "admin")
    page = f"/dashboard/cases/{ref}"
    token = await form_token(client, page)
    await client.post(f"{page}/status", data={"csrf_token": token, "to": "triaged"})
    response = await client.post(
        f"{page}/status", data={"csrf_token": token, "to": "not_reportable"}
    )
    assert response.status == 400
    response = await client.post(
        f"{page}/status",
        data={
            "csrf_token": token,
            "to": "not_reportable",
            "not_reportable_reason": "Seen only by the ward team caring for the patient",
        },
    )
    assert response.status == 200
    case = await store.get_incident(ref)
    assert case is not None and case.status == "not_reportable"


async def test_viewer_cannot_change_a_case(client: TestClient, store: Store) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await signed_in(client, store, "viewer")
    token = await form_token(client, f"/dashboard/cases/{ref}")
    for action, data in (
        ("grade", {"likelihood": "5", "severity": "5"}),
        ("status", {"to": "triaged"}),
        ("patient", {"must_be_told": "no", "patient_not_told_reason": "x"}),
        ("actions", {"action": "training"}),
    ):
        response = await client.post(
            f"/dashboard/cases/{ref}/{action}", data={"csrf_token": token, **data}
        )
        assert response.status == 403, action
    case = await store.get_incident(ref)
    assert case is not None
    assert (case.status, case.likelihood, case.actions) == ("new", None, [])


async def test_forms_without_the_right_csrf_token_are_refused(
    client: TestClient, store: Store
) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await signed_in(client, store, "dpo")
    grade = f"/dashboard/cases/{ref}/grade"
    data = {"likelihood": "4", "severity": "4"}
    missing = await client.post(grade, data=data)
    wrong = await client.post(grade, data={**data, "csrf_token": "0" * 64})
    assert missing.status == 403 and wrong.status == 403
    assert "This form has expired" in await wrong.text()
    # A JSON body is not a form: refused before anything is read into the case.
    as_json = await client.post(grade, json=data)
    assert as_json.status == 415
    # A token from before signing in belongs to another session.
    await client.post(
        "/dashboard/sign-out", data={"csrf_token": await form_token(client, "/dashboard/")}
    )
    anonymous_token = await form_token(client, "/dashboard/sign-in")
    await sign_in(client, "dpo-person", PASSWORD)
    stale = await client.post(grade, data={**data, "csrf_token": anonymous_token})
    assert stale.status == 403
    case = await store.get_incident(ref)
    assert case is not None and case.likelihood is None


async def test_staff_see_only_their_own_reports(client: TestClient, store: Store) -> None:
    mine = await report_breach(store, breach(reporter_id="U0NURSE"), actor="slack:U0NURSE")
    theirs = await report_breach(store, breach(reporter_id="U0OTHER"), actor="slack:U0OTHER")
    await signed_in(client, store, "staff", chat_ids=["U0NURSE"])
    html = await (await client.get("/dashboard/")).text()
    assert mine in html and theirs not in html
    assert "Your breach reports" in html and "export.csv" not in html
    own = await client.get(f"/dashboard/cases/{mine}")
    assert own.status == 200 and "/grade" not in await own.text()
    assert (await client.get(f"/dashboard/cases/{theirs}")).status == 404
    assert (await client.get("/dashboard/export.csv")).status == 403


async def test_an_account_without_a_role_sees_no_case(client: TestClient, store: Store) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await signed_in(client, store, "none")
    listing = await client.get("/dashboard/")
    assert listing.status == 403 and ref not in await listing.text()
    assert (await client.get(f"/dashboard/cases/{ref}")).status == 403


async def test_breach_log_exports(client: TestClient, store: Store) -> None:
    ref = await report_breach(
        store, breach(what_happened='=HYPERLINK("http://evil")'), actor="slack:U0POSTER"
    )
    await store.change_status(ref, "triaged", actor="web:lead")
    await store.update_incident(ref, {"likelihood": 2, "severity": 2}, actor="web:lead")
    await store.change_status(
        ref, "not_reportable", actor="web:lead", not_reportable_reason="Only the care team saw it"
    )
    await signed_in(client, store, "viewer")
    response = await client.get("/dashboard/export.csv")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 1
    row = rows[0]
    assert row["reference"] == ref and row["decision"] == "not reportable"
    assert row["kinds_of_data"] == "NHS_NUMBER x1; PERSON x1"
    assert row["grid_suggests_reportable"] == "no"
    assert row["what_happened"].startswith("'=")  # a spreadsheet will not run it
    response = await client.get("/dashboard/export.json")
    doc = json.loads(await response.text())
    assert doc["record"].startswith("UK GDPR Article 33(5)")
    (case,) = doc["cases"]
    assert case["reference"] == ref and case["not_reportable_reason"] == "Only the care team saw it"
    assert case["kinds_of_data"] == {"NHS_NUMBER": 1, "PERSON": 1}
    assert datetime.fromisoformat(case["deadline"]) - datetime.fromisoformat(
        case["aware_at"]
    ) == timedelta(hours=72)
    assert SECRET_WORDS not in json.dumps(doc)
    # Exporting is itself on the record.
    async with store.sessions() as session:
        import sqlalchemy as sa

        from discretion.store import models as m

        formats = await session.scalars(
            sa.select(m.AuditEvent.details).where(m.AuditEvent.action == "log.exported")
        )
        assert [d["format"] for d in formats] == ["csv", "json"]


async def test_ico_summary_is_prefilled(client: TestClient, store: Store) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await store.update_incident(ref, {"likelihood": 4, "severity": 3}, actor="web:lead")
    await store.add_action(ref, "apology_sent", actor="web:lead")
    await signed_in(client, store, "dpo", display_name="Dana Lead")
    html = await (await client.get(f"/dashboard/cases/{ref}/ico-summary")).text()
    for expected in (
        "(a) Nature of the breach",
        "NHS number",
        "(b) Data protection officer",
        "Dana Lead",
        "(c) Likely consequences",
        "severity 3 (Adverse)",
        "(d) Measures taken or proposed",
        "Apology to the patient",
    ):
        assert expected in html, expected


async def test_clock_uses_the_dashboard_time(client: TestClient, store: Store) -> None:
    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    dashboard = client.app[DASHBOARD]
    dashboard.now = lambda: datetime.now(UTC) + timedelta(hours=73)
    await signed_in(client, store, "dpo")
    html = await (await client.get(f"/dashboard/cases/{ref}")).text()
    assert "overdue by" in html


async def test_the_lead_s_notification_link_opens_the_case(
    client: TestClient, store: Store
) -> None:
    from discretion.config import EscalationSettings
    from discretion.escalation import case_url

    ref = await report_breach(store, breach(), actor="slack:U0POSTER")
    await signed_in(client, store, "dpo")
    path = case_url(EscalationSettings(dashboard_url="http://x"), ref).removeprefix("http://x")
    response = await client.get(path)
    assert response.status == 200 and f"Case {ref}" in await response.text()
    for odd in ("..%2Fetc", "%EF%BC%A1", "x" * 41):
        assert (await client.get(f"/cases/{odd}", allow_redirects=False)).status == 404
