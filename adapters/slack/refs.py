"""What a button or modal remembers about the flagged message: ids and kinds, never text.

Slack hands a button's ``value`` (at most 2,000 characters) and a modal's
``private_metadata`` (3,000) back to us when they are used, so the context
travels with the click instead of sitting in our memory; any replica can answer.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_KINDS = 12
MAX_REASONS = 3
MAX_REASON_CHARS = 240
# The key in ``MessageRef.extra`` for the warning's id (see discretion.warnings_log).
WARNING_KEY = "warning"


class BadRef(ValueError):
    """A button or modal came back without the context we put in it."""


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where the flagged message is and what kinds of data were found in it."""

    channel: str
    ts: str
    user: str = ""
    thread_ts: str | None = None
    team_id: str | None = None
    kinds: tuple[str, ...] = ()
    recognizers: tuple[str, ...] = ()
    # The plain-English reasons (no message text), shortened; for the incident record.
    reasons: tuple[str, ...] = ()
    # The redacted version only (never the original), cut short to fit; for the incident record.
    excerpt: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def dumps(self, limit: int = 2000) -> str:
        """Compact JSON of this reference, the excerpt shortened so it fits in ``limit``."""
        data = asdict(self)
        data["kinds"] = list(self.kinds[:MAX_KINDS])
        data["recognizers"] = list(self.recognizers[:MAX_KINDS])
        data["reasons"] = [r[:MAX_REASON_CHARS] for r in self.reasons[:MAX_REASONS]]
        out = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        while len(out) > limit and data["excerpt"]:
            overshoot = len(out) - limit
            data["excerpt"] = data["excerpt"][: max(0, len(data["excerpt"]) - overshoot - 8)]
            out = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if len(out) > limit:
            raise BadRef("message reference does not fit")
        return out

    def without_excerpt(self) -> MessageRef:
        """The same reference minus excerpt and reasons (for buttons that do not need them)."""
        return MessageRef(
            self.channel,
            self.ts,
            self.user,
            self.thread_ts,
            self.team_id,
            self.kinds,
            self.recognizers,
            (),
            "",
            dict(self.extra),
        )

    @classmethod
    def loads(cls, raw: Any) -> MessageRef:
        """Read a reference back; raises :class:`BadRef` if it is not one of ours."""
        try:
            data = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise BadRef("not a message reference")
        channel, ts = data.get("channel"), data.get("ts")
        if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
            raise BadRef("message reference lacks channel or ts")

        def strs(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        def opt(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        extra = data.get("extra") or {}
        return cls(
            channel=channel,
            ts=ts,
            user=opt("user") or "",
            thread_ts=opt("thread_ts"),
            team_id=opt("team_id"),
            kinds=strs("kinds"),
            recognizers=strs("recognizers"),
            reasons=strs("reasons"),
            excerpt=opt("excerpt") or "",
            extra={str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {},
        )
