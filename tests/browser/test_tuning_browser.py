"""The tuning page in a real browser (Debian's chromium through Playwright) on the real server.

An administrator signs in, sees the 'Not patient data' charts drawn by the vendored
Chart.js, proposes allowing a store-cupboard code, compares a message and a corpus
under both configurations, then puts the proposal in service by copying it over the
site file: the running server reloads it by itself.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
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

from discretion import warnings_log as wl
from discretion.reporting import FalsePositiveReport, record_false_positive
from discretion.store import Store

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).resolve().parents[1] / "data" / "eval_tuning.jsonl"
KEY = "browser-test-install-key-long-enough-0123456789"
PASSWORD = "the admin's own long password"
CUPBOARD = "KX000111"
SITE = """\
version: ward-9
warn_entities: [LOCAL_MRN]
recognizers:
  - name: WardMrn
    supported_entity: LOCAL_MRN
    patterns:
      - {name: ward mrn, regex: '\\bKX\\d{6}\\b', score: 0.55}
    context: [mrn]
"""


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except OSError:
        return 0, ""


@dataclass
class Server:
    url: str
    folder: Path
    site: Path
    proc: subprocess.Popen[bytes]


async def _seed(db_url: str) -> None:
    store = Store(db_url)
    try:
        await store.migrate()
        for flagged, channel in ((CUPBOARD, "C0WARD9"), (CUPBOARD, "C0WARD9"), (None, "C0THEATRE")):
            await record_false_positive(
                store,
                FalsePositiveReport(
                    platform="slack",
                    channel=channel,
                    reporter_id="U0NURSE",
                    entity_types=["LOCAL_MRN"],
                    recognizers=["WardMrn"],
                    flagged_text=flagged,
                ),
            )
        # Three warnings: one deleted, one reported, one with nothing after it.
        made = [
            await wl.record_warning(
                store, platform="slack", channel=channel, entity_types=["LOCAL_MRN"]
            )
            for channel in ("C0WARD9", "C0WARD9", "C0THEATRE")
        ]
        await wl.record_outcome(store, made[0], wl.DELETED)
        await wl.record_outcome(store, made[1], wl.REPORTED, incident_reference="DSC-2026-00001")
    finally:
        await store.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    need_chromium()
    folder = Path(tempfile.mkdtemp(prefix="discretion-tuning-"))
    site = folder / "site.yaml"
    site.write_text(SITE)
    port = free_port()
    db_url = f"sqlite+aiosqlite:///{folder / 'discretion.db'}"
    env = server_env(port, db_url, KEY, DISCRETION_CONFIG=str(site))
    try:
        create_user(folder, env, PASSWORD, "ada", "--role", "admin")
        asyncio.run(_seed(db_url))
        with running_server(folder, env, port) as (url, proc):
            yield Server(url=url, folder=folder, site=site, proc=proc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def page(server: Server) -> Iterator[object]:
    with chromium_page(viewport={"width": 1280, "height": 1000}) as page:
        yield page


def test_admin_tunes_compares_and_puts_a_proposal_in_service(server: Server, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{server.url}/dashboard/tuning/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tuning the recognizers")
    expect(page.locator("#version-in-use")).to_contain_text("ward-9@")
    # Chart.js, served by this server under the page's CSP, draws the three report charts
    # and the four warnings charts.
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 7")
    drawn = page.evaluate(
        "() => Object.values(window.Chart.instances).map(c => [c.canvas.id, c.data.datasets[0].data])"
    )
    warnings_drawn = {id_: data for id_, data in drawn if id_.startswith("chart-warnings-")}
    assert sum(warnings_drawn["chart-warnings-per-day"]) == 3
    assert warnings_drawn["chart-warnings-per-channel"] == [2, 1]
    assert warnings_drawn["chart-warnings-outcomes"][:3] == [33.3, 0, 33.3]
    expect(page.locator("#warnings-total")).to_contain_text("3 private warnings")
    expect(page.locator("#warning-outcomes")).to_contain_text("Reported as a breach")
    expect(page.locator("#report-groups tbody tr")).to_have_count(1)
    expect(page.locator("#report-groups")).to_contain_text("WardMrn")

    offer = page.locator("#report-groups li").filter(has_text=f"Never flag '{CUPBOARD}'")
    expect(offer).to_contain_text("2 reports named it")
    offer.get_by_role("button", name="Propose").click()
    expect(page.locator("#done")).to_contain_text("proposed configuration was updated")
    expect(page.locator("#proposal-changes")).to_contain_text(f"allow '{CUPBOARD}'")
    expect(page.locator("#proposed-version")).to_contain_text("ward-9-proposed@")
    assert f"- {CUPBOARD}" in (server.folder / "site.proposed.yaml").read_text()
    assert server.site.read_text() == SITE  # the file in use is untouched

    page.get_by_label("Message").fill(f"the spare pumps are in cupboard {CUPBOARD} behind the desk")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("section[aria-label='In use'] .verdict")).to_contain_text("Warns")
    expect(page.locator("section[aria-label='Proposed'] .verdict")).to_contain_text("No warning")
    expect(page.locator("section[aria-label='Proposed']")).to_contain_text("dropped (allow list")

    page.get_by_role("link", name="Back to tuning").click()
    page.set_input_files("#corpus-file", str(CORPUS))
    page.get_by_role("button", name="Evaluate").click()
    changes = page.locator("#changes tbody tr")
    expect(changes).to_have_count(2)
    expect(changes.nth(0)).to_contain_text("t3")
    expect(changes.nth(1)).to_contain_text("t4")
    expect(page.locator("#changes")).not_to_contain_text("now wrong")

    # The admin puts the proposal in service; SIGHUP asks the server to reload at once.
    shutil.copy(server.folder / "site.proposed.yaml", server.site)
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while "ward-9-proposed@" not in _get(f"{server.url}/readyz")[1]:
        assert time.monotonic() < deadline, "the server did not reload the site file"
        time.sleep(0.2)
    page.goto(f"{server.url}/dashboard/tuning/")
    expect(page.locator("#version-in-use")).to_contain_text("ward-9-proposed@")
    # Nothing is left to suggest for the cupboard: it is allowed in the version in use.
    expect(page.locator("#report-groups")).not_to_contain_text(f"Never flag '{CUPBOARD}'")
    # The browser asks for a favicon nobody serves; any other failure is a fault of the page.
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []
    # Resource failures are checked by address above; anything else (a CSP refusal, a
    # script error) fails the test.
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
