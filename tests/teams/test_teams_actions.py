"""The warning card's buttons: Action.Submit comes back as a message, becomes a report."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from teams_support import BOTH_QUEUES, TeamsServer, activity, queue_env, start_server

from discretion.store import Store

NHS = "943 476 5919"
RISKY = f"<at>ridotest</at> Mr Tobias Renshaw NHS {NHS} is waiting for transport"
POSTER = {
    "id": "29:17bUvCasIPKfQIXHvNzcPjD86fwm6GkWc1PvCGP2-NSkNb7AyGYpjQ7Xw-XgTwaHW5JxZ4KMNDxn1kcL8fwX1Nw",
    "name": "rido",
    "aadObjectId": "b15a9416-0ad3-4172-9210-7beb711d3f70",
}
TENANT = "50612dbb-0237-4969-b378-8d42590f9c00"


@pytest.fixture(params=BOTH_QUEUES)
async def queue(request: pytest.FixtureRequest, monkeypatch) -> AsyncIterator[str]:
    """Every test here runs on the in-process queue and on Redis Streams (as replicas do)."""
    async with queue_env(request.param, monkeypatch) as kind:
        yield kind


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    s = Store(f"sqlite+aiosqlite:///{tmp_path}/discretion.db", message_key=b"k" * 32)
    await s.migrate()
    yield s
    await s.close()


@pytest.fixture
async def teams_store(
    settings, engine, openid, connector, store, queue
) -> AsyncIterator[TeamsServer]:
    server, runner = await start_server(settings, engine, openid, connector, store=store)
    yield server
    await server.close()
    await runner.cleanup()


def click(
    teams: TeamsServer, data: dict[str, Any], *, activity_id: str = "f:click-1"
) -> dict[str, Any]:
    """What Teams sends when the poster presses an Action.Submit in the 1:1 chat."""
    body = activity("message-messageback-value-channel", serviceUrl=teams.connector.url)
    body.update(id=activity_id, text=None, value=data, replyToId="act-1", **{"from": POSTER})
    body["conversation"] = {
        "conversationType": "personal",
        "tenantId": TENANT,
        "id": f"a:personal-{POSTER['aadObjectId']}",
    }
    body["channelData"] = {"tenant": {"id": TENANT}}
    return body


async def warn(teams: TeamsServer) -> dict[str, Any]:
    body = activity(
        "channel-message-mention-thread-reply", serviceUrl=teams.connector.url, text=RISKY
    )
    assert (await teams.post(body)).status == 201
    await teams.settle()
    [card] = teams.connector.cards()
    return card


async def test_report_a_breach_creates_an_incident(teams_store, store, card_validator):
    card = await warn(teams_store)
    submit = card["actions"][0]["card"]["actions"][0]
    data = dict(submit["data"])
    data["what_happened"] = "I posted the wrong details in the team channel"
    data["actions_taken"] = "Deleted it straight away"
    r = await teams_store.post(click(teams_store, data))
    assert r.status == 201
    await teams_store.settle()

    cards = teams_store.connector.cards()
    assert len(cards) == 2
    confirmation = cards[1]
    assert list(card_validator.iter_errors(confirmation)) == []
    text = json.dumps(confirmation)
    reference = confirmation["body"][1]["text"].split("**")[1]
    assert reference in text and reference.startswith("DSC-")
    sent_to = teams_store.connector.activities()[1].path
    assert sent_to == f"/v3/conversations/a:personal-{POSTER['aadObjectId']}/activities"

    incident = await store.get_incident(reference)
    assert incident is not None
    assert incident.platform == "teams"
    assert incident.source == "button"
    assert incident.poster_id == POSTER["aadObjectId"]
    assert incident.reporter_id == POSTER["aadObjectId"]
    assert incident.channel == "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    assert incident.entity_counts["NHS_NUMBER"] == 1
    assert "[NHS NUMBER]" in incident.redacted_excerpt and NHS not in incident.redacted_excerpt
    assert incident.what_happened == "I posted the wrong details in the team channel"
    assert incident.reporter_actions == "Deleted it straight away"
    assert incident.message_hash and len(incident.message_hash) == 64
    assert incident.permalink.startswith("https://teams.microsoft.com/l/message/")
    assert incident.message_at is not None


async def test_not_patient_data_is_recorded(teams_store, store, card_validator):
    card = await warn(teams_store)
    data = card["actions"][1]["data"]
    assert (await teams_store.post(click(teams_store, data))).status == 201
    await teams_store.settle()
    [fp] = await store.false_positives()
    assert fp.platform == "teams"
    assert "NHS_NUMBER" in fp.entity_types
    assert fp.flagged_text is None
    thanks = teams_store.connector.cards()[-1]
    assert list(card_validator.iter_errors(thanks)) == []
    assert "not patient data" in thanks["body"][0]["text"]


async def test_double_click_reports_once(teams_store, store):
    card = await warn(teams_store)
    data = card["actions"][0]["card"]["actions"][0]["data"]
    body = click(teams_store, data)
    for _ in range(2):
        await teams_store.post(body)
    await teams_store.settle()
    assert len(await store.list_incidents()) == 1


async def test_tampered_card_data_gets_an_apology_not_a_500(teams_store, store, card_validator):
    r = await teams_store.post(
        click(teams_store, {"discretion": "report", "ref": {"kinds": "lots"}})
    )
    assert r.status == 201
    await teams_store.settle()
    [card] = teams_store.connector.cards()
    assert list(card_validator.iter_errors(card)) == []
    assert card["body"][0]["text"] == "Sorry, that did not work"
    assert await store.list_incidents() == []


async def test_report_without_a_store_says_so(teams, card_validator):
    card = await warn(teams)
    data = card["actions"][0]["card"]["actions"][0]["data"]
    await teams.post(click(teams, data))
    await teams.settle()
    reply = teams.connector.cards()[-1]
    assert list(card_validator.iter_errors(reply)) == []
    assert "not set up" in json.dumps(reply)


async def test_card_links_to_the_one_click_report_page_when_it_is_mounted(
    settings, engine, openid, connector, card_validator
):
    from datetime import UTC, datetime

    from aiohttp import web

    from discretion.web.links import REPORT_PAGES_KEY, SETTINGS_KEY, read_report_token
    from discretion.web.settings import load_web_settings

    web_settings = load_web_settings({}, secret_key="s" * 32)

    def prepare(app: web.Application, services: Any) -> None:
        services.extras[SETTINGS_KEY] = web_settings

        async def report_page(request: web.Request) -> web.Response:
            return web.Response(text="report form")

        app.router.add_get("/report/{token}", report_page)
        services.extras[REPORT_PAGES_KEY] = True  # what the dashboard's mount says

    server, runner = await start_server(settings, engine, openid, connector, prepare=prepare)
    try:
        card = await warn(server)
        assert list(card_validator.iter_errors(card)) == []
        [link] = [a for a in card["actions"] if a["title"] == "Report in the browser"]
        assert link["url"].startswith(web_settings.public_url + "/report/")
        claims = read_report_token(web_settings, link["url"].rsplit("/", 1)[1], datetime.now(UTC))
        assert claims.platform == "teams"
        assert claims.poster_id == POSTER["aadObjectId"]
        assert "NHS_NUMBER" in claims.entity_types
        assert claims.message_id == "1759944781430"
    finally:
        await server.close()
        await runner.cleanup()


async def test_not_patient_data_button_carries_no_words(teams):
    card = await warn(teams)
    data = card["actions"][1]["data"]
    assert data["discretion"] == "not_patient_data"
    assert data["ref"]["excerpt"] == "" and data["ref"]["digest"] == ""
    report = card["actions"][0]["card"]["actions"][0]["data"]
    assert "[NHS NUMBER]" in report["ref"]["excerpt"]
