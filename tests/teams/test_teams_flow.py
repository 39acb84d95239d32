"""Messages in over HTTP through botbuilder's CloudAdapter, warnings out to a fake Bot Connector."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import structlog
from fakes.bot_connector import FIXED_TOKEN
from teams_support import BOTH_QUEUES, activity, queue_env

from discretion.config import Channels

# Our own wording: a made-up patient with a valid-checksum NHS number.
NHS = "943 476 5919"
RISKY = f"<at>ridotest</at> Mrs Eleanor Whitfield NHS {NHS} is in bay 4, can someone review?"
CLEAN = "<at>ridotest</at> the drug round is running late on ward 9 today"
TENANT = "50612dbb-0237-4969-b378-8d42590f9c00"
POSTER_AAD = "b15a9416-0ad3-4172-9210-7beb711d3f70"


@pytest.fixture(params=BOTH_QUEUES)
async def queue(request: pytest.FixtureRequest, monkeypatch) -> AsyncIterator[str]:
    """Every test here runs on the in-process queue and on Redis Streams (as replicas do)."""
    async with queue_env(request.param, monkeypatch) as kind:
        yield kind


def channel_post(teams, text: str = RISKY, **changes):
    return activity(
        "channel-message-mention-thread-reply", serviceUrl=teams.connector.url, text=text, **changes
    )


def group_chat_edit(teams, text: str, at: str = "2022-10-28T17:19:39.4615413Z"):
    """The docs' messageUpdate sample, moved into a group chat and given the new text."""
    body = activity("message-update-edit", serviceUrl=teams.connector.url, text=text, timestamp=at)
    body["conversation"] = {
        "conversationType": "groupChat",
        "isGroup": True,
        "tenantId": body["conversation"]["tenantId"],
        "id": "19:meeting-ward9-handover@thread.v2",
    }
    return body


async def test_channel_message_warns_poster_in_personal_chat(teams, card_validator):
    r = await teams.post(channel_post(teams))
    assert r.status == 201
    await teams.settle()

    created = teams.connector.created()
    assert len(created) == 1
    params = created[0].body
    assert params["isGroup"] is False
    assert params["channelData"]["tenant"]["id"] == TENANT
    assert params["tenantID"] == TENANT
    assert params["members"][0]["aadObjectId"] == POSTER_AAD
    assert params["bot"]["id"] == "28:0b6fe6d1-fece-44f7-9a48-56465e2d5ab8"
    assert all(c.authorization == f"Bearer {FIXED_TOKEN}" for c in teams.connector.calls)

    sent = teams.connector.activities()
    assert len(sent) == 1
    assert sent[0].path == f"/v3/conversations/a:personal-{POSTER_AAD}/activities"
    cards = teams.connector.cards()
    assert len(cards) == 1
    assert list(card_validator.iter_errors(cards[0])) == []
    dumped = json.dumps(cards[0])
    assert NHS not in dumped
    assert "[NHS NUMBER]" in dumped
    titles = [a["title"] for a in cards[0]["actions"]]
    assert titles[:3] == ["Report a breach", "Not patient data", "Read the policy"]
    report_form = cards[0]["actions"][0]["card"]
    assert [i["id"] for i in report_form["body"]] == ["what_happened", "actions_taken"]
    assert report_form["actions"][0]["type"] == "Action.Submit"


async def test_second_warning_reuses_the_remembered_conversation(teams):
    await teams.post(channel_post(teams))
    await teams.post(channel_post(teams, id="1759944781999"))
    await teams.settle()
    assert len(teams.connector.created()) == 1
    assert len(teams.connector.cards()) == 2


async def test_clean_message_sends_nothing(teams):
    r = await teams.post(channel_post(teams, text=CLEAN))
    assert r.status == 201
    await teams.settle()
    assert teams.connector.calls == []
    assert teams.handler.counts.get("clear") == 1


