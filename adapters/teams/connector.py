"""Sending to Teams: the private 1:1 warning, and the fallback when we cannot reach the poster.

All outbound calls go through botbuilder's ConnectorClient to the activity's
``serviceUrl``. Teams answers 429 when we send too fast and, now and then, 5xx:
those calls are retried with back-off (honouring Retry-After), and failures are
logged by status code and ids only, never with the card's words.
"""

from __future__ import annotations

import asyncio
import html
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    Mention,
)
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from discretion.adapters.teams.cards import CONTENT_TYPE
from discretion.adapters.teams.references import PersonalConversation, ReferenceStore
from discretion.logs import get_logger

log = get_logger("discretion.adapters.teams.connector")

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# The poster has not installed the app for themselves, or has removed it.
NOT_REACHABLE_STATUSES = frozenset({403, 404})

FALLBACK_TEXT = (
    "{mention} Discretion has a private note for you about a message you just posted. "
    "Please open the Discretion app (Apps, then search for Discretion) so that it can "
    "message you privately."
)


class SendFailed(Exception):
    """A call to the Bot Connector failed for good; ``status`` is the HTTP status, if any."""

    def __init__(self, operation: str, status: int | None):
        super().__init__(f"{operation} failed (status {status})")
        self.operation = operation
        self.status = status


