"""A Teams activity, read: who posted what where, as plain text for the core.

Channel posts, thread replies, group chats and edits all arrive as activities
with the same shape; this module pulls out the ids and the text, and says
whether the activity is one Discretion should look at at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botbuilder.schema import Activity

from discretion.adapters.teams.text import Piece, PlainText, to_plain
from discretion.message import Message

PLATFORM = "teams"
# The version of TeamsMessage.to_data's layout: a replica reading another's queued work
# refuses a layout it does not know rather than misreading it.
DATA_VERSION = 1
# Files shared in Teams arrive as attachments of this type; their names are scanned.
FILE_TYPES = ("application/vnd.microsoft.teams.file.download.info",)


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class TeamsMessage:
    """One message (or edit) as Discretion needs it. ``plain`` is the only part with text."""

    activity_id: str
    edited: bool
    service_url: str
    conversation_id: str
    conversation_type: str  # "channel", "groupChat" or "personal"
    tenant_id: str
    team_id: str
    team_group_id: str  # the team's Azure AD group id, when Teams sends it (Graph needs it)
    channel_id: str
    channel_name: str
    parent_id: str  # the thread's root message id, or this message's own id
    poster_id: str
    poster_aad: str
    poster_name: str
    bot_id: str
    bot_name: str
    sent_at: datetime | None
    plain: PlainText
    file_names: tuple[str, ...]

    @property
    def base_conversation(self) -> str:
        """The channel or chat id, without the ";messageid=" of a thread."""
        return self.conversation_id.split(";", 1)[0]

    @property
    def policy_names(self) -> tuple[str, ...]:
        """Names to look the channel policy up by: channel id, channel name, chat id."""
        return tuple(n for n in (self.channel_id, self.channel_name, self.base_conversation) if n)

    def to_message(self) -> Message:
        """The core's Message: the assessed text, colleagues' names replaced."""
        return Message(
            text=self.plain.assessed,
            channel=self.channel_id or self.base_conversation,
            author=self.poster_aad or self.poster_id,
            thread=f"{self.base_conversation}/{self.parent_id}",
            platform=PLATFORM,
            message_id=self.activity_id,
            sent_at=self.sent_at,
            extra_texts=self.file_names,
        )

    def to_data(self) -> dict[str, Any]:
        """A plain, JSON-able dict of every field (for a shared queue, which encrypts it).

        It holds the message text: never log it or keep it anywhere unencrypted.
        """
        return {
            "v": DATA_VERSION,
            **{name: getattr(self, name) for name in _ID_FIELDS},
            "edited": self.edited,
            "sent_at": self.sent_at.isoformat() if self.sent_at is not None else None,
            "source": self.plain.source,
            # Each run as it was cut, so offsets map back without converting the text again.
            "pieces": [
                [p.assessed, p.shown, p.source_start, p.source_end, p.mention]
                for p in self.plain.pieces
            ],
            "file_names": list(self.file_names),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TeamsMessage:
        """The message :meth:`to_data` wrote; raises ValueError for another layout."""
        if data.get("v") != DATA_VERSION:
            raise ValueError("unknown TeamsMessage layout")
        sent = data.get("sent_at")
        pieces = tuple(
            Piece(str(a), str(s), int(start), int(end), bool(mention))
            for a, s, start, end, mention in data["pieces"]
        )
        return cls(
            **{name: str(data[name]) for name in _ID_FIELDS},
            edited=bool(data["edited"]),
            sent_at=datetime.fromisoformat(sent) if isinstance(sent, str) else None,
            plain=PlainText(pieces, str(data["source"])),
            file_names=tuple(str(n) for n in data["file_names"]),
        )


# The plain string fields of TeamsMessage (ids and names), copied as they are.
_ID_FIELDS = (
    "activity_id",
    "service_url",
    "conversation_id",
    "conversation_type",
    "tenant_id",
    "team_id",
    "team_group_id",
    "channel_id",
    "channel_name",
    "parent_id",
    "poster_id",
    "poster_aad",
    "poster_name",
    "bot_id",
    "bot_name",
)


def from_bot(activity: Activity) -> bool:
    """True for activities the bot itself (or another bot) sent."""
    sender = activity.from_property
    if sender is None:
        return False
    if _str(getattr(sender, "role", None)).lower() == "bot":
        return True
    recipient = activity.recipient
    if recipient is not None and sender.id and sender.id == recipient.id:
        return True
    # Teams gives bots "28:" ids and people "29:" ids.
    return _str(sender.id).startswith("28:")


def read_message(activity: Activity, *, edited: bool = False) -> TeamsMessage:
    """Read a message or messageUpdate activity (its text converted to plain text)."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    conversation = activity.conversation
    conversation_id = _str(getattr(conversation, "id", None))
    conversation_type = _str(getattr(conversation, "conversation_type", None))
    tenant_id = _str(getattr(conversation, "tenant_id", None)) or _str(
        _get(channel_data, "tenant", "id")
    )
    channel_id = _str(_get(channel_data, "channel", "id")) or _str(
        channel_data.get("teamsChannelId")
    )
    if not conversation_type:
        conversation_type = (
            "channel"
            if channel_id
            else ("groupChat" if getattr(conversation, "is_group", False) else "personal")
        )
    parent = ""
    if ";messageid=" in conversation_id:
        parent = conversation_id.split(";messageid=", 1)[1]
    recipient = activity.recipient
    bot_id = _str(getattr(recipient, "id", None))
    bot_name = _str(getattr(recipient, "name", None))
    bot_names = [bot_name] if bot_name else []
    for entity in activity.entities or []:
        props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        if getattr(entity, "type", None) == "mention":
            mentioned = props.get("mentioned") or {}
            if isinstance(mentioned, dict) and mentioned.get("id") == bot_id:
                text = _str(props.get("text"))
                name = text.removeprefix("<at>").removesuffix("</at>") or _str(
                    mentioned.get("name")
                )
                bot_names.append(name)
    source = _str(activity.text)
    if not source.strip():
        source = _html_attachment(activity)
    plain = to_plain(source, bot_mentions=bot_names)
    sender = activity.from_property
    files = tuple(
        _str(a.name)
        for a in activity.attachments or []
        if _str(a.content_type) in FILE_TYPES and _str(a.name)
    )
    sent = activity.timestamp if isinstance(activity.timestamp, datetime) else None
    if sent is not None and sent.tzinfo is None:
        sent = None
    return TeamsMessage(
        activity_id=_str(activity.id),
        edited=edited,
        service_url=_str(activity.service_url),
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        tenant_id=tenant_id,
        team_id=_str(_get(channel_data, "team", "id")) or _str(channel_data.get("teamsTeamId")),
        team_group_id=_str(_get(channel_data, "team", "aadGroupId")),
        channel_id=channel_id,
        channel_name=_str(_get(channel_data, "channel", "name")),
        parent_id=parent or _str(activity.reply_to_id) or _str(activity.id),
        poster_id=_str(getattr(sender, "id", None)),
        poster_aad=_str(getattr(sender, "aad_object_id", None)),
        poster_name=_str(getattr(sender, "name", None)),
        bot_id=bot_id,
        bot_name=bot_name,
        sent_at=sent,
        plain=plain,
        file_names=files,
    )


def _html_attachment(activity: Activity) -> str:
    for a in activity.attachments or []:
        if _str(a.content_type) == "text/html" and isinstance(a.content, str):
            return a.content
    return ""
