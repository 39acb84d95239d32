from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from discretion.server import SERVICES, create_app


@pytest.fixture
async def client(settings, engine) -> AsyncIterator[TestClient]:
    app = create_app(settings, engine)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_health_and_readiness(client):
    r = await client.get("/healthz")
    assert r.status == 200 and (await r.json())["status"] == "ok"
    r = await client.get("/readyz")
    body = await r.json()
    assert r.status == 200 and body["status"] == "ready"
    assert body["config"].startswith("shipped-defaults@")


async def test_the_try_page_shows_what_the_poster_would_be_told(client):
    r = await client.get("/")
    assert r.status == 200
    assert "Try a message" in await r.text()
    r = await client.post("/", data={"text": "pt nhs no 943 476 5919 for the list"})
    html = await r.text()
    assert r.status == 200
    assert "could identify a patient" in html
    assert "an NHS number" in html
    assert "[NHS NUMBER]" in html
    assert "943 476 5919" not in html


async def test_the_try_page_answers_empty_and_huge_input_clearly(client):
    r = await client.post("/", data={"text": "   "})
    assert r.status == 400 and "Type a message" in await r.text()
    r = await client.post("/", data={"text": "x" * 30_000})
    assert r.status == 413 and "shorter message" in await r.text()


async def test_markup_in_the_message_is_escaped(client):
    r = await client.post("/", data={"text": "<script>alert(1)</script> pt nhs 943 476 5919"})
    html = await r.text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


async def test_metrics_count_assessments_and_never_carry_text(client):
    await client.post("/", data={"text": "pt nhs no 943 476 5919 Zebedee"})
    r = await client.get("/metrics")
    body = await r.text()
    assert r.status == 200
    assert 'discretion_events_assessed_total{platform="web"}' in body
    assert 'discretion_warnings_total{platform="web"}' in body
    assert "discretion_assessment_seconds_bucket" in body
    assert 'discretion_queue_depth{queue="server"}' in body
    assert "Zebedee" not in body and "5919" not in body


async def test_metrics_report_each_adapters_own_queue(client):
    class Backlog:
        depth = 7

    client.app[SERVICES].queues["teams"] = Backlog()
    body = await (await client.get("/metrics")).text()
    assert 'discretion_queue_depth{queue="teams"} 7.0' in body
