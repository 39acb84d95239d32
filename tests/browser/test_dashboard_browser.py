"""The dashboard in a real browser (Debian's chromium through Playwright) against the real server.

The lead signs in, opens a case, grades it, records the ICO notification and
exports the breach log; a poster opens a one-click report link and sends it.
Screenshots of the case list and a case page are taken on every run, and saved in
docs/screenshots/ when DISCRETION_SCREENSHOTS=1.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_support import (
    chromium_page,
    create_user,
    free_port,
    need_chromium,
    running_server,
    server_env,
)

from discretion.reporting import BreachReport, report_breach
from discretion.store import Store
from discretion.web.links import make_report_token
from discretion.web.settings import load_web_settings

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
# The committed screenshots are refreshed with DISCRETION_SCREENSHOTS=1; otherwise they go to a
# temporary folder, so a test run leaves the working tree as it found it.
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
KEY = "browser-test-install-key-long-enough-0123456789"
PASSWORD = "the lead's own long password"


UNLABELLED_FIELDS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.type !== 'submit')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id)
"""


@dataclass
class Server:
    url: str
    db_url: str
    folder: Path


def _breach(**over: object) -> BreachReport:
    now = datetime.now(UTC)
    fields: dict[str, object] = {
        "platform": "slack",
        "workspace": "T0TRUST",
        "channel": "C0AMU",
        "permalink": "https://trust.slack.com/archives/C0AMU/p1700000000000500",
        "poster_id": "U0DOCTOR",
        "reporter_id": "U0DOCTOR",
        "message_at": now - timedelta(minutes=40),
        "entity_counts": {"PERSON": 1, "NHS_NUMBER": 1},
        "reasons": ["A patient's name with an NHS number identifies them."],
        "redacted_excerpt": "<PERSON> (NHS <NHS_NUMBER>) back from theatre, obs stable",
        "message_hash": None,
        "what_happened": "Handover posted in the unit channel instead of the secure one",
        "actions_taken": "Deleted within ten minutes",
        "source": "button",
        "aware_at": now - timedelta(minutes=30),
    }
    fields.update(over)
    return BreachReport(**fields)  # type: ignore[arg-type]


