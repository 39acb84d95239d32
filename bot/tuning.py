"""From staff's "Not patient data" reports to proposed configuration changes, for review.

Reports are grouped by recognizer and entity type. Each group offers one-click
suggestions: allow a word staff said is not patient data, raise the entity type's
threshold, or make a site recognizer need a context word nearby. Applying one
writes a *proposed* site file beside the real one, validated exactly like a site
file. Nothing here touches the file in use: an admin compares the two
(``discretion eval CORPUS --compare PROPOSED``) and copies the proposal over the
site file when happy; hot reload then puts it into service.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from discretion.config import ENV_VAR, ConfigError, ConfigProblem, Settings, load_settings

PROPOSED_ENV = "DISCRETION_PROPOSED_CONFIG"
DEFAULT_PROPOSED = Path("var") / "proposed-config.yaml"
PROPOSED_SUFFIX = "-proposed"

THRESHOLD_STEP = 0.1
MAX_THRESHOLD = 0.95
# A site recognizer made to need context scores this far under the threshold on its
# own; Presidio's context enhancement (+0.35, see presidio.yaml) lifts it back over.
CONTEXT_MARGIN = 0.05
MAX_WORD_CHARS = 80

# Words that usually sit next to a real identifier of each type, for when no shipped
# recognizer of that type has context words to borrow.
CONTEXT_HINTS: dict[str, tuple[str, ...]] = {
    "HOSPITAL_NUMBER": ("mrn", "hosp no", "hospital number"),
    "PERSON": ("patient", "pt"),
}
FALLBACK_HINTS = ("patient", "pt")

Kind = Literal["allow_list", "raise_threshold", "context_word"]
KINDS: tuple[str, ...] = ("allow_list", "raise_threshold", "context_word")
UNKNOWN = "(not recorded)"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One change to the site configuration that should stop some false alarms."""

    kind: Kind
    entity_type: str
    recognizer: str
    value: str  # the word to allow or to add as context, or the new threshold ("0.60")
    reports: int = 0

    def describe(self) -> str:
        """What the change does, in plain words."""
        if self.kind == "allow_list":
            return f"Never flag '{self.value}' (add it to the allow list)."
        if self.kind == "raise_threshold":
            return (
                f"Flag {self.entity_type} only when Discretion is at least {self.value} sure "
                "(raise its threshold)."
            )
        return (
            f"Make {self.recognizer} flag only when a word such as '{self.value}' is near "
            "(add it to its context words and lower its score without one)."
        )

    def to_json(self) -> dict[str, Any]:
        """The suggestion as JSON-ready data (with its description)."""
        return {
            "kind": self.kind,
            "entity_type": self.entity_type,
            "recognizer": self.recognizer,
            "value": self.value,
            "reports": self.reports,
            "description": self.describe(),
        }


@dataclass
class ReportGroup:
    """The 'Not patient data' reports about one recognizer and entity type."""

    recognizer: str
    entity_type: str
    reports: int = 0
    # Reports made while the configuration now in use was already in use.
    under_current: int = 0
    channels: set[str] = field(default_factory=set)
    platforms: Counter[str] = field(default_factory=Counter)
    # Words staff agreed to share, with how many reports named each.
    words: Counter[str] = field(default_factory=Counter)
    first_at: datetime | None = None
    last_at: datetime | None = None
    suggestions: list[Suggestion] = field(default_factory=list)


# --- grouping ---------------------------------------------------------------------


def recognizer_entities(engine: Any) -> dict[str, set[str]]:
    """Which entity types each recognizer of ``engine`` can report, by name."""
    registry = getattr(
        getattr(getattr(engine, "analysis", None), "analyzer", None), "registry", None
    )
    out: dict[str, set[str]] = {}
    for r in getattr(registry, "recognizers", []):
        # Findings name a wrapped recognizer by its label (see discretion.analysis).
        name = str(getattr(r, "label", None) or r.name)
        out.setdefault(name, set()).update(str(e) for e in r.supported_entities)
    return out


def recognizer_context(engine: Any) -> dict[str, list[str]]:
    """The context words of each entity type's recognizers in ``engine``, in order."""
    registry = getattr(
        getattr(getattr(engine, "analysis", None), "analyzer", None), "registry", None
    )
    out: dict[str, list[str]] = {}
    for r in getattr(registry, "recognizers", []):
        for e in r.supported_entities:
            words = out.setdefault(str(e), [])
            words.extend(w for w in (getattr(r, "context", None) or []) if w not in words)
    return out


def flagged_words(flagged_text: str | None) -> list[str]:
    """The words a report shared (adapters join them with ', '), cleaned and de-duplicated."""
    if not flagged_text:
        return []
    out: list[str] = []
    for part in flagged_text.split(", "):
        word = "".join(ch for ch in part if unicodedata.category(ch)[0] != "C").strip()
        if word and len(word) <= MAX_WORD_CHARS and word.casefold() not in map(str.casefold, out):
            out.append(word)
    return out


