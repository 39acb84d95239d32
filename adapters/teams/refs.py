"""What a card's buttons carry back to us: where the flagged message is, never its words.

Teams returns an Action.Submit's ``data`` (merged with the card's inputs) as the
``value`` of a message activity, so the context travels with the click and any
replica can answer it. The only text it holds is the redacted version, which the
card shows the poster anyway.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

ACTION_KEY = "discretion"
REPORT = "report"
NOT_PATIENT_DATA = "not_patient_data"
ACTIONS = (REPORT, NOT_PATIENT_DATA)
MAX_EXCERPT = 1500
MAX_KINDS = 12
MAX_REASONS = 6
MAX_ID = 256


class BadRef(ValueError):
    """A card action came back without the context we put in it."""


@dataclass(frozen=True, slots=True)
class WarningRef:
    """Where a flagged Teams message is and what kinds of data were found in it."""

    conversation: str
    message_id: str
    poster: str
    tenant: str = ""
    channel: str = ""
    team: str = ""
    parent_id: str = ""
    sent_at: str = ""  # ISO 8601, as Teams gave it
    kinds: dict[str, int] = field(default_factory=dict)
    recognizers: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    excerpt: str = ""  # the redacted version only
    digest: str = ""  # HMAC of the text under the install's key, when the store has one
    config_version: str = ""
    # The warning's opaque id (discretion.warnings_log), so a click can say what followed.
    warning: str = ""

    @property
    def where(self) -> str:
        """The channel (or chat) id, for the incident record and channel policy."""
        return self.channel or self.conversation.split(";", 1)[0]

    @property
    def permalink(self) -> str:
        """A Teams deep link to the message."""
        query = {"tenantId": self.tenant} if self.tenant else {}
        if self.parent_id and self.parent_id != self.message_id:
            query["parentMessageId"] = self.parent_id
        link = f"https://teams.microsoft.com/l/message/{quote(self.where, safe='')}/{quote(self.message_id, safe='')}"
        return f"{link}?{urlencode(query)}" if query else link

    def sent_datetime(self) -> datetime | None:
        """When the message was sent, if Teams said (timezone-aware)."""
        if not self.sent_at:
            return None
        try:
            when = datetime.fromisoformat(self.sent_at.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo is not None else None

    def to_data(self, action: str) -> dict[str, Any]:
        """The Action.Submit ``data`` for ``action``."""
        data = asdict(self)
        # A false alarm is recorded by kinds only: it needs neither the words nor their hash.
        keep_words = action == REPORT
        data["excerpt"] = self.excerpt[:MAX_EXCERPT] if keep_words else ""
        data["digest"] = self.digest if keep_words else ""
        data["recognizers"] = list(self.recognizers[:MAX_KINDS])
        data["reasons"] = list(self.reasons[:MAX_REASONS])
        data["kinds"] = dict(list(self.kinds.items())[:MAX_KINDS])
        return {ACTION_KEY: action, "ref": data}

    @classmethod
    def from_value(cls, value: Any) -> tuple[str, WarningRef, dict[str, Any]]:
        """(action, ref, the card's inputs) from an activity's ``value``; raises BadRef."""
        if not isinstance(value, dict):
            raise BadRef("no card data")
        action = value.get(ACTION_KEY)
        if action not in ACTIONS:
            raise BadRef("unknown action")
        raw = value.get("ref")
        if not isinstance(raw, dict):
            raise BadRef("no message reference")

        def text(name: str, limit: int = MAX_ID, required: bool = False) -> str:
            got = raw.get(name, "")
            if got is None:
                got = ""
            if not isinstance(got, str) or len(got) > limit:
                raise BadRef(f"bad {name}")
            if required and not got:
                raise BadRef(f"missing {name}")
            return got

        kinds = raw.get("kinds") or {}
        if (
            not isinstance(kinds, dict)
            or len(kinds) > MAX_KINDS
            or not all(
                isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool) and n >= 0
                for k, n in kinds.items()
            )
        ):
            raise BadRef("bad kinds")

        def strings(name: str, limit: int) -> tuple[str, ...]:
            got = raw.get(name) or []
            if not isinstance(got, list) or len(got) > limit:
                raise BadRef(f"bad {name}")
            if not all(isinstance(x, str) and len(x) <= 600 for x in got):
                raise BadRef(f"bad {name}")
            return tuple(got)

        ref = cls(
            conversation=text("conversation", 512, required=True),
            message_id=text("message_id", required=True),
            poster=text("poster", required=True),
            tenant=text("tenant"),
            channel=text("channel", 512),
            team=text("team", 512),
            parent_id=text("parent_id"),
            sent_at=text("sent_at", 64),
            kinds={str(k): int(n) for k, n in kinds.items()},
            recognizers=strings("recognizers", MAX_KINDS),
            reasons=strings("reasons", MAX_REASONS),
            excerpt=text("excerpt", MAX_EXCERPT + 10),
            digest=text("digest", 64),
            config_version=text("config_version"),
            warning=text("warning", 64),
        )
        inputs = {k: v for k, v in value.items() if k not in (ACTION_KEY, "ref")}
        return action, ref, inputs