async def test_duplicate_activity_is_processed_once(teams):
    body = channel_post(teams)
    for _ in range(3):
        assert (await teams.post(body)).status == 201
    await teams.settle()
    assert len(teams.connector.cards()) == 1
    assert teams.handler.counts["duplicate"] == 2


async def test_edit_is_reassessed(teams, card_validator):
    first = group_chat_edit(teams, "Handover notes are on the shared drive")
    await teams.post(first)
    await teams.settle()
    assert teams.connector.cards() == []

    edited = group_chat_edit(
        teams, f"Handover: Mr Tobias Renshaw, NHS {NHS}, bed 12", at="2022-10-28T17:24:02.1Z"
    )
    assert (await teams.post(edited)).status == 201
    await teams.settle()
    cards = teams.connector.cards()
    assert len(cards) == 1
    assert list(card_validator.iter_errors(cards[0])) == []
    assert NHS not in json.dumps(cards[0])
    # The same edit delivered again is not read twice.
    await teams.post(edited)
    await teams.settle()
    assert len(teams.connector.cards()) == 1


async def test_group_chat_mentions_are_colleagues_not_patients(teams):
    body = activity("channel-message-two-mentions", serviceUrl=teams.connector.url)
    body["text"] = f"<at>Test Bot 1</at> <at>TestBot2</at> please check NHS {NHS} for bed 3"
    body["from"]["aadObjectId"] = "c0ffee00-1111-4222-8333-444455556666"
    body["conversation"] = {
        "isGroup": True,
        "conversationType": "groupChat",
        "id": "19:group-chat-ward-6@thread.v2",
        "tenantId": "b401cedf-7465-4c41-8f52-9b31a19f6826",
    }
    del body["channelData"]["channel"]
    await teams.post(body)
    await teams.settle()
    cards = teams.connector.cards()
    assert len(cards) == 1
    redacted = cards[0]["body"]
    shown = json.dumps(redacted)
    # The other bot's mention stays readable; the addressed bot's own mention is dropped.
    assert "@Test Bot 1" in shown and "TestBot2" not in shown
    assert "[NHS NUMBER]" in shown and NHS not in shown


async def test_bot_own_messages_are_skipped(teams):
    body = channel_post(teams)
    body["from"] = {"id": body["recipient"]["id"], "name": "ridotest"}
    await teams.post(body)
    await teams.settle()
    assert teams.connector.calls == []
    assert teams.handler.counts["own"] == 1


async def test_channel_policy_ignore_is_respected(teams):
    channel = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    services = teams.services
    services.settings = services.settings.model_copy(
        update={"channels": Channels(default="monitor", overrides={channel: "ignore"})}
    )
    await teams.post(channel_post(teams))
    await teams.settle()
    assert teams.connector.calls == []


async def test_quiet_channel_still_warns_with_the_quiet_headline(teams):
    channel = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    services = teams.services
    services.settings = services.settings.model_copy(
        update={"channels": Channels(default="monitor", overrides={channel: "quiet"})}
    )
    await teams.post(channel_post(teams))
    await teams.settle()
    [card] = teams.connector.cards()
    assert card["body"][0]["text"].startswith("Check:")


async def test_poster_without_personal_app_gets_a_mention_without_patient_data(teams):
    teams.connector.not_installed.add(POSTER_AAD)
    await teams.post(channel_post(teams))
    await teams.settle()
    assert teams.connector.cards() == []
    [reply] = teams.connector.replies()
    thread = "19:6848757105754c8981c67612732d9aa7@thread.tacv2;messageid=1759881511856"
    assert reply.path == f"/v3/conversations/{thread}/activities/1759944781430"
    text = reply.body["text"]
    assert text.startswith("<at>rido</at>")
    assert "open the Discretion app" in text
    assert NHS not in json.dumps(reply.body) and "Whitfield" not in json.dumps(reply.body)
    [mention] = reply.body["entities"]
    assert mention["mentioned"]["id"] == channel_post(teams)["from"]["id"]
    assert teams.handler.counts["warned_fallback"] == 1


