"""The one platform-neutral message type that adapters hand to the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message as the core sees it, whatever platform it came from.

    ``text`` is the only field that may hold patient data; it is never logged,
    stored or echoed by the core except through the redacted version.
    """

    text: str
    channel: str | None = None
    author: str | None = None
    thread: str | None = None
    platform: str = "local"
    message_id: str | None = None
    sent_at: datetime | None = None
    # Names of attached files, channel names and the like: scanned, never shown.
    extra_texts: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:  # never let a stray repr() put the text in a log
        return (
            f"Message(platform={self.platform!r}, channel={self.channel!r}, "
            f"author={self.author!r}, thread={self.thread!r}, chars={len(self.text)})"
        )
