"""Signing in through OpenID Connect (for example Microsoft Entra ID), as an option.

The protocol pieces come from well-kept libraries: Authlib builds the
authorisation request (with PKCE), and joserfc (Authlib's own JOSE library)
checks the ID token's signature against the provider's published keys and its
issuer, audience, expiry and nonce. Nothing here trusts the browser: the state,
nonce and PKCE verifier travel in a signed, ten-minute, HttpOnly cookie.

An account signed in this way gets its role from the token's ``roles`` claim
(Entra app roles, mapped in :class:`OidcSettings`) at every sign-in, else the
default role, which is "none": signing in through the directory alone never
shows a case, and an app role taken away in the directory is gone at the next
sign-in.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from itsdangerous import BadData, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from discretion.logs import get_logger
from discretion.web import accounts, sessions
from discretion.web.context import Visit, page
from discretion.web.models import ROLES, DashboardUser
from discretion.web.settings import OidcSettings, WebSettings
from discretion.web.signin import safe_next

log = get_logger("discretion.web.oidc")

COOKIE = "discretion_oidc"
FLOW_SECONDS = 600
CALLBACK = "/dashboard/oidc/callback"
# Strongest first: a token carrying two app roles gets the more able one.
ROLE_ORDER = ("dpo", "admin", "viewer", "staff")


class OidcError(Exception):
    """Sign-in through the provider failed; the message is safe to show."""


class OidcClient:
    """One configured provider: its metadata and keys (fetched once, refreshed on a new key)."""

    def __init__(self, config: OidcSettings, settings: WebSettings) -> None:
        self.config = config
        self.settings = settings
        self.label = config.label
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._flows = URLSafeTimedSerializer(settings.secret_key, salt="discretion.oidc-flow.v1")

    @property
    def redirect_uri(self) -> str:
        """Where the provider sends the browser back to (register this with the provider)."""
        return self.settings.public_url + CALLBACK

    async def _get_json(self, url: str) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
            if response.status != 200:
                raise OidcError(f"the sign-in provider answered {response.status}")
            data = await response.json(content_type=None)
        if not isinstance(data, dict):
            raise OidcError("the sign-in provider sent something that is not JSON")
        return data

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document."""
        if self._metadata is None:
            data = await self._get_json(self.config.metadata_url)
            for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(data.get(key), str):
                    raise OidcError(f"the provider's metadata has no {key}")
            self._metadata = data
        return self._metadata

    async def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys."""
        if self._keys is None or refresh:
            meta = await self.metadata()
            self._keys = KeySet.import_key_set(await self._get_json(meta["jwks_uri"]))  # type: ignore[arg-type]
        return self._keys

    async def start(self, next_path: str) -> tuple[str, str]:
        """(provider address to send the browser to, signed flow cookie value)."""
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        uri = prepare_grant_uri(
            meta["authorization_endpoint"],
            self.config.client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope="openid profile email",
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        flow = self._flows.dumps({"s": state, "n": nonce, "v": verifier, "next": next_path})
        return uri, flow

    async def finish(self, flow_cookie: str | None, query: Any) -> tuple[dict[str, Any], str]:
        """The checked ID token claims and where to go next, for the provider's callback."""
        if not flow_cookie:
            raise OidcError("the sign-in took too long or was started in another browser")
        try:
            flow = self._flows.loads(flow_cookie, max_age=FLOW_SECONDS)
        except BadData:
            raise OidcError("the sign-in took too long or was started in another browser") from None
        if query.get("error"):
            raise OidcError("the sign-in provider did not sign you in")
        if query.get("state") != flow["s"]:
            raise OidcError("the sign-in answer does not match the request")
        code = query.get("code")
        if not isinstance(code, str) or not code:
            raise OidcError("the sign-in answer has no code")
        meta = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "code_verifier": flow["v"],
        }
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(meta["token_endpoint"], data=form) as response,
        ):
            if response.status != 200:
                raise OidcError(f"the sign-in provider refused the code ({response.status})")
            tokens = await response.json(content_type=None)
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise OidcError("the sign-in provider sent no ID token")
        claims = await self._verify(id_token, meta["issuer"], flow["n"])
        return claims, safe_next(flow.get("next"))

    async def _verify(self, id_token: str, issuer: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, await self.keys(), algorithms=["RS256", "ES256"])
            except JoseError:
                # The provider may have rotated its keys since we fetched them.
                token = jwt.decode(
                    id_token, await self.keys(refresh=True), algorithms=["RS256", "ES256"]
                )
            registry = jwt.JWTClaimsRegistry(
                now=lambda: int(time.time()),
                leeway=60,
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError):
            raise OidcError("the sign-in provider's token did not check out") from None
        return dict(token.claims)

    def role_from(self, claims: dict[str, Any]) -> str | None:
        """Our role for the token's app roles, or None when it carries none we know."""
        given = claims.get("roles") or []
        mapped = {self.config.role_claims[r] for r in given if r in self.config.role_claims}
        return next((r for r in ROLE_ORDER if r in mapped), None)


