"""Dashboard settings read from the environment: keys, addresses, lifetimes, OpenID Connect.

These live in the environment rather than the site YAML because they are
secrets or deployment facts (where the server is reachable), not policy.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any

from discretion.store.secret import load_install_key


@dataclass(frozen=True)
class OidcSettings:
    """One OpenID Connect provider (for example Microsoft Entra ID)."""

    metadata_url: str
    client_id: str
    client_secret: str
    # Role given to a user whose token carries no recognised role claim: none by default,
    # so signing in through the organisation's directory alone never shows a case.
    default_role: str = "none"
    # Values of the token's "roles" claim (Entra app roles) that map to our roles.
    role_claims: dict[str, str] = field(
        default_factory=lambda: {
            "Discretion.DPO": "dpo",
            "Discretion.Admin": "admin",
            "Discretion.Viewer": "viewer",
            "Discretion.Staff": "staff",
        }
    )
    label: str = "Sign in with Microsoft"


@dataclass(frozen=True)
class WebSettings:
    """What the dashboard needs to know that is not in the site configuration."""

    secret_key: str
    public_url: str = "http://127.0.0.1:3978"
    session_hours: float = 8.0
    link_hours: float = 72.0
    signin_attempts: int = 5
    signin_window_minutes: float = 15.0
    oidc: OidcSettings | None = None

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry Secure whenever the public address is https."""
        return self.public_url.startswith("https://")


def derive_key(install_key: bytes) -> str:
    """The dashboard's own signing key, derived from the install key.

    A separate key per use means a token signed for one purpose (a report link,
    a form) can never be passed off as another, nor as a message hash.
    """
    return hmac.new(install_key, b"discretion.web.v1", hashlib.sha256).hexdigest()


def load_web_settings(env: dict[str, str] | None = None, **overrides: Any) -> WebSettings:
    """Settings from ``env`` (default: the process environment), with keyword overrides.

    The signing key is derived from the install key (DISCRETION_SECRET_KEY, else
    ./var/secret.key, made on first use; see discretion.store.secret), so report
    links stay valid across restarts without anyone choosing a key.
    """
    env = dict(os.environ if env is None else env)
    secret = overrides.pop("secret_key", None) or derive_key(load_install_key())
    oidc = None
    if env.get("DISCRETION_OIDC_METADATA_URL"):
        oidc = OidcSettings(
            metadata_url=env["DISCRETION_OIDC_METADATA_URL"],
            client_id=env.get("DISCRETION_OIDC_CLIENT_ID", ""),
            client_secret=env.get("DISCRETION_OIDC_CLIENT_SECRET", ""),
            default_role=env.get("DISCRETION_OIDC_DEFAULT_ROLE", "none"),
        )
    values: dict[str, Any] = {
        "secret_key": secret,
        "public_url": env.get("DISCRETION_PUBLIC_URL", "http://127.0.0.1:3978").rstrip("/"),
        "session_hours": float(env.get("DISCRETION_SESSION_HOURS", "8")),
        "link_hours": float(env.get("DISCRETION_REPORT_LINK_HOURS", "72")),
        "oidc": oidc,
    }
    values.update(overrides)
    return WebSettings(**values)
