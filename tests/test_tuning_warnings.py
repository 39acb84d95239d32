"""The tuning page's warnings section: figures from the warnings log, charts' data, admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_tuning_pages import PASSWORD, client, page_token, site_engine  # noqa: F401

from discretion import warnings_log as wl
from discretion.web.context import DASHBOARD
from discretion.web.testing import sign_in
from discretion.web.tuning_pages import ASSETS


async def test_the_page_shows_warnings_and_what_followed(client):  # noqa: F811
    store = client.server.app[DASHBOARD].store
    now = datetime.now(UTC)
    first = await wl.record_warning(
        store, platform="slack", channel="C-ward9", entity_types=["NHS_NUMBER"], at=now
    )
    second = await wl.record_warning(
        store,
        platform="teams",
        channel="19:theatre@thread.tacv2",
        entity_types=["PERSON", "NHS_NUMBER"],
        at=now,
    )
    await wl.record_warning(store, platform="slack", channel="C-ward9", entity_types=[], at=now)
    await wl.record_warning(
        store, platform="slack", channel="C-ward9", entity_types=["PERSON"], at=now
    )
    await wl.record_outcome(store, first, wl.DELETED)
    await wl.record_outcome(store, second, wl.REPORTED, incident_reference="DSC-2026-00001")
    await wl.record_outcome(store, second, wl.REPLACED)

    await sign_in(client, "ada", PASSWORD)
    html, _ = await page_token(client)
    assert "4 private warnings in the last 30 days" in html
    data = json.loads(html.split('id="warning-chart-data">')[1].split("</script>")[0])
    assert len(data["day"]["labels"]) == 30 and data["day"]["count"][-1] == 4
    assert data["channel"] == {"labels": ["C-ward9", "19:theatre@thread.tacv2"], "count": [3, 1]}
    assert dict(zip(data["type"]["labels"], data["type"]["count"], strict=True)) == {
        "NHS_NUMBER": 2,
        "PERSON": 2,
        "(not recorded)": 1,
    }
    shares = dict(zip(data["outcome"]["labels"], data["outcome"]["share"], strict=True))
    assert shares == {
        "Deleted": 25.0,
        "Redacted version posted": 25.0,
        "Reported as a breach": 25.0,
        "Not patient data": 0.0,
        "None of these": 50.0,
    }
    assert 'src="/dashboard/tuning/assets/warnings.js"' in html
    assert "<script>" not in html  # the CSP allows no inline script


async def test_no_warnings_means_no_charts(client):  # noqa: F811
    await sign_in(client, "ada", PASSWORD)
    html, _ = await page_token(client)
    assert "0 private warnings in the last 30 days" in html
    assert 'id="warning-chart-data"' not in html


async def test_the_chart_code_is_served_from_the_package(client):  # noqa: F811
    assert "warnings.js" in ASSETS
    r = await client.get("/dashboard/tuning/assets/warnings.js")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert "warning-chart-data" in await r.text()
