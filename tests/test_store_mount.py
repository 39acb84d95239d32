"""The store's mount on the real server: migrated at start-up, pinged by /readyz, closed at exit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from discretion.config import ConfigError, WebhookEscalation
from discretion.escalation import Escalation
from discretion.reporting import BreachReport, report_breach
from discretion.server import EXTENSIONS, SERVICES, create_app
from discretion.store import Store


@pytest.fixture
async def client(
    settings, engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient]:
    monkeypatch.chdir(tmp_path)  # ./var/ (database and key file) goes here
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DISCRETION_SECRET_KEY", raising=False)
    app = create_app(settings, engine)
    async with TestClient(TestServer(app)) as c:
        yield c


def test_the_store_mounts_first() -> None:
    assert EXTENSIONS[0] == "discretion.store.mount:mount"


async def test_start_up_migrates_and_readiness_pings_the_database(
    client: TestClient, tmp_path: Path
) -> None:
    services = client.app[SERVICES]
    assert isinstance(services.store, Store)
    assert isinstance(services.extras["escalation"], Escalation)
    assert isinstance(services.extras["notifiers"], list)
    assert (tmp_path / "var" / "discretion.db").exists()
    key_file = tmp_path / "var" / "message-hash.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0
    r = await client.get("/readyz")
    body = await r.json()
    assert r.status == 200 and body["checks"]["database"] is True
    ref = await report_breach(
        services.store,
        BreachReport(
            platform="web",
            workspace="",
            channel="",
            permalink="",
            poster_id="",
            reporter_id="nurse@trust",
            message_at=None,
            entity_counts={"NHS_NUMBER": 1},
            reasons=[],
            redacted_excerpt="",
            message_hash=None,
            what_happened="",
            actions_taken="",
            source="web",
        ),
        actor="web:nurse@trust",
    )
    assert (await services.store.get_incident(ref)) is not None


async def test_readiness_fails_when_the_database_is_gone(client: TestClient) -> None:
    store = client.app[SERVICES].store
    await store.close()
    store.engine = type(store)("postgresql+asyncpg://nobody@127.0.0.1:1/none").engine
    r = await client.get("/readyz")
    body = await r.json()
    assert r.status == 503 and body["checks"]["database"] is False


def test_a_half_configured_webhook_stops_start_up_with_the_reason(
    settings, engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCRETION_WEBHOOK_SECRET", raising=False)
    site = settings.model_copy(
        update={
            "escalation": settings.escalation.model_copy(
                update={"webhook": WebhookEscalation(url="https://siem.trust.example/in")}
            )
        }
    )
    with pytest.raises(ConfigError, match=r"escalation: .*DISCRETION_WEBHOOK_SECRET"):
        create_app(site, engine)
