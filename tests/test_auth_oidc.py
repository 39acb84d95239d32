"""OpenID Connect sign-in against a fake provider on 127.0.0.1: roles from the token, forgeries refused."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

from discretion.reporting import BreachReport, report_breach
from discretion.store import Store
from discretion.store.testing import temporary_store
from discretion.web.settings import OidcSettings
from discretion.web.testing import dashboard_app


@pytest.fixture
async def provider() -> AsyncIterator[FakeOidcProvider]:
    fake = await FakeOidcProvider().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    async with temporary_store("sqlite") as s:
        yield s


@pytest.fixture
async def client(store: Store, provider: FakeOidcProvider) -> AsyncIterator[TestClient]:
    oidc = OidcSettings(
        metadata_url=provider.metadata_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    async with TestClient(TestServer(dashboard_app(store, oidc=oidc))) as c:
        yield c


async def sign_in_via_provider(client: TestClient) -> aiohttp.ClientResponse:
    """Follow the browser's path: dashboard -> provider -> dashboard callback."""
    start = await client.get("/dashboard/oidc/start?next=%2Fdashboard%2F", allow_redirects=False)
    assert start.status == 303, await start.text()
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"][0]
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(authorize, allow_redirects=False) as answer,
    ):
        assert answer.status == 302
        back = urlsplit(answer.headers["Location"])
    return await client.get(f"{back.path}?{back.query}", allow_redirects=False)


def case() -> BreachReport:
    now = datetime.now(UTC)
    return BreachReport(
        platform="teams", workspace="tenant", channel="19:ward@thread.tacv2", permalink="",
        poster_id="29:poster", reporter_id="aad-object-id-1", message_at=now,
        entity_counts={"PERSON": 1}, reasons=[], redacted_excerpt="<PERSON> in bay 2",
        message_hash=None, what_happened="", actions_taken="", source="command",
        aware_at=now - timedelta(minutes=1),
    )  # fmt: skip


async def test_a_lead_with_the_app_role_signs_in(
    client: TestClient, provider: FakeOidcProvider, store: Store
) -> None:
    ref = await report_breach(store, case(), actor="teams:29:poster")
    form = await client.get("/dashboard/sign-in")
    assert "Sign in with Microsoft" in await form.text()
    provider.claims = {
        "sub": "entra-subject-1",
        "name": "Priya Lead",
        "preferred_username": "priya.lead@trust.example",
        "roles": ["Discretion.DPO"],
    }
    done = await sign_in_via_provider(client)
    assert done.status == 303 and done.headers["Location"] == "/dashboard/"
    listing = await client.get("/dashboard/")
    html = await listing.text()
    assert listing.status == 200 and ref in html and "Priya Lead (Data protection lead)" in html
    # The app role is taken away in the directory: at the next sign-in the access goes too.
    provider.claims = {**provider.claims, "roles": []}
    assert (await sign_in_via_provider(client)).status == 303
    assert (await client.get("/dashboard/")).status == 403


async def test_the_directory_alone_gives_no_role(
    client: TestClient, provider: FakeOidcProvider, store: Store
) -> None:
    await report_breach(store, case(), actor="teams:29:poster")
    provider.claims = {"sub": "entra-subject-2", "preferred_username": "sam@trust.example"}
    assert (await sign_in_via_provider(client)).status == 303
    listing = await client.get("/dashboard/")
    assert listing.status == 403 and "no role" in await listing.text()


async def test_staff_role_sees_reports_made_under_their_object_id(
    client: TestClient, provider: FakeOidcProvider, store: Store
) -> None:
    mine = await report_breach(store, case(), actor="teams:aad-object-id-1")
    theirs = await report_breach(
        store, dataclasses.replace(case(), reporter_id="aad-object-id-2"), actor="teams:x"
    )
    provider.claims = {
        "sub": "entra-subject-3",
        "oid": "aad-object-id-1",
        "roles": ["Discretion.Staff", "Something.Else"],
    }
    assert (await sign_in_via_provider(client)).status == 303
    listing = await client.get("/dashboard/")
    html = await listing.text()
    assert listing.status == 200 and mine in html and "Your breach reports" in html
    assert theirs not in html


@pytest.mark.parametrize(
    "tamper",
    [{"nonce": "replayed-nonce"}, {"aud": "another-app"}, {"key": "other"},
     {"iss": "https://evil.example"}, {"exp": 1_000_000_000}],
    ids=["nonce", "audience", "unpublished-key", "issuer", "expired"],
)  # fmt: skip
async def test_a_bad_id_token_is_refused(
    client: TestClient, provider: FakeOidcProvider, tamper: dict[str, object]
) -> None:
    provider.claims = {"sub": "entra-subject-4", "roles": ["Discretion.DPO"]}
    provider.tamper = tamper
    done = await sign_in_via_provider(client)
    assert done.status == 400 and "did not check out" in await done.text()
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303


async def test_a_callback_without_its_own_flow_is_refused(
    client: TestClient, provider: FakeOidcProvider
) -> None:
    provider.claims = {"sub": "entra-subject-5", "roles": ["Discretion.DPO"]}
    # An attacker's code and state, with no flow started in this browser.
    response = await client.get("/dashboard/oidc/callback?code=abc&state=xyz")
    assert response.status == 400 and "another browser" in await response.text()
    # A flow started here but answered with another state.
    start = await client.get("/dashboard/oidc/start", allow_redirects=False)
    assert start.status == 303
    response = await client.get("/dashboard/oidc/callback?code=abc&state=not-ours")
    assert response.status == 400 and "does not match" in await response.text()
    assert provider.token_requests == 0
