"""Who may post to /api/messages: botbuilder's JWT check, made safe to run in a server.

botbuilder 4.17.1 checks the Bot Framework's signed tokens, but three things
about it need care, and this module holds them:

* it fetches the OpenID metadata and signing keys with blocking ``requests``
  calls inside the event loop. :class:`OpenIdKeys` replaces its key cache with
  one that fetches in a worker thread, shares one fetch between requests, keeps
  the old keys if a refresh fails, and is warmed at start-up;
* many bad tokens surface as stray exceptions (a 500), not as a refusal.
  :func:`authenticate` turns every failure into :class:`Unauthorized` (a 401);
* every outbound call built a fresh MSAL client and fetched a token on the event
  loop. :class:`WarmCredentialsFactory` keeps one per app and fetches in a thread.

Nothing here loosens the check: a token must still be signed by a key from the
configured metadata, name the configured issuer and our app id as audience, be
in date, and carry the serviceUrl it came with.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ServiceClientCredentialsFactory,
)
from botframework.connector.auth.jwt_token_extractor import (
    JwtTokenExtractor,
    _OpenIdConfig,
    _OpenIdMetadata,
)
from jwt.algorithms import RSAAlgorithm

from discretion.logs import get_logger

log = get_logger("discretion.adapters.teams.auth")

FETCH_TIMEOUT = 10.0
# Tokens are signed with these only; "none" and HMAC are never accepted.
ALLOWED_ALGORITHMS = frozenset(AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS)
MAX_HEADER = 8192


class Unauthorized(Exception):
    """The request did not prove it came from the Bot Framework; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OpenIdKeys(_OpenIdMetadata):
    """botbuilder's key cache, fetching off the event loop and never stalling it.

    Keys older than a day are refreshed in the background while the ones held
    keep working; a token naming a key we do not hold (Microsoft rolls keys)
    triggers at most one fetch an hour. Concurrent requests share one fetch.
    """

    MAX_AGE = timedelta(days=1)
    UNKNOWN_KEY_RETRY = timedelta(hours=1)
    NO_KEYS_RETRY = timedelta(seconds=30)

    def __init__(self, url: str, *, timeout: float = FETCH_TIMEOUT):
        super().__init__(url)
        self.keys: list[dict[str, Any]] = []
        self.last_updated: datetime = datetime.min
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[bool] | None = None
        self.last_attempt = datetime.min
        self.fetches = 0
        self.failures = 0

    async def get(self, key_id: str) -> _OpenIdConfig | None:
        now = datetime.now()
        if not self.keys:
            if self.last_attempt < now - self.NO_KEYS_RETRY:
                await self.refresh()
        elif (
            self.last_updated < now - self.MAX_AGE
            and self._background is None
            and self.last_attempt < now - self.UNKNOWN_KEY_RETRY
        ):
            # Stale but usable: fetch new keys in the background, answer with the old ones.
            self._background = asyncio.create_task(self._refresh_in_background())
        key = self._find(key_id)
        if key is None and self.keys and self.last_attempt < now - self.UNKNOWN_KEY_RETRY:
            await self.refresh()
            key = self._find(key_id)
        return key

    async def _refresh_in_background(self) -> bool:
        try:
            return await self.refresh()
        finally:
            self._background = None

    async def refresh(self) -> bool:
        """Fetch the metadata and keys in a thread; True if the keys are now fresh."""
        started = datetime.now()
        async with self._lock:
            if self.last_attempt >= started:  # another request fetched while we waited
                return self.last_updated >= started
            self.last_attempt = datetime.now()
            try:
                keys = await asyncio.to_thread(self._fetch)
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                # Keep the keys we had: a flaky metadata endpoint must not lock Teams out.
                self.failures += 1
                log.error("openid keys not fetched", error=type(exc).__name__, held=len(self.keys))
                return False
            self.keys = keys
            self.last_updated = datetime.now()
            self.fetches += 1
            log.info("openid keys fetched", keys=len(keys))
            return True

    # botbuilder's own refresh is blocking; never let it run.
    async def _refresh(self) -> None:
        await self.refresh()

    def _fetch(self) -> list[dict[str, Any]]:
        response = requests.get(self.url, timeout=self.timeout)
        response.raise_for_status()
        jwks_uri = response.json()["jwks_uri"]
        if not isinstance(jwks_uri, str):
            raise ValueError("jwks_uri is not a string")
        response = requests.get(jwks_uri, timeout=self.timeout)
        response.raise_for_status()
        keys = response.json()["keys"]
        if not isinstance(keys, list):
            raise ValueError("keys is not a list")
        return [k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)]

    def _find(self, key_id: str) -> _OpenIdConfig | None:
        # botbuilder's version raises IndexError for an unknown key id.
        for key in self.keys:
            if key.get("kid") == key_id:
                try:
                    public_key = RSAAlgorithm.from_jwk(json.dumps(key))
                except (ValueError, TypeError, KeyError, jwt.InvalidKeyError):
                    return None
                return _OpenIdConfig(public_key, key.get("endorsements", []))
        return None


def install_keys(metadata_url: str) -> OpenIdKeys:
    """Put a fresh non-blocking key cache in botbuilder's place for ``metadata_url``."""
    keys = OpenIdKeys(metadata_url)
    JwtTokenExtractor.metadataCache[metadata_url] = keys
    return keys


