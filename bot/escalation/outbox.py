"""Sending what the outbox holds, through every channel, retrying with backoff until it is done.

A notification row is leased (so two servers never send it at the same moment),
sent through each channel that has not yet taken it, and saved with what
happened per channel. A failed channel is tried again later - 30 s, 1 min, 2 min,
... up to an hour apart by default - and the case itself was saved long before, so
a mail server being down loses nothing. Each channel's success is saved as soon as
it happens; only a crash in the instant between sending and saving can repeat an
alert, which is why each alert carries a delivery id.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from discretion.config import EscalationSettings
from discretion.escalation.alert import CREATED, build_alert
from discretion.logs import get_logger
from discretion.store import models as m
from discretion.store.db import Store

log = get_logger("discretion.escalation")

# Long enough for several channels to time out in turn, so no other server takes over mid-send.
LEASE = timedelta(minutes=15)
# A channel that neither answers nor fails within this long is counted as failed.
CHANNEL_TIMEOUT_SECONDS = 120.0
MAX_ERROR_CHARS = 200


def backoff(settings: EscalationSettings, attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: doubling, with a ceiling."""
    retry = settings.retry
    seconds = retry.first_delay_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, retry.max_delay_seconds))


def describe_error(exc: BaseException) -> str:
    """A short, safe description of why a channel failed (alerts hold no patient data)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    said = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
    return text[:MAX_ERROR_CHARS]


class Dispatcher:
    """Delivers due notifications from the outbox through the channels it is given."""

    def __init__(
        self,
        store: Store,
        settings: EscalationSettings,
        channels: Callable[[], Sequence[Any]],
        *,
        clock: Callable[[], datetime] = m.utcnow,
        lease: timedelta = LEASE,
    ):
        self.store = store
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.lease = lease

    async def deliver_due(self) -> int:
        """Try every due notification once; returns how many were fully sent."""
        now = self.clock()
        sent = 0
        for note_id in await self.store.due_notifications(now):
            claimed = await self.store.claim_notification(note_id, now=now, lease=self.lease)
            if claimed is None:
                continue  # another server took it
            note, incident = claimed
            if await self._deliver(note, incident, now):
                sent += 1
        return sent

    async def _deliver(self, note: m.Notification, incident: m.Incident, now: datetime) -> bool:
        channels = list(self.channels())
        if note.kind != CREATED and incident.status not in m.CLOCK_RUNNING:
            # Decided (or closed) since the reminder was queued: nothing left to remind about.
            await self.store.finish_notification(
                note.id, deliveries=note.deliveries, status=m.SKIPPED, now=now, error="case decided"
            )
            return False
        if not channels:
            log.warning("escalation.no_channels", reference=incident.reference, kind=note.kind)
            await self.store.finish_notification(
                note.id,
                deliveries=note.deliveries,
                status=m.SKIPPED,
                now=now,
                error="no escalation channel is configured",
            )
            return False
        alert = build_alert(incident, note.kind, self.settings, now)
        deliveries: dict[str, Any] = {k: dict(v) for k, v in (note.deliveries or {}).items()}
        for channel in channels:
            state = deliveries.setdefault(channel.name, {})
            if state.get("sent_at"):
                continue
            state["attempts"] = int(state.get("attempts", 0)) + 1
            try:
                await asyncio.wait_for(channel.send(alert), CHANNEL_TIMEOUT_SECONDS)
            except Exception as exc:  # any channel failure is retried, never fatal
                state["error"] = describe_error(exc)
                log.warning(
                    "escalation.channel_failed",
                    reference=incident.reference,
                    kind=note.kind,
                    channel=channel.name,
                    error=state["error"],
                )
            else:
                state["sent_at"] = now.isoformat()
                state.pop("error", None)
                # Saved at once: if this server stops now, this channel is not sent to again.
                await self.store.save_deliveries(note.id, deliveries)
        failed = [c.name for c in channels if not deliveries[c.name].get("sent_at")]
        if not failed:
            await self.store.finish_notification(
                note.id, deliveries=deliveries, status=m.SENT, now=now
            )
            log.info("escalation.sent", reference=incident.reference, kind=note.kind)
            return True
        error = "; ".join(f"{name}: {deliveries[name]['error']}" for name in failed)
        if note.attempts >= self.settings.retry.max_attempts:
            log.error("escalation.gave_up", reference=incident.reference, kind=note.kind)
            await self.store.finish_notification(
                note.id, deliveries=deliveries, status=m.FAILED, now=now, error=error
            )
            return False
        await self.store.finish_notification(
            note.id,
            deliveries=deliveries,
            status=m.PENDING,
            now=now,
            next_attempt_at=now + backoff(self.settings, note.attempts),
            error=error,
        )
        return False


async def wait_for_wake(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` pass, whichever is first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)
