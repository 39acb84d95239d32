"""Optional: hide a flagged message from everyone but its sender, through Microsoft Graph.

Graph lets an app mark a Teams message with a ``policyViolation`` (the mechanism
Microsoft's own data-loss prevention uses): the message is then shown only to
its sender, with a policy tip saying why and a link (the one-click report page,
or the policy). Off unless ``DISCRETION_TEAMS_HIDE_MESSAGES=1``; it needs the
bot's Azure app to hold the Graph application permissions
``ChannelMessage.UpdatePolicyViolation.All`` and ``Chat.UpdatePolicyViolation.All``
with admin consent. Quiet channels are never hidden: there, patient details are
expected and the warning is a reminder only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from discretion.adapters.teams.http import Retrying, Unreachable
from discretion.logs import get_logger
from discretion.reasons import describe

log = get_logger("discretion.adapters.teams.graph")

HIDE_ENV = "DISCRETION_TEAMS_HIDE_MESSAGES"
GRAPH_URL_ENV = "GRAPH_API_URL"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
POLICY_TIP = (
    "Hidden by Discretion: this message may identify a patient, so only you can see it. "
    "Post the redacted version Discretion sent you instead."
)

TokenProvider = Callable[[str], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Target:
    """Where the message is, as Graph names it."""

    tenant_id: str
    message_id: str
    team_group_id: str = ""  # the team's Azure AD group id (Graph's team id)
    channel_id: str = ""
    parent_id: str = ""  # the thread's root, for a reply
    chat_id: str = ""  # for group chats

    def path(self) -> str | None:
        """The Graph path of the message, or None if Graph cannot be told where it is."""
        q = lambda s: quote(s, safe="")  # noqa: E731
        if self.chat_id:
            return f"/chats/{q(self.chat_id)}/messages/{q(self.message_id)}"
        if not (self.team_group_id and self.channel_id):
            return None
        base = f"/teams/{q(self.team_group_id)}/channels/{q(self.channel_id)}/messages"
        if self.parent_id and self.parent_id != self.message_id:
            return f"{base}/{q(self.parent_id)}/replies/{q(self.message_id)}"
        return f"{base}/{q(self.message_id)}"


def policy_violation(entity_types: Sequence[str], compliance_url: str) -> dict[str, object]:
    """The ``policyViolation`` body: block for everyone else, let the sender say it is fine."""
    return {
        "policyViolation": {
            "policyTip": {
                "generalText": POLICY_TIP,
                "complianceUrl": compliance_url,
                "matchedConditionDescriptions": [describe(t) for t in entity_types][:10],
            },
            "verdictDetails": "AllowFalsePositiveOverride",
            "dlpAction": "BlockAccess",
        }
    }


class MsalGraphTokens:
    """App-only Graph tokens from MSAL, one client per tenant, fetched in a thread."""

    def __init__(self, client_id: str, client_secret: str, authority_host: str):
        self.client_id = client_id
        self.client_secret = client_secret
        self.authority_host = authority_host.rstrip("/")
        self._apps: dict[str, object] = {}

    async def __call__(self, tenant_id: str) -> str:
        from msal import ConfidentialClientApplication

        app = self._apps.get(tenant_id)
        if app is None:
            app = ConfidentialClientApplication(
                client_id=self.client_id,
                client_credential=self.client_secret,
                authority=f"{self.authority_host}/{tenant_id}",
            )
            self._apps[tenant_id] = app
        result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])  # type: ignore[attr-defined]
        token = result.get("access_token") if isinstance(result, Mapping) else None
        if not token:
            raise PermissionError("no Graph token")  # MSAL's error text is not logged
        return str(token)


class GraphHider:
    """Marks messages as policy violations through Graph; logs by status and ids only."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        attempts: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.http = Retrying(attempts=attempts, base_delay=base_delay, max_delay=max_delay)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def hide(self, target: Target, entity_types: Sequence[str], compliance_url: str) -> str:
        """Hide one message; returns "hidden", "skipped" (cannot say where) or "failed"."""
        path = target.path()
        if path is None:
            log.info("teams.hide_skipped", reason="no team group id", message_id=target.message_id)
            return "skipped"
        try:
            token = await self.tokens(target.tenant_id)
        except Exception as exc:
            log.error("teams.hide_failed", stage="token", error=type(exc).__name__)
            return "failed"
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        status: int | None = None
        try:
            reply = await self.http.request(
                self._session,
                "PATCH",
                self.base_url + path,
                body=policy_violation(entity_types, compliance_url),
                headers={"Authorization": f"Bearer {token}"},
                operation="hide",
                message_id=target.message_id,
            )
            status = reply.status
        except Unreachable:
            pass
        else:
            if reply.ok:
                log.info("teams.hidden", message_id=target.message_id)
                return "hidden"
        log.warning("teams.hide_failed", stage="graph", status=status, message_id=target.message_id)
        return "failed"
