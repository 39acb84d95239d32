"""Alerts for the data protection lead, posted to the Slack channel or person the site names.

Registered with the escalation service only when ``escalation.chat.slack_channel``
is set. The alert carries the reference, deadline, kinds of data, where and a
link to the case: never any patient data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from discretion.adapters.slack.blocks import MAX_HEADER_CHARS, MAX_SECTION_CHARS, escape
from discretion.adapters.slack.client import call

if TYPE_CHECKING:
    from discretion.adapters.slack.app import SlackAdapter

NOTIFIERS_KEY = "notifiers"


class SlackAlertFailed(RuntimeError):
    """Slack did not take the alert; the escalation service will try again."""


class SlackNotifier:
    """Posts each alert with ``chat.postMessage`` (a channel id, or a user id for a DM)."""

    name = "slack"

    def __init__(self, adapter: SlackAdapter, channel: str):
        self.adapter = adapter
        self.channel = channel

    def destination(self) -> str:
        """Where alerts go now (the site file may have been reloaded since start-up)."""
        chat = getattr(getattr(self.adapter.services.settings, "escalation", None), "chat", None)
        return getattr(chat, "slack_channel", "") or self.channel

    async def send(self, alert: Any) -> None:
        """Post the alert; raises :class:`SlackAlertFailed` so that it is retried."""
        sent = await call(
            "chat.postMessage",
            self.adapter.client.chat_postMessage(
                channel=self.destination(),
                text=alert.subject,
                blocks=alert_blocks(alert),
                unfurl_links=False,
            ),
        )
        if sent is None:
            raise SlackAlertFailed(f"Slack did not accept alert {alert.delivery_id}")


def alert_blocks(alert: Any) -> list[Block]:
    """The alert laid out: subject, summary, the facts, and the link to the case."""
    facts = "\n".join(escape(line) for line in alert.lines)
    return [
        HeaderBlock(text=alert.subject[: MAX_HEADER_CHARS - 1]),
        SectionBlock(text=MarkdownTextObject(text=escape(alert.summary)[:MAX_SECTION_CHARS])),
        SectionBlock(text=MarkdownTextObject(text=facts[:MAX_SECTION_CHARS] or " ")),
        ContextBlock(elements=[MarkdownTextObject(text=f"<{alert.case_url}|Open the case>")]),
    ]


def register(adapter: SlackAdapter) -> str | None:
    """Add the Slack notifier when the site names a destination; returns it, else None."""
    notifier = SlackNotifier(adapter, "")
    channel = notifier.destination()
    if not channel:
        return None
    notifier.channel = channel
    adapter.services.extras.setdefault(NOTIFIERS_KEY, []).append(notifier)
    return channel
