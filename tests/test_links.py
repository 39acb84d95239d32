"""One-click report links: genuine ones open a prefilled form and make one case; others are refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from itsdangerous import URLSafeSerializer
from needs import need_service

from discretion.server import Services
from discretion.store import Store
from discretion.store.testing import temporary_store
from discretion.web.links import (
    SALT,
    SETTINGS_KEY,
    LinkError,
    make_report_link,
    read_report_token,
)
from discretion.web.settings import load_web_settings
from discretion.web.testing import TEST_SECRET, csrf_from, dashboard_app

PERMALINK = "https://trust.slack.com/archives/C0WARD9/p1700000000000400"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(request.param) as s:
        yield s


@pytest.fixture
async def client(store: Store) -> AsyncIterator[TestClient]:
    app = dashboard_app(store, public_url="http://discretion.trust.example")
    async with TestClient(TestServer(app)) as c:
        yield c


def services_for(client: TestClient) -> Services:
    from discretion.server import SERVICES

    return client.app[SERVICES]


def link(client: TestClient, **over: object) -> str:
    """A report link as an adapter makes it; returns the path to request."""
    args: dict[str, object] = {
        "platform": "slack",
        "workspace": "T0TRUST",
        "channel": "C0WARD9",
        "permalink": PERMALINK,
        "poster_id": "U0POSTER",
        "entity_types": ["NHS_NUMBER", "PERSON"],
        "counts": {"NHS_NUMBER": 1, "PERSON": 2},
        "message_id": "1700000000.000400",
        "message_time": datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
    }
    args.update(over)
    url = make_report_link(services_for(client), **args)  # type: ignore[arg-type]
    assert url.startswith("http://discretion.trust.example/report/")
    return urlsplit(url).path


async def submit(client: TestClient, path: str, **fields: str) -> tuple[int, str]:
    form = await client.get(path)
    assert form.status == 200, await form.text()
    token = csrf_from(await form.text())
    response = await client.post(path, data={"csrf_token": token, **fields})
    return response.status, await response.text()


async def test_link_opens_a_prefilled_form_and_makes_one_case(
    client: TestClient, store: Store
) -> None:
    path = link(client)
    form = await client.get(path)
    html = await form.text()
    assert form.status == 200
    assert "Microsoft Teams" not in html and "Slack" in html and "C0WARD9" in html
    assert "an NHS number" in html and PERMALINK in html
    assert form.headers["Referrer-Policy"] == "no-referrer"  # the token stays on this site
    status, html = await submit(
        client,
        path,
        what_happened="Posted in the wrong channel",
        done_deleted="on",
        actions_taken="Told the ward manager",
    )
    assert status == 200 and "Your report has been sent" in html
    cases = await store.list_incidents()
    assert len(cases) == 1
    case = cases[0]
    assert case.reference in html
    assert (case.source, case.platform, case.channel, case.workspace) == (
        "link",
        "slack",
        "C0WARD9",
        "T0TRUST",
    )
    assert case.permalink == PERMALINK and case.poster_id == case.reporter_id == "U0POSTER"
    assert case.entity_counts == {"NHS_NUMBER": 1, "PERSON": 2}
    assert case.message_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert case.reporter_actions == "I deleted the message\nTold the ward manager"
    trail = await store.audit_trail(str(case.reference))
    assert trail[0].actor == "slack:U0POSTER"


async def test_a_used_link_cannot_be_used_again(client: TestClient, store: Store) -> None:
    path = link(client)
    form = await client.get(path)
    token = csrf_from(await form.text())
    first = await client.post(path, data={"csrf_token": token})
    assert first.status == 200
    again = await client.post(path, data={"csrf_token": token})
    assert again.status == 410 and "already been sent" in await again.text()
    reopened = await client.get(path)
    assert reopened.status == 410
    (case,) = await store.list_incidents()
    assert str(case.reference) in await reopened.text()


async def test_two_submissions_at_once_make_one_case(client: TestClient, store: Store) -> None:
    path = link(client)
    token = csrf_from(await (await client.get(path)).text())
    responses = await asyncio.gather(
        *(client.post(path, data={"csrf_token": token}) for _ in range(4))
    )
    assert sorted(r.status for r in responses) == [200, 410, 410, 410]
    assert len(await store.list_incidents()) == 1


async def test_an_expired_link_is_refused(client: TestClient, store: Store) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=73)
    path = link(client, now=long_ago)
    response = await client.get(path)
    assert response.status == 410 and "expired" in await response.text()
    # Even with a form token from elsewhere, submitting does nothing.
    token = csrf_from(await (await client.get(link(client))).text())
    response = await client.post(path, data={"csrf_token": token})
    assert response.status == 410
    assert await store.list_incidents() == []


async def test_forged_and_edited_links_are_refused(client: TestClient, store: Store) -> None:
    path = link(client)
    token = path.rsplit("/", 1)[1]
    payload, _, signature = token.rpartition(".")
    edited = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    other_key = URLSafeSerializer("someone-elses-key-that-is-long-enough!", salt=SALT).dumps(
        {"v": 1, "jti": "x", "exp": 9_999_999_999, "p": "slack", "e": ["PERSON"]}
    )
    for bad in (edited, other_key, "not-a-token", "a" * 5000):
        response = await client.get(f"/report/{bad}")
        assert response.status == 400, bad[:20]
        html = await response.text()
        assert "not genuine" in html or "not complete" in html
        assert "Send the report" not in html
    anti = csrf_from(await (await client.get(path)).text())
    response = await client.post(f"/report/{edited}", data={"csrf_token": anti})
    assert response.status == 400
    assert await store.list_incidents() == []


async def test_the_report_form_needs_its_csrf_token(client: TestClient, store: Store) -> None:
    path = link(client)
    await client.get(path)
    response = await client.post(path, data={"what_happened": "x"})
    assert response.status == 403
    assert await store.list_incidents() == []
    # The link was not used up by the refused form.
    status, _ = await submit(client, path)
    assert status == 200


def test_token_reader_says_why() -> None:
    settings = load_web_settings(env={}, secret_key=TEST_SECRET)
    services = Services(settings=None, engine=None)  # type: ignore[arg-type]
    services.extras[SETTINGS_KEY] = settings
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    url = make_report_link(
        services,
        platform="teams",
        channel="19:abc@thread.tacv2",
        permalink=None,
        poster_id="29:1xyz",
        entity_types=["PERSON"],
        now=now,
    )
    token = url.rsplit("/", 1)[1]
    claims = read_report_token(settings, token, now)
    assert claims.platform == "teams" and claims.entity_types == ("PERSON",)
    assert claims.expires_at == now + timedelta(hours=72)
    with pytest.raises(LinkError) as expired:
        read_report_token(settings, token, now + timedelta(hours=72))
    assert expired.value.reason == "expired"
    other = load_web_settings(env={}, secret_key="another-key-that-is-also-long-enough-xyz")
    with pytest.raises(LinkError) as forged:
        read_report_token(other, token, now)
    assert forged.value.reason == "forged"
    # Identifiers only: no message words can travel in a link.
    assert "text" not in make_report_link.__code__.co_varnames


async def test_over_https_the_cookies_are_secure(store: Store) -> None:
    app = dashboard_app(store, public_url="https://discretion.trust.example")
    async with TestClient(TestServer(app)) as https_client:
        url = make_report_link(
            services_for(https_client),
            platform="slack",
            channel="C0WARD9",
            permalink=PERMALINK,
            poster_id="U0POSTER",
            entity_types=["PERSON"],
        )
        assert url.startswith("https://discretion.trust.example/report/")
        response = await https_client.get(urlsplit(url).path)
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