async def test_connector_429_and_500_are_retried(teams):
    teams.connector.fail_next(429, retry_after="0")
    teams.connector.fail_next(500)
    await teams.post(channel_post(teams))
    await teams.settle()
    assert len(teams.connector.cards()) == 1
    assert teams.handler.messenger.retries == 2


async def test_connector_failing_for_good_is_logged_without_text(teams):
    teams.connector.fail_next(500, times=20)
    with structlog.testing.capture_logs() as logs:
        await teams.post(channel_post(teams))
        await teams.settle()
    assert teams.connector.cards() == []
    assert teams.handler.counts["warned_failed"] == 1
    failed = [e for e in logs if e["event"] == "teams.connector_failed"]
    assert failed and failed[0]["status"] == 500
    dumped = json.dumps(logs, default=str)
    assert NHS not in dumped and "Whitfield" not in dumped and "bay 4" not in dumped


async def test_malformed_requests_get_clear_answers(teams):
    assert (await teams.post(b"{not json", token=teams.token())).status == 400
    assert (await teams.post(b"[1, 2]", token=teams.token())).status == 400
    r = await teams.post(
        json.dumps(channel_post(teams)).encode(),
        token=teams.token(),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status == 415
    body = channel_post(teams)
    del body["type"]
    assert (await teams.post(body)).status == 400
    assert teams.connector.calls == []


async def test_personal_install_is_remembered_and_uninstall_forgets_it(teams):
    personal = {
        "type": "installationUpdate",
        "action": "add",
        "id": "f:install-1",
        "channelId": "msteams",
        "serviceUrl": teams.connector.url,
        "from": {"id": "29:abc", "aadObjectId": POSTER_AAD},
        "recipient": {"id": "28:0b6fe6d1-fece-44f7-9a48-56465e2d5ab8", "name": "ridotest"},
        "conversation": {"id": "a:own-chat", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
    }
    assert (await teams.post(personal)).status in (200, 201)
    await teams.post(channel_post(teams))
    await teams.settle()
    # A welcome, then the warning, both straight to the chat Teams told us about.
    assert teams.connector.created() == []
    paths = [c.path for c in teams.connector.activities()]
    assert paths == ["/v3/conversations/a:own-chat/activities"] * 2
    welcome, warning = teams.connector.cards()
    assert welcome["body"][0]["text"] == "Discretion is set up for you"
    assert warning["body"][0]["text"] == "Your message may identify a patient"

    removed = dict(personal, action="remove", id="f:install-2")
    assert (await teams.post(removed)).status in (200, 201)
    refs = teams.handler.messenger.references
    assert await refs.get(TENANT, POSTER_AAD) is None


async def test_message_to_the_bot_itself_gets_help_not_an_assessment(teams, card_validator):
    body = activity("message-personal-rich-text", serviceUrl=teams.connector.url)
    body["text"] = f"is NHS {NHS} ok to share?"
    assert (await teams.post(body)).status == 201
    await teams.settle()
    [card] = teams.connector.cards()
    assert list(card_validator.iter_errors(card)) == []
    assert card["body"][0]["text"] == "Discretion is set up for you"
    assert NHS not in json.dumps(card)
    assert teams.handler.counts.get("queued") is None


async def test_a_remembered_chat_that_has_gone_is_replaced_by_a_new_one(teams):
    # The poster removed the app (perhaps seen by another replica, whose forgetting this
    # one's copy of the reference does not know about): the send fails with 403.
    await teams.post(channel_post(teams))
    await teams.settle()
    assert len(teams.connector.created()) == 1
    teams.connector.fail_next(403)
    await teams.post(channel_post(teams, id="1759944781998"))
    await teams.settle()
    assert len(teams.connector.created()) == 2  # asked Teams for the chat again
    # First card; the second refused with 403; then sent again into the new chat.
    assert len(teams.connector.cards()) == 3
    assert teams.handler.counts.get("warned_personal") == 2
