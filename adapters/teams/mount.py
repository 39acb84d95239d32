"""Mount the Teams endpoint, POST /api/messages, on the one aiohttp server.

``mount(app, services)`` reads the Teams settings from the environment; without
an app id it mounts nothing (unless the local-development switch is on, which
the start-up log warns about loudly). ``mount_teams`` is the same with the
settings and the outbound credentials passed in, for tests and benchmarks.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from aiohttp import web
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory

from discretion.adapters.teams.auth import (
    Unauthorized,
    VerifiedTokens,
    WarmCredentialsFactory,
    authenticate,
    install_keys,
    precheck,
)
from discretion.adapters.teams.clients import ReusingAuthentication
from discretion.adapters.teams.config import LOCAL_DEV_ENV, TeamsConfig, TeamsConfigError
from discretion.adapters.teams.connector import Messenger
from discretion.adapters.teams.graph import GraphHider, MsalGraphTokens, TokenProvider
from discretion.adapters.teams.handler import TeamsHandler
from discretion.adapters.teams.references import MemoryReferenceStore, SqlReferenceStore
from discretion.adapters.teams.refs import WarningRef
from discretion.dedupe import deduplicator_from_env
from discretion.logs import get_logger
from discretion.web.links import report_link
from discretion.work import WorkQueue, queue_from_env

log = get_logger("discretion.adapters.teams.mount")

ROUTE = "/api/messages"
DEFAULT_LOGIN = "https://login.microsoftonline.com"
TEAMS: web.AppKey[TeamsHandler] = web.AppKey("teams", TeamsHandler)
VERIFIED: web.AppKey[VerifiedTokens] = web.AppKey("teams_verified_tokens", VerifiedTokens)
# With DISCRETION_QUEUE=redis, Teams work goes to a stream of its own: a consumer drops
# kinds it has no handler for, so Slack's and Teams' queues must not read each other's.
STREAM = "discretion:work:teams"
QUEUE_SIZE = 10_000
WORKERS = 128  # jobs mostly wait on the network; the CPU part is batched in the core


def mount(app: web.Application, services: Any) -> str | None:
    """Add POST /api/messages when Teams is configured; None (nothing mounted) otherwise."""
    try:
        config = TeamsConfig.from_env()
    except TeamsConfigError as exc:
        # A half-configured bot must not start quietly without its Teams side.
        raise SystemExit(f"Teams configuration error: {exc}") from None
    if not config.configured:
        return None
    return mount_teams(app, services, config)


def mount_teams(
    app: web.Application,
    services: Any,
    config: TeamsConfig,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    messenger_options: dict[str, Any] | None = None,
    graph_tokens: TokenProvider | None = None,
) -> str:
    """Mount the Teams endpoint with ``config``; returns the line for the start-up log."""
    config.check()
    if config.auth_disabled:
        _warn_unauthenticated()
    elif config.local_dev:
        log.warning("teams.local_dev_ignored", reason="MICROSOFT_APP_ID is set")
    factory = credentials_factory or WarmCredentialsFactory(
        ConfigurationServiceClientCredentialFactory(config.botbuilder_configuration())
    )
    auth = ReusingAuthentication(
        ConfigurationBotFrameworkAuthentication(
            config.botbuilder_configuration(), credentials_factory=factory
        )
    )
    keys = install_keys(config.openid_metadata_url)
    adapter = CloudAdapter(auth)
    references = MemoryReferenceStore()
    messenger = Messenger(auth, config.app_id, references, **(messenger_options or {}))
    from discretion.memory import memory_for

    hider = None
    if config.hide_messages:
        hider = GraphHider(
            config.graph_url,
            graph_tokens
            or MsalGraphTokens(
                config.app_id, config.app_password, config.login_url.rstrip("/") or DEFAULT_LOGIN
            ),
        )
    # Teams' own queue, as Slack has its own: a warning waits on two connector round trips
    # and a database write, so many more must be in flight than the server's queue allows.
    work = queue_from_env(maxsize=QUEUE_SIZE, workers=WORKERS, stream=STREAM)
    shared = None if isinstance(work, WorkQueue) else work
    services.queues["teams"] = work
    handler = TeamsHandler(
        services,
        messenger,
        deduplicator_from_env(),
        memory=services.memory if services.memory is not None else memory_for(services.settings),
        report_link=_report_link(services),
        hider=hider,
        work=work,
    )
    app[TEAMS] = handler
    verified = app[VERIFIED] = VerifiedTokens()

    async def messages(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        # Refuse what is plainly unauthenticated before reading the body at all.
        try:
            if not header and not config.auth_disabled:
                raise Unauthorized("no token")
            if header and not verified.known(header):
                precheck(header, config.token_issuer)
        except Unauthorized as exc:
            return _unauthorized(exc, request)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "send the activity as application/json")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "the body is not JSON")
        if not isinstance(body, dict):
            return _problem(400, "the body must be a JSON object (an activity)")
        try:
            activity = Activity().deserialize(body)
        except Exception:  # msrest raises several kinds for a malformed activity
            return _problem(400, "the body is not a Bot Framework activity")
        if not activity.type or not activity.service_url:
            return _problem(400, "the activity has no type or serviceUrl")
        try:
            result = await authenticate(
                auth,
                activity,
                header,
                issuer=config.token_issuer,
                auth_disabled=config.auth_disabled,
                verified=verified,
            )
        except Unauthorized as exc:
            return _unauthorized(exc, request)
        try:
            invoke = await adapter.process_activity(result, activity, handler.on_turn)
        except Exception as exc:
            # Logged by kind and ids only: the exception may quote the activity.
            log.error(
                "teams.turn_failed",
                error=type(exc).__name__,
                activity_type=activity.type,
                activity_id=activity.id,
            )
            return _problem(500, "the activity could not be handled")
        if invoke is not None:
            return web.json_response(invoke.body, status=int(invoke.status))
        return web.Response(status=201)

    app.router.add_post(ROUTE, messages)

    async def _start(_: web.Application) -> None:
        store = getattr(services, "store", None)
        engine = getattr(store, "engine", None)
        if engine is not None:
            # The table comes with the store's migrations (0003_teams_conversations),
            # which its own start-up hook has run by now.
            messenger.references = SqlReferenceStore(engine)
        if not config.auth_disabled:
            # Warm the signing keys now, so the first message is not the one that waits.
            await keys.refresh()
        await work.start()

    async def keys_held() -> bool:
        return config.auth_disabled or bool(keys.keys)

    keys_held.__name__ = "teams_keys"
    services.on_ready.append(keys_held)

    async def _stop(_: web.Application) -> None:
        await messenger.close()
        if hider is not None:
            await hider.close()

    async def _drain(_: web.Application) -> None:
        # On shutdown, before the server's own hook stops the engine these jobs assess with.
        await work.close()

    app.on_startup.append(_start)
    app.on_shutdown.append(_drain)
    app.on_cleanup.append(_stop)
    mode = "UNAUTHENTICATED local development" if config.auth_disabled else config.app_type
    hiding = ", hiding flagged messages through Graph" if hider is not None else ""
    queue = ", work shared through Redis" if shared is not None else ""
    return f"Teams at POST {ROUTE} ({mode}{hiding}{queue})"


def _unauthorized(exc: Unauthorized, request: web.Request) -> web.Response:
    log.warning("teams.unauthorized", reason=exc.reason, remote=request.remote)
    return web.json_response(
        {"error": "unauthorized", "detail": "a valid Bot Framework token is required"},
        status=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response({"error": detail}, status=status)


def _warn_unauthenticated() -> None:
    banner = (
        "!" * 78 + "\n"
        f"!! {LOCAL_DEV_ENV}=1 and no MICROSOFT_APP_ID: the Teams endpoint accepts\n"
        "!! UNAUTHENTICATED requests. Anyone who can reach this server can post to it.\n"
        "!! Use this only on your own machine with the Bot Framework Emulator.\n" + "!" * 78
    )
    print(banner, file=sys.stderr, flush=True)
    log.warning("teams.authentication_disabled", switch=LOCAL_DEV_ENV)


def _report_link(services: Any) -> Any:
    """A maker of one-click report links (None until the /report/ pages are mounted)."""

    def link(ref: WarningRef, assessment: Any) -> str | None:
        return report_link(
            services,
            platform="teams",
            channel=ref.where,
            permalink=ref.permalink,
            poster_id=ref.poster,
            entity_types=list(ref.kinds),
            workspace=ref.team or ref.tenant or None,
            message_id=ref.message_id,
            message_time=ref.sent_datetime(),
            counts=dict(ref.kinds),
        )

    return link
