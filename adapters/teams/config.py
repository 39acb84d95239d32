"""Teams settings, read from the environment under botbuilder's own names.

``MICROSOFT_APP_ID``, ``MICROSOFT_APP_PASSWORD``, ``MICROSOFT_APP_TENANT_ID`` and
``MICROSOFT_APP_TYPE`` come from the Azure Bot registration.
``TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL`` and ``TO_BOT_FROM_CHANNEL_TOKEN_ISSUER``
say whose signatures to trust (public cloud by default; government clouds differ).
Without an app id the Teams route is not mounted, unless
``DISCRETION_TEAMS_LOCAL_DEV=1`` says this is a developer's machine talking to the
Bot Framework Emulator: then requests are not authenticated at all.
``DISCRETION_TEAMS_HIDE_MESSAGES=1`` also hides flagged messages through Microsoft
Graph (``GRAPH_API_URL``, public cloud by default).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from botframework.connector.auth import AuthenticationConstants

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
LOCAL_DEV_ENV = "DISCRETION_TEAMS_LOCAL_DEV"
HIDE_ENV = "DISCRETION_TEAMS_HIDE_MESSAGES"
# https, or plain http only to this machine (the fakes the tests run).
_SAFE_URL = ("https://", "http://127.0.0.1", "http://localhost")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class TeamsConfigError(ValueError):
    """A Teams setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class TeamsConfig:
    """What the Teams adapter needs to know about its Azure Bot registration."""

    app_id: str = ""
    app_password: str = ""
    tenant_id: str = ""
    app_type: str = "MultiTenant"
    openid_metadata_url: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    token_issuer: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
    login_url: str = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
    oauth_scope: str = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    local_dev: bool = False
    # Optional: hide flagged messages from everyone but the sender (discretion.adapters.teams.graph).
    hide_messages: bool = False
    graph_url: str = "https://graph.microsoft.com/v1.0"

    @property
    def auth_disabled(self) -> bool:
        """True only on a developer's machine with no app id (the Emulator convention)."""
        return not self.app_id and self.local_dev

    @property
    def configured(self) -> bool:
        """Whether the Teams route should be mounted at all."""
        return bool(self.app_id) or self.local_dev

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TeamsConfig:
        """Read and check the settings; raises :class:`TeamsConfigError` naming the variable."""
        env = os.environ if env is None else env
        get = lambda name: (env.get(name) or "").strip()  # noqa: E731
        local_dev = get(LOCAL_DEV_ENV).lower() in ("1", "true", "yes")
        app_type = get("MICROSOFT_APP_TYPE") or "MultiTenant"
        match = {t.lower(): t for t in APP_TYPES}.get(app_type.lower())
        if match is None:
            raise TeamsConfigError(
                f"MICROSOFT_APP_TYPE: {app_type!r} is not one of {', '.join(APP_TYPES)}"
            )
        config = cls(
            app_id=get("MICROSOFT_APP_ID"),
            app_password=get("MICROSOFT_APP_PASSWORD"),
            tenant_id=get("MICROSOFT_APP_TENANT_ID"),
            app_type=match,
            openid_metadata_url=get("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")
            or cls.openid_metadata_url,
            token_issuer=get("TO_BOT_FROM_CHANNEL_TOKEN_ISSUER") or cls.token_issuer,
            login_url=get("TO_CHANNEL_FROM_BOT_LOGIN_URL") or cls.login_url,
            oauth_scope=get("TO_CHANNEL_FROM_BOT_OAUTH_SCOPE") or cls.oauth_scope,
            local_dev=local_dev,
            hide_messages=get(HIDE_ENV).lower() in ("1", "true", "yes"),
            graph_url=get("GRAPH_API_URL") or cls.graph_url,
        )
        config.check()
        return config

    def check(self) -> None:
        """Raise :class:`TeamsConfigError` if the settings cannot work together."""
        if self.app_id and not _GUID.match(self.app_id):
            raise TeamsConfigError("MICROSOFT_APP_ID: expected the bot's GUID")
        if self.app_id and self.app_type != "UserAssignedMSI" and not self.app_password:
            raise TeamsConfigError("MICROSOFT_APP_PASSWORD: required with MICROSOFT_APP_ID")
        if self.app_type in ("SingleTenant", "UserAssignedMSI") and not self.tenant_id:
            raise TeamsConfigError(f"MICROSOFT_APP_TENANT_ID: required for {self.app_type}")
        if self.hide_messages and not (self.app_id and self.app_password):
            raise TeamsConfigError(
                f"{HIDE_ENV}: needs MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD for Graph"
            )
        if not self.graph_url.startswith(_SAFE_URL):
            raise TeamsConfigError("GRAPH_API_URL: must be https")
        if not self.openid_metadata_url.startswith(
            ("https://", "http://127.0.0.1", "http://localhost")
        ):
            raise TeamsConfigError("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: must be https")

    def botbuilder_configuration(self) -> object:
        """The attribute-style object botbuilder's ConfigurationBotFrameworkAuthentication reads."""

        class _Conf:
            APP_ID = self.app_id or None
            APP_PASSWORD = self.app_password or None
            APP_TENANTID = self.tenant_id or None
            APP_TYPE = self.app_type
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = self.openid_metadata_url
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = self.token_issuer
            TO_CHANNEL_FROM_BOT_LOGIN_URL = self.login_url
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = self.oauth_scope
            VALIDATE_AUTHORITY = True

        return _Conf()
