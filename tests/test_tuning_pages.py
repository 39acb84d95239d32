"""The tuning page through its real routes: admins only, proposals only, ids never text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer

from discretion.config import load_settings
from discretion.engine import Engine
from discretion.reporting import (
    BreachReport,
    FalsePositiveReport,
    record_false_positive,
    report_breach,
)
from discretion.server import SERVICES
from discretion.store.testing import temporary_store
from discretion.web import tuning_pages
from discretion.web.testing import add_user, csrf_from, dashboard_app, sign_in

PASSWORD = "correct horse battery staple"
CUPBOARD = "KX000111"
CORPUS = Path(__file__).parent / "data" / "eval_tuning.jsonl"
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


@pytest.fixture(scope="module")
def site_engine(tmp_path_factory) -> tuple[Path, Engine]:
    """The ward's site file and an engine built from it, once for this module."""
    site = tmp_path_factory.mktemp("site") / "site.yaml"
    site.write_text(SITE)
    return site, Engine(load_settings(site))


async def tuning_client(store, site: Path, engine: Engine) -> TestClient:
    app = dashboard_app(store, settings=load_settings(site))
    app[SERVICES].engine = engine
    assert tuning_pages.mount(app, app[SERVICES]) is not None
    return TestClient(TestServer(app))


@pytest.fixture
async def client(site_engine, tmp_path, monkeypatch) -> AsyncIterator[TestClient]:
    source, engine = site_engine
    site = tmp_path / "site.yaml"
    site.write_text(source.read_text())
    monkeypatch.setenv("DISCRETION_CONFIG", str(site))
    monkeypatch.delenv("DISCRETION_PROPOSED_CONFIG", raising=False)
    async with temporary_store() as store:
        await add_user(store, "ada", "admin", PASSWORD)
        await add_user(store, "vic", "viewer", PASSWORD)
        for flagged in (CUPBOARD, CUPBOARD, None):
            await record_false_positive(
                store,
                FalsePositiveReport(
                    platform="slack",
                    channel="C-ward9",
                    reporter_id="U1",
                    entity_types=["LOCAL_MRN"],
                    recognizers=["WardMrn"],
                    config_version=engine.config_version,
                    flagged_text=flagged,
                ),
            )
        now = datetime.now(UTC)
        breach = BreachReport(
            platform="slack",
            workspace="T0TRUST",
            channel="C-ward9",
            permalink="",
            poster_id="U2",
            reporter_id="U2",
            message_at=now,
            entity_counts={"NHS_NUMBER": 1},
            reasons=[],
            redacted_excerpt="pt <NHS_NUMBER> to x-ray",
            message_hash=None,
            what_happened="",
            actions_taken="",
            source="button",
            aware_at=now,
        )
        await report_breach(store, breach, actor="slack:U2")
        async with await tuning_client(store, site, engine) as c:
            c.site = site  # type: ignore[attr-defined]
            yield c


async def page_token(client: TestClient, path: str = "/dashboard/tuning/") -> tuple[str, str]:
    r = await client.get(path)
    assert r.status == 200
    html = await r.text()
    return html, csrf_from(html)


ALLOW = {
    "kind": "allow_list",
    "entity_type": "LOCAL_MRN",
    "recognizer": "WardMrn",
    "value": CUPBOARD,
}


async def test_only_administrators_see_the_page(client):
    r = await client.get("/dashboard/tuning/", allow_redirects=False)
    assert r.status == 303 or r.status == 302
    assert "/dashboard/sign-in" in r.headers["Location"]
    await sign_in(client, "vic", PASSWORD)
    r = await client.get("/dashboard/tuning/")
    assert r.status == 403


