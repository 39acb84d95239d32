"""Mount Slack on the one aiohttp server: ``POST /slack/events`` (and OAuth, Socket Mode)."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from discretion.adapters.slack import notifier
from discretion.adapters.slack.app import SlackAdapter
from discretion.adapters.slack.settings import SlackSettings, slack_settings
from discretion.logs import get_logger

log = get_logger("discretion.adapters.slack")

EVENTS_PATH = "/slack/events"
ADAPTER_KEY = "slack"
# Concurrent connections to Slack's Web API; warnings are small, so a modest pool does.
CONNECTION_LIMIT = 64


def mount(app: web.Application, services: Any) -> str | None:
    """Add the Slack routes when Slack is configured; returns what was mounted, or None."""
    config = slack_settings()
    if config is None:
        return None
    oauth = None
    installations = None
    if config.oauth_enabled:
        from discretion.adapters.slack.oauth import UserTokenFlow

        oauth = UserTokenFlow(config, services)
        installations = oauth.installations
    adapter = SlackAdapter(config, services, installations=installations, oauth=oauth)
    services.extras[ADAPTER_KEY] = adapter
    services.queues["slack"] = adapter.work
    said = []
    if config.signing_secret:
        app.router.add_post(EVENTS_PATH, _events_handler(adapter))
        said.append(f"Events API at POST {EVENTS_PATH}")
    if oauth is not None:
        oauth.attach(app, adapter)
        said.append(f"user authorisation at GET {oauth.install_path}")
    if config.socket_mode:
        said.append("Socket Mode")
    alerts_to = notifier.register(adapter)
    if alerts_to:
        said.append(f"breach alerts to {alerts_to}")
    app.on_startup.append(_startup(adapter, config))
    # Registered before the server's own shutdown, so accepted events are checked and
    # warned about while the assessment thread is still there: nothing accepted is lost.
    app.on_shutdown.append(_drain(adapter))
    app.on_cleanup.append(_cleanup(adapter))
    return "Slack: " + ", ".join(said)


def _events_handler(adapter: SlackAdapter) -> Any:
    async def slack_events(request: web.Request) -> web.StreamResponse:
        # bolt checks the signature and its age (401 otherwise), answers url_verification
        # and acknowledges events before our listeners run.
        response = await adapter.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    return slack_events


def _startup(adapter: SlackAdapter, config: SlackSettings) -> Any:
    async def start_slack(_: web.Application) -> None:
        await adapter.work.start()
        # One pooled session for every Web API call (slack_sdk opens one per call otherwise).
        adapter.client.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT)
        )
        if adapter.oauth is not None:
            await adapter.oauth.ensure_ready()
        if config.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(adapter.app, config.app_token)
            adapter.socket_mode = handler
            await handler.connect_async()
            log.info("slack.socket_mode_connected")

    return start_slack


def _drain(adapter: SlackAdapter) -> Any:
    async def drain_slack(_: web.Application) -> None:
        await adapter.work.close()

    return drain_slack


def _cleanup(adapter: SlackAdapter) -> Any:
    async def stop_slack(_: web.Application) -> None:
        handler = getattr(adapter, "socket_mode", None)
        if handler is not None:
            await handler.close_async()
        session = adapter.client.session
        if session is not None:
            await session.close()

    return stop_slack
