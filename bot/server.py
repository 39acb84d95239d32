"""The one aiohttp application: health checks, the try-a-message page, and mounts.

Platform adapters and the reporting pages add their routes through
:data:`EXTENSIONS`; each one is a ``mount(app, services)`` function that returns
a one-line description for the start-up log, or None when it is not configured.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from discretion import metrics
from discretion.assessment import Assessment
from discretion.config import Settings
from discretion.logs import get_logger
from discretion.message import Message
from discretion.work import WorkQueue

log = get_logger("discretion.server")

# "module:function" mounts, in order. Each adds its routes or returns None.
EXTENSIONS: list[str] = [
    "discretion.store.mount:mount",
    "discretion.retention:mount",
    "discretion.reload:mount",
    "discretion.adapters.slack.mount:mount",
    "discretion.web.mount:mount",
    "discretion.web.tuning_pages:mount",
    "discretion.adapters.teams.mount:mount",
]

MAX_TRY_CHARS = 20_000
SWITCH_INTERVAL = 0.0005  # seconds


@dataclass
class Services:
    """What every part of the server shares: settings, engine, thread pool, stores."""

    settings: Settings
    engine: Any
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "assess"))
    # Work taken off the request path (assess, then reply); see discretion.work. Jobs mostly
    # wait on the network, and the CPU part is batched, so many may be in flight at once.
    work: WorkQueue = field(default_factory=lambda: WorkQueue(workers=32))
    # The adapters' own queues, by name, so /metrics reports every backlog.
    queues: dict[str, Any] = field(default_factory=dict)
    # The database store (discretion.store), set by its mount; None until then.
    store: Any = None
    # What the engine remembers of recent messages per author and thread (derived features only).
    memory: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    _batcher: Any = field(default=None, repr=False)
    # Runs the engine in a child process (discretion.assess_process); None: in a thread here.
    assessor: Any = None
    on_ready: list[Callable[[], Awaitable[bool]]] = field(default_factory=list)

    async def prepare_engine(self, engine: Any) -> None:
        """Get a new engine ready to take over (its child process loaded, if there is one)."""
        if self.assessor is not None:
            await asyncio.to_thread(self.assessor.prepare, engine)

    async def assess(self, message: Message, memory: Any = None) -> Assessment:
        """Assess off the event loop (spaCy is CPU-bound), counting and timing it.

        ``memory`` defaults to the process's thread memory, so details spread over
        several messages add up wherever the message came from.
        """
        memory = self.memory if memory is None else memory
        if memory is self.memory:
            # The usual path: batched with whatever else is waiting (one spaCy pass for many).
            if self._batcher is None:
                from discretion.batching import AssessBatcher

                self._batcher = AssessBatcher(self, self.memory)
            return await self._batcher.assess(message)
        loop = asyncio.get_running_loop()
        engine = self.engine  # read once: a reload may swap it while we wait
        with metrics.ASSESS_SECONDS.labels(message.platform).time():
            assessment = await loop.run_in_executor(self.executor, engine.assess, message, memory)
        metrics.EVENTS_ASSESSED.labels(message.platform).inc()
        if assessment.warn:
            metrics.WARNINGS.labels(message.platform).inc()
        return assessment


SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)


def templates() -> jinja2.Environment:
    """The Jinja2 environment for server-rendered pages (autoescaped)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("discretion", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        enable_async=False,
    )


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """Render a template to an HTML response."""
    html = request.app[TEMPLATES].get_template(name).render(**context)
    return web.Response(text=html, status=status, content_type="text/html")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks = {"engine": services.engine is not None}
    if services.assessor is not None:
        checks["assess_process"] = services.assessor.ready
    for check in services.on_ready:
        try:
            checks[getattr(check, "__name__", "check")] = await check()
        except Exception:  # a failing dependency makes us not ready; it must not crash the probe
            checks[getattr(check, "__name__", "check")] = False
    ok = all(checks.values())
    return web.json_response(
        {
            "status": "ready" if ok else "not ready",
            "checks": checks,
            "config": services.settings.config_version,
        },
        status=200 if ok else 503,
    )


