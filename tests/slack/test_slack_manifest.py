"""The app manifest asks for what the bot uses, and points Slack at routes that exist."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml

from discretion.adapters.slack.commands import COMMAND
from discretion.adapters.slack.mount import EVENTS_PATH
from discretion.adapters.slack.oauth import REDIRECT_PATH, USER_SCOPES

MANIFEST = Path(__file__).resolve().parents[2] / "deploy/slack/manifest.yaml"

# Each Web API method the bot calls with its own token, and the bot scopes that allow it.
SCOPES_FOR = {
    "chat.postEphemeral": {"chat:write"},
    "chat.postMessage": {"chat:write"},
    "conversations.replies": {"channels:history", "groups:history", "mpim:history"},
    "conversations.info": {"channels:read", "groups:read", "mpim:read"},
}


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_every_url_in_the_manifest_is_a_route_the_server_has():
    m = manifest()
    urls = [
        m["settings"]["event_subscriptions"]["request_url"],
        m["settings"]["interactivity"]["request_url"],
        *(c["url"] for c in m["features"]["slash_commands"]),
    ]
    assert {urlparse(u).path for u in urls} == {EVENTS_PATH}
    assert all(u.startswith("https://") for u in urls)
    (redirect,) = m["oauth_config"]["redirect_urls"]
    assert urlparse(redirect).path == REDIRECT_PATH


def test_the_scopes_cover_every_call_and_ask_for_nothing_more():
    m = manifest()
    bot = set(m["oauth_config"]["scopes"]["bot"])
    needed = set().union(*SCOPES_FOR.values()) | {"commands"}
    assert bot == needed
    assert m["oauth_config"]["scopes"]["user"] == list(USER_SCOPES)
    assert m["features"]["slash_commands"][0]["command"] == COMMAND
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"message.channels", "message.groups", "message.mpim"}
    assert m["settings"]["interactivity"]["is_enabled"] is True
