"""Slack inside the whole server, mounted exactly as `discretion serve` mounts it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_harness import NHS, RISKY, Harness, payload

from discretion.server import SERVICES, create_app
from discretion.web.links import read_report_token, web_settings


@pytest.fixture
async def whole(
    settings: Any,
    engine: Any,
    slack_env: None,
    fake_slack: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/discretion.db")
    monkeypatch.setenv("DISCRETION_SECRET_KEY", "a-test-key-that-is-long-enough-0123456789")
    monkeypatch.chdir(tmp_path)  # anything the server keeps in ./var stays in the test's folder
    app = create_app(settings, engine)
    async with TestClient(TestServer(app)) as client:
        yield Harness(client, fake_slack, app[SERVICES])


async def test_the_warning_carries_a_one_click_report_link_when_the_form_is_mounted(
    whole: Harness,
):
    body = payload("message-channel")
    body["event"]["text"] = RISKY
    await whole.event(body)
    (call,) = await whole.fake.wait_for("chat.postEphemeral")
    footer = call.args["blocks"][-1]["elements"][0]["text"]
    link = re.search(r"<(https://discretion\.test/report/[^|>]+)\|", footer).group(1)
    claims = read_report_token(
        web_settings(whole.services), link.rsplit("/", 1)[1], datetime.now(UTC)
    )
    assert (claims.platform, claims.channel, claims.poster_id) == ("slack", "C111", "W111")
    assert "NHS_NUMBER" in claims.entity_types and claims.message_id == "1596183880.004200"
    assert NHS not in link
