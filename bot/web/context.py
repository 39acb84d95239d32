"""Request plumbing for dashboard pages: who is signed in, CSRF, cookies, safe headers.

Every dashboard handler is wrapped by :func:`page`, which loads the visitor's
session, turns away anyone whose role does not allow the page, checks the CSRF
token on every form, and adds headers that keep pages out of caches and frames.
It is applied per route, not as an app middleware, so the Slack and Teams
endpoints that share this server are left exactly as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from discretion.logs import get_logger
from discretion.server import TEMPLATES, Services
from discretion.store.db import Store
from discretion.web import csrf, sessions
from discretion.web.models import CAN_EDIT, CAN_READ_ALL, ROLE_NAMES, DashboardUser
from discretion.web.ratelimit import SignInLimiter
from discretion.web.settings import WebSettings
from discretion.web.timefmt import for_input, show

log = get_logger("discretion.web")

# No scripts at all; inline styles only because the shared base template has them.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    # Report-link tokens are in addresses: never pass them on to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Case pages must not linger in shared computers' caches.
    "Cache-Control": "no-store",
}


@dataclass
class Dashboard:
    """What the dashboard's handlers share: the store, settings, sign-in limiter, clock."""

    services: Services
    store: Store
    settings: WebSettings
    limiter: SignInLimiter
    now: Callable[[], datetime]
    oidc: Any = None


DASHBOARD: web.AppKey[Dashboard] = web.AppKey("dashboard", Dashboard)


@dataclass
class Visit:
    """One request to a dashboard page: who is asking, and their form if they sent one."""

    request: web.Request
    dashboard: Dashboard
    signed_in: sessions.SignedIn | None
    csrf_cookie: str
    new_csrf_cookie: bool
    form: MultiDictProxy[Any] | None = None
    cookies_to_set: dict[str, tuple[str, timedelta | None]] = field(default_factory=dict)
    cookies_to_clear: list[str] = field(default_factory=list)

    @property
    def user(self) -> DashboardUser | None:
        """The signed-in account, if any."""
        return self.signed_in.user if self.signed_in else None

    @property
    def role(self) -> str | None:
        """The signed-in account's role, if any."""
        return self.user.role if self.user else None

    @property
    def actor(self) -> str:
        """Who this is, for the audit trail ("web:username")."""
        return f"web:{self.user.username}" if self.user else "web:anonymous"

    @property
    def can_edit(self) -> bool:
        """True when this person may change a case."""
        return self.role in CAN_EDIT

    @property
    def can_read_all(self) -> bool:
        """True when this person may read every case."""
        return self.role in CAN_READ_ALL

    @property
    def csrf_token(self) -> str:
        """The token this visitor's forms must carry."""
        token = self.signed_in.token if self.signed_in else None
        return csrf.token_for(self.dashboard.settings.secret_key, self.csrf_cookie, token)

    def field(self, name: str, limit: int = 4000) -> str:
        """A text field from the submitted form ('' when absent), trimmed to ``limit``."""
        if self.form is None:
            return ""
        value = self.form.get(name, "")
        return value.strip()[:limit] if isinstance(value, str) else ""

    def render(self, name: str, status: int = 200, **context: Any) -> web.Response:
        """A dashboard page rendered with the visitor's details and CSRF token."""
        html = (
            self.request.app[TEMPLATES]
            .get_template(name)
            .render(
                visit=self,
                user=self.user,
                role_name=ROLE_NAMES.get(self.role or "", ""),
                csrf_field=csrf.FIELD,
                csrf_token=self.csrf_token,
                now=self.dashboard.now(),
                show=show,
                for_input=for_input,
                oidc=self.dashboard.oidc,
                **context,
            )
        )
        return web.Response(text=html, status=status, content_type="text/html")

    def redirect(self, location: str) -> web.Response:
        """A 303 See Other, so a refreshed page never re-sends a form."""
        return web.Response(status=303, headers={"Location": location})


Handler = Callable[[Visit], Awaitable[web.StreamResponse]]


def _secure(request: web.Request, settings: WebSettings) -> bool:
    return settings.secure_cookies or request.secure


def _finish(visit: Visit, response: web.StreamResponse) -> web.StreamResponse:
    settings = visit.dashboard.settings
    secure = _secure(visit.request, settings)
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    if visit.new_csrf_cookie:
        response.set_cookie(
            csrf.COOKIE, visit.csrf_cookie, httponly=True, samesite="Lax", secure=secure, path="/"
        )
    for name, (value, lifetime) in visit.cookies_to_set.items():
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="Lax",
            secure=secure,
            path="/",
            max_age=int(lifetime.total_seconds()) if lifetime else None,
        )
    for name in visit.cookies_to_clear:
        response.del_cookie(name, path="/")
    return response


def _route(request: web.Request) -> str:
    # The route pattern, never the address itself: a report link's token is in its address.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "?"


def sign_in_address(request: web.Request) -> str:
    """The sign-in page, remembering where the visitor was going."""
    return f"/dashboard/sign-in?next={quote(request.path_qs, safe='')}"


def page(roles: Collection[str] | None = None) -> Callable[[Handler], Any]:
    """Wrap a dashboard handler: session, role check, CSRF check on POST, safe headers.

    ``roles`` None means anyone may see the page (sign-in, report links); otherwise
    the visitor must be signed in with one of ``roles``.
    """

    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            dash = request.app[DASHBOARD]
            cookie = request.cookies.get(csrf.COOKIE, "")
            fresh = not (16 <= len(cookie) <= 100)
            if fresh:
                cookie = csrf.new_cookie_value()
            async with dash.store.sessions.begin() as db:
                signed_in = await sessions.load_session(
                    db, request.cookies.get(sessions.COOKIE), dash.now()
                )
            visit = Visit(request, dash, signed_in, cookie, fresh)
            if roles is not None and signed_in is None:
                if request.method == "GET":
                    return _finish(visit, visit.redirect(sign_in_address(request)))
                return _finish(
                    visit,
                    visit.render(
                        "dashboard/problem.html",
                        status=401,
                        title="Please sign in again",
                        detail="Your session has ended. Sign in, then try again.",
                    ),
                )
            if roles is not None and visit.role not in roles:
                log.info("web.forbidden", route=_route(request), role=visit.role)
                return _finish(
                    visit,
                    visit.render(
                        "dashboard/problem.html",
                        status=403,
                        title="You cannot do that",
                        detail="Your account's role does not allow this. Ask the data "
                        "protection lead if you think it should.",
                    ),
                )
            if request.method == "POST":
                if request.content_type not in (
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                ):
                    return _finish(
                        visit,
                        visit.render(
                            "dashboard/problem.html",
                            status=415,
                            title="That was not a form",
                            detail="Send this page's form from the browser.",
                        ),
                    )
                visit.form = await request.post()
                sent = visit.form.get(csrf.FIELD, "")
                token = signed_in.token if signed_in else None
                if fresh or not csrf.valid(
                    dash.settings.secret_key, cookie, token, sent if isinstance(sent, str) else ""
                ):
                    log.info("web.csrf_refused", route=_route(request))
                    return _finish(
                        visit,
                        visit.render(
                            "dashboard/problem.html",
                            status=403,
                            title="This form has expired",
                            detail="For your safety the form could not be accepted. Go back, "
                            "reload the page and send it again.",
                        ),
                    )
            return _finish(visit, await handler(visit))

        return run

    return wrap
