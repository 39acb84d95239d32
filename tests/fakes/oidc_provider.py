"""A fake OpenID Connect provider (shaped like Microsoft Entra ID) on 127.0.0.1.

It serves discovery, an authorise endpoint that signs in whoever the test chose
at once, a token endpoint that checks the client secret, redirect address and
PKCE verifier for real, and its signing keys. Tests can make it misbehave
(wrong nonce, wrong audience, a key nobody published) to see sign-in refused.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "5d1f0c8e-dashboard"
CLIENT_SECRET = "fake-provider-client-secret"


class FakeOidcProvider:
    """Start with ``await provider.start()``; ``metadata_url`` is what the dashboard is given."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.claims: dict[str, Any] = {}  # who signs in next (sub, name, roles, oid...)
        self.tamper: dict[str, Any] = {}  # e.g. {"nonce": "x"}, {"aud": "y"}, {"key": "other"}
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    async def start(self) -> FakeOidcProvider:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._metadata)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/keys", self._keys)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _metadata(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/keys",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, _: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return web.Response(status=400, text="unknown client")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(status=400, text="PKCE required")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": q.get("nonce"),
            "challenge": q["code_challenge"],
            "redirect_uri": q.get("redirect_uri"),
        }
        target = f"{q['redirect_uri']}?code={code}&state={q.get('state', '')}"
        raise web.HTTPFound(target)

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        grant = self.codes.pop(str(form.get("code")), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "invalid_grant"}, status=400)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        digest = hashlib.sha256(str(form.get("code_verifier")).encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": grant["nonce"],
            **self.claims,
        }
        claims.update({k: v for k, v in self.tamper.items() if k != "key"})
        key = self.other_key if self.tamper.get("key") == "other" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "fake-1"}, claims, key)
        return web.json_response(
            {"access_token": "not-used", "token_type": "Bearer", "id_token": id_token}
        )
