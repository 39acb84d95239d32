"""A fake Bot Framework OpenID issuer: metadata, JWKS and token signing, on 127.0.0.1.

botbuilder fetches the metadata with blocking ``requests`` calls, so this server
runs in its own thread (on the test's event loop it would deadlock). The tests
sign their own tokens with a fresh RSA key; botbuilder checks them for real.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"


_KEY: Any = None


def test_key() -> Any:
    """One RSA key per test run (making one takes a moment)."""
    global _KEY
    if _KEY is None:
        _KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEY


class FakeOpenId:
    """Serves the metadata document and keys; signs tokens with the published key."""

    def __init__(self, *, kid: str = "test-key-1", endorsements: tuple[str, ...] = ("msteams",)):
        self.kid = kid
        self.key = test_key()
        self.endorsements = list(endorsements)
        self.requests: list[str] = []
        self.fail = False  # answer 503 to everything, to test a flaky issuer
        # When set to a threading.Event, key requests wait for it (a slow issuer).
        self.hold_keys: threading.Event | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return self.url + METADATA_PATH

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "endorsements": self.endorsements})
        return {"keys": [public]}

    def start(self) -> FakeOpenId:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append(self.path)
                if fake.fail:
                    self._send(503, {"error": "unavailable"})
                elif self.path == METADATA_PATH:
                    self._send(
                        200,
                        {
                            "issuer": ISSUER,
                            "jwks_uri": fake.url + KEYS_PATH,
                            "id_token_signing_alg_values_supported": ["RS256"],
                        },
                    )
                elif self.path == KEYS_PATH:
                    if fake.hold_keys is not None:
                        fake.hold_keys.wait(30)
                    self._send(200, fake.jwks())
                else:
                    self._send(404, {"error": "not found"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def token(
        self,
        *,
        audience: str,
        service_url: str,
        issuer: str = ISSUER,
        lifetime: float = 3600,
        issued_ago: float = 60,
        key: Any = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """A channel token as the Bot Framework signs it (RS256), with any claim overridden."""
        now = time.time()
        payload = {
            "iss": issuer,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": int(now - issued_ago),
            "iat": int(now - issued_ago),
            "exp": int(now - issued_ago + lifetime),
            **claims,
        }
        return jwt.encode(
            payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def unsigned_token(self, *, audience: str, service_url: str) -> str:
        """The same claims with ``alg: none`` and no signature."""
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
        }
        return jwt.encode(payload, None, algorithm="none", headers={"kid": self.kid})