async def test_a_suggestion_writes_the_proposal_and_never_the_file_in_use(client):
    site = client.site
    before = site.read_bytes()
    await sign_in(client, "ada", PASSWORD)
    html, token = await page_token(client)
    assert (
        "script-src 'self'"
        in (await client.get("/dashboard/tuning/")).headers["Content-Security-Policy"]
    )
    assert "WardMrn" in html and f"Never flag &#39;{CUPBOARD}&#39;" in html
    assert 'id="no-proposal"' in html
    chart = json.loads(html.split('id="chart-data">')[1].split("</script>")[0])
    by_type = dict(
        zip(
            chart["type"]["labels"],
            zip(chart["type"]["breach"], chart["type"]["false"], strict=True),
            strict=True,
        )
    )
    assert by_type == {"LOCAL_MRN": (0, 3), "NHS_NUMBER": (1, 0)}
    assert chart["channel"] == {"labels": ["C-ward9"], "breach": [1], "false": [3]}
    assert len(chart["day"]["labels"]) == 30 and chart["day"]["false"][-1] == 3
    assert chart["day"]["breach"][-1] == 1

    r = await client.post("/dashboard/tuning/apply", data={**ALLOW}, allow_redirects=False)
    assert r.status == 403  # no CSRF token, no change
    forged = {**ALLOW, "value": "Someone Else", "csrf_token": token}
    r = await client.post("/dashboard/tuning/apply", data=forged, allow_redirects=False)
    assert r.status == 409
    proposed = site.with_name("site.proposed.yaml")
    assert not proposed.exists()

    r = await client.post(
        "/dashboard/tuning/apply", data={**ALLOW, "csrf_token": token}, allow_redirects=False
    )
    assert r.status == 303 and r.headers["Location"].endswith("#proposal")
    assert load_settings(proposed).allow_list == [CUPBOARD]
    assert site.read_bytes() == before
    html, token = await page_token(client)
    assert "ward-9-proposed@" in html and f"allow &#39;{CUPBOARD}&#39;" in html
    # Once allowed, the word is no longer offered.
    assert f"Never flag &#39;{CUPBOARD}&#39;" not in html

    r = await client.post(
        "/dashboard/tuning/discard", data={"csrf_token": token}, allow_redirects=False
    )
    assert r.status == 303 and not proposed.exists()


async def test_trying_a_message_compares_both_sides_and_shows_only_the_redaction(client):
    await sign_in(client, "ada", PASSWORD)
    _, token = await page_token(client)
    await client.post("/dashboard/tuning/apply", data={**ALLOW, "csrf_token": token})
    _, token = await page_token(client)
    text = f"the spare pumps are in cupboard {CUPBOARD} by the desk"
    r = await client.post("/dashboard/tuning/try", data={"text": text, "csrf_token": token})
    html = await r.text()
    assert r.status == 200
    assert html.count('aria-label="In use"') == 1 and html.count('aria-label="Proposed"') == 1
    assert "Warns: this could identify a patient" in html and "No warning" in html
    assert "by WardMrn" in html and "dropped (allow list" in html
    assert CUPBOARD not in html.split('aria-label="Proposed"')[0]  # redacted on the warning side
    r = await client.post("/dashboard/tuning/try", data={"text": "  ", "csrf_token": token})
    assert r.status == 400


async def test_a_corpus_upload_lists_changed_verdicts_by_id(client):
    await sign_in(client, "ada", PASSWORD)
    _, token = await page_token(client)
    await client.post("/dashboard/tuning/apply", data={**ALLOW, "csrf_token": token})
    _, token = await page_token(client)
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field(
        "corpus", CORPUS.read_bytes(), filename="ward.jsonl", content_type="application/jsonl"
    )
    r = await client.post("/dashboard/tuning/evaluate", data=form)
    html = await r.text()
    assert r.status == 200
    changes = html.split('id="changes"')[1].split("</section>")[0]
    assert "<td>t3</td>" in changes and "<td>t4</td>" in changes and "<td>t2</td>" not in changes
    assert changes.count("now right") == 2 and "now wrong" not in changes
    # Both configurations' figures, with the kind of detail each warning came from.
    assert html.count("<td>LOCAL_MRN</td>") == 2 and html.count('<th scope="row">All</th>') == 2
    for line in CORPUS.read_text().splitlines():
        assert line.split('"text": "')[1].split('"')[0] not in html
    html, _ = await page_token(client)
    assert "Messages hit in ward.jsonl" in html

    bad = FormData()
    bad.add_field("csrf_token", token)
    bad.add_field(
        "corpus", b'{"id": "x", "text": "Zebedee Quartermain"}\nnot json\n', filename="bad.jsonl"
    )
    r = await client.post("/dashboard/tuning/evaluate", data=bad)
    html = await r.text()
    assert "bad.jsonl:1: &#39;should_warn&#39; must be true or false" in html
    assert "bad.jsonl:2: not JSON" in html and "Zebedee" not in html


async def test_the_chart_library_is_served_from_the_package(client):
    r = await client.get("/dashboard/tuning/assets/chart.umd.min.js")
    assert r.status == 200 and "Chart.js v4" in (await r.text())[:200]
    assert r.headers["Content-Type"].startswith("text/javascript")
    r = await client.get("/dashboard/tuning/assets/..%2Fweb%2Fmount.py")
    assert r.status == 404