def _pairs(report: Any, supported: Mapping[str, set[str]]) -> list[tuple[str, str]]:
    entities = [str(e) for e in (report.entity_types or [])] or [UNKNOWN]
    recognizers = [str(r) for r in (report.recognizers or [])] or [UNKNOWN]
    pairs = [
        (r, e)
        for r in recognizers
        for e in entities
        if r not in supported or e in supported[r] or e == UNKNOWN
    ]
    return list(dict.fromkeys(pairs)) or [(r, e) for r in recognizers for e in entities]


def group_reports(
    reports: Iterable[Any],
    settings: Settings,
    engine: Any = None,
    proposed: Settings | None = None,
) -> list[ReportGroup]:
    """Reports grouped by (recognizer, entity type), most reported first, with suggestions.

    ``reports`` are rows like :class:`discretion.store.FalsePositiveReport`. A report
    naming several recognizers counts once for each recognizer that can produce
    each of its entity types. Suggestions start from ``proposed`` when there is a
    proposal (so what it already does is not offered again), else from ``settings``.
    """
    supported = recognizer_entities(engine) if engine is not None else {}
    groups: dict[tuple[str, str], ReportGroup] = {}
    for report in reports:
        words = flagged_words(getattr(report, "flagged_text", None))
        at = getattr(report, "created_at", None)
        for recognizer, entity in _pairs(report, supported):
            g = groups.setdefault((recognizer, entity), ReportGroup(recognizer, entity))
            g.reports += 1
            if getattr(report, "config_version", "") == settings.config_version:
                g.under_current += 1
            if getattr(report, "channel", ""):
                g.channels.add(report.channel)
            g.platforms[getattr(report, "platform", "") or "?"] += 1
            g.words.update(words)
            if at is not None:
                g.first_at = at if g.first_at is None or at < g.first_at else g.first_at
                g.last_at = at if g.last_at is None or at > g.last_at else g.last_at
    context = recognizer_context(engine) if engine is not None else {}
    ordered = sorted(groups.values(), key=lambda g: (-g.reports, g.recognizer, g.entity_type))
    for g in ordered:
        g.suggestions = suggestions_for(g, proposed or settings, context)
    return ordered


def suggestions_for(
    group: ReportGroup, settings: Settings, context: Mapping[str, list[str]] | None = None
) -> list[Suggestion]:
    """What could stop this group's false alarms, best first."""
    out: list[Suggestion] = []
    if group.entity_type == UNKNOWN:
        return out
    allowed = {a.strip().casefold() for a in settings.allow_list}
    for word, count in group.words.most_common():
        if word.casefold() not in allowed:
            out.append(Suggestion("allow_list", group.entity_type, group.recognizer, word, count))
    current = threshold_for(settings, group.entity_type)
    if current < MAX_THRESHOLD:
        raised = min(MAX_THRESHOLD, round(current + THRESHOLD_STEP, 2))
        out.append(
            Suggestion(
                "raise_threshold",
                group.entity_type,
                group.recognizer,
                f"{raised:.2f}",
                group.reports,
            )
        )
    site = {r.name: r for r in settings.recognizers}
    spec = site.get(group.recognizer)
    if spec is not None and any(p.score >= current for p in spec.patterns):
        have = {w.casefold() for w in spec.context}
        hints = [
            *(context or {}).get(group.entity_type, []),
            *CONTEXT_HINTS.get(group.entity_type, FALLBACK_HINTS),
        ]
        hint = next((w for w in hints if w.casefold() not in have), None)
        if hint is not None:
            out.append(
                Suggestion("context_word", group.entity_type, group.recognizer, hint, group.reports)
            )
    return out


def threshold_for(settings: Settings, entity_type: str) -> float:
    """The score a finding of ``entity_type`` needs to count, under ``settings``."""
    return settings.thresholds.entities.get(entity_type, settings.thresholds.default)


async def load_groups(
    store: Any,
    settings: Settings,
    engine: Any = None,
    proposed: Settings | None = None,
    limit: int = 1000,
) -> list[ReportGroup]:
    """The store's newest false-positive reports, grouped, with suggestions."""
    return group_reports(await store.false_positives(limit=limit), settings, engine, proposed)


# --- the proposed file --------------------------------------------------------------


def site_path() -> Path | None:
    """The site file in use (``DISCRETION_CONFIG``), or None when only defaults are used."""
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def proposed_path(site: Path | None = None) -> Path:
    """Where proposals are written: ``$DISCRETION_PROPOSED_CONFIG``, else beside the site file."""
    value = os.environ.get(PROPOSED_ENV)
    if value:
        return Path(value)
    if site is not None:
        return site.with_name(f"{site.stem}.proposed.yaml")
    return DEFAULT_PROPOSED


@dataclass(frozen=True)
class Proposal:
    """A proposed site file: where it is, what it would load as, and what it changes."""

    path: Path
    settings: Settings
    changes: tuple[str, ...]


