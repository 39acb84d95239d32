"""The Slack Web API client, and calling it without ever logging a message's words."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from discretion import metrics
from discretion.adapters.slack.settings import SlackSettings
from discretion.logs import get_logger

log = get_logger("discretion.adapters.slack")

# Slack asks us to slow down with 429 + Retry-After; waiting and trying again
# (up to this many times) means no warning is lost to a burst.
RATE_LIMIT_RETRIES = 5
TIMEOUT_SECONDS = 10


def make_client(config: SlackSettings, token: str | None = None) -> AsyncWebClient:
    """An AsyncWebClient for ``config.api_url`` that waits out rate limits."""
    return AsyncWebClient(
        token=token or config.bot_token,
        base_url=config.api_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            # One more try after a 500/503: a brief outage should not cost a warning.
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )


async def call(method: str, request: Awaitable[Any]) -> dict[str, Any] | None:
    """Await one Web API call; on failure log the method, status and Slack's error code only.

    Returns the response data, or None when Slack refused or could not be reached.
    The exception's own text is never logged: it can quote what we sent.
    """
    try:
        response = await request
    except SlackApiError as exc:
        metrics.API_ERRORS.labels("slack", method).inc()
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        log.error(
            "slack.api_error",
            method=method,
            status=exc.response.status_code,
            error=str(data.get("error", "unreadable response"))[:64],
        )
        return None
    except (TimeoutError, SlackClientError, aiohttp.ClientError, ValueError) as exc:
        metrics.API_ERRORS.labels("slack", method).inc()
        log.error("slack.unreachable", method=method, error=type(exc).__name__)
        return None
    body: Any = getattr(response, "data", None)
    return dict(body) if isinstance(body, dict) else {}
