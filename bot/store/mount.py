"""Mounts the store and the escalation service on the server: migrate, ping, send, close.

The first entry of ``discretion.server.EXTENSIONS``, so ``services.store`` and
``services.extras["notifiers"]`` exist before the adapters and the dashboard mount.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from discretion.config import ConfigError, ConfigProblem
from discretion.escalation import Escalation, builtin_notifiers
from discretion.logs import get_logger
from discretion.store.db import Store
from discretion.store.secret import load_install_key

log = get_logger("discretion.store")

ESCALATION_KEY = "escalation"
NOTIFIERS_KEY = "notifiers"


def mount(app: web.Application, services: Any) -> str:
    """Create the store and escalation service for ``services``; returns what was set up.

    The database is ``$DATABASE_URL`` or ``./var/discretion.db``. Start-up migrates
    it and starts the sender; shutdown stops the sender and closes the pool. A
    half-configured email or webhook channel raises ConfigError with the reason.
    """
    settings = services.settings.escalation
    try:
        builtin = builtin_notifiers(settings)
    except ValueError as exc:  # a channel half set up: say which and why, then stop
        raise ConfigError(
            [ConfigProblem("site configuration", None, "escalation", str(exc))]
        ) from None
    store = Store(message_key=load_install_key())
    registered: list[Any] = services.extras.setdefault(NOTIFIERS_KEY, [])
    escalation = Escalation(store, settings, builtin=builtin, registered=registered)
    services.store = store
    services.extras[ESCALATION_KEY] = escalation

    async def _start(_: web.Application) -> None:
        await store.migrate()
        escalation.start()
        log.info(
            "escalation.started",
            channels=[c.name for c in escalation.channels()],
            reminder_hours=list(settings.reminder_hours),
        )

    async def _stop(_: web.Application) -> None:
        await escalation.stop()
        await store.close()

    async def database() -> bool:
        return await store.ping()

    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    services.on_ready.append(database)
    names = [c.name for c in builtin] or ["none built in"]
    return f"store: {store.dialect}; escalation: {', '.join(names)}"