def precheck(header: str, issuer: str) -> None:
    """Refuse what is plainly not a Bot Framework channel token, before botbuilder sees it.

    botbuilder routes tokens by their unverified issuer: an emulator or skill
    issuer would send it to Microsoft's public metadata, which a Teams bot never
    needs. Only the configured channel issuer goes on to the real check.
    """
    if len(header) > MAX_HEADER:
        raise Unauthorized("header too long")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token or " " in token:
        raise Unauthorized("not a bearer token")
    try:
        head = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized("not a JWT") from None
    if head.get("alg") not in ALLOWED_ALGORITHMS:
        raise Unauthorized("signing algorithm not allowed")
    if claims.get("iss") != issuer:
        raise Unauthorized("wrong issuer")


class VerifiedTokens:
    """Tokens botbuilder has already verified, so the same token is not checked again.

    The Bot Connector sends one token on every request until it nears expiry
    (about an hour); verifying it costs about 2 ms of event-loop CPU each time, a
    quarter of the loop at 100 activities a second. A verdict is kept only for the
    exact token bytes together with the activity's serviceUrl and channel (which
    botbuilder checks against the token's claims), never past the token's own
    expiry (without botbuilder's five-minute skew), and at most ``max_seconds``, so
    a signing key Microsoft withdraws stops working within that time.
    """

    def __init__(self, max_seconds: float = 300.0, max_tokens: int = 1000):
        self.max_seconds = max_seconds
        self.max_tokens = max_tokens
        self._held: OrderedDict[tuple[str, str, str], tuple[float, Any]] = OrderedDict()
        self._until: dict[str, float] = {}  # token digest -> when its verdict lapses
        self.hits = 0

    @staticmethod
    def _key(header: str, activity: Activity) -> tuple[str, str, str]:
        digest = hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()
        return digest, activity.service_url or "", activity.channel_id or ""

    def known(self, header: str) -> bool:
        """True when this exact token has been verified and is still in date (any activity)."""
        digest = hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()
        return self._until.get(digest, 0.0) > time.time()

    def get(self, header: str, activity: Activity) -> AuthenticateRequestResult | None:
        key = self._key(header, activity)
        held = self._held.get(key)
        if held is None:
            return None
        until, result = held
        if until <= time.time():
            del self._held[key]
            return None
        self._held.move_to_end(key)
        self.hits += 1
        # A fresh result object each time: a turn may set fields on the one it gets.
        copy = AuthenticateRequestResult()
        copy.audience = result.audience
        copy.claims_identity = result.claims_identity
        copy.caller_id = result.caller_id
        copy.connector_factory = result.connector_factory
        return copy

    def keep(self, header: str, activity: Activity, result: AuthenticateRequestResult) -> None:
        claims = getattr(result.claims_identity, "claims", None) or {}
        expiry = claims.get("exp")
        if not isinstance(expiry, int | float):
            return  # no expiry to honour: check it again next time
        until = min(float(expiry), time.time() + self.max_seconds)
        if until <= time.time():
            return
        key = self._key(header, activity)
        self._held[key] = (until, result)
        self._until[key[0]] = until
        while len(self._held) > self.max_tokens:
            (digest, _, _), _ = self._held.popitem(last=False)
            self._until.pop(digest, None)


async def authenticate(
    auth: BotFrameworkAuthentication,
    activity: Activity,
    header: str | None,
    *,
    issuer: str,
    auth_disabled: bool,
    verified: VerifiedTokens | None = None,
) -> AuthenticateRequestResult:
    """botbuilder's verdict on a request; raises :class:`Unauthorized` on any failure."""
    if not header:
        if not auth_disabled:
            raise Unauthorized("no token")
        header_arg: Any = None  # botbuilder's "authentication disabled" path
    else:
        if verified is not None:
            held = verified.get(header, activity)
            if held is not None:
                return held
        precheck(header, issuer)
        header_arg = header
    try:
        result = await auth.authenticate_request(activity, header_arg)
    except Exception as exc:
        # PermissionError, jwt errors, AttributeError on a missing key, IndexError...
        # all mean the same to the caller: not proven, so not let in.
        raise Unauthorized(type(exc).__name__) from None
    if result is None or result.claims_identity is None:
        raise Unauthorized("no identity")
    if not result.claims_identity.is_authenticated:
        raise Unauthorized("not authenticated")
    if header and verified is not None:
        verified.keep(header, activity, result)
    return result


class WarmCredentialsFactory(ServiceClientCredentialsFactory):
    """Outbound credentials, one per app and audience, their tokens fetched in a thread.

    botbuilder asks for credentials on every turn and every proactive message; each
    new MSAL client would fetch a token with a blocking call on the event loop.
    """

    def __init__(self, inner: ServiceClientCredentialsFactory):
        self.inner = inner
        self._cache: dict[tuple[str, str, str, bool], Any] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self.inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self.inner.is_authentication_disabled()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        key = (app_id or "", oauth_scope or "", login_endpoint or "", bool(validate_authority))
        creds = self._cache.get(key)
        if creds is None:
            creds = await self.inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            self._cache[key] = creds
        if getattr(creds, "microsoft_app_id", None):
            # MSAL caches the token inside the client: later calls on the loop are cheap.
            await asyncio.to_thread(creds.get_access_token)
        return creds
