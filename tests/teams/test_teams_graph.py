"""Optional hiding through Microsoft Graph's policyViolation, against a fake Graph."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from fakes.graph import GRAPH_TOKEN, FakeGraph, fixed_graph_token
from fakes.openid import ISSUER
from teams_support import APP_ID, TeamsServer, activity, start_server

from discretion.adapters.teams.config import TeamsConfig, TeamsConfigError
from discretion.adapters.teams.graph import GraphHider, Target
from discretion.config import Channels

NHS = "943 476 5919"
TEAM_GROUP = "f3ec8cd2-e704-4344-8c47-9a3a21d683c0"
CHANNEL = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def hiding(settings, engine, openid, connector, graph) -> AsyncIterator[TeamsServer]:
    config = TeamsConfig(
        app_id=APP_ID,
        app_password="unused",
        openid_metadata_url=openid.metadata_url,
        token_issuer=ISSUER,
        hide_messages=True,
        graph_url=graph.url,
    )
    server, runner = await start_server(
        settings, engine, openid, connector, config=config, graph_tokens=fixed_graph_token
    )
    yield server
    await server.close()
    await runner.cleanup()


def thread_reply(teams: TeamsServer, *, group_id: str | None = TEAM_GROUP) -> dict:
    body = activity(
        "channel-message-mention-thread-reply",
        serviceUrl=teams.connector.url,
        text=f"<at>ridotest</at> NHS {NHS} is fit for discharge",
    )
    if group_id:
        body["channelData"]["team"]["aadGroupId"] = group_id
    return body


async def test_flagged_thread_reply_is_hidden_with_a_policy_tip(hiding, graph):
    await hiding.post(thread_reply(hiding))
    await hiding.settle()
    [patch] = graph.patches
    assert patch.path == (
        f"/v1.0/teams/{TEAM_GROUP}/channels/{CHANNEL}/messages/1759881511856/replies/1759944781430"
    )
    assert patch.authorization == f"Bearer {GRAPH_TOKEN}"
    violation = patch.body["policyViolation"]
    assert violation["dlpAction"] == "BlockAccess"
    assert violation["policyTip"]["complianceUrl"].startswith("https://")
    assert "an NHS number" in violation["policyTip"]["matchedConditionDescriptions"]
    assert NHS not in json.dumps(patch.body)
    assert hiding.handler.counts["hide_hidden"] == 1
    assert len(hiding.connector.cards()) == 1  # the poster is still told privately


async def test_group_chat_message_is_hidden_by_chat_path(hiding, graph):
    body = activity("message-update-edit", serviceUrl=hiding.connector.url, type="message")
    body["text"] = f"NHS {NHS} needs bloods"
    body["conversation"] = {
        "conversationType": "groupChat",
        "tenantId": body["conversation"]["tenantId"],
        "id": "19:ward-6-chat@thread.v2",
    }
    body["channelData"] = {"tenant": {"id": body["conversation"]["tenantId"]}}
    await hiding.post(body)
    await hiding.settle()
    [patch] = graph.patches
    assert patch.path == "/v1.0/chats/19:ward-6-chat@thread.v2/messages/1666977568748"


async def test_without_a_group_id_hiding_is_skipped_not_guessed(hiding, graph):
    await hiding.post(thread_reply(hiding, group_id=None))
    await hiding.settle()
    assert graph.patches == []
    assert hiding.handler.counts["hide_skipped"] == 1
    assert len(hiding.connector.cards()) == 1


async def test_quiet_channels_are_not_hidden(hiding, graph):
    hiding.services.settings = hiding.services.settings.model_copy(
        update={"channels": Channels(overrides={CHANNEL: "quiet"})}
    )
    await hiding.post(thread_reply(hiding))
    await hiding.settle()
    assert graph.patches == []


async def test_graph_throttling_is_retried_and_refusal_is_logged(graph):
    graph.failures = [429, 403]
    hider = GraphHider(graph.url, fixed_graph_token, base_delay=0.01)
    target = Target("tenant", "m1", TEAM_GROUP, CHANNEL)
    try:
        assert await hider.hide(target, ["NHS_NUMBER"], "https://example.org/p") == "failed"
        assert len(graph.patches) == 2  # 429 retried, 403 not
        assert await hider.hide(target, ["NHS_NUMBER"], "https://example.org/p") == "hidden"
    finally:
        await hider.close()


def test_hiding_needs_credentials_and_https():
    with pytest.raises(TeamsConfigError, match="DISCRETION_TEAMS_HIDE_MESSAGES"):
        TeamsConfig.from_env({"DISCRETION_TEAMS_HIDE_MESSAGES": "1"})
    with pytest.raises(TeamsConfigError, match="GRAPH_API_URL"):
        TeamsConfig.from_env(
            {
                "MICROSOFT_APP_ID": APP_ID,
                "MICROSOFT_APP_PASSWORD": "x",
                "DISCRETION_TEAMS_HIDE_MESSAGES": "1",
                "GRAPH_API_URL": "http://graph.example.net/v1.0",
            }
        )
