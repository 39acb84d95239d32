"""JSON over HTTP to Microsoft's services, with one retry policy for all of them.

The Bot Connector and Graph both answer 429 when we go too fast (with a
``Retry-After``) and now and then 5xx or a dropped connection. ``Retrying``
sends a request again for those, with jittered exponential back-off, and gives
back the last answer otherwise. It logs by operation, status and ids only:
request bodies carry the poster's redacted words and are never logged.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from discretion.logs import get_logger

log = get_logger("discretion.adapters.teams.http")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Reply:
    """What the service answered: its status, headers and JSON body (None if not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Unreachable(Exception):
    """Every attempt failed before an answer came (connection refused, reset or timed out)."""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; None if absent or a date."""
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass
class Retrying:
    """Sends JSON requests, retrying 408/429/5xx and lost connections; counts its retries."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    retries: int = field(default=0, init=False)

    def _delay(self, attempt: int, headers: Mapping[str, str]) -> float:
        delay = retry_after(headers)
        if delay is None:
            delay = self.base_delay * (2 ** (attempt - 1)) * (1 + random.random() / 4)
        return min(delay, self.max_delay)

    async def request(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        *,
        body: Any,
        headers: Mapping[str, str],
        operation: str,
        **ids: Any,
    ) -> Reply:
        """The service's last answer; raises Unreachable if none ever came."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        sent = {**headers, "Content-Type": "application/json; charset=utf-8"}
        for attempt in range(1, max(1, self.attempts) + 1):
            last = attempt >= self.attempts
            try:
                async with session.request(method, url, data=data, headers=sent) as response:
                    raw = await response.read()
                    reply = Reply(response.status, response.headers, _json(raw))
            except (aiohttp.ClientError, TimeoutError) as exc:
                if last:
                    log.warning(
                        "teams.http_unreachable",
                        operation=operation,
                        attempt=attempt,
                        error=type(exc).__name__,
                        **ids,
                    )
                    raise Unreachable(operation) from None
                delay = self._delay(attempt, {})
                error: str | None = type(exc).__name__
                status: int | None = None
            else:
                if reply.ok or reply.status not in RETRY_STATUSES or last:
                    return reply
                delay = self._delay(attempt, reply.headers)
                error, status = None, reply.status
            self.retries += 1
            log.info(
                "teams.http_retry",
                operation=operation,
                status=status,
                error=error,
                attempt=attempt,
                delay=round(delay, 3),
                **ids,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
