"""The escalation service: the channels, the 72-hour clock and the sender, run in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from discretion.clock import schedule_reminders
from discretion.config import EscalationSettings
from discretion.escalation.email import EmailNotifier
from discretion.escalation.outbox import Dispatcher, wait_for_wake
from discretion.escalation.webhook import WebhookNotifier
from discretion.logs import get_logger
from discretion.store import models as m
from discretion.store.db import Store

log = get_logger("discretion.escalation")


def builtin_notifiers(settings: EscalationSettings) -> list[Any]:
    """The email and webhook channels the site configured (raises ValueError if half-set)."""
    found: list[Any] = []
    if settings.email.enabled:
        found.append(EmailNotifier(settings.email))
    if settings.webhook.enabled:
        found.append(WebhookNotifier(settings.webhook))
    return found


class Escalation:
    """Queues reminders and sends alerts: one ``tick()`` does both; ``start()`` runs it forever."""

    def __init__(
        self,
        store: Store,
        settings: EscalationSettings,
        *,
        builtin: Sequence[Any] = (),
        registered: list[Any] | None = None,
        clock: Callable[[], datetime] = m.utcnow,
    ):
        self.store = store
        self.settings = settings
        self.builtin = list(builtin)
        # Chat adapters append their notifiers here (services.extras["notifiers"]).
        self.registered: list[Any] = registered if registered is not None else []
        self.clock = clock
        self.dispatcher = Dispatcher(store, settings, self.channels, clock=clock)
        self._task: asyncio.Task[None] | None = None

    def channels(self) -> list[Any]:
        """Every channel alerts go through now: built-in ones, then the registered ones."""
        seen: set[str] = set()
        out = []
        for channel in [*self.builtin, *self.registered]:
            if channel.name in seen:
                continue  # one channel per name: deliveries are tracked by name
            seen.add(channel.name)
            out.append(channel)
        return out

    async def tick(self) -> int:
        """Queue any reminders now due, then send what is due; returns how many were sent."""
        await schedule_reminders(self.store, self.settings.reminder_hours, self.clock())
        return await self.dispatcher.deliver_due()

    async def run(self) -> None:
        """Tick every ``check_every_seconds``, or at once when a report wakes us."""
        wake = self.store.outbox_waiting
        while True:
            wake.clear()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away; try again next time
                log.exception("escalation.tick_failed")
            await wait_for_wake(wake, self.settings.check_every_seconds)

    def start(self) -> None:
        """Run in the background until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="discretion-escalation")

    async def stop(self) -> None:
        """Stop the background loop (what is unsent stays in the outbox for next time)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
