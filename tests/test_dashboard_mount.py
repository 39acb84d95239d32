"""The dashboard on the real server (every mount in EXTENSIONS), without a browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from discretion.server import EXTENSIONS, SERVICES, create_app
from discretion.web import make_report_link
from discretion.web.testing import add_user, sign_in


@pytest.fixture
async def client(
    settings, engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient]:
    monkeypatch.chdir(tmp_path)  # ./var/ (database and key file) goes here
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DISCRETION_SECRET_KEY", raising=False)
    monkeypatch.delenv("DISCRETION_OIDC_METADATA_URL", raising=False)
    async with TestClient(TestServer(create_app(settings, engine))) as c:
        yield c


def test_the_dashboard_mounts_after_the_store() -> None:
    web = EXTENSIONS.index("discretion.web.mount:mount")
    assert EXTENSIONS.index("discretion.store.mount:mount") < web


async def test_the_server_serves_the_dashboard_and_report_links(client: TestClient) -> None:
    services = client.app[SERVICES]
    signed_out = await client.get("/dashboard/", allow_redirects=False)
    assert signed_out.status == 303
    await add_user(services.store, "lead", "dpo", "a long enough password")
    assert (await sign_in(client, "lead", "a long enough password")).status == 303
    assert (await client.get("/dashboard/")).status == 200
    # A link made the way an adapter makes it opens this server's form.
    url = make_report_link(
        services,
        platform="teams",
        channel="19:ward@thread.tacv2",
        permalink=None,
        poster_id="29:poster",
        entity_types=["PERSON"],
    )
    path = url.split("://", 1)[1].split("/", 1)[1]
    form = await client.get(f"/{path}")
    assert form.status == 200 and "Microsoft Teams" in await form.text()
    assert (await client.get("/report/forged.token")).status == 400
