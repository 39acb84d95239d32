"""Mount the dashboard and the report-link form on the shared aiohttp application."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp import web

from discretion.server import Services
from discretion.store.models import utcnow
from discretion.web import cases, export, reportform, signin
from discretion.web.context import DASHBOARD, Dashboard
from discretion.web.links import REPORT_PAGES_KEY, web_settings
from discretion.web.ratelimit import limiter_from_env

REFERENCE = re.compile(r"[A-Za-z0-9-]{1,40}")


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/dashboard/")


async def _short_case(request: web.Request) -> web.StreamResponse:
    # Escalation messages link to /cases/<reference> by default (escalation.case_path).
    reference = request.match_info["reference"]
    if not REFERENCE.fullmatch(reference):
        raise web.HTTPNotFound()
    raise web.HTTPFound(f"/dashboard/cases/{reference}")


def add_routes(app: web.Application) -> None:
    """Every dashboard address."""
    r = app.router
    r.add_get("/dashboard", _home)
    r.add_get("/cases/{reference}", _short_case)
    r.add_get("/dashboard/", cases.case_list)
    r.add_get("/dashboard/sign-in", signin.sign_in_form)
    r.add_post("/dashboard/sign-in", signin.sign_in)
    r.add_post("/dashboard/sign-out", signin.sign_out)
    r.add_get("/dashboard/export.csv", export.export_csv)
    r.add_get("/dashboard/export.json", export.export_json)
    r.add_get("/dashboard/cases/{reference}", cases.case_page)
    r.add_get("/dashboard/cases/{reference}/ico-summary", cases.ico_summary)
    r.add_post("/dashboard/cases/{reference}/grade", cases.grade_case)
    r.add_post("/dashboard/cases/{reference}/status", cases.change_status)
    r.add_post("/dashboard/cases/{reference}/patient", cases.record_patient)
    r.add_post("/dashboard/cases/{reference}/actions", cases.record_action)
    r.add_get("/report/{token}", reportform.report_form)
    r.add_post("/report/{token}", reportform.report_submit)


def mount(app: web.Application, services: Services) -> str | None:
    """Add the dashboard when the store is there; returns what was mounted, or None."""
    if services.store is None:
        return None
    settings = web_settings(services)
    limiter = limiter_from_env(
        settings.signin_attempts,
        timedelta(minutes=settings.signin_window_minutes),
        now=utcnow,
        secret=settings.secret_key,
    )
    dashboard = Dashboard(
        services=services, store=services.store, settings=settings, limiter=limiter, now=utcnow
    )
    # The limiter follows the dashboard's clock, even when a test sets it.
    limiter.now = lambda: dashboard.now()

    async def _close_limiter(_: web.Application) -> None:
        await limiter.close()

    app.on_cleanup.append(_close_limiter)
    if settings.oidc is not None:
        from discretion.web.oidc import OidcClient, add_oidc_routes

        dashboard.oidc = OidcClient(settings.oidc, settings)
        add_oidc_routes(app)
    app[DASHBOARD] = dashboard
    add_routes(app)
    services.extras[REPORT_PAGES_KEY] = True  # adapters may now put report links in warnings
    said = f"dashboard at {settings.public_url}/dashboard/"
    return said + (" with OpenID Connect sign-in" if dashboard.oidc else "")
