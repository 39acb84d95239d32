"""Slack event payloads in, platform-neutral :class:`Message` out (or a reason to skip).

Which messages are checked: new messages in channels, private channels, group
DMs and threads the app is in; edits (the new text); messages with files (the
text and the file names). Skipped: anything from a bot (including Discretion
itself), deletions, joins and the other housekeeping subtypes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from discretion.message import Message

# Subtypes that carry something a person wrote; everything else (channel_join,
# message_deleted, bot_message, channel_topic...) is housekeeping.
CHECKED_SUBTYPES = frozenset({None, "", "thread_broadcast", "file_share", "me_message"})
EDITED = "message_changed"
MAX_FILES = 20


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message to assess, with what is needed to reply to its poster."""

    message: Message
    team_id: str | None
    channel: str
    user: str
    ts: str
    thread_ts: str | None
    edited: bool = False


@dataclass(frozen=True, slots=True)
class Skip:
    """Why an event is not assessed (a short code for the logs)."""

    reason: str


def from_event(event: dict[str, Any], *, team_id: str | None = None) -> SlackMessage | Skip:
    """The message to assess from a ``message`` event, or why it is skipped."""
    if not isinstance(event, dict) or event.get("type") != "message":
        return Skip("not_a_message")
    subtype = event.get("subtype")
    edited = subtype == EDITED
    previous = event.get("previous_message")
    if edited:
        inner = event.get("message")
        if not isinstance(inner, dict):
            return Skip("malformed")
        # Slack also sends message_changed when a link preview is added or a thread
        # gains a reply; only a change of the words (or files) needs a new check.
        if isinstance(previous, dict) and _words(previous) == _words(inner):
            return Skip("unchanged")
        if inner.get("subtype") not in CHECKED_SUBTYPES:
            return Skip("subtype")
        body = inner
    elif subtype in CHECKED_SUBTYPES:
        body = event
    else:
        return Skip("subtype")
    if body.get("bot_id") or event.get("bot_id") or body.get("bot_profile"):
        return Skip("bot")
    channel = event.get("channel")
    user = body.get("user")
    ts = event.get("ts")
    if edited:
        # The edited message keeps its own ts (not the event's); older payloads carry it
        # only on previous_message.
        ts = body.get("ts") or (previous.get("ts") if isinstance(previous, dict) else None)
    if not (isinstance(channel, str) and isinstance(user, str) and isinstance(ts, str)):
        return Skip("malformed")
    text = body.get("text") or ""
    if not isinstance(text, str):
        return Skip("malformed")
    names = file_names(body.get("files"))
    if not text.strip() and not names:
        return Skip("empty")
    thread_ts = body.get("thread_ts")
    if not isinstance(thread_ts, str) or thread_ts == ts:
        # A thread's parent carries its own ts as thread_ts: the warning belongs in the channel.
        thread_ts = None
    message = Message(
        text=text,
        channel=channel,
        author=user,
        thread=thread_ts,
        platform="slack",
        message_id=ts,
        sent_at=sent_at(ts),
        extra_texts=names,
    )
    team = event.get("team") or body.get("team") or team_id
    return SlackMessage(
        message=message,
        team_id=team if isinstance(team, str) else team_id,
        channel=channel,
        user=user,
        ts=ts,
        thread_ts=thread_ts,
        edited=edited,
    )


def sent_at(ts: str | None) -> datetime | None:
    """When a Slack timestamp ("1596183880.004200") was, in UTC; None if unreadable."""
    try:
        return datetime.fromtimestamp(float(ts or ""), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def file_names(files: Any) -> tuple[str, ...]:
    """Names and titles of attached files: a file called 'J Smith MRI.pdf' is a disclosure too."""
    if not isinstance(files, list):
        return ()
    out: list[str] = []
    for f in files[:MAX_FILES]:
        if not isinstance(f, dict):
            continue
        for key in ("name", "title"):
            value = f.get(key)
            if isinstance(value, str) and value.strip() and value not in out:
                out.append(value)
    return tuple(out)


def _words(body: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
    return body.get("text"), file_names(body.get("files"))
