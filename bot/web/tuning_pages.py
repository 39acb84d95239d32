"""The admins' tuning page: try a message, evaluate a corpus, act on 'Not patient data'.

Everything compares the configuration in use with the *proposed* one (see
:mod:`discretion.tuning`): suggestions are written to the proposed file only, and
the admin sees what would change before copying it over the site file. Pages
never show or log a message's text: a tried message comes back redacted, and a
corpus is reported by message id.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from discretion.config import ConfigError, Settings
from discretion.evaluate import CorpusError, evaluate, parse_corpus
from discretion.logs import get_logger
from discretion.message import Message
from discretion.reasons import describe
from discretion.server import Services
from discretion.tuning import (
    KINDS,
    Proposal,
    ReportGroup,
    Suggestion,
    apply_suggestion,
    discard_proposal,
    group_reports,
    proposed_path,
    read_proposal,
    recognizer_entities,
    site_path,
)
from discretion.warnings_log import OUTCOMES, WarningStats, warning_stats
from discretion.web.context import DASHBOARD, Visit, page
from discretion.web.models import ADMIN

log = get_logger("discretion.web.tuning")

ROLES = frozenset({ADMIN})
BASE = "/dashboard/tuning"
STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {"chart.umd.min.js", "tuning.js", "warnings.js"}
MAX_TRY_CHARS = 20_000
MAX_CORPUS_BYTES = 1_500_000
REPORT_LIMIT = 2000
CHART_DAYS = 30
# The dashboard forbids scripts; this page runs two of its own files (Chart.js and the
# code that draws the charts), from this server only, and nothing inline.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class Tuner:
    """What the tuning pages keep between requests: the proposed engine, the last corpus hits."""

    services: Services
    _engines: dict[str, Any] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Per recognizer: messages of the last uploaded corpus it found something in.
    corpus_hits: dict[str, int] = field(default_factory=dict)
    corpus_name: str = ""

    def site(self) -> Path | None:
        """The site file in use: the one hot reload watches, else $DISCRETION_CONFIG."""
        reloader = self.services.extras.get("reloader")
        return Path(reloader.path) if reloader is not None else site_path()

    def proposed(self) -> Path:
        """Where the proposed file is."""
        return proposed_path(self.site())

    def proposal(self) -> tuple[Proposal | None, list[str]]:
        """The proposal and no problems, or None and why it cannot be loaded."""
        try:
            return read_proposal(self.proposed()), []
        except ConfigError as exc:
            return None, [str(p) for p in exc.problems]

    async def proposed_engine(self, settings: Settings) -> Any:
        """An engine for the proposed settings, built once per version, off the event loop."""
        async with self._lock:
            engine = self._engines.get(settings.fingerprint)
            if engine is None:
                from discretion.engine import Engine

                engine = await asyncio.to_thread(Engine, settings)
                # One proposal at a time: an older one's engine is only memory.
                self._engines = {settings.fingerprint: engine}
            return engine


TUNER: web.AppKey[Tuner] = web.AppKey("tuner", Tuner)


def _secured(response: web.Response) -> web.Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


def _problem(visit: Visit, status: int, title: str, detail: str) -> web.Response:
    return visit.render("dashboard/problem.html", status=status, title=title, detail=detail)


# --- the overview ---------------------------------------------------------------------


async def _reports(visit: Visit) -> list[Any]:
    return list(await visit.dashboard.store.false_positives(limit=REPORT_LIMIT))


def _chart_data(reports: list[Any], incidents: list[Any], visit: Visit) -> dict[str, Any]:
    """Counts for the charts: breach reports and 'Not patient data' reports side by side."""
    today = visit.dashboard.now().date()
    days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    count: dict[str, dict[str, Counter[str]]] = {
        axis: {"breach": Counter(), "false": Counter()} for axis in ("day", "type", "channel")
    }
    for r in reports:
        if r.created_at is not None:
            count["day"]["false"][r.created_at.date().isoformat()] += 1
        count["type"]["false"].update(r.entity_types or ["(not recorded)"])
        count["channel"]["false"][r.channel or "(not recorded)"] += 1
    for i in incidents:
        count["day"]["breach"][i.aware_at.date().isoformat()] += 1
        count["type"]["breach"].update((i.entity_counts or {"(not recorded)": 1}).keys())
        count["channel"]["breach"][i.channel or "(not recorded)"] += 1

    def series(axis: str, labels: list[str]) -> dict[str, Any]:
        c = count[axis]
        return {
            "labels": labels,
            "breach": [c["breach"].get(x, 0) for x in labels],
            "false": [c["false"].get(x, 0) for x in labels],
        }

    def top(axis: str, n: int) -> list[str]:
        both = count[axis]["breach"] + count[axis]["false"]
        return [x for x, _ in both.most_common(n)]

    return {
        "day": series("day", [d.isoformat() for d in days]),
        "type": series("type", top("type", 15)),
        "channel": series("channel", top("channel", 10)),
    }


# What followed a warning, in the words the page uses (a warning can have several).
OUTCOME_WORDS = {
    "deleted": "Deleted",
    "replaced": "Redacted version posted",
    "reported": "Reported as a breach",
    "not_patient_data": "Not patient data",
    "none": "None of these",
}


def _warning_chart(stats: WarningStats) -> dict[str, Any]:
    """The warnings charts' data: counts per day, channel and kind; outcomes as percentages."""
    keys = [*OUTCOMES, "none"]
    return {
        "day": {"labels": stats.days, "count": stats.per_day},
        "channel": {
            "labels": [c for c, _ in stats.per_channel],
            "count": [n for _, n in stats.per_channel],
        },
        "type": {
            "labels": [t for t, _ in stats.per_type],
            "count": [n for _, n in stats.per_type],
        },
        "outcome": {
            "labels": [OUTCOME_WORDS[k] for k in keys],
            "share": [round(100 * stats.share(k), 1) for k in keys],
            "count": [stats.followed.get(k, 0) for k in keys],
        },
    }


