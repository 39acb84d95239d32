"""The Slack harness (test modules import its fixtures; no conftest, so no name clashes): the real server and bolt app, the real slack_sdk client, a fake Slack.

Requests to /slack/events are signed with a test signing secret exactly as Slack
signs them; the server's Web API calls go to tests/fakes/slack_api.py on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fakes.slack_api import SPEC, FakeSlackApi
from slack_sdk.signature import SignatureVerifier

from discretion import server
from discretion.server import SERVICES, create_app
from discretion.store import Store

SECRET = "test-signing-secret-0b7e4f9a"
EVENTS = SPEC.parent / "events"
MOUNT = "discretion.adapters.slack.mount:mount"
# Made-up details (the NHS number passes the checksum; nobody has it).
NHS = "401 023 2137"
RISKY = f"Bed 6 back from theatre, NHS {NHS}, obs due at 2"
HARMLESS = "Can someone cover the late shift on Friday?"


def payload(name: str) -> dict[str, Any]:
    """A real Slack payload shape from the shared schemas folder (a fresh copy)."""
    path = EVENTS / f"{name}.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: the Slack tests replay Slack's own payload shapes")
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))


def signed_headers(body: str, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request (v0 HMAC-SHA256 of timestamp and body)."""
    timestamp = str(at if at is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature or ""}


@dataclass
class Harness:
    client: TestClient
    fake: FakeSlackApi
    services: Any

    @property
    def adapter(self) -> Any:
        return self.services.extras["slack"]

    async def event(self, body: dict[str, Any], **headers: str) -> Any:
        raw = json.dumps(body)
        all_headers = {**signed_headers(raw), "Content-Type": "application/json", **headers}
        return await self.client.post("/slack/events", data=raw, headers=all_headers)

    async def interaction(self, body: dict[str, Any]) -> Any:
        return await self.form({"payload": json.dumps(body)})

    async def form(self, fields: dict[str, str]) -> Any:
        raw = urlencode(fields)
        headers = {**signed_headers(raw), "Content-Type": "application/x-www-form-urlencoded"}
        return await self.client.post("/slack/events", data=raw, headers=headers)

    async def settle(self, received: int) -> None:
        """Wait until ``received`` message events reached the listener and their work is done."""
        for _ in range(500):
            if self.adapter.counters.received >= received:
                break
            await asyncio.sleep(0.01)
        assert self.adapter.counters.received >= received, "events never reached the listener"
        await self.adapter.work.join()


@pytest.fixture(name="fake_slack")
async def fake_slack_fixture() -> AsyncIterator[FakeSlackApi]:
    if not SPEC.exists():
        message = f"{SPEC} is missing: the fake checks every call against Slack's spec"
        if os.environ.get("DISCRETION_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    fake = await FakeSlackApi().start()
    fake.channel_names["C111"] = "ward-6"
    yield fake
    await fake.stop()
    assert fake.violations == [], "the bot used Web API methods or arguments Slack does not have"


@pytest.fixture(name="slack_env")
def slack_env_fixture(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlackApi) -> None:
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    # The user-token flow is on, so Replace and Delete can act as the poster once authorised.
    monkeypatch.setenv("SLACK_OAUTH_CLIENT_ID", "111.222")
    monkeypatch.setenv("SLACK_OAUTH_CLIENT_SECRET", "test-oauth-client-secret")
    monkeypatch.setenv("DISCRETION_PUBLIC_URL", "https://discretion.test")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-bot-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)


@pytest.fixture(name="slack")
async def slack_fixture(
    settings: Any,
    engine: Any,
    slack_env: None,
    fake_slack: FakeSlackApi,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    """The server with only Slack mounted, and a fresh SQLite store for reports."""
    monkeypatch.setattr(server, "EXTENSIONS", [MOUNT])
    app = create_app(settings, engine)
    services = app[SERVICES]
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/store.db", message_key=b"k" * 32)
    await store.migrate()
    services.store = store
    async with TestClient(TestServer(app)) as client:
        yield Harness(client, fake_slack, services)
    await store.close()
