"""One-click report links: signed, expiring, single-use addresses for the private warning.

The token carries where the message is (platform, workspace, channel, permalink,
message id and time), who posted it, and the kinds of data found: never any of
the message's words. It is signed with the server's key (itsdangerous), so it
cannot be forged or edited, and it is readable by whoever holds the link, which
is why it holds identifiers only. It is used up when the form is submitted, not
when it is opened, because chat apps open links to preview them.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from itsdangerous import BadData, URLSafeSerializer

from discretion.web.settings import WebSettings, load_web_settings

SALT = "discretion.report-link.v1"
FORMAT_VERSION = 1
SETTINGS_KEY = "web.settings"


class LinkError(Exception):
    """A report link that cannot be used; ``reason`` is forged, expired, malformed or used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaims:
    """What a valid report link says about the message it came from."""

    jti: str
    expires_at: datetime
    platform: str
    channel: str | None
    permalink: str | None
    poster_id: str | None
    entity_types: tuple[str, ...]
    workspace: str | None = None
    message_id: str | None = None
    message_time: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)


def web_settings(services: Any) -> WebSettings:
    """The dashboard settings, loaded once per server and kept on ``services``."""
    found = services.extras.get(SETTINGS_KEY)
    if found is None:
        found = load_web_settings()
        services.extras[SETTINGS_KEY] = found
    return found


# Set in services.extras by the dashboard's mount once the /report/ pages are served.
REPORT_PAGES_KEY = "report_pages"


def report_link(services: Any, **details: Any) -> str | None:
    """:func:`make_report_link` when this server serves the report pages, else None.

    Adapters call this for every warning, whichever was mounted first.
    """
    if not services.extras.get(REPORT_PAGES_KEY):
        return None
    return make_report_link(services, **details)


def _serializer(settings: WebSettings) -> URLSafeSerializer:
    return _serializer_for(settings.secret_key)


@functools.lru_cache(maxsize=8)
def _serializer_for(secret_key: Any) -> URLSafeSerializer:
    # Made once per key: one is needed for every warning sent.
    return URLSafeSerializer(secret_key, salt=SALT)


def make_report_token(
    settings: WebSettings,
    *,
    platform: str,
    channel: str | None,
    permalink: str | None,
    poster_id: str | None,
    entity_types: Sequence[str],
    workspace: str | None = None,
    message_id: str | None = None,
    message_time: datetime | None = None,
    counts: dict[str, int] | None = None,
    now: datetime | None = None,
) -> str:
    """A signed token for one report link (see :func:`make_report_link`)."""
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(hours=settings.link_hours)
    payload: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "jti": secrets.token_urlsafe(16),
        "exp": int(expires.timestamp()),
        "p": platform,
        "w": workspace,
        "c": channel,
        "l": permalink,
        "u": poster_id,
        "m": message_id,
        "t": int(message_time.timestamp()) if message_time else None,
        "e": sorted({str(e) for e in entity_types}),
        "n": {str(k): int(v) for k, v in (counts or {}).items()},
    }
    return _serializer(settings).dumps(payload)


def make_report_link(
    services: Any,
    *,
    platform: str,
    channel: str | None,
    permalink: str | None,
    poster_id: str | None,
    entity_types: Sequence[str],
    workspace: str | None = None,
    message_id: str | None = None,
    message_time: datetime | None = None,
    counts: dict[str, int] | None = None,
    now: datetime | None = None,
) -> str:
    """The full address of a one-click report form for one flagged message.

    Put it in the private warning. Pass identifiers only (never text):
    ``platform`` ("slack" or "teams"), ``channel`` and ``workspace`` ids, the
    message ``permalink``, the ``poster_id``, the ``entity_types`` found (and
    optionally their ``counts``), the platform ``message_id`` and ``message_time``.
    The link expires after DISCRETION_REPORT_LINK_HOURS (default 72) and can be
    submitted once; its host is DISCRETION_PUBLIC_URL.
    """
    settings = web_settings(services)
    token = make_report_token(
        settings,
        platform=platform,
        channel=channel,
        permalink=permalink,
        poster_id=poster_id,
        entity_types=entity_types,
        workspace=workspace,
        message_id=message_id,
        message_time=message_time,
        counts=counts,
        now=now,
    )
    return f"{settings.public_url}/report/{quote(token, safe='')}"


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LinkError("malformed")
    return value


def read_report_token(settings: WebSettings, token: str, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired token; raises LinkError otherwise.

    This checks signature and expiry only; whether it was already used is a
    question for the database (see discretion.web.queries.claim_link).
    """
    if not token or len(token) > 4096:
        raise LinkError("malformed")
    try:
        data = _serializer(settings).loads(token)
    except BadData:
        raise LinkError("forged") from None
    if not isinstance(data, dict) or data.get("v") != FORMAT_VERSION:
        raise LinkError("malformed")
    try:
        expires = datetime.fromtimestamp(int(data["exp"]), UTC)
        jti = data["jti"]
        platform = data["p"]
        types = data.get("e") or []
        counts = data.get("n") or {}
        if not isinstance(jti, str) or not isinstance(platform, str):
            raise LinkError("malformed")
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise LinkError("malformed")
        if not isinstance(counts, dict):
            raise LinkError("malformed")
        sent = data.get("t")
        claims = LinkClaims(
            jti=jti,
            expires_at=expires,
            platform=platform,
            workspace=_opt_str(data.get("w")),
            channel=_opt_str(data.get("c")),
            permalink=_opt_str(data.get("l")),
            poster_id=_opt_str(data.get("u")),
            message_id=_opt_str(data.get("m")),
            message_time=datetime.fromtimestamp(int(sent), UTC) if sent is not None else None,
            entity_types=tuple(types),
            counts={str(k): int(v) for k, v in counts.items()},
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        raise LinkError("malformed") from None
    if now >= claims.expires_at:
        raise LinkError("expired")
    return claims
