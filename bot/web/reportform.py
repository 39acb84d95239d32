"""The short web form a one-click report link opens, and what submitting it does."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from discretion.logs import get_logger
from discretion.reasons import describe
from discretion.reporting import BreachReport, ReportError, report_breach
from discretion.web import present, queries
from discretion.web.context import Visit, page
from discretion.web.links import LinkClaims, LinkError, read_report_token
from discretion.web.timefmt import show

log = get_logger("discretion.web.report")

# What each refusal tells the person who clicked, and the HTTP status it comes with.
REFUSALS: dict[str, tuple[int, str, str]] = {
    "forged": (
        400,
        "This link is not genuine",
        "The link has been changed or did not come from Discretion. Use the link in your "
        "private warning, or tell your data protection lead directly.",
    ),
    "malformed": (
        400,
        "This link is not complete",
        "Part of the link is missing. Copy the whole link from your private warning, or tell "
        "your data protection lead directly.",
    ),
    "expired": (
        410,
        "This link has expired",
        "Report links work for a limited time. You can still report the breach: tell your "
        "data protection lead directly, or use the report command in Slack or Teams.",
    ),
    "used": (
        410,
        "This report has already been sent",
        "Each link sends one report, and this one has been used. Your data protection lead "
        "has the report.",
    ),
}
PRESET_ACTIONS: dict[str, str] = {
    "deleted": "I deleted the message",
    "told_manager": "I told my manager",
    "told_poster": "I asked the person who posted it to delete it",
}


def _refuse(visit: Visit, reason: str, reference: str | None = None) -> web.Response:
    status, title, detail = REFUSALS.get(reason, REFUSALS["malformed"])
    log.info("web.report_link_refused", reason=reason)
    return visit.render(
        "dashboard/problem.html", status=status, title=title, detail=detail, reference=reference
    )


async def _claims(visit: Visit) -> LinkClaims | web.Response:
    token = visit.request.match_info.get("token", "")
    dash = visit.dashboard
    try:
        claims = read_report_token(dash.settings, token, dash.now())
    except LinkError as exc:
        return _refuse(visit, exc.reason)
    used = await queries.used_link(dash.store, claims.jti)
    if used is not None:
        # The reference is only shown to whoever holds the genuine link: the reporter.
        return _refuse(visit, "used", used.reference)
    return claims


def _facts(claims: LinkClaims) -> dict[str, Any]:
    return {
        "platform": present.PLATFORM_NAMES.get(claims.platform, claims.platform),
        "channel": claims.channel,
        "permalink": claims.permalink,
        "message_time": show(claims.message_time) if claims.message_time else None,
        "kinds": [describe(t) for t in claims.entity_types],
        "expires": show(claims.expires_at),
    }


@page()
async def report_form(visit: Visit) -> web.StreamResponse:
    claims = await _claims(visit)
    if isinstance(claims, web.Response):
        return claims
    return visit.render(
        "dashboard/report_form.html",
        facts=_facts(claims),
        presets=PRESET_ACTIONS,
        error=None,
        values={},
    )


@page()
async def report_submit(visit: Visit) -> web.StreamResponse:
    claims = await _claims(visit)
    if isinstance(claims, web.Response):
        return claims
    dash = visit.dashboard
    what = visit.field("what_happened")
    done = [PRESET_ACTIONS[k] for k in PRESET_ACTIONS if visit.field(f"done_{k}", 3) == "on"]
    more = visit.field("actions_taken")
    if more:
        done.append(more)
    counts = claims.counts or {t: 1 for t in claims.entity_types}
    report = BreachReport(
        platform=claims.platform,
        workspace=claims.workspace or "",
        channel=claims.channel or "",
        permalink=claims.permalink or "",
        poster_id=claims.poster_id or "",
        # The link is sent privately to the poster, so the poster is the one reporting.
        reporter_id=claims.poster_id or "",
        message_at=claims.message_time,
        entity_counts=counts,
        reasons=[],
        redacted_excerpt="",
        message_hash=None,
        what_happened=what,
        actions_taken="\n".join(done),
        source="link",
        aware_at=dash.now(),
    )
    if not await queries.claim_link(dash.store, claims.jti, claims.expires_at, dash.now()):
        return _refuse(visit, "used")
    try:
        reference = await report_breach(
            dash.store, report, actor=f"{claims.platform}:{claims.poster_id or 'unknown'}"
        )
    except ReportError as exc:
        await queries.release_link(dash.store, claims.jti)
        return visit.render(
            "dashboard/report_form.html",
            status=400,
            facts=_facts(claims),
            presets=PRESET_ACTIONS,
            error=str(exc),
            values={"what_happened": what, "actions_taken": more},
        )
    except Exception:
        # Saving failed: give the link back so the report can be sent again, not lost.
        await queries.release_link(dash.store, claims.jti)
        raise
    await queries.link_used_for(dash.store, claims.jti, reference)
    log.info("web.report_link_used", reference=reference)
    return visit.render("dashboard/report_sent.html", reference=reference)