def _username(claims: dict[str, Any], subject: str) -> str:
    wanted = str(claims.get("preferred_username") or claims.get("email") or "")
    name = accounts.normalise_username(wanted)
    if accounts.USERNAME.match(name):
        return name
    return "oidc-" + hashlib.sha256(subject.encode()).hexdigest()[:16]


async def account_for(db: Any, client: OidcClient, claims: dict[str, Any]) -> DashboardUser:
    """The account for these claims: found by issuer and subject, else created."""
    subject = f"{claims['iss']} {claims['sub']}"
    role = client.role_from(claims)
    user = await db.scalar(sa.select(DashboardUser).where(DashboardUser.oidc_subject == subject))
    # Entra's object id is also the person's Teams user id: link it, so staff see their reports.
    chat_ids = [str(claims["oid"])] if claims.get("oid") else []
    if user is None:
        name = _username(claims, subject)
        taken = await db.scalar(sa.select(DashboardUser.id).where(DashboardUser.username == name))
        if taken is not None:
            name = "oidc-" + hashlib.sha256(subject.encode()).hexdigest()[:16]
        default = client.config.default_role if client.config.default_role in ROLES else "none"
        user = await accounts.create_user(
            db,
            username=name,
            role=role or default,
            password=None,
            display_name=str(claims.get("name") or "")[:128],
            chat_ids=chat_ids,
            oidc_subject=subject,
        )
    else:
        # The directory is where roles are given and taken away: each sign-in's token decides.
        default = client.config.default_role if client.config.default_role in ROLES else "none"
        user.role = role or default
    return user


@page()
async def oidc_start(visit: Visit) -> web.StreamResponse:
    client: OidcClient = visit.dashboard.oidc
    try:
        uri, flow = await client.start(safe_next(visit.request.query.get("next")))
    except (OidcError, aiohttp.ClientError, TimeoutError) as exc:
        return _failed(visit, exc)
    visit.cookies_to_set[COOKIE] = (flow, timedelta(seconds=FLOW_SECONDS))
    return visit.redirect(uri)


@page()
async def oidc_callback(visit: Visit) -> web.StreamResponse:
    dash = visit.dashboard
    client: OidcClient = dash.oidc
    visit.cookies_to_clear.append(COOKIE)
    try:
        claims, target = await client.finish(visit.request.cookies.get(COOKIE), visit.request.query)
    except (OidcError, aiohttp.ClientError, TimeoutError) as exc:
        return _failed(visit, exc)
    lifetime = timedelta(hours=dash.settings.session_hours)
    async with dash.store.sessions.begin() as db:
        user = await account_for(db, client, claims)
        if user.disabled:
            return _failed(visit, OidcError("this account has been switched off"))
        user.last_sign_in_at = dash.now()
        await sessions.end_session(db, visit.request.cookies.get(sessions.COOKIE))
        token = await sessions.start_session(db, user, dash.now(), lifetime)
        user_id, role, username = user.id, user.role, user.username
    log.info("web.signed_in", user_id=user_id, role=role, via="oidc")
    await dash.store.record_event(
        actor=f"web:{username}", action="dashboard.signed_in", details={"role": role, "via": "oidc"}
    )
    visit.cookies_to_set[sessions.COOKIE] = (token, lifetime)
    return visit.redirect(target)


def _failed(visit: Visit, exc: BaseException) -> web.Response:
    reason = str(exc) if isinstance(exc, OidcError) else "the sign-in provider could not be reached"
    log.info("web.oidc_failed", reason=reason)
    return visit.render(
        "dashboard/problem.html",
        status=400,
        title="Signing in did not work",
        detail=f"Signing in through your organisation did not work: {reason}. Try again from "
        "the sign-in page.",
    )


def add_oidc_routes(app: web.Application) -> None:
    """The two addresses OpenID Connect needs."""
    app.router.add_get("/dashboard/oidc/start", oidc_start)
    app.router.add_get(CALLBACK, oidc_callback)
