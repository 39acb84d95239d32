"""The Messenger's own Bot Connector calls: botbuilder's wire format, tokens, retries.

The Messenger sends JSON itself (not through msrest); these tests hold it to the
exact bodies botbuilder's serializer would have sent, the token botbuilder's
credentials give, and the retry rules, against the fake connector on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    Mention,
)
from fakes.bot_connector import FIXED_TOKEN, FakeBotConnector, FixedTokenCredentials
from fakes.bot_connector import FixedTokenFactory as _Factory
from teams_support import APP_ID

from discretion.adapters.teams.cards import CONTENT_TYPE
from discretion.adapters.teams.clients import ReusingAuthentication
from discretion.adapters.teams.config import TeamsConfig
from discretion.adapters.teams.connector import Messenger, Origin, Poster, SendFailed
from discretion.adapters.teams.references import MemoryReferenceStore

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
POSTER = Poster(TENANT, "6be1c3ba-0fd0-4b6c-a1b0-1f4e2a7d9c11", "29:1poster", "Dana Ward")
CHANNEL_CONVERSATION = "19:abc@thread.tacv2;messageid=1759944781430"


class CountingCredentials(FixedTokenCredentials):
    """The fixed token, with a record of each fetch and whether it asked for a new one."""

    def __init__(self, app_id: str, fetches: list[bool]):
        super().__init__(app_id)
        self.fetches = fetches

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.fetches.append(force_refresh)
        return self.token + ("-renewed" if force_refresh else "")


class CountingFactory(_Factory):
    def __init__(self, app_id: str):
        super().__init__(app_id)
        self.fetches: list[bool] = []

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return CountingCredentials(app_id, self.fetches)


@pytest.fixture
def factory() -> CountingFactory:
    return CountingFactory(APP_ID)


@pytest.fixture
async def messenger(factory: CountingFactory) -> AsyncIterator[Messenger]:
    config = TeamsConfig(app_id=APP_ID, app_password="unused")
    auth = ReusingAuthentication(
        ConfigurationBotFrameworkAuthentication(
            config.botbuilder_configuration(), credentials_factory=factory
        )
    )
    m = Messenger(auth, APP_ID, MemoryReferenceStore(), base_delay=0.01, max_delay=0.05)
    yield m
    await m.close()


def origin(connector: FakeBotConnector) -> Origin:
    return Origin(connector.url, CHANNEL_CONVERSATION, "1759944781430", "28:bot-id", "Discretion")


def serialized(model: Any) -> dict[str, Any]:
    return model.serialize()


async def test_bodies_are_what_botbuilder_would_send(
    messenger: Messenger, connector: FakeBotConnector
) -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x"}]}
    outcome = await messenger.warn_privately(POSTER, origin(connector), card, summary="Check this")
    assert outcome == "personal"
    created, sent = connector.calls
    assert created.body == serialized(
        ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id="28:bot-id", name="Discretion"),
            members=[ChannelAccount(id=POSTER.user_id, aad_object_id=POSTER.aad_object_id)],
            tenant_id=TENANT,
            channel_data={"tenant": {"id": TENANT}},
        )
    )
    assert sent.body == serialized(
        Activity(
            type="message",
            summary="Check this",
            attachments=[Attachment(content_type=CONTENT_TYPE, content=card)],
        )
    )
    assert sent.path == f"/v3/conversations/a:personal-{POSTER.aad_object_id}/activities"
    assert created.authorization == sent.authorization == f"Bearer {FIXED_TOKEN}"


async def test_fallback_reply_goes_to_the_thread_with_botbuilders_mention(
    messenger: Messenger, connector: FakeBotConnector
) -> None:
    await messenger.reply_with_mention(POSTER, origin(connector))
    [reply] = connector.calls
    # The ';' and ':' of a channel thread id stay one path segment.
    assert reply.path == f"/v3/conversations/{CHANNEL_CONVERSATION}/activities/1759944781430"
    tag = "<at>Dana Ward</at>"
    expected = serialized(
        Activity(
            type="message",
            text=reply.body["text"],
            entities=[
                Mention(
                    mentioned=ChannelAccount(id=POSTER.user_id, name=POSTER.name),
                    text=tag,
                    type="mention",
                )
            ],
        )
    )
    assert reply.body == expected
    assert reply.body["text"].startswith(tag)


async def test_a_token_is_fetched_once_then_reused(
    messenger: Messenger, connector: FakeBotConnector, factory: CountingFactory
) -> None:
    for _ in range(3):
        await messenger.send_card(connector.url, "a:personal-1", {"type": "AdaptiveCard"})
    assert factory.fetches == [False]


async def test_a_refused_token_is_renewed_once(
    messenger: Messenger, connector: FakeBotConnector, factory: CountingFactory
) -> None:
    connector.fail_next(401)
    await messenger.send_card(connector.url, "a:personal-1", {"type": "AdaptiveCard"})
    assert factory.fetches == [False, True]
    assert [c.authorization for c in connector.calls] == [
        f"Bearer {FIXED_TOKEN}",
        f"Bearer {FIXED_TOKEN}-renewed",
    ]


async def test_a_401_twice_is_a_failure_not_a_loop(
    messenger: Messenger, connector: FakeBotConnector
) -> None:
    connector.fail_next(401, times=5)
    with pytest.raises(SendFailed) as failed:
        await messenger.send_card(connector.url, "a:personal-1", {"type": "AdaptiveCard"})
    assert failed.value.status == 401
    assert len(connector.calls) == 2


async def test_429_with_retry_after_then_success(
    messenger: Messenger, connector: FakeBotConnector
) -> None:
    connector.fail_next(429, times=2, retry_after="0")
    assert await messenger.send_card(connector.url, "a:personal-1", {"type": "AdaptiveCard"})
    assert messenger.retries == 2 and len(connector.calls) == 3


async def test_a_connector_that_is_gone_fails_cleanly(messenger: Messenger) -> None:
    with pytest.raises(SendFailed) as failed:
        await messenger.send_card("http://127.0.0.1:9/", "a:personal-1", {"type": "AdaptiveCard"})
    assert failed.value.status is None
    assert messenger.retries == 3  # four attempts in all


async def test_no_app_id_sends_no_token(connector: FakeBotConnector) -> None:
    config = TeamsConfig(app_id="", app_password="", local_dev=True)
    auth = ReusingAuthentication(
        ConfigurationBotFrameworkAuthentication(
            config.botbuilder_configuration(), credentials_factory=_Factory("")
        )
    )
    m = Messenger(auth, "", MemoryReferenceStore())
    try:
        await m.send_card(connector.url, "a:personal-1", {"type": "AdaptiveCard"})
    finally:
        await m.close()
    assert connector.calls[0].authorization == ""


class UnreadableReferences(MemoryReferenceStore):
    """The database holding personal-chat references is away (restarting)."""

    async def get(self, tenant_id: str, user_id: str) -> Any:
        raise ConnectionRefusedError("database away")

    async def put(self, ref: Any) -> None:
        raise ConnectionRefusedError("database away")

    async def forget(self, tenant_id: str, user_id: str) -> None:
        raise ConnectionRefusedError("database away")


async def test_a_database_outage_still_warns_by_asking_teams_for_the_chat(
    messenger: Messenger, connector: FakeBotConnector
) -> None:
    # A warning that failed here would be dropped by the queue: lost, not retried.
    messenger.references = UnreadableReferences()
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x"}]}
    outcome = await messenger.warn_privately(POSTER, origin(connector), card, summary="Check this")
    assert outcome == "personal"
    # Teams gives back the poster's existing 1:1 chat when asked to create it again.
    assert [c.path for c in connector.calls] == [
        "/v3/conversations",
        f"/v3/conversations/a:personal-{POSTER.aad_object_id}/activities",
    ]
