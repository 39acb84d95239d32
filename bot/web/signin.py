"""Signing in and out with a local account (username and password)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from discretion.logs import get_logger
from discretion.web import accounts, sessions
from discretion.web.context import Visit, page
from discretion.web.models import ROLES
from discretion.web.timefmt import duration

log = get_logger("discretion.web.signin")

HOME = "/dashboard/"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a dashboard address on this site."""
    if (
        target
        and target.startswith("/dashboard/")
        and not any(bad in target for bad in ("\\", "\n", "\r"))
    ):
        return target
    return HOME


@page()
async def sign_in_form(visit: Visit) -> web.StreamResponse:
    if visit.user is not None:
        return visit.redirect(safe_next(visit.request.query.get("next")))
    return visit.render(
        "dashboard/sign_in.html",
        next=safe_next(visit.request.query.get("next")),
        error=None,
        username="",
    )


@page()
async def sign_in(visit: Visit) -> web.StreamResponse:
    dash = visit.dashboard
    username = visit.field("username", 128)
    password = visit.form.get("password", "") if visit.form else ""
    password = password if isinstance(password, str) else ""
    target = safe_next(visit.field("next", 500))
    keys = (f"user:{accounts.normalise_username(username)}", f"ip:{visit.request.remote}")

    def again(error: str, status: int) -> web.Response:
        return visit.render(
            "dashboard/sign_in.html", status=status, next=target, error=error, username=username
        )

    wait = await dash.limiter.blocked(*keys)
    if wait is not None:
        log.info("web.signin_throttled")
        minutes = max(wait, timedelta(minutes=1))
        return again(f"Too many attempts. For safety, wait {duration(minutes)} and try again.", 429)
    if not username or not password:
        return again("Enter your username and your password.", 400)
    async with dash.store.sessions.begin() as db:
        user = await accounts.authenticate(db, username, password[:1024], dash.now())
        if user is None:
            await dash.limiter.failed(*keys)
            log.info("web.signin_failed")
            return again("That username and password do not match an account.", 401)
        lifetime = timedelta(hours=dash.settings.session_hours)
        # Any session token the browser already had is replaced, never reused.
        await sessions.end_session(db, visit.request.cookies.get(sessions.COOKIE))
        token = await sessions.start_session(db, user, dash.now(), lifetime)
        user_id, role = user.id, user.role
    await dash.limiter.succeeded(keys[0])
    log.info("web.signed_in", user_id=user_id, role=role if role in ROLES else "?")
    # Who could see the cases, and when, is part of the record the ICO may ask for.
    await dash.store.record_event(
        actor=f"web:{accounts.normalise_username(username)}",
        action="dashboard.signed_in",
        details={"role": role, "via": "password"},
    )
    visit.cookies_to_set[sessions.COOKIE] = (token, lifetime)
    return visit.redirect(target)


@page(roles=ROLES)
async def sign_out(visit: Visit) -> web.StreamResponse:
    async with visit.dashboard.store.sessions.begin() as db:
        await sessions.end_session(db, visit.signed_in.token if visit.signed_in else None)
    visit.cookies_to_clear.append(sessions.COOKIE)
    return visit.redirect("/dashboard/sign-in")
