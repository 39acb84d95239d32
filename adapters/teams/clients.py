"""botbuilder's authentication with its HTTP clients made once, not on every activity.

CloudAdapter builds a new ConnectorClient and a new token client for each
incoming activity; each one costs about 15 ms of CPU on the event loop (msrest
builds its retry table and model serializers from scratch). Clients are
reusable, so they are kept per app id, service URL and audience. Authentication
itself is passed straight through: nothing about the token check changes.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)


def _app_id(claims_identity: ClaimsIdentity | None) -> str:
    claims = getattr(claims_identity, "claims", None) or {}
    return str(claims.get("aud") or claims.get("appid") or claims.get("azp") or "")


class _ReusingFactory(ConnectorFactory):
    def __init__(self, owner: ReusingAuthentication, inner: ConnectorFactory, app_id: str):
        self.owner = owner
        self.inner = inner
        self.app_id = app_id

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self.app_id, service_url, audience or "")
        client = self.owner.connectors.get(key)
        if client is None:
            client = await self.inner.create(service_url, audience)
            self.owner.connectors[key] = client
        return client


class ReusingAuthentication(BotFrameworkAuthentication):
    """Delegates every check to ``inner``; keeps the clients it hands out."""

    def __init__(self, inner: BotFrameworkAuthentication):
        self.inner = inner
        self.connectors: dict[tuple[str, str, str], Any] = {}
        self.token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self.inner.authenticate_request(activity, auth_header)
        if result is not None and result.connector_factory is not None:
            result.connector_factory = _ReusingFactory(
                self, result.connector_factory, _app_id(result.claims_identity)
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusingFactory(
            self, self.inner.create_connector_factory(claims_identity), _app_id(claims_identity)
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        client = self.token_clients.get(key)
        if client is None:
            client = await self.inner.create_user_token_client(claims_identity)
            self.token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self.inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self.inner.authenticate_channel_request(auth_header)
