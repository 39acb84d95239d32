"""Signed events in, private warnings out: through the real server, bolt and slack_sdk."""

from __future__ import annotations

import io
import json
import time

from slack_harness import (  # noqa: F401
    HARMLESS,
    NHS,
    RISKY,
    Harness,
    fake_slack_fixture,
    payload,
    signed_headers,
    slack_env_fixture,
    slack_fixture,
)

from discretion import logs
from discretion.adapters.slack import blocks as b
from discretion.config import Channels


def channel_message(text: str = RISKY, event_id: str = "Ev0001") -> dict:
    body = payload("message-channel")
    body["event"]["text"] = text
    body["event"]["blocks"] = []
    body["event_id"] = event_id
    return body


def everything_sent(h: Harness) -> str:
    return json.dumps([c.args for c in h.fake.calls])


async def test_a_risky_message_gets_a_private_warning_to_the_poster_only(slack: Harness):
    r = await slack.event(channel_message())
    assert r.status == 200
    (call,) = await slack.fake.wait_for("chat.postEphemeral")
    assert call.args["channel"] == "C111"
    assert call.args["user"] == "W111"
    assert "thread_ts" not in call.args  # a top-level message: the warning sits in the channel
    assert call.token == "xoxb-test-bot-token"
    blocks = call.args["blocks"]
    shown = json.dumps(blocks)
    assert "[NHS NUMBER]" in shown  # the redacted version, ready to copy
    assert NHS not in everything_sent(slack)  # never the number itself, in any call
    assert "an NHS number" in shown
    buttons = [
        e["action_id"] for blk in blocks if blk["type"] == "actions" for e in blk["elements"]
    ]
    assert buttons == [b.REPORT, b.REPLACE, b.DELETE, b.NOT_PATIENT_DATA]
    assert "gmc-uk.org" in shown  # the policy link


async def test_bolt_checks_the_bot_token_with_the_fake_too(slack: Harness):
    await slack.event(channel_message())
    await slack.fake.wait_for("chat.postEphemeral")
    (auth,) = slack.fake.called("auth.test")
    assert auth.token == "xoxb-test-bot-token"


async def test_a_thread_reply_is_warned_in_the_same_thread(slack: Harness):
    body = payload("message-thread-broadcast")
    body["event"]["text"] = RISKY
    await slack.event(body)
    (call,) = await slack.fake.wait_for("chat.postEphemeral")
    assert call.args["user"] == "U111"
    assert call.args["thread_ts"] == "1633663824.000500"


async def test_a_harmless_message_gets_nothing(slack: Harness):
    await slack.event(channel_message(HARMLESS))
    await slack.settle(received=1)
    assert slack.fake.called("chat.postEphemeral") == []
    assert slack.adapter.counters.assessed == 1


async def test_forged_stale_and_unsigned_requests_are_refused_and_nothing_is_sent(slack: Harness):
    raw = json.dumps(channel_message())
    json_type = {"Content-Type": "application/json"}
    forged = {**signed_headers(raw, secret="not-the-secret"), **json_type}
    stale = {**signed_headers(raw, at=int(time.time()) - 60 * 10), **json_type}
    for headers in (forged, stale, json_type):
        r = await slack.client.post("/slack/events", data=raw, headers=headers)
        assert r.status == 401
    # A signature for a different body does not carry over to this one.
    other = {**signed_headers(json.dumps(channel_message(HARMLESS))), **json_type}
    r = await slack.client.post("/slack/events", data=raw, headers=other)
    assert r.status == 401
    await slack.adapter.work.join()
    assert slack.adapter.counters.received == 0
    assert slack.fake.called("chat.postEphemeral") == []


