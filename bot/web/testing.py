"""Helpers for testing the dashboard (here and on a site): an app on a store, accounts, sign-in.

Shipped with the package, like discretion.store.testing, so every test builds the
dashboard the same way the server does: through its mount.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from discretion.config import Settings, load_settings
from discretion.server import SERVICES, TEMPLATES, Services, templates
from discretion.store.db import Store
from discretion.web.accounts import create_user
from discretion.web.links import SETTINGS_KEY
from discretion.web.mount import mount
from discretion.web.settings import load_web_settings

TEST_SECRET = "a-test-signing-key-that-is-long-enough-0123456789"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def dashboard_app(
    store: Store, settings: Settings | None = None, **overrides: Any
) -> web.Application:
    """An aiohttp app with only the dashboard mounted, on ``store`` (no detection engine)."""
    services = Services(settings=settings or load_settings(None, use_env=False), engine=None)
    services.store = store
    services.extras[SETTINGS_KEY] = load_web_settings(env={}, secret_key=TEST_SECRET, **overrides)
    app = _application(services)
    mount(app, services)
    return app


def _application(services: Services) -> web.Application:
    app = web.Application()
    app[SERVICES] = services
    app[TEMPLATES] = templates()
    return app


async def add_user(store: Store, username: str, role: str, password: str, **more: Any) -> int:
    """Create an account directly in the database; returns its id."""
    async with store.sessions.begin() as db:
        user = await create_user(db, username=username, role=role, password=password, **more)
        return user.id


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered page's first form."""
    found = CSRF_INPUT.search(html)
    if not found:
        raise AssertionError("the page has no CSRF token")
    return found.group(1)


async def sign_in(client: Any, username: str, password: str) -> Any:
    """Sign a test client in through the real form; returns the response."""
    page = await client.get("/dashboard/sign-in")
    token = csrf_from(await page.text())
    return await client.post(
        "/dashboard/sign-in",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