async def _seed(db_url: str) -> list[str]:
    store = Store(db_url)
    try:
        await store.migrate()
        now = datetime.now(UTC)
        first = await report_breach(store, _breach(), actor="slack:U0DOCTOR")
        late = await report_breach(
            store,
            _breach(
                platform="teams",
                channel="19:ward5@thread.tacv2",
                permalink="",
                entity_counts={"PERSON": 1, "MEDICAL_CONDITION": 1},
                redacted_excerpt="the <PERSON> with <MEDICAL_CONDITION> in bed 4",
                aware_at=now - timedelta(hours=75),
                source="command",
            ),
            actor="teams:29:nurse",
        )
        quiet = await report_breach(
            store,
            _breach(
                entity_counts={"DATE_OF_BIRTH": 1, "AGE": 1},
                aware_at=now - timedelta(hours=30),
            ),
            actor="slack:U0DOCTOR",
        )
        await store.change_status(quiet, "triaged", actor="web:lead")
        await store.update_incident(quiet, {"likelihood": 2, "severity": 2}, actor="web:lead")
        await store.change_status(
            quiet,
            "not_reportable",
            actor="web:lead",
            not_reportable_reason="Only the patient's own care team could see the channel",
        )
        return [first, late, quiet]
    finally:
        await store.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    need_chromium()
    folder = Path(tempfile.mkdtemp(prefix="discretion-browser-"))
    port = free_port()
    db_url = f"sqlite+aiosqlite:///{folder / 'discretion.db'}"
    env = server_env(port, db_url, KEY)
    try:
        create_user(folder, env, PASSWORD, "lead", "--role", "dpo", "--name", "Dana Lead")
        asyncio.run(_seed(db_url))
        with running_server(folder, env, port) as (url, _):
            yield Server(url=url, db_url=db_url, folder=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def page(server: Server) -> Iterator[object]:
    with chromium_page(
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
        accept_downloads=True,
    ) as page:
        yield page


def test_lead_signs_in_grades_records_the_ico_and_exports(
    server: Server, page: object, tmp_path: Path
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    shots = DOCS_SCREENSHOTS if os.environ.get("DISCRETION_SCREENSHOTS") == "1" else tmp_path
    page.goto(f"{server.url}/dashboard/")
    expect(page).to_have_url(f"{server.url}/dashboard/sign-in?next=%2Fdashboard%2F")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Breach reports")
    rows = page.locator("#cases tbody tr")
    expect(rows).to_have_count(3)
    # The overdue Teams case is first: nearest (here, passed) deadline at the top.
    expect(rows.first).to_contain_text("overdue by")
    reference = rows.filter(has=page.locator(".tag.new")).last.locator("th a").inner_text()

    # Keyboard users can skip the navigation.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {reference}")
    expect(page.locator("#excerpt")).to_contain_text("<PERSON> (NHS <NHS_NUMBER>)")
    page.get_by_role("button", name="Mark as triaged").click()
    expect(page.locator("#status")).to_have_text("Triaged")

    page.get_by_label("3. Likely").check()
    page.get_by_label("3. Adverse").check()
    page.get_by_role("button", name="Save the grade").click()
    expect(page.locator("#suggestion")).to_contain_text("reportable to the ICO")

    page.get_by_role("button", name="Decide: reportable to the ICO").click()
    expect(page.locator("#status")).to_have_text("Reportable to the ICO")
    page.get_by_label("The ICO's reference for this report").fill("IC-204857-K3M9")
    told = (datetime.now(UTC) - timedelta(minutes=2)).astimezone()
    page.get_by_label("When the ICO was told (UK time)").fill(
        told.astimezone(_uk()).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_role("button", name="Record that the ICO was notified").click()
    expect(page.locator("#status")).to_have_text("ICO notified")
    expect(page.locator("#ico-reference")).to_have_text("IC-204857-K3M9")

    page.get_by_label("Yes").check()
    page.get_by_label("How they were told").fill("Letter of apology from the consultant")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#must-be-told")).to_have_text("Yes")
    page.get_by_label("Action", exact=True).select_option("post_deleted")
    page.get_by_role("button", name="Record the action").click()
    expect(page.locator("#action-list")).to_contain_text("Post deleted")
    page.get_by_label("Action", exact=True).select_option("staff_reminder")
    page.get_by_role("button", name="Record the action").click()
    expect(page.locator("#action-list")).to_contain_text("Staff reminded of the policy")
    expect(page.locator("#timeline")).to_contain_text("Status changed from Reportable")

    shots.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server.url}/dashboard/cases/{reference}")
    page.screenshot(path=str(shots / "case-page.png"), full_page=True)
    # Every field a person fills in has a label a screen reader reads out, and there is
    # one main heading.
    unlabelled = page.evaluate(UNLABELLED_FIELDS)
    assert unlabelled == [], unlabelled
    expect(page.locator("h1")).to_have_count(1)

    page.get_by_role("link", name="The Article 33(3) summary for the ICO's form").click()
    expect(page.get_by_role("heading", level=2, name="(a) Nature of the breach")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Dana Lead")

    page.goto(f"{server.url}/dashboard/")
    with page.expect_download() as got:
        page.get_by_role("link", name="Breach log (CSV)").click()
    download = got.value
    assert download.suggested_filename.startswith("breach-log-")
    rows_csv = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    ours = next(r for r in rows_csv if r["reference"] == reference)
    assert ours["ico_reference"] == "IC-204857-K3M9" and ours["status"] == "ico_notified"
    assert ours["ico_told_within_72_hours"] == "yes" and ours["decision"] == "reported to the ICO"
    assert "post_deleted" in ours["actions_taken"]
    assert len(rows_csv) == 3
    with page.expect_download() as got:
        page.get_by_role("link", name="Breach log (JSON)").click()
    doc = json.loads(Path(got.value.path()).read_text("utf-8"))
    assert {c["reference"] for c in doc["cases"]} == {r["reference"] for r in rows_csv}

    page.get_by_label("Status").select_option("ico_notified")
    page.get_by_role("button", name="Show cases").click()
    expect(page.locator("#cases tbody tr")).to_have_count(1)
    page.goto(f"{server.url}/dashboard/")
    page.screenshot(path=str(shots / "case-list.png"), full_page=True)


def test_poster_reports_through_a_one_click_link(
    server: Server, page: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    # The same key the server derives from its environment, as an adapter in it would.
    monkeypatch.setenv("DISCRETION_SECRET_KEY", KEY)
    settings = load_web_settings(env={}, public_url=server.url)
    token = make_report_token(
        settings,
        platform="slack",
        workspace="T0TRUST",
        channel="C0THEATRES",
        permalink="https://trust.slack.com/archives/C0THEATRES/p1700000000000600",
        poster_id="U0SURGEON",
        entity_types=["NHS_NUMBER", "PERSON"],
    )
    page.goto(f"{server.url}/report/{token}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Report a possible breach")
    expect(page.locator("main")).to_contain_text("C0THEATRES")
    page.get_by_label("What happened? (optional)").fill("Theatre list posted to the wrong channel")
    page.get_by_label("I deleted the message").check()
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report has been sent")
    reference = page.locator("#reference").inner_text()
    assert reference.startswith("DSC-")
    page.goto(f"{server.url}/report/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This report has already been sent")
    expect(page.locator("main")).to_contain_text(reference)


def _uk():  # type: ignore[no-untyped-def]
    from discretion.web.timefmt import UK

    return UK
