"""Reporting a breach, or a false alarm: the one way in for chat buttons, links and the web.

The Slack and Teams adapters build a :class:`BreachReport` from what they know (never
the raw text: the redacted excerpt, the kinds of data found, an HMAC of the text) and
call :func:`report_breach`. It saves the case, its audit event and the notification
to the data protection lead in one transaction, then wakes the sender; the case is
saved even if email or the webhook are down (see ``discretion.escalation``).

To hash a message, adapters use ``message_hash(text, services.store.message_key)``.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from discretion.store import models as m

SOURCES = m.SOURCES
PLATFORMS: tuple[str, ...] = ("slack", "teams", "web", "local")
MAX_ENTITY_KINDS = 50
MAX_RECOGNIZERS = 50


class ReportError(ValueError):
    """The report cannot be saved as given; the message says why, without any patient data."""


@dataclass(frozen=True)
class BreachReport:
    """What is known about a suspected breach when someone reports it."""

    platform: str
    workspace: str
    channel: str
    permalink: str
    poster_id: str
    reporter_id: str
    message_at: datetime | None
    entity_counts: dict[str, int]
    reasons: list[str]
    redacted_excerpt: str
    message_hash: str | None
    what_happened: str
    actions_taken: str
    source: str
    aware_at: datetime | None = None

    def __repr__(self) -> str:  # free text stays out of logs and tracebacks
        return (
            f"BreachReport(platform={self.platform!r}, channel={self.channel!r}, "
            f"source={self.source!r}, kinds={sorted(self.entity_counts)!r})"
        )


@dataclass(frozen=True)
class FalsePositiveReport:
    """Someone says a warning was wrong. ``flagged_text`` only when the poster agreed."""

    platform: str
    channel: str
    reporter_id: str
    entity_types: list[str] = field(default_factory=list)
    recognizers: list[str] = field(default_factory=list)
    config_version: str = ""
    flagged_text: str | None = None

    def __repr__(self) -> str:
        return (
            f"FalsePositiveReport(platform={self.platform!r}, channel={self.channel!r}, "
            f"entity_types={self.entity_types!r}, with_text={self.flagged_text is not None})"
        )


def message_hash(text: str, key: bytes) -> str:
    """The hex HMAC-SHA256 of a message under the install's key (64 characters).

    The text is NFC-normalised first so the same words typed on two platforms match.
    Without the key nobody can check a guessed message against the hash.
    """
    if not key:
        raise ValueError("a secret key is needed to hash a message")
    normal = unicodedata.normalize("NFC", text)
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()


def _text(value: Any, limit: int, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReportError(f"{name} must be text")
    # Control characters (other than line breaks and tabs) have no place in a case file.
    cleaned = "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
    ).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _id(value: Any, name: str) -> str:
    return _text(value, m.MAX_ID, name)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ReportError(f"{name} must be a date and time")
    if value.tzinfo is None:
        raise ReportError(f"{name} must say its time zone")
    return value


def _entity_counts(value: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ReportError("entity_counts must map kinds of data to counts")
    out: dict[str, int] = {}
    for kind, count in list(value.items())[:MAX_ENTITY_KINDS]:
        if not isinstance(kind, str) or not kind or len(kind) > 64:
            raise ReportError("each kind of data must be a short name such as NHS_NUMBER")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ReportError("each count must be a whole number, zero or more")
        out[kind] = min(count, 1_000_000)
    return out


def _strings(values: Sequence[str], limit_items: int, limit_chars: int, name: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ReportError(f"{name} must be a list of text")
    return [_text(v, limit_chars, name) for v in values[:limit_items]]


def _breach_fields(report: BreachReport) -> dict[str, Any]:
    if report.source not in SOURCES:
        raise ReportError(f"source must be one of {', '.join(SOURCES)}")
    platform = _text(report.platform, 16, "platform").lower()
    if not platform:
        raise ReportError("platform is required")
    digest = report.message_hash
    if digest is not None and (
        not isinstance(digest, str)
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise ReportError("message_hash must be the 64-character hex digest from message_hash()")
    return {
        "platform": platform,
        "workspace": _id(report.workspace, "workspace"),
        "channel": _id(report.channel, "channel"),
        "permalink": _text(report.permalink, m.MAX_PERMALINK, "permalink"),
        "poster_id": _id(report.poster_id, "poster_id"),
        "reporter_id": _id(report.reporter_id, "reporter_id"),
        "source": report.source,
        "message_at": _aware(report.message_at, "message_at"),
        "aware_at": _aware(report.aware_at, "aware_at") or m.utcnow(),
        "entity_counts": _entity_counts(report.entity_counts),
        "reasons": _strings(report.reasons, m.MAX_REASONS, m.MAX_REASON, "reasons"),
        "redacted_excerpt": _text(report.redacted_excerpt, m.MAX_EXCERPT, "redacted_excerpt"),
        "message_hash": digest,
        "what_happened": _text(report.what_happened, m.MAX_FREE_TEXT, "what_happened"),
        "reporter_actions": _text(report.actions_taken, m.MAX_FREE_TEXT, "actions_taken"),
    }


async def report_breach(store: Any, report: BreachReport, *, actor: str) -> str:
    """Save a breach report as a new case and queue the lead's notification; returns its reference.

    ``actor`` is who is reporting ("slack:U123", "web:lead@trust"), for the audit trail.
    Free text is trimmed to fixed limits; times must carry a time zone. Raises
    :class:`ReportError` when the report is malformed.
    """
    fields = _breach_fields(report)
    incident = await store.create_incident(fields, actor=_id(actor, "actor") or "unknown")
    wake = getattr(store, "outbox_waiting", None)
    if wake is not None:
        wake.set()  # the sender delivers now rather than at its next tick
    return str(incident.reference)


async def record_false_positive(store: Any, report: FalsePositiveReport) -> int:
    """Save a false-positive report (with the flagged words only if given); returns its id."""
    platform = _text(report.platform, 16, "platform").lower()
    if not platform:
        raise ReportError("platform is required")
    flagged = report.flagged_text
    fields = {
        "platform": platform,
        "channel": _id(report.channel, "channel"),
        "reporter_id": _id(report.reporter_id, "reporter_id"),
        "entity_types": _strings(report.entity_types, MAX_ENTITY_KINDS, 64, "entity_types"),
        "recognizers": _strings(report.recognizers, MAX_RECOGNIZERS, 128, "recognizers"),
        "config_version": _id(report.config_version, "config_version"),
        "flagged_text": None if flagged is None else _text(flagged, m.MAX_FLAGGED, "flagged_text"),
    }
    return int(await store.add_false_positive(fields, actor=fields["reporter_id"] or "unknown"))