_HEADER = "# PROPOSED configuration, written by Discretion from 'Not patient data' reports."
_CHANGE = "# - "


def _read_data(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def read_changes(path: Path) -> list[str]:
    """The changes a proposed file lists in its header (empty when there is none)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    if not lines or lines[0] != _HEADER:
        return []
    return [line[len(_CHANGE) :] for line in lines if line.startswith(_CHANGE)]


def read_proposal(path: Path) -> Proposal | None:
    """The proposal at ``path``, or None when there is none; ConfigError if it is invalid."""
    if not path.is_file():
        return None
    return Proposal(path, load_settings(path), tuple(read_changes(path)))


def _one_line(text: str) -> str:
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)


def apply_suggestion(
    suggestion: Suggestion, site: Path | None = None, proposed: Path | None = None
) -> Proposal:
    """Write the suggestion into the proposed file (started from the site file); the proposal.

    The proposed file builds on itself: a second suggestion is added to the first.
    It is validated with :func:`discretion.config.load_settings` before it replaces
    the previous proposal, so an invalid one is never left behind. The site file is
    only read.
    """
    proposed = proposed or proposed_path(site)
    if site is not None and proposed.resolve() == site.resolve():
        raise ConfigError(
            [ConfigProblem(str(proposed), None, "", "a proposal must not overwrite the site file")]
        )
    start_from = proposed if proposed.is_file() else site
    base = (
        load_settings(start_from) if start_from is not None else load_settings(None, use_env=False)
    )
    data = _read_data(start_from)
    changes = read_changes(proposed) if start_from == proposed else []
    change = _apply(data, base, suggestion)
    site_version = (load_settings(site).version if site is not None else base.version).removesuffix(
        PROPOSED_SUFFIX
    )
    data["version"] = site_version + PROPOSED_SUFFIX
    changes.append(_one_line(change))
    header = [
        _HEADER,
        "# It is NOT in use. See its effect with:",
        f"#   discretion eval CORPUS.jsonl --compare {proposed}",
        f"# To use it, copy it over {site or 'the site file (DISCRETION_CONFIG)'}.",
        "# Changes:",
        *(_CHANGE + c for c in changes),
    ]
    text = "\n".join(header) + "\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    proposed.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".proposal-", suffix=".yaml", dir=proposed.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        settings = load_settings(tmp)
        os.replace(tmp, proposed)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Proposal(proposed, settings, tuple(changes))


def discard_proposal(proposed: Path) -> bool:
    """Delete the proposed file; True if there was one."""
    try:
        proposed.unlink()
    except FileNotFoundError:
        return False
    return True


def _apply(data: dict[str, Any], base: Settings, s: Suggestion) -> str:
    if s.kind == "allow_list":
        word = s.value.strip()
        if not word or len(word) > MAX_WORD_CHARS:
            raise ValueError("the word to allow must be 1 to 80 characters")
        # A list in the site file replaces the default one: write the whole list.
        allow = list(data.get("allow_list", base.allow_list))
        if word.casefold() not in {a.strip().casefold() for a in allow}:
            allow.append(word)
        data["allow_list"] = allow
        return f"allow '{word}' ({s.entity_type} from {s.recognizer}; {s.reports} report(s))"
    if s.kind == "raise_threshold":
        value = float(s.value)
        if not threshold_for(base, s.entity_type) < value <= 1:
            raise ValueError("a raised threshold must be above the current one and at most 1")
        thresholds = data.setdefault("thresholds", {})
        thresholds.setdefault("entities", {})[s.entity_type] = round(value, 2)
        return f"threshold for {s.entity_type} {threshold_for(base, s.entity_type):.2f} -> {value:.2f} ({s.reports} report(s))"
    if s.kind == "context_word":
        word = s.value.strip().lower()
        if not re.fullmatch(r"[\w&' -]{1,40}", word):
            raise ValueError("a context word must be 1 to 40 letters, digits or spaces")
        specs = data.get("recognizers")
        if specs is None:
            specs = data["recognizers"] = [
                r.model_dump(exclude_defaults=True) for r in base.recognizers
            ]
        spec = next(
            (r for r in specs if isinstance(r, dict) and r.get("name") == s.recognizer), None
        )
        if spec is None:
            raise ValueError(f"{s.recognizer} is not one of this site's recognizers")
        context = list(spec.get("context", []))
        if word not in (c.lower() for c in context):
            context.append(word)
        spec["context"] = context
        threshold = threshold_for(base, s.entity_type)
        lowered = round(max(0.0, threshold - CONTEXT_MARGIN), 2)
        for pattern in spec.get("patterns", []):
            if isinstance(pattern, dict) and float(pattern.get("score", 0)) >= threshold:
                pattern["score"] = lowered
        return f"{s.recognizer} needs a context word such as '{word}' (scores {lowered:.2f} without one)"
    raise ValueError(f"unknown kind of suggestion {s.kind!r}")