def add_redis_check(app: web.Application, services: Services, url: str) -> None:
    """Make /readyz ping the Redis at ``url`` (shared work, dedupe, memory live there)."""
    import redis.asyncio as aioredis

    # Short timeouts: the probe must answer "not ready" well within its own deadline.
    client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    async def redis() -> bool:
        return bool(await client.ping())

    async def _close(_: web.Application) -> None:
        await client.aclose()

    services.on_ready.append(redis)
    app.on_cleanup.append(_close)


async def metrics_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    metrics.QUEUE_DEPTH.labels("server").set(services.work.depth)
    for name, queue in services.queues.items():
        metrics.QUEUE_DEPTH.labels(name).set(queue.depth)
    return web.Response(
        body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE_LATEST}
    )


async def try_page(request: web.Request) -> web.Response:
    return render(request, "try.html", assessment=None, error=None)


async def try_submit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await request.post()
    text = form.get("text", "")
    if not isinstance(text, str) or not text.strip():
        return render(
            request, "try.html", status=400, assessment=None, error="Type a message to check."
        )
    if len(text) > MAX_TRY_CHARS:
        return render(
            request,
            "try.html",
            status=413,
            assessment=None,
            error=f"That is longer than {MAX_TRY_CHARS:,} characters; try a shorter message.",
        )
    assessment = await services.assess(Message(text=text, platform="web"))
    from discretion.reasons import describe

    return render(request, "try.html", assessment=assessment, describe=describe, error=None)


def create_app(
    settings: Settings, engine: Any | None = None, *, separate_process: bool | None = None
) -> web.Application:
    """Build the aiohttp application with every configured part mounted.

    ``separate_process`` runs assessment in a child process; by default it follows
    ``nlp.separate_process`` when the server builds its own engine, and is off when
    an engine is passed in (tests share one engine and need no child).
    """
    if separate_process is None:
        separate_process = engine is None and settings.nlp.separate_process
    if engine is None:
        from discretion.engine import Engine

        engine = Engine(settings)
    app = web.Application(client_max_size=2 * 1024 * 1024)
    from discretion.memory import memory_for

    services = Services(settings=settings, engine=engine, memory=memory_for(settings))
    if separate_process:
        from discretion.assess_process import ProcessAssessor

        services.assessor = ProcessAssessor()
    app[SERVICES] = services
    app[TEMPLATES] = templates()
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        add_redis_check(app, services, redis_url)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/", try_page)
    app.router.add_post("/", try_submit)
    static = Path(__file__).parent / "static"
    if static.is_dir():
        app.router.add_static("/static/", static)
    for spec in EXTENSIONS:
        module, _, func = spec.partition(":")
        mount = getattr(importlib.import_module(module), func)
        said = mount(app, services)
        log.info("mounted", part=spec, detail=said or "not configured")

    async def _start_work(_: web.Application) -> None:
        await services.prepare_engine(services.engine)
        await services.work.start()

    async def _shutdown(_: web.Application) -> None:
        # Drain accepted work before the executor goes: nothing accepted is lost.
        await services.work.stop()
        services.executor.shutdown(wait=True, cancel_futures=False)
        if services.assessor is not None:
            await asyncio.to_thread(services.assessor.close)

    app.on_startup.append(_start_work)
    app.on_shutdown.append(_shutdown)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 3978) -> int:
    """Run the server until interrupted; returns the exit status."""
    os.makedirs("var", exist_ok=True)
    app = create_app(settings)

    async def _settle_heap(_: web.Application) -> None:
        # Everything loaded so far (the model, the configuration, the mounts) lives as
        # long as the process: set it aside, so the garbage collector's full passes walk
        # only what requests create, not a million long-lived objects each time.
        gc.collect()
        gc.freeze()
        # Threads that only pass work on (to the assessing child, the database) wait for
        # the event loop to let go of the interpreter; by default up to 5 ms each time.
        sys.setswitchinterval(SWITCH_INTERVAL)

    app.on_startup.append(_settle_heap)
    log.info("starting", host=host, port=port, config=settings.config_version)
    print(f"Discretion is running: open http://{host}:{port}/ to try a message.", flush=True)
    web.run_app(app, host=host, port=port, print=None)
    return 0
