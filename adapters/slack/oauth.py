"""Staff authorise Discretion to edit their own messages: bolt's OAuth flow, tokens in the database.

Only the user scope ``chat:write`` is asked for, so that *Replace with redacted
version* and *Delete my message* can act as the poster (Slack lets nobody else
edit a person's message). The bot itself keeps using SLACK_BOT_TOKEN. Tokens are
kept in the same database as incidents, in the ``slack_user_tokens`` table.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from discretion.adapters.slack.settings import SlackSettings
from discretion.logs import get_logger

log = get_logger("discretion.adapters.slack")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
USER_SCOPES = ("chat:write",)
STATE_SECONDS = 600

metadata = sa.MetaData()
user_tokens = sa.Table(
    "slack_user_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("enterprise_id", sa.String(64), nullable=False, default=""),
    sa.Column("team_id", sa.String(64), nullable=False, default=""),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("user_token", sa.String(255), nullable=False),
    sa.Column("user_scopes", sa.String(255), nullable=False, default=""),
    sa.Column("installed_at", sa.Float, nullable=False),
    sa.UniqueConstraint("enterprise_id", "team_id", "user_id", name="uq_slack_user_tokens_user"),
)


class UserTokenStore(AsyncInstallationStore):
    """Installations (users' own tokens) in the database; bot tokens are not kept here."""

    def __init__(self, services: Any):
        self.services = services

    @property
    def logger(self) -> Any:
        import logging

        return logging.getLogger(__name__)

    def _engine(self) -> Any:
        store = self.services.store
        if store is None:
            raise RuntimeError("the database store is not mounted")
        return store.engine

    async def create_table(self) -> None:
        """Create the table if this database does not have it yet."""
        async with self._engine().begin() as conn:
            await conn.run_sync(metadata.create_all, checkfirst=True)

    async def async_save(self, installation: Installation) -> None:
        if not installation.user_token:
            return
        key = _key(installation.enterprise_id, installation.team_id, installation.user_id)
        async with self._engine().begin() as conn:
            await conn.execute(sa.delete(user_tokens).where(*_match(*key)))
            await conn.execute(
                sa.insert(user_tokens).values(
                    enterprise_id=key[0],
                    team_id=key[1],
                    user_id=key[2],
                    user_token=installation.user_token,
                    user_scopes=",".join(installation.user_scopes or []),
                    installed_at=time.time(),
                )
            )

    async def async_save_bot(self, bot: Bot) -> None:
        return None

    async def async_find_bot(self, **_: Any) -> Bot | None:
        return None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        if not user_id:
            return None
        async with self._engine().connect() as conn:
            row = (
                await conn.execute(
                    sa.select(user_tokens).where(*_match(*_key(enterprise_id, team_id, user_id)))
                )
            ).first()
            if row is None and enterprise_id is None:
                # Button clicks do not always say which Enterprise Grid org they came from.
                row = (
                    await conn.execute(
                        sa.select(user_tokens).where(
                            user_tokens.c.team_id == (team_id or ""),
                            user_tokens.c.user_id == user_id,
                        )
                    )
                ).first()
        if row is None:
            return None
        return Installation(
            enterprise_id=row.enterprise_id or None,
            team_id=row.team_id or None,
            user_id=row.user_id,
            user_token=row.user_token,
            user_scopes=row.user_scopes,
            installed_at=row.installed_at,
        )

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        if not user_id:
            return
        async with self._engine().begin() as conn:
            await conn.execute(
                sa.delete(user_tokens).where(*_match(*_key(enterprise_id, team_id, user_id)))
            )


def _key(
    enterprise_id: str | None, team_id: str | None, user_id: str | None
) -> tuple[str, str, str]:
    return enterprise_id or "", team_id or "", user_id or ""


def _match(enterprise_id: str, team_id: str, user_id: str) -> tuple[Any, ...]:
    return (
        user_tokens.c.enterprise_id == enterprise_id,
        user_tokens.c.team_id == team_id,
        user_tokens.c.user_id == user_id,
    )


class SignedStateStore(AsyncOAuthStateStore):
    """OAuth ``state`` values signed with the client secret, expiring, used once."""

    def __init__(self, secret: str, expiration_seconds: int = STATE_SECONDS):
        self._signer = URLSafeTimedSerializer(secret, salt="discretion.slack.oauth-state")
        self.expiration_seconds = expiration_seconds
        self._used: dict[str, float] = {}

    @property
    def logger(self) -> Any:
        import logging

        return logging.getLogger(__name__)

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return self._signer.dumps(secrets.token_urlsafe(16))

    async def async_consume(self, state: str) -> bool:
        try:
            nonce = self._signer.loads(state, max_age=self.expiration_seconds)
        except (SignatureExpired, BadSignature):
            return False
        now = time.monotonic()
        self._used = {k: t for k, t in self._used.items() if now - t < self.expiration_seconds}
        if nonce in self._used:
            return False
        self._used[nonce] = now
        return True


class UserTokenFlow:
    """The install and redirect pages, and the store they fill."""

    install_path = INSTALL_PATH

    def __init__(self, config: SlackSettings, services: Any):
        self.config = config
        self.installations = UserTokenStore(services)
        self.flow: AsyncOAuthFlow | None = None
        self.ready = False

    @property
    def install_url(self) -> str | None:
        """Where staff go to authorise Discretion (absolute when the public address is known)."""
        return f"{self.config.public_url}{INSTALL_PATH}" if self.config.public_url else None

    def attach(self, app: web.Application, adapter: Any) -> None:
        """Add GET /slack/install and GET /slack/oauth_redirect."""
        redirect = f"{self.config.public_url}{REDIRECT_PATH}" if self.config.public_url else None
        settings = AsyncOAuthSettings(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scopes=[],
            user_scopes=list(USER_SCOPES),
            redirect_uri=redirect,
            install_path=INSTALL_PATH,
            # Straight on to Slack's consent screen: no extra "Add to Slack" page.
            install_page_rendering_enabled=False,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=self.installations,
            state_store=SignedStateStore(self.config.client_secret),
        )
        self.flow = AsyncOAuthFlow(client=adapter.client, settings=settings)
        app.router.add_get(INSTALL_PATH, self._install)
        app.router.add_get(REDIRECT_PATH, self._callback)

    async def ensure_ready(self) -> bool:
        """True once the token table exists (made on first use: the database may mount later)."""
        if self.ready:
            return True
        if self.installations.services.store is None:
            return False
        try:
            await self.installations.create_table()
        except Exception as exc:
            log.error("slack.user_tokens_unavailable", error=type(exc).__name__)
            return False
        self.ready = True
        return True

    async def _install(self, request: web.Request) -> web.StreamResponse:
        if self.flow is None or not await self.ensure_ready():
            raise web.HTTPServiceUnavailable(text="Authorising Discretion is not available yet.")
        response = await self.flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        if self.flow is None or not await self.ensure_ready():
            raise web.HTTPServiceUnavailable(text="Authorising Discretion is not available yet.")
        response = await self.flow.handle_callback(await to_bolt_request(request))
        log.info(
            "slack.user_authorised" if response.status == 200 else "slack.oauth_failed",
            status=response.status,
            at=datetime.now(UTC).isoformat(),
        )
        return await to_aiohttp_response(response)
