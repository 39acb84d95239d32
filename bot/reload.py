"""Hot reload of the site configuration: a new engine swapped in, or the old one kept.

The site file (``DISCRETION_CONFIG``) is polled for changes and SIGHUP asks for a
reload at once. A new :class:`~discretion.engine.Engine` is built off the event
loop and replaces ``services.engine`` in one assignment, so a message is assessed
wholly by the old or wholly by the new configuration. A file that does not
validate, or an engine that cannot be built, leaves the running engine in place
and logs the problems by file, line and key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from discretion.config import ENV_VAR, ConfigError, ConfigProblem, Settings, load_settings
from discretion.logs import get_logger

log = get_logger("discretion.reload")

POLL_ENV = "DISCRETION_CONFIG_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 2.0


@dataclass
class ReloadStatus:
    """What the running configuration is, and how the last reload went."""

    version: str
    loaded_at: datetime
    reloads: int = 0
    # Problems that made the last attempt fail (file:line: key: why); empty when it worked.
    rejected: list[str] = field(default_factory=list)
    rejected_at: datetime | None = None


def _default_builder(settings: Settings) -> Any:
    from discretion.engine import Engine

    return Engine(settings)


class ConfigReloader:
    """Watches one site file and swaps ``services.engine`` when it changes and validates."""

    def __init__(
        self,
        services: Any,
        path: str | os.PathLike[str],
        *,
        interval: float = DEFAULT_POLL_SECONDS,
        build: Callable[[Settings], Any] = _default_builder,
    ):
        self.services = services
        self.path = Path(path)
        self.interval = interval
        self.build = build
        self.status = ReloadStatus(services.settings.config_version, datetime.now(UTC))
        # The digest of the file the running engine came from; a poll that reads the
        # same bytes does nothing.
        self._digest = self._read_digest()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._missing_logged = False
        # The reload SIGHUP started, so callers (and tests) can wait for it.
        self.pending: asyncio.Task[bool] | None = None
        self.listeners: list[Callable[[Any], None]] = []
        # True while SIGHUP asks this reloader for a reload.
        self.sighup = False

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    async def check(self) -> bool:
        """Reload if the file's content changed since the engine was built; True if swapped."""
        digest = self._read_digest()
        if digest is None:
            if not self._missing_logged:
                log.warning("config_file_unreadable", file=str(self.path), kept=self.status.version)
                self._missing_logged = True
            return False
        self._missing_logged = False
        if digest == self._digest:
            return False
        return await self.reload(reason="file changed")

    async def reload(self, reason: str = "requested") -> bool:
        """Load and validate the file, build an engine off the loop, swap it in; True if swapped."""
        async with self._lock:
            digest = self._read_digest()
            try:
                settings = await asyncio.to_thread(load_settings, self.path)
            except ConfigError as exc:
                self._reject(exc.problems, digest, reason)
                return False
            current = self.services.settings
            if settings.fingerprint == current.fingerprint:
                # Comments or layout changed, not the configuration: no new engine needed.
                self._digest = digest
                self.status.rejected, self.status.rejected_at = [], None
                log.info("config_unchanged", file=str(self.path), version=current.config_version)
                return False
            try:
                engine = await asyncio.to_thread(self.build, settings)
                # With assessment in a child process, the new child is loaded before the swap.
                await self.services.prepare_engine(engine)
            except ConfigError as exc:
                self._reject(exc.problems, digest, reason)
                return False
            except Exception as exc:  # any failure to build keeps the working engine
                problem = ConfigProblem(
                    str(self.path), None, "", f"engine could not be built ({type(exc).__name__})"
                )
                self._reject([problem], digest, reason)
                return False
            previous = current.config_version
            # One assignment each: Services.assess reads the engine once per message.
            self.services.engine = engine
            self.services.settings = settings
            self._digest = digest
            self.status = ReloadStatus(
                settings.config_version, datetime.now(UTC), self.status.reloads + 1
            )
            log.info(
                "config_in_use",
                file=str(self.path),
                version=settings.config_version,
                previous=previous,
                reason=reason,
            )
            for listener in self.listeners:
                listener(engine)
            return True

    def _reject(self, problems: list[ConfigProblem], digest: str | None, reason: str) -> None:
        # Remember the bad file's digest so the poll does not retry it every interval;
        # the next edit (or SIGHUP) tries again.
        self._digest = digest
        self.status.rejected = [str(p) for p in problems]
        self.status.rejected_at = datetime.now(UTC)
        for p in problems:
            log.error(
                "config_rejected",
                file=p.file,
                line=p.line,
                key=p.key,
                problem=p.message,
                reason=reason,
            )
        log.warning("config_kept", file=str(self.path), version=self.status.version)

    # --- running in the server ---------------------------------------------------------

    def request_reload(self) -> None:
        """Start a reload now (what SIGHUP does); its task is ``self.pending``."""
        self.pending = asyncio.get_running_loop().create_task(self.reload(reason="SIGHUP"))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception as exc:  # the watcher must outlive one bad poll
                log.error("config_poll_failed", file=str(self.path), error=type(exc).__name__)

    async def start(self) -> None:
        """Start polling and listening for SIGHUP."""
        log.info("config_in_use", file=str(self.path), version=self.status.version)
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._poll())
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # Only the main thread of a Unix process can take signals; elsewhere, poll alone.
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
            self.sighup = True

    async def stop(self) -> None:
        """Stop polling and give SIGHUP back its default meaning."""
        if self.sighup:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self.sighup = False
        for task in (self._task, self.pending):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = None


RELOADER: web.AppKey[ConfigReloader] = web.AppKey("reloader", ConfigReloader)


def mount(app: web.Application, services: Any) -> str | None:
    """Watch the site file named by ``DISCRETION_CONFIG``; None when there is none."""
    path = services.extras.get("config_path") or os.environ.get(ENV_VAR)
    if not path:
        return None
    interval = float(os.environ.get(POLL_ENV) or DEFAULT_POLL_SECONDS)
    reloader = ConfigReloader(services, path, interval=max(interval, 0.1))
    app[RELOADER] = reloader
    services.extras["reloader"] = reloader

    async def _start(_: web.Application) -> None:
        await reloader.start()

    async def _stop(_: web.Application) -> None:
        await reloader.stop()

    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    return f"watching {path} every {reloader.interval:g} s and on SIGHUP"