def _recognizer_rows(
    tuner: Tuner, settings: Settings, engine: Any, groups: list[ReportGroup]
) -> list[dict[str, Any]]:
    site = {r.name for r in settings.recognizers}
    reported = Counter[str]()
    for g in groups:
        reported[g.recognizer] += g.reports
    rows = []
    for name, types in sorted(recognizer_entities(engine).items()):
        rows.append(
            {
                "name": name,
                "types": sorted(types),
                "site": name in site,
                "reports": reported.get(name, 0),
                "corpus_hits": tuner.corpus_hits.get(name) if tuner.corpus_name else None,
            }
        )
    return rows


@page(ROLES)
async def overview(visit: Visit) -> web.StreamResponse:
    """The tuning page: configuration, proposal, forms, reports with suggestions, recognizers."""
    tuner = visit.request.app[TUNER]
    services = tuner.services
    settings, engine = services.settings, services.engine
    reports = await _reports(visit)
    incidents = await visit.dashboard.store.list_incidents(limit=REPORT_LIMIT)
    proposal, proposal_problems = tuner.proposal()
    base = proposal.settings if proposal is not None else None
    groups = group_reports(reports, settings, engine, base)
    reloader = services.extras.get("reloader")
    warned = await warning_stats(visit.dashboard.store, now=visit.dashboard.now(), days=CHART_DAYS)
    return _secured(
        visit.render(
            "tuning/overview.html",
            warned=warned,
            warning_chart=_warning_chart(warned),
            outcome_words=OUTCOME_WORDS,
            settings=settings,
            site=tuner.site(),
            proposed=tuner.proposed(),
            proposal=proposal,
            proposal_problems=proposal_problems,
            reload_status=reloader.status if reloader is not None else None,
            groups=groups,
            reports=len(reports),
            chart=_chart_data(reports, incidents, visit),
            breaches=len(incidents),
            recognizers=_recognizer_rows(tuner, settings, engine, groups),
            corpus_name=tuner.corpus_name,
            describe=describe,
            applied=visit.request.query.get("done", ""),
        )
    )


# --- try a message ---------------------------------------------------------------------


async def _side(engine: Any, text: str) -> dict[str, Any]:
    # Straight to the engine, not Services.assess: an admin's tries are not warnings to count.
    assessment = await asyncio.to_thread(engine.assess, Message(text=text, platform="web"))
    explanation = await asyncio.to_thread(engine.explain, text)
    return {"assessment": assessment, "explanation": explanation}


@page(ROLES)
async def try_message(visit: Visit) -> web.StreamResponse:
    """One message against the configuration in use and the proposed one, side by side."""
    tuner = visit.request.app[TUNER]
    raw = visit.form.get("text", "") if visit.form is not None else ""
    text = raw if isinstance(raw, str) else ""
    if not text.strip():
        return _problem(visit, 400, "Type a message to try", "The message box was empty.")
    if len(text) > MAX_TRY_CHARS:
        return _problem(
            visit,
            413,
            "That message is too long",
            f"Try a message of at most {MAX_TRY_CHARS:,} characters.",
        )
    services = tuner.services
    current = await _side(services.engine, text)
    proposal, problems = tuner.proposal()
    proposed = None
    if proposal is not None:
        proposed = await _side(await tuner.proposed_engine(proposal.settings), text)
    return _secured(
        visit.render(
            "tuning/try.html",
            current=current,
            proposed=proposed,
            proposal=proposal,
            proposal_problems=problems,
            describe=describe,
        )
    )


# --- evaluate a corpus -------------------------------------------------------------------


