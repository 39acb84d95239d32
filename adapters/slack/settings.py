"""Slack settings from the environment: tokens, signing secret, API address, OAuth."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "https://slack.com/api/"


class SlackConfigError(ValueError):
    """The Slack settings are present but unusable; the message says which one and why."""


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """What the Slack adapter needs to run; build with :func:`slack_settings`."""

    bot_token: str
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    # For the user-token flow (Replace / Delete as the poster): optional.
    client_id: str = ""
    client_secret: str = ""
    # Public address of this server, for the OAuth redirect (e.g. https://discretion.example.nhs.uk).
    public_url: str = ""

    @property
    def socket_mode(self) -> bool:
        """True when Slack should be reached over Socket Mode instead of HTTP."""
        return bool(self.app_token)

    @property
    def oauth_enabled(self) -> bool:
        """True when staff can authorise the app to edit their own messages."""
        return bool(self.client_id and self.client_secret)


def slack_settings(env: Mapping[str, str] | None = None) -> SlackSettings | None:
    """The Slack settings, or None when Slack is not configured at all.

    Raises :class:`SlackConfigError` when Slack is half-configured, so that a
    missing secret stops start-up instead of leaving a bot that silently ignores
    everything.
    """
    env = os.environ if env is None else env
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    secret = env.get("SLACK_SIGNING_SECRET", "").strip()
    app_token = env.get("SLACK_APP_TOKEN", "").strip()
    if not (token or secret or app_token):
        return None
    if not token:
        raise SlackConfigError("SLACK_BOT_TOKEN is missing: copy the Bot User OAuth Token")
    if not token.startswith("xoxb-"):
        raise SlackConfigError("SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-)")
    if app_token and not app_token.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token (it starts with xapp-)")
    if not secret and not app_token:
        raise SlackConfigError(
            "SLACK_SIGNING_SECRET is missing: without it nobody can tell Slack's requests "
            "from forged ones (or set SLACK_APP_TOKEN to use Socket Mode)"
        )
    if env.get("SLACK_CLIENT_ID") or env.get("SLACK_CLIENT_SECRET"):
        # slack_bolt reads these two names itself and then switches to a multi-workspace
        # mode that ignores SLACK_BOT_TOKEN; our names keep the one-workspace set-up intact.
        raise SlackConfigError(
            "SLACK_CLIENT_ID / SLACK_CLIENT_SECRET are not used: name them "
            "SLACK_OAUTH_CLIENT_ID and SLACK_OAUTH_CLIENT_SECRET"
        )
    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    if not api_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise SlackConfigError("SLACK_API_URL must be an https:// address")
    if not api_url.endswith("/"):
        api_url += "/"
    client_id = env.get("SLACK_OAUTH_CLIENT_ID", "").strip()
    client_secret = env.get("SLACK_OAUTH_CLIENT_SECRET", "").strip()
    if bool(client_id) != bool(client_secret):
        raise SlackConfigError(
            "set both SLACK_OAUTH_CLIENT_ID and SLACK_OAUTH_CLIENT_SECRET, or neither"
        )
    return SlackSettings(
        bot_token=token,
        signing_secret=secret,
        app_token=app_token,
        api_url=api_url,
        client_id=client_id,
        client_secret=client_secret,
        public_url=env.get("DISCRETION_PUBLIC_URL", "").strip().rstrip("/"),
    )
