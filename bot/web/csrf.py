"""Cross-site request forgery protection for every dashboard form.

Each browser gets a random, HttpOnly cookie; each form carries an HMAC of that
cookie (and of the sign-in session, when there is one) under the server key.
Another site can make a browser send the cookie, but cannot read it or compute
the HMAC, so it cannot produce a form that passes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "discretion_csrf"
FIELD = "csrf_token"


def new_cookie_value() -> str:
    """A fresh random value for the CSRF cookie."""
    return secrets.token_urlsafe(32)


def token_for(secret_key: str, cookie_value: str, session_token: str | None) -> str:
    """The token a form must carry for this browser (and sign-in session)."""
    msg = f"csrf|{cookie_value}|{session_token or ''}".encode()
    return hmac.new(secret_key.encode(), msg, hashlib.sha256).hexdigest()


def valid(secret_key: str, cookie_value: str | None, session_token: str | None, sent: str) -> bool:
    """True when ``sent`` is the right token for this browser and session."""
    if not cookie_value or not sent:
        return False
    return hmac.compare_digest(token_for(secret_key, cookie_value, session_token), sent)