@dataclass(frozen=True, slots=True)
class Poster:
    """Who to warn, as Teams names them."""

    tenant_id: str
    aad_object_id: str
    user_id: str  # the Teams id, "29:..."
    name: str = ""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the flagged message is: for the fallback reply in its thread."""

    service_url: str
    conversation_id: str
    message_id: str
    bot_id: str
    bot_name: str = ""


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(code) if isinstance(code, int) else None


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


class Messenger:
    """Proactive messages from the bot: personal conversations, cards, fallback replies."""

    def __init__(
        self,
        auth: BotFrameworkAuthentication,
        app_id: str,
        references: ReferenceStore,
        *,
        attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
    ):
        self.auth = auth
        self.app_id = app_id
        self.references = references
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._clients: dict[str, Any] = {}
        # One creation at a time per poster: two warnings at once must not open two chats.
        self._creating: dict[tuple[str, str], asyncio.Lock] = {}
        self.retries = 0
        self.sent = 0
        self.failed = 0

    # --- the connector ---------------------------------------------------------------

    async def client(self, service_url: str) -> Any:
        """A ConnectorClient for ``service_url``, made once and kept."""
        found = self._clients.get(service_url)
        if found is not None:
            return found
        claims = ClaimsIdentity(
            {
                AuthenticationConstants.AUDIENCE_CLAIM: self.app_id,
                AuthenticationConstants.APP_ID_CLAIM: self.app_id,
            },
            True,
        )
        factory = self.auth.create_connector_factory(claims)
        client = await factory.create(service_url, None)
        self._clients[service_url] = client
        return client

    async def _call(
        self, operation: str, client: Any, make: Callable[[], Awaitable[T]], **ids: Any
    ) -> T:
        """Run one connector call, retrying on 429, 5xx and dropped connections."""
        for attempt in range(1, self.attempts + 1):
            try:
                await self._fresh_token(client)
                result = await make()
                return result
            except (HttpOperationError, ClientRequestError, requests.RequestException) as exc:
                status = _status(exc)
                retryable = status in RETRY_STATUSES or (
                    status is None and not isinstance(exc, HttpOperationError)
                )
                if not retryable or attempt == self.attempts:
                    log.warning(
                        "teams.connector_failed",
                        operation=operation,
                        status=status,
                        attempt=attempt,
                        error=type(exc).__name__,
                        **ids,
                    )
                    raise SendFailed(operation, status) from None
                delay = _retry_after(exc)
                if delay is None:
                    delay = self.base_delay * (2 ** (attempt - 1)) * (1 + random.random() / 4)
                delay = min(delay, self.max_delay)
                self.retries += 1
                log.info(
                    "teams.connector_retry",
                    operation=operation,
                    status=status,
                    attempt=attempt,
                    delay=round(delay, 3),
                    **ids,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _fresh_token(self, client: Any) -> None:
        """Fetch (or renew) the outbound token in a thread before msrest asks for it.

        msrest signs each request on the event loop; MSAL answers from its cache
        then, instead of making its hourly network call there.
        """
        creds: Any = getattr(getattr(client, "config", None), "credentials", None)
        fetch = getattr(creds, "get_access_token", None)
        if getattr(creds, "microsoft_app_id", None) and fetch is not None:
            await asyncio.to_thread(fetch)

    # --- what we send ------------------------------------------------------------------

    async def send_card(
        self, service_url: str, conversation_id: str, card: dict[str, Any], *, summary: str = ""
    ) -> str | None:
        """Post ``card`` into a conversation; returns the new activity id."""
        client = await self.client(service_url)
        activity = Activity(
            type=ActivityTypes.message,
            summary=summary or None,
            attachments=[Attachment(content_type=CONTENT_TYPE, content=card)],
        )
        response = await self._call(
            "send_card",
            client,
            lambda: client.conversations.send_to_conversation(conversation_id, activity),
        )
        self.sent += 1
        return getattr(response, "id", None)

    async def personal_conversation(
        self,
        poster: Poster,
        origin: Origin,
        *,
        fresh: bool = False,
        known: PersonalConversation | None = None,
    ) -> PersonalConversation:
        """The poster's 1:1 chat with the bot: remembered, or created with tenant and AAD id."""
        if known is not None and not fresh:
            return known
        key = (poster.tenant_id, poster.aad_object_id)
        lock = self._creating.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                if not fresh:
                    known = await self.references.get(*key)
                    if known is not None:
                        return known
                return await self._create_personal(poster, origin)
        finally:
            if not lock.locked():
                self._creating.pop(key, None)

    async def _create_personal(self, poster: Poster, origin: Origin) -> PersonalConversation:
        client = await self.client(origin.service_url)
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=origin.bot_id, name=origin.bot_name or None),
            members=[
                ChannelAccount(
                    id=poster.user_id or poster.aad_object_id, aad_object_id=poster.aad_object_id
                )
            ],
            tenant_id=poster.tenant_id,
            channel_data={"tenant": {"id": poster.tenant_id}},
        )
        created = await self._call(
            "create_conversation",
            client,
            lambda: client.conversations.create_conversation(params),
            tenant=poster.tenant_id,
        )
        ref = PersonalConversation(
            poster.tenant_id, poster.aad_object_id, created.id, origin.service_url, origin.bot_id
        )
        await self.references.put(ref)
        return ref

    async def warn_privately(
        self, poster: Poster, origin: Origin, card: dict[str, Any], *, summary: str
    ) -> str:
        """Send the warning card to the poster's 1:1 chat, else the no-data fallback.

        Returns "personal", "fallback" or "failed" (what happened, for logs and tests).
        """
        if poster.aad_object_id and poster.tenant_id:
            known = await self.references.get(poster.tenant_id, poster.aad_object_id)
            # A remembered conversation can go stale (the app was removed): then ask
            # for a new one once before falling back.
            # With none remembered, look again under the per-poster lock: a warning sent a
            # moment ago may have just created the chat.
            for fresh in (False, True) if known is not None else (False,):
                try:
                    ref = await self.personal_conversation(poster, origin, fresh=fresh, known=known)
                    await self.send_card(
                        ref.service_url, ref.conversation_id, card, summary=summary
                    )
                    return "personal"
                except SendFailed as exc:
                    if exc.status not in NOT_REACHABLE_STATUSES:
                        self.failed += 1
                        return "failed"
                    await self.references.forget(poster.tenant_id, poster.aad_object_id)
        try:
            await self.reply_with_mention(poster, origin)
        except SendFailed:
            self.failed += 1
            return "failed"
        return "fallback"

    async def reply_with_mention(self, poster: Poster, origin: Origin) -> None:
        """Reply in the message's thread, @mentioning only the poster, with no patient data."""
        client = await self.client(origin.service_url)
        name = poster.name or "Hello"
        tag = f"<at>{html.escape(name)}</at>"
        activity = Activity(
            type=ActivityTypes.message,
            text=FALLBACK_TEXT.format(mention=tag),
            entities=[
                Mention(
                    mentioned=ChannelAccount(id=poster.user_id, name=poster.name or None),
                    text=tag,
                    type="mention",
                )
            ],
        )
        await self._call(
            "reply_with_mention",
            client,
            lambda: client.conversations.reply_to_activity(
                origin.conversation_id, origin.message_id, activity
            ),
        )
        self.sent += 1
