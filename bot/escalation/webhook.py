"""Webhook alerts: a JSON POST signed with HMAC-SHA256, so the receiver knows it came from us.

The receiver checks ``X-Discretion-Signature: sha256=<hex>``, the HMAC of
``"<timestamp>." + body`` under the shared secret, with the timestamp from
``X-Discretion-Timestamp`` (seconds since 1970; reject old ones to stop replays).
``X-Discretion-Delivery`` is the same on every retry, so repeats can be dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

import aiohttp

from discretion.config import WebhookEscalation
from discretion.escalation.alert import Alert

SIGNATURE_HEADER = "X-Discretion-Signature"
TIMESTAMP_HEADER = "X-Discretion-Timestamp"
DELIVERY_HEADER = "X-Discretion-Delivery"
MIN_SECRET_BYTES = 16


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp``: "sha256=<hex>"."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """True when ``signature`` is ours for this body and timestamp (constant-time compare)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookError(RuntimeError):
    """The receiver did not accept the alert; says the HTTP status, never the body."""


class WebhookNotifier:
    """POSTs each alert as JSON to the configured address."""

    name = "webhook"

    def __init__(self, settings: WebhookEscalation, *, secret: bytes | None = None):
        self.settings = settings
        if secret is None:
            secret = os.environ.get(settings.secret_env, "").encode("utf-8")
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"escalation.webhook.url is set but ${settings.secret_env} holds no secret "
                f"of at least {MIN_SECRET_BYTES} characters; alerts are never sent unsigned"
            )
        self.secret = secret

    async def send(self, alert: Alert) -> None:
        """POST one alert; raises unless the receiver answers 2xx."""
        body = json.dumps(alert.as_json(), sort_keys=True).encode("utf-8")
        timestamp = str(int(alert.sent_at.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            DELIVERY_HEADER: alert.delivery_id,
            "User-Agent": "Discretion",
        }
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            # No redirects: an alert goes only where the site said.
            session.post(
                self.settings.url, data=body, headers=headers, allow_redirects=False
            ) as response,
        ):
            if not 200 <= response.status < 300:
                raise WebhookError(f"the webhook answered HTTP {response.status}")
