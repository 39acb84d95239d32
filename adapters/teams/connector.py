"""Sending to Teams: the private 1:1 warning, and the fallback when we cannot reach the poster.

Outbound calls are the Bot Connector's REST API (``POST /v3/conversations``,
``POST /v3/conversations/{id}/activities[/{replyToId}]``) at the activity's
``serviceUrl``, sent as JSON over one aiohttp session, with the token from the
credentials botbuilder chooses for the app (so clouds, scopes and certificate
credentials are botbuilder's decision, not ours). botbuilder's own
ConnectorClient sends through ``requests`` in a small thread pool and walks
every body with msrest's serializer; at a hundred warnings a second that pool,
not the network, decided how long a warning took. Teams answers 429 when we
send too fast and, now and then, 5xx: those calls are retried with back-off
(honouring Retry-After), and failures are logged by status code and ids only,
never with the card's words.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
)

from discretion.adapters.teams.cards import CONTENT_TYPE
from discretion.adapters.teams.http import Reply, Retrying, Unreachable
from discretion.adapters.teams.references import PersonalConversation, ReferenceStore
from discretion.logs import get_logger

log = get_logger("discretion.adapters.teams.connector")

# The poster has not installed the app for themselves, or has removed it.
NOT_REACHABLE_STATUSES = frozenset({403, 404})
# MSAL keeps a token until shortly before it expires (an hour or more); asking it again
# every few minutes costs one thread hop, not a network call.
TOKEN_REUSE_SECONDS = 300.0
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)

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
        connections: int = 64,
    ):
        self.auth = auth
        self.app_id = app_id
        self.references = references
        self.http = Retrying(attempts=attempts, base_delay=base_delay, max_delay=max_delay)
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._credentials: dict[str, Any] = {}
        self._tokens: dict[int, tuple[str, float]] = {}
        self._token_lock = asyncio.Lock()
        # One creation at a time per poster: two warnings at once must not open two chats.
        self._creating: dict[tuple[str, str], asyncio.Lock] = {}
        # Chats just created whose reference is still being written to the store.
        self._unsaved: dict[tuple[str, str], PersonalConversation] = {}
        self.sent = 0
        self.failed = 0

    @property
    def retries(self) -> int:
        """Calls sent again after a 429, a 5xx or a lost connection."""
        return self.http.retries

    async def close(self) -> None:
        """Close the HTTP session (at server shutdown)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- the connector ---------------------------------------------------------------

    async def credentials(self, service_url: str) -> Any:
        """botbuilder's outbound credentials for ``service_url``, chosen once and kept."""
        found = self._credentials.get(service_url)
        if found is not None:
            return found
        claims = ClaimsIdentity(
            {
                AuthenticationConstants.AUDIENCE_CLAIM: self.app_id,
                AuthenticationConstants.APP_ID_CLAIM: self.app_id,
            },
            True,
        )
        # botbuilder's connector factory decides the credentials (app type, scope,
        # login endpoint); its client is kept only for them.
        client = await self.auth.create_connector_factory(claims).create(service_url, None)
        creds = getattr(getattr(client, "config", None), "credentials", None)
        self._credentials[service_url] = creds
        return creds

    async def _authorization(self, service_url: str, *, renew: bool = False) -> dict[str, str]:
        """The Authorization header for ``service_url``; none when the app has no id."""
        creds = await self.credentials(service_url)
        fetch = getattr(creds, "get_access_token", None)
        app_id = getattr(creds, "microsoft_app_id", None)
        if fetch is None or not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
            return {}
        key = id(creds)
        held = self._tokens.get(key)
        if held is None or renew or time.monotonic() - held[1] > TOKEN_REUSE_SECONDS:
            async with self._token_lock:
                held = self._tokens.get(key)
                if held is None or renew or time.monotonic() - held[1] > TOKEN_REUSE_SECONDS:
                    # MSAL may make a network call: never on the event loop.
                    token = await asyncio.to_thread(fetch, renew)
                    held = (str(token), time.monotonic())
                    self._tokens[key] = held
        return {"Authorization": f"Bearer {held[0]}"}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=TIMEOUT,
                connector=aiohttp.TCPConnector(limit=self.connections),
            )
        return self._session

    async def _post(
        self, operation: str, service_url: str, path: str, body: dict[str, Any], **ids: Any
    ) -> Reply:
        """POST ``body`` to the connector; the answer if it was a success, else SendFailed."""
        url = service_url.rstrip("/") + path
        status: int | None = None
        try:
            for renew in (False, True):
                headers = await self._authorization(service_url, renew=renew)
                reply = await self.http.request(
                    self._http(),
                    "POST",
                    url,
                    body=body,
                    headers=headers,
                    operation=operation,
                    **ids,
                )
                status = reply.status
                if reply.ok:
                    return reply
                # A 401 can mean the token we hold was revoked: fetch a new one, once.
                if status != 401 or not headers:
                    break
        except Unreachable:
            status = None
        except Exception as exc:  # a credentials failure: say what kind, never why in words
            log.warning(
                "teams.connector_failed", operation=operation, error=type(exc).__name__, **ids
            )
            raise SendFailed(operation, None) from None
        log.warning("teams.connector_failed", operation=operation, status=status, **ids)
        raise SendFailed(operation, status)

    # --- what we send ------------------------------------------------------------------

    async def send_card(
        self, service_url: str, conversation_id: str, card: dict[str, Any], *, summary: str = ""
    ) -> str | None:
        """Post ``card`` into a conversation; returns the new activity id."""
        activity: dict[str, Any] = {
            "type": "message",
            "attachments": [{"contentType": CONTENT_TYPE, "content": card}],
        }
        if summary:
            activity["summary"] = summary
        reply = await self._post(
            "send_card",
            service_url,
            f"/v3/conversations/{_q(conversation_id)}/activities",
            activity,
        )
        self.sent += 1
        return _field(reply, "id")

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
                    known = self._unsaved.get(key) or await self._remembered(key)
                    if known is not None:
                        return known
                return await self._create_personal(poster, origin)
        finally:
            if not lock.locked():
                self._creating.pop(key, None)

    async def _create_personal(self, poster: Poster, origin: Origin) -> PersonalConversation:
        bot: dict[str, Any] = {"id": origin.bot_id}
        if origin.bot_name:
            bot["name"] = origin.bot_name
        params = {
            "isGroup": False,
            "bot": bot,
            "members": [
                {"id": poster.user_id or poster.aad_object_id, "aadObjectId": poster.aad_object_id}
            ],
            "tenantID": poster.tenant_id,  # botbuilder's spelling of the field
            "channelData": {"tenant": {"id": poster.tenant_id}},
        }
        reply = await self._post(
            "create_conversation",
            origin.service_url,
            "/v3/conversations",
            params,
            tenant=poster.tenant_id,
        )
        conversation_id = _field(reply, "id")
        if not conversation_id:
            log.warning(
                "teams.connector_failed", operation="create_conversation", status=reply.status
            )
            raise SendFailed("create_conversation", reply.status)
        ref = PersonalConversation(
            poster.tenant_id,
            poster.aad_object_id,
            conversation_id,
            origin.service_url,
            origin.bot_id,
        )
        # Saved once the card is on its way (see warn_privately): the poster should not wait
        # for a database write. Until then the chat is known here, so a second warning for
        # the same poster uses it rather than opening another.
        self._unsaved[(ref.tenant_id, ref.user_id)] = ref
        return ref

    async def _remembered(self, key: tuple[str, str]) -> PersonalConversation | None:
        """The stored 1:1 chat, or None when the store cannot say (its database is away).

        Teams gives back the existing chat when asked to create it again, so an outage
        costs one call; failing here would drop the queued warning for good.
        """
        try:
            return await self.references.get(*key)
        except Exception as exc:
            log.error("teams.reference_not_read", error=type(exc).__name__)
            return None

    async def _forget(self, key: tuple[str, str]) -> None:
        try:
            await self.references.forget(*key)
        except Exception as exc:  # the stale chat is tried once more next time: harmless
            log.error("teams.reference_not_forgotten", error=type(exc).__name__)

    async def _save_created(self, key: tuple[str, str]) -> None:
        ref = self._unsaved.get(key)
        if ref is None:
            return
        try:
            await self.references.put(ref)
        except Exception as exc:  # unsaved, the next warning asks Teams for the chat again
            log.error("teams.reference_not_saved", error=type(exc).__name__)
        finally:
            if self._unsaved.get(key) is ref:
                del self._unsaved[key]

    async def warn_privately(
        self,
        poster: Poster,
        origin: Origin,
        card: dict[str, Any],
        *,
        summary: str,
        on_sent: Callable[[], Awaitable[None]] | None = None,
    ) -> str:
        """Send the warning card to the poster's 1:1 chat, else the no-data fallback.

        ``on_sent`` runs the moment Teams has taken the card (or the fallback), before any
        bookkeeping, so the shared queue can record it with the least time in between.
        Returns "personal", "fallback" or "failed" (what happened, for logs and tests).
        """
        if poster.aad_object_id and poster.tenant_id:
            key = (poster.tenant_id, poster.aad_object_id)
            known = self._unsaved.get(key) or await self._remembered(key)
            # A remembered conversation can go stale (the app was removed): then ask
            # for a new one once before falling back.
            # With none remembered, look again under the per-poster lock: a warning sent a
            # moment ago may have just created the chat.
            for fresh in (False, True) if known is not None else (False,):
                try:
                    ref = await self.personal_conversation(poster, origin, fresh=fresh, known=known)
                    try:
                        await self.send_card(
                            ref.service_url, ref.conversation_id, card, summary=summary
                        )
                        if on_sent is not None:
                            await on_sent()
                    finally:
                        await self._save_created(key)
                    return "personal"
                except SendFailed as exc:
                    if exc.status not in NOT_REACHABLE_STATUSES:
                        self.failed += 1
                        return "failed"
                    self._unsaved.pop(key, None)
                    await self._forget(key)
        try:
            await self.reply_with_mention(poster, origin)
        except SendFailed:
            self.failed += 1
            return "failed"
        if on_sent is not None:
            await on_sent()
        return "fallback"

    async def reply_with_mention(self, poster: Poster, origin: Origin) -> None:
        """Reply in the message's thread, @mentioning only the poster, with no patient data."""
        name = poster.name or "Hello"
        tag = f"<at>{html.escape(name)}</at>"
        mentioned: dict[str, Any] = {"id": poster.user_id}
        if poster.name:
            mentioned["name"] = poster.name
        activity = {
            "type": "message",
            "text": FALLBACK_TEXT.format(mention=tag),
            "entities": [{"type": "mention", "mentioned": mentioned, "text": tag}],
        }
        path = f"/v3/conversations/{_q(origin.conversation_id)}/activities/{_q(origin.message_id)}"
        await self._post("reply_with_mention", origin.service_url, path, activity)
        self.sent += 1


def _q(segment: str) -> str:
    """One path segment, quoted whole as botbuilder does: Teams ids hold ':', ';' and '@'."""
    return quote(segment, safe="")


def _field(reply: Reply, name: str) -> str | None:
    value = reply.body.get(name) if isinstance(reply.body, dict) else None
    return str(value) if value else None
