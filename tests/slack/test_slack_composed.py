"""Slack inside the whole server, mounted exactly as `discretion serve` mounts it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_harness import (  # noqa: F401
    NHS,
    RISKY,
    Harness,
    fake_slack_fixture,
    payload,
    slack_env_fixture,
    slack_fixture,
)

from discretion.adapters.slack import blocks as b
from discretion.config import ChatEscalation
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
    # The lead's alerts go to a Slack channel too.
    escalation = settings.escalation.model_copy(
        update={"chat": ChatEscalation(slack_channel="C0DPO")}
    )
    app = create_app(settings.model_copy(update={"escalation": escalation}), engine)
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


async def test_a_reported_breach_alerts_the_lead_in_slack_without_patient_data(whole: Harness):
    body = payload("message-channel")
    body["event"]["text"] = RISKY
    await whole.event(body)
    (warning,) = await whole.fake.wait_for("chat.postEphemeral")
    actions = next(blk for blk in warning.args["blocks"] if blk["type"] == "actions")
    click = payload("block-actions")
    click["actions"][0].update(action_id=b.REPORT, value=actions["elements"][0]["value"])
    await whole.interaction(click)
    (opened,) = await whole.fake.wait_for("views.open")
    submit = payload("view-submission")
    submit["view"].update(
        callback_id=b.REPORT_MODAL,
        private_metadata=opened.args["view"]["private_metadata"],
        state={"values": {b.WHAT_HAPPENED[0]: {b.WHAT_HAPPENED[1]: {"value": "Wrong channel"}}}},
    )
    await whole.interaction(submit)
    (alert,) = await whole.fake.wait_for("chat.postMessage", timeout=30)
    assert alert.args["channel"] == "C0DPO"
    reference = re.search(r"DSC-\d{4}-\d+", alert.args["text"]).group(0)
    confirmation = (await whole.fake.wait_for("chat.postEphemeral", 2))[-1]
    assert reference in confirmation.args["text"]
    assert NHS not in str(alert.args) and "[NHS NUMBER]" not in str(alert.args)