async def test_slack_retries_and_repeated_event_ids_are_processed_once(slack: Harness):
    body = channel_message(event_id="EvRetry")
    assert (await slack.event(body)).status == 200
    retry = await slack.event(body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert retry.status == 200  # acknowledged, so Slack stops retrying
    again = await slack.event(body)
    assert again.status == 200
    await slack.settle(received=3)
    assert len(slack.fake.called("chat.postEphemeral")) == 1
    assert slack.adapter.counters.duplicates == 2


async def test_a_retry_whose_first_delivery_was_lost_is_still_processed(slack: Harness):
    await slack.event(channel_message(event_id="EvLost"), **{"X-Slack-Retry-Num": "2"})
    assert len(await slack.fake.wait_for("chat.postEphemeral")) == 1


async def test_bots_deletions_and_joins_are_skipped(slack: Harness):
    bot = payload("message-bot")
    bot["event"]["text"] = RISKY
    deleted = payload("message-deleted")
    deleted["previous_message"] = {"text": RISKY}
    join = channel_message(event_id="EvJoin")
    join["event"].update(subtype="channel_join", text="<@W111> has joined the channel")
    itself = channel_message(event_id="EvSelf")
    itself["event"]["user"] = "UDISCRETION"  # the bot's own user id, from auth.test
    for i, body in enumerate((bot, deleted, join, itself)):
        body["event_id"] = f"EvSkip{i}"
        assert (await slack.event(body)).status == 200
    # Bolt drops the bot's own events before our listener; the other three reach it.
    await slack.settle(received=3)
    assert slack.fake.called("chat.postEphemeral") == []
    assert slack.adapter.counters.assessed == 0


async def test_an_edit_is_checked_again_with_its_new_words(slack: Harness):
    body = payload("message-changed")
    body["event"]["message"]["text"] = RISKY
    body["event"]["message"]["ts"] = "1665102338.901939"
    await slack.event(body)
    (call,) = await slack.fake.wait_for("chat.postEphemeral")
    assert call.args["user"] == "U111"
    assert "[NHS NUMBER]" in json.dumps(call.args["blocks"])
    report = next(
        e for blk in call.args["blocks"] if blk["type"] == "actions" for e in blk["elements"]
    )
    assert json.loads(report["value"])["ts"] == "1665102338.901939"  # the edited message


async def test_an_edit_that_leaves_the_words_alone_is_not_checked_again(slack: Harness):
    body = payload("message-changed")
    body["event"]["message"]["text"] = body["event"]["previous_message"]["text"] = RISKY
    await slack.event(body)
    await slack.settle(received=1)
    assert slack.fake.called("chat.postEphemeral") == []


async def test_file_names_are_checked_too(slack: Harness):
    body = payload("message-file-share")
    body["event"]["text"] = "Referral letter attached"
    body["event"]["files"][0]["name"] = body["event"]["files"][0]["title"] = f"referral {NHS}.pdf"
    await slack.event(body)
    (call,) = await slack.fake.wait_for("chat.postEphemeral")
    assert call.args["user"] == "U111"
    assert "name of a file" in json.dumps(call.args["blocks"])
    assert NHS not in everything_sent(slack)


async def test_url_verification_is_answered(slack: Harness):
    r = await slack.event({"type": "url_verification", "challenge": "abc123", "token": "x"})
    assert r.status == 200
    assert (await r.json())["challenge"] == "abc123"


async def test_rate_limited_warnings_wait_and_retry_and_none_is_lost(slack: Harness):
    slack.fake.fail("chat.postEphemeral", 429, times=2, Retry_After="1")
    await slack.event(channel_message())
    (call,) = await slack.fake.wait_for("chat.postEphemeral", timeout=20)
    assert call.args["user"] == "W111"
    assert [c.method for c in slack.fake.calls if "postEphemeral" in c.method] == [
        "chat.postEphemeral!429",
        "chat.postEphemeral!429",
        "chat.postEphemeral",
    ]
    assert slack.adapter.counters.warned == 1


async def test_slack_failing_is_logged_without_the_message(slack: Harness):
    buffer = io.StringIO()
    logs.configure("INFO", stream=buffer)
    try:
        slack.fake.fail("chat.postEphemeral", 500, times=2)  # the first try and its retry
        await slack.event(channel_message())
        await slack.settle(received=1)
    finally:
        logs.configure("WARNING")
    written = buffer.getvalue()
    failures = [json.loads(line) for line in written.splitlines() if "slack.api_error" in line]
    assert failures and failures[0]["method"] == "chat.postEphemeral"
    assert failures[0]["status"] == 500
    assert NHS not in written and "theatre" not in written
    assert slack.adapter.counters.failed == 1


async def test_one_slack_500_is_retried_and_the_warning_still_goes_out(slack: Harness):
    slack.fake.fail("chat.postEphemeral", 500)
    await slack.event(channel_message())
    (call,) = await slack.fake.wait_for("chat.postEphemeral")
    assert call.args["user"] == "W111"
    assert slack.fake.called("chat.postEphemeral!500")


async def test_ignored_channels_are_not_checked_and_quiet_ones_get_the_quiet_headline(
    slack: Harness,
):
    settings = slack.services.settings
    slack.services.settings = settings.model_copy(
        update={"channels": Channels(overrides={"C111": "ignore", "secure-icu": "quiet"})}
    )
    await slack.event(channel_message(event_id="EvIgnored"))
    await slack.settle(received=1)
    assert slack.fake.called("chat.postEphemeral") == []
    slack.fake.channel_names["C222"] = "secure-icu"
    quiet = channel_message(event_id="EvQuiet")
    quiet["event"]["channel"] = "C222"
    await slack.event(quiet)
    (call,) = await slack.fake.wait_for("chat.postEphemeral")
    assert "clinical channel" in call.args["blocks"][0]["text"]["text"]
    assert slack.fake.called("conversations.info")[0].args["channel"] == "C222"


async def test_shutting_down_still_warns_about_every_acknowledged_event(slack: Harness):
    for i in range(12):
        r = await slack.event(channel_message(event_id=f"EvDrain{i}"))
        assert r.status == 200  # Slack hears "taken": from now on it will not resend
    await slack.client.close()  # the server shuts down straight away
    assert len(slack.fake.called("chat.postEphemeral")) == 12