@page(ROLES)
async def evaluate_corpus(visit: Visit) -> web.StreamResponse:
    """Evaluate an uploaded labelled corpus with the configuration in use and the proposal."""
    tuner = visit.request.app[TUNER]
    upload = visit.form.get("corpus") if visit.form is not None else None
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", ""):
        return _problem(visit, 400, "Choose a corpus file", "Pick a .jsonl file to upload.")
    data = upload.file.read(MAX_CORPUS_BYTES + 1)
    if len(data) > MAX_CORPUS_BYTES:
        return _problem(
            visit, 413, "That file is too large", f"Upload at most {MAX_CORPUS_BYTES:,} bytes."
        )
    name = Path(upload.filename).name[:120]
    try:
        examples = parse_corpus(data.splitlines(), name)
    except CorpusError as exc:
        return _secured(
            visit.render("tuning/evaluation.html", corpus_name=name, problems=exc.problems[:50])
        )
    services = tuner.services
    proposal, problems = tuner.proposal()
    other = await tuner.proposed_engine(proposal.settings) if proposal is not None else None
    try:
        result = await asyncio.to_thread(evaluate, examples, services.engine, other, name)
    except CorpusError as exc:
        return _secured(
            visit.render("tuning/evaluation.html", corpus_name=name, problems=exc.problems[:50])
        )
    tuner.corpus_name = name
    tuner.corpus_hits = {k: v["messages"] for k, v in result.current["recognizers"].items()}
    log.info("tuning.evaluated", messages=len(examples), actor=visit.actor)
    return _secured(
        visit.render(
            "tuning/evaluation.html",
            corpus_name=name,
            problems=[],
            result=result,
            proposal_problems=problems,
            columns=COLUMNS,
        )
    )


COLUMNS = (
    ("recall", "Recall", "share of messages that should warn that did"),
    ("false_alarm", "False alarms", "share of harmless messages that warned"),
    ("precision", "Precision", "share of warnings that were right"),
    ("f2", "F2", "recall-weighted score"),
    ("leak", "Leak", "share of identifiers left in the redacted text"),
    ("quasi_kept", "Quasi kept", "share of identifying details left as they were"),
    ("altered_neg", "Altered harmless", "share of harmless messages the redaction changed"),
)


# --- suggestions -------------------------------------------------------------------------


def _find(
    groups: list[ReportGroup], kind: str, entity: str, recognizer: str, value: str
) -> Suggestion | None:
    for g in groups:
        for s in g.suggestions:
            if (s.kind, s.entity_type, s.recognizer, s.value) == (kind, entity, recognizer, value):
                return s
    return None


@page(ROLES)
async def apply(visit: Visit) -> web.StreamResponse:
    """Write one offered suggestion into the proposed file (never the file in use)."""
    tuner = visit.request.app[TUNER]
    kind = visit.field("kind", 32)
    if kind not in KINDS:
        return _problem(visit, 400, "Unknown suggestion", "Reload the tuning page and try again.")
    proposal, _ = tuner.proposal()
    groups = group_reports(
        await _reports(visit),
        tuner.services.settings,
        tuner.services.engine,
        proposal.settings if proposal is not None else None,
    )
    suggestion = _find(
        groups,
        kind,
        visit.field("entity_type", 64),
        visit.field("recognizer", 128),
        visit.field("value", 200),
    )
    if suggestion is None:
        return _problem(
            visit,
            409,
            "That suggestion is no longer offered",
            "The reports or the configuration changed since the page was shown. Reload it.",
        )
    word = visit.field("word", 40)
    if kind == "context_word" and word:
        suggestion = Suggestion(
            kind, suggestion.entity_type, suggestion.recognizer, word, suggestion.reports
        )
    try:
        await asyncio.to_thread(apply_suggestion, suggestion, tuner.site(), tuner.proposed())
    except (ValueError, ConfigError) as exc:
        return _problem(visit, 400, "The proposal was not changed", str(exc))
    # Which kind of change and where, never the word itself (it may be a name).
    log.info(
        "tuning.proposed",
        kind=kind,
        entity_type=suggestion.entity_type,
        recognizer=suggestion.recognizer,
        actor=visit.actor,
    )
    return visit.redirect(f"{BASE}/?done=proposed#proposal")


@page(ROLES)
async def discard(visit: Visit) -> web.StreamResponse:
    """Delete the proposed file."""
    tuner = visit.request.app[TUNER]
    removed = await asyncio.to_thread(discard_proposal, tuner.proposed())
    log.info("tuning.discarded", removed=removed, actor=visit.actor)
    return visit.redirect(f"{BASE}/?done=discarded#proposal")


async def asset(request: web.Request) -> web.StreamResponse:
    """Chart.js and the chart code, served from the package (no outside address)."""
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.FileResponse(
        STATIC / name,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"{BASE}/")


def mount(app: web.Application, services: Services) -> str | None:
    """Add the tuning pages to the dashboard; None when the dashboard is not mounted."""
    if DASHBOARD not in app:
        return None
    app[TUNER] = Tuner(services)
    r = app.router
    r.add_get(BASE, _home)
    r.add_get(f"{BASE}/", overview)
    r.add_post(f"{BASE}/try", try_message)
    r.add_post(f"{BASE}/evaluate", evaluate_corpus)
    r.add_post(f"{BASE}/apply", apply)
    r.add_post(f"{BASE}/discard", discard)
    r.add_get(f"{BASE}/assets/{{name}}", asset)
    return f"tuning pages at {BASE}/ (administrators)"
