"""The Slack pieces on their own: payload normalising, Block Kit limits, references, settings."""

from __future__ import annotations

import json

import pytest
from slack_harness import NHS, payload

from discretion.adapters.slack import blocks as b
from discretion.adapters.slack.events import Skip, SlackMessage, from_event
from discretion.adapters.slack.mount import mount
from discretion.adapters.slack.refs import BadRef, MessageRef
from discretion.adapters.slack.settings import SlackConfigError, slack_settings
from discretion.assessment import Assessment, Finding
from discretion.notice import build_notice


def test_every_shipped_payload_is_normalised_or_skipped_for_the_right_reason():
    found = {
        name: from_event(payload(name)["event"], team_id="T111")
        for name in (
            "message-channel",
            "message-thread-broadcast",
            "message-changed",
            "message-deleted",
            "message-file-share",
            "message-bot",
        )
    }
    channel = found["message-channel"]
    assert isinstance(channel, SlackMessage)
    assert (channel.channel, channel.user, channel.ts, channel.thread_ts) == (
        "C111",
        "W111",
        "1596183880.004200",
        None,
    )
    assert channel.message.platform == "slack" and channel.message.sent_at is not None
    assert found["message-thread-broadcast"].thread_ts == "1633663824.000500"
    edited = found["message-changed"]
    assert edited.edited and edited.message.text == "updated message" and edited.user == "U111"
    assert found["message-deleted"] == Skip("subtype")
    assert found["message-bot"] == Skip("bot")
    assert found["message-file-share"].message.extra_texts == ("file.png",)


def test_malformed_events_are_skipped_not_crashed_on():
    for event in (
        None,
        {},
        {"type": "message"},
        {"type": "message", "channel": "C1", "user": "U1", "ts": "1.2", "text": 42},
        {"type": "message", "subtype": "message_changed", "message": "nope"},
        {"type": "message", "channel": "C1", "user": "U1", "ts": "1.2", "text": "   "},
    ):
        assert isinstance(from_event(event), Skip)  # type: ignore[arg-type]


def assessment(redacted: str, n: int = 1) -> Assessment:
    return Assessment(
        warn=True,
        risk=1.0,
        findings=tuple(Finding("NHS_NUMBER", 0, 12, 1.0, "NhsNumberRecognizer") for _ in range(n)),
        reasons=("This message contains an NHS number.",),
        redacted=redacted,
    )


def test_a_long_redacted_text_is_cut_at_slacks_limits_with_a_note():
    long = ("Obs stable <ok> & fine, [NHS NUMBER] seen. " * 2000).strip()
    notice = build_notice(assessment(long), policy_url="https://example.nhs.uk/policy")
    ref = MessageRef(channel="C1", ts="1.2", kinds=("NHS_NUMBER",), excerpt=long)
    rendered = [blk.to_dict() for blk in b.warning_blocks(notice, ref)]  # validates limits
    assert len(rendered) <= b.MAX_BLOCKS
    sections = [blk["text"]["text"] for blk in rendered if blk["type"] == "section"]
    assert all(len(t) <= b.MAX_SECTION_CHARS for t in sections)
    assert "only the first part is shown" in json.dumps(rendered)
    assert "&lt;ok&gt; &amp; fine" in json.dumps(rendered)
    for element in next(blk for blk in rendered if blk["type"] == "actions")["elements"]:
        assert len(element["value"]) <= 2000


def test_a_short_redacted_text_is_shown_whole_without_a_note():
    notice = build_notice(assessment("Bed 6, NHS [NHS NUMBER]"), policy_url="https://x.nhs.uk/p")
    rendered = json.dumps([blk.to_dict() for blk in b.warning_blocks(notice, MessageRef("C", "1"))])
    assert "Bed 6, NHS [NHS NUMBER]" in rendered and "only the first part" not in rendered


def test_references_round_trip_and_tampering_is_refused():
    ref = MessageRef(
        channel="C1",
        ts="1.2",
        user="U1",
        thread_ts="1.0",
        kinds=("NHS_NUMBER",) * 3,
        reasons=("why",),
        excerpt="x" * 5000,
    )
    text = ref.dumps()
    assert len(text) <= 2000
    back = MessageRef.loads(text)
    assert back.channel == "C1" and back.thread_ts == "1.0" and back.kinds == ref.kinds
    assert 0 < len(back.excerpt) < 5000
    for bad in ("", "[]", "{}", '{"channel": "C1"}', "not json", None):
        with pytest.raises(BadRef):
            MessageRef.loads(bad)


def test_settings_are_off_without_slack_and_clear_when_half_set():
    assert slack_settings({}) is None
    ok = slack_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert ok is not None and ok.api_url == "https://slack.com/api/" and not ok.oauth_enabled
    bad = [
        {"SLACK_SIGNING_SECRET": "s"},
        {"SLACK_BOT_TOKEN": "xoxp-user", "SLACK_SIGNING_SECRET": "s"},
        {"SLACK_BOT_TOKEN": "xoxb-1"},
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1"},
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://x"},
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_OAUTH_CLIENT_ID": "1"},
    ]
    for env in bad:
        with pytest.raises(SlackConfigError):
            slack_settings(env)
    socket = slack_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket is not None and socket.socket_mode


def test_without_slack_settings_nothing_is_mounted(monkeypatch: pytest.MonkeyPatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    from aiohttp import web

    app = web.Application()
    assert mount(app, services=None) is None
    assert not any("/slack/" in r.resource.canonical for r in app.router.routes())


def test_the_report_form_never_holds_the_raw_text():
    ref = MessageRef(channel="C1", ts="1596183880.004200", kinds=("NHS_NUMBER",), excerpt="[NHS]")
    view = b.report_modal(ref, when=None, channel_name="ward-6").to_dict()
    assert NHS not in json.dumps(view) and "#ward-6" in json.dumps(view)
    assert MessageRef.loads(view["private_metadata"]).channel == "C1"


def test_socket_mode_needs_no_public_route(monkeypatch: pytest.MonkeyPatch, settings, engine):
    from aiohttp import web

    from discretion.server import Services

    for name in ("SLACK_SIGNING_SECRET", "SLACK_OAUTH_CLIENT_ID", "SLACK_OAUTH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    app = web.Application()
    said = mount(app, Services(settings=settings, engine=engine))
    assert said == "Slack: Socket Mode"
    assert not any("/slack/" in r.resource.canonical for r in app.router.routes())
