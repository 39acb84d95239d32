"""Measure a configuration against a labelled corpus, and compare two configurations.

The figures are the ones ``../shared/eval/score.py`` prints (recall, false alarms,
precision, F2, identifier leak, quasi kept, altered negatives, per kind), plus what
only an in-process run can see: which entity types and recognizers the warnings
came from. Messages are assessed through the very path ``discretion scan`` takes,
so the two can never drift apart.

Nothing here prints, logs or stores message text or the gold strings: reports
name messages by their ``id`` and count everything else.
"""

from __future__ import annotations

import io
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTEXT_KEYS = ("channel", "author", "thread")
EXIT_OK, EXIT_BAD_INPUT = 0, 2


class CorpusError(Exception):
    """The corpus cannot be used; ``problems`` name file, line and key (never text)."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message of a corpus."""

    id: str
    text: str
    should_warn: bool
    identifiers: tuple[str, ...] = ()
    quasi: tuple[str, ...] = ()
    kind: str = "?"
    context: dict[str, str | int] = field(default_factory=dict)

    def __repr__(self) -> str:  # the text is patient-like data: keep it out of reprs
        return f"Example(id={self.id!r}, kind={self.kind!r}, should_warn={self.should_warn})"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one configuration concluded about one message.

    ``redacted`` is kept in memory only, to count leaks; reports never include it.
    """

    warn: bool
    redacted: str
    entity_types: tuple[str, ...] = ()
    recognizers: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Outcome(warn={self.warn}, entity_types={self.entity_types!r})"


@dataclass(frozen=True, slots=True)
class Change:
    """One message whose verdict or leaks differ between two configurations."""

    id: str
    kind: str
    should_warn: bool
    before: bool
    after: bool
    leaks_before: int = 0
    leaks_after: int = 0

    @property
    def verdict_changed(self) -> bool:
        """True when the two configurations disagree on whether to warn."""
        return self.before != self.after

    @property
    def effect(self) -> str:
        """'fixed' when the new verdict is right, 'broken' when it is wrong, else 'redaction'."""
        if not self.verdict_changed:
            return "redaction"
        return "fixed" if self.after == self.should_warn else "broken"

    def to_json(self) -> dict[str, Any]:
        """The change as a JSON-ready dict (ids and verdicts only)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "should_warn": self.should_warn,
            "before": self.before,
            "after": self.after,
            "effect": self.effect,
            "leaks_before": self.leaks_before,
            "leaks_after": self.leaks_after,
        }


# --- reading a corpus ---------------------------------------------------------------


def read_corpus(path: str | Path) -> list[Example]:
    """The labelled examples in a JSON-lines file; :class:`CorpusError` says what is wrong."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CorpusError([f"{path}: cannot read ({exc.strerror})"]) from None
    return parse_corpus(data.splitlines(), str(path))


def parse_corpus(lines: Iterable[bytes | str], source: str = "corpus") -> list[Example]:
    """Labelled examples from JSON lines in the schema of ``../shared/eval/README.md``."""
    examples: list[Example] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"{source}:{n}: not UTF-8 (byte {exc.start})")
                continue
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{source}:{n}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        example, why = _example(obj)
        if example is None:
            problems.append(f"{source}:{n}: {why}")
            continue
        if example.id in seen:
            problems.append(
                f"{source}:{n}: id {example.id!r} already used on line {seen[example.id]}"
            )
            continue
        seen[example.id] = n
        examples.append(example)
    if problems:
        raise CorpusError(problems)
    if not examples:
        raise CorpusError([f"{source}: no labelled messages"])
    return examples


def _example(obj: Any) -> tuple[Example | None, str]:
    if not isinstance(obj, dict):
        return None, "expected a JSON object"
    ident = obj.get("id")
    if isinstance(ident, bool) or not isinstance(ident, (str, int)):
        return None, "'id' must be a string or a number"
    if not isinstance(obj.get("text"), str):
        return None, "'text' must be a string"
    if not isinstance(obj.get("should_warn"), bool):
        return None, "'should_warn' must be true or false"
    spans: dict[str, tuple[str, ...]] = {}
    for key in ("identifiers", "quasi"):
        value = obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
            return None, f"'{key}' must be a list of non-empty strings"
        spans[key] = tuple(value)
    kind = obj.get("kind", "?")
    if not isinstance(kind, str) or not kind:
        return None, "'kind' must be a non-empty string"
    context: dict[str, str | int] = {}
    for key in CONTEXT_KEYS:
        if key in obj:
            value = obj[key]
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                return None, f"'{key}' must be a string"
            context[key] = value
    example = Example(
        id=str(ident),
        text=obj["text"],
        should_warn=obj["should_warn"],
        identifiers=spans["identifiers"],
        quasi=spans["quasi"],
        kind=kind,
        context=context,
    )
    return example, ""


def keep_kinds(examples: Sequence[Example], kinds: Iterable[str] | None) -> list[Example]:
    """Only the examples of the given kinds (all of them when ``kinds`` is empty)."""
    wanted = {k.strip() for k in kinds or () if k.strip()}
    return [e for e in examples if not wanted or e.kind in wanted]


# --- running a configuration ---------------------------------------------------------


def run(engine: Any, examples: Sequence[Example]) -> dict[str, Outcome]:
    """Each example's outcome under ``engine``, keyed by id.

    The examples go through ``discretion scan`` in-process, as the same JSON lines
    score.py sends it, so memory across messages and batching are the same too.
    """
    from discretion.cli import scan

    payload = "".join(
        json.dumps({"id": e.id, "text": e.text, **e.context}) + "\n" for e in examples
    ).encode("utf-8")
    out = io.StringIO()
    scan(io.BytesIO(payload), out, engine)
    outcomes: dict[str, Outcome] = {}
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        if record.get("error"):
            raise CorpusError(
                [f"line {record.get('line')}: the scanner refused it: {record['error']}"]
            )
        findings = record.get("findings", [])
        outcomes[str(record["id"])] = Outcome(
            warn=bool(record["warn"]),
            redacted=record["redacted"],
            entity_types=tuple(dict.fromkeys(f["entity_type"] for f in findings)),
            recognizers=tuple(dict.fromkeys(f["recognizer"] for f in findings)),
        )
    missing = [e.id for e in examples if e.id not in outcomes]
    if missing:
        raise CorpusError([f"no answer for {len(missing)} messages, e.g. {missing[:5]}"])
    return outcomes


# --- the figures ---------------------------------------------------------------------


def metrics(examples: Sequence[Example], outcomes: dict[str, Outcome]) -> dict[str, Any]:
    """score.py's figures for these examples; ``leaks`` lists one id per leaked identifier."""
    tp = fn = fp = tn = 0
    ids_total = ids_leaked = quasi_total = quasi_kept = altered_neg = 0
    misses: list[str] = []
    false_alarms: list[str] = []
    leaks: list[str] = []
    for e in examples:
        o = outcomes[e.id]
        if e.should_warn:
            if o.warn:
                tp += 1
            else:
                fn += 1
                misses.append(e.id)
            for s in e.identifiers:
                ids_total += 1
                if s in o.redacted:
                    ids_leaked += 1
                    leaks.append(e.id)
            for s in e.quasi:
                quasi_total += 1
                if s in o.redacted:
                    quasi_kept += 1
        else:
            if o.warn:
                fp += 1
                false_alarms.append(e.id)
            else:
                tn += 1
            if o.redacted != e.text:
                altered_neg += 1
    pos, neg = tp + fn, fp + tn
    recall = tp / pos if pos else None
    precision = tp / (tp + fp) if (tp + fp) else None
    f2 = None
    if recall is not None and precision is not None and (4 * precision + recall) > 0:
        f2 = 5 * precision * recall / (4 * precision + recall)
    return {
        "n": len(examples),
        "positives": pos,
        "negatives": neg,
        "recall": recall,
        "false_alarm": fp / neg if neg else None,
        "precision": precision,
        "f2": f2,
        "leak": ids_leaked / ids_total if ids_total else None,
        "quasi_kept": quasi_kept / quasi_total if quasi_total else None,
        "altered_neg": altered_neg / neg if neg else None,
        "misses": misses,
        "false_alarms": false_alarms,
        "leaks": leaks,
    }


def by_source(
    examples: Sequence[Example], outcomes: dict[str, Outcome], attribute: str
) -> dict[str, dict[str, Any]]:
    """Per entity type (``attribute="entity_types"``) or recognizer: where its findings fell.

    ``messages`` have at least one finding of it; ``in_positives`` of those should
    warn; ``in_negatives`` should not; ``false_alarms`` are negatives that were
    warned about with it among the findings; ``precision`` is in_positives / messages.
    """
    table: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"messages": 0, "in_positives": 0, "in_negatives": 0, "false_alarms": 0}
    )
    for e in examples:
        o = outcomes[e.id]
        for name in getattr(o, attribute):
            row = table[name]
            row["messages"] += 1
            row["in_positives" if e.should_warn else "in_negatives"] += 1
            if o.warn and not e.should_warn:
                row["false_alarms"] += 1
    for row in table.values():
        row["precision"] = row["in_positives"] / row["messages"]
    return {name: table[name] for name in sorted(table)}


def report(examples: Sequence[Example], outcomes: dict[str, Outcome]) -> dict[str, Any]:
    """Overall, per-kind, per-entity-type and per-recognizer figures for one configuration."""
    kinds: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        kinds[e.kind].append(e)
    return {
        "overall": metrics(examples, outcomes),
        "kinds": {k: metrics(v, outcomes) for k, v in sorted(kinds.items())},
        "entities": by_source(examples, outcomes, "entity_types"),
        "recognizers": by_source(examples, outcomes, "recognizers"),
    }


def compare(
    examples: Sequence[Example], before: dict[str, Outcome], after: dict[str, Outcome]
) -> list[Change]:
    """Messages whose verdict, or number of leaked identifiers, differs; in corpus order."""
    changes = []
    for e in examples:
        b, a = before[e.id], after[e.id]
        leaks_b = sum(s in b.redacted for s in e.identifiers) if e.should_warn else 0
        leaks_a = sum(s in a.redacted for s in e.identifiers) if e.should_warn else 0
        if b.warn != a.warn or leaks_b != leaks_a:
            changes.append(Change(e.id, e.kind, e.should_warn, b.warn, a.warn, leaks_b, leaks_a))
    return changes


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The evaluation of one configuration (and optionally a proposed one) on a corpus."""

    corpus: str
    current_version: str
    current: dict[str, Any]
    proposed_version: str | None = None
    proposed: dict[str, Any] | None = None
    changes: tuple[Change, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The whole evaluation as JSON-ready data: figures and ids, never text."""
        out: dict[str, Any] = {
            "corpus": self.corpus,
            "current": {"config_version": self.current_version, **self.current},
        }
        if self.proposed is not None:
            out["proposed"] = {"config_version": self.proposed_version, **self.proposed}
            out["changes"] = [c.to_json() for c in self.changes or ()]
        return out


def evaluate(
    examples: Sequence[Example],
    engine: Any,
    proposed_engine: Any = None,
    corpus: str = "corpus",
) -> Evaluation:
    """Evaluate ``engine`` on the examples, and compare with ``proposed_engine`` if given."""
    current = run(engine, examples)
    if proposed_engine is None:
        return Evaluation(corpus, engine.config_version, report(examples, current))
    proposed = run(proposed_engine, examples)
    return Evaluation(
        corpus,
        engine.config_version,
        report(examples, current),
        proposed_engine.config_version,
        report(examples, proposed),
        tuple(compare(examples, current, proposed)),
    )


# --- words for a person ----------------------------------------------------------------

_COLUMNS = ("recall", "false_alarm", "precision", "f2", "leak", "quasi_kept", "altered_neg")
_HEADINGS = ("recall", "f.alarm", "prec", "F2", "leak", "quasi", "alt.neg")


def _fmt(v: float | None) -> str:
    return "  -  " if v is None else f"{v:5.3f}"


def _table(figures: dict[str, Any]) -> list[str]:
    lines = [f"{'kind':<20}{'n':>5} " + " ".join(f"{h:>7}" for h in _HEADINGS)]
    for kind, m in [*figures["kinds"].items(), ("ALL", figures["overall"])]:
        lines.append(f"{kind:<20}{m['n']:>5} " + " ".join(f"{_fmt(m[c]):>7}" for c in _COLUMNS))
    return lines


def _sources(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    if not rows:
        return [f"{title}: nothing was found in any message"]
    lines = [f"{title:<28}{'msgs':>6}{'in warn':>9}{'in no-warn':>12}{'f.alarms':>10}{'prec':>7}"]
    for name, r in rows.items():
        lines.append(
            f"{name:<28}{r['messages']:>6}{r['in_positives']:>9}{r['in_negatives']:>12}"
            f"{r['false_alarms']:>10}{r['precision']:>7.3f}"
        )
    return lines


def _ids(label: str, ids: Sequence[str]) -> str:
    return f"{label}: " + (" ".join(dict.fromkeys(ids)) or "-")


def render_one(figures: dict[str, Any], version: str, label: str = "") -> list[str]:
    """The report for one configuration as lines of text (ids, never message text)."""
    o = figures["overall"]
    return [
        f"{label}configuration {version}",
        *_table(figures),
        "",
        *_sources("entity type", figures["entities"]),
        "",
        *_sources("recognizer", figures["recognizers"]),
        "",
        _ids("missed", o["misses"]),
        _ids("false alarms", o["false_alarms"]),
        _ids("identifiers left in the redacted text of", o["leaks"]),
    ]


def render(evaluation: Evaluation) -> str:
    """What ``discretion eval`` prints: the figures, and for a comparison what changes."""
    n = evaluation.current["overall"]["n"]
    lines = [f"{evaluation.corpus} ({n} messages)", ""]
    if evaluation.proposed is None:
        lines += render_one(evaluation.current, evaluation.current_version)
        return "\n".join(lines)
    lines += render_one(evaluation.current, evaluation.current_version, "CURRENT ")
    lines += ["", *render_one(evaluation.proposed, evaluation.proposed_version or "", "PROPOSED ")]
    lines += ["", "ALL, current -> proposed:"]
    before, after = evaluation.current["overall"], evaluation.proposed["overall"]
    for column, heading in zip(_COLUMNS, _HEADINGS, strict=True):
        lines.append(f"  {heading:<8} {_fmt(before[column])} -> {_fmt(after[column])}")
    changes = evaluation.changes or ()
    verdicts = [c for c in changes if c.verdict_changed]
    lines += ["", f"Messages whose verdict changes: {len(verdicts)}"]
    for c in verdicts:
        lines.append(
            f"  {c.id:<12} {c.kind:<20} should {'warn' if c.should_warn else 'not warn'}: "
            f"{_verdict(c.before)} -> {_verdict(c.after)} ({c.effect})"
        )
    leaks = [c for c in changes if c.leaks_before != c.leaks_after]
    if leaks:
        lines += [
            "",
            f"Messages whose redaction leaves a different number of identifiers: {len(leaks)}",
        ]
        for c in leaks:
            lines.append(f"  {c.id:<12} {c.kind:<20} {c.leaks_before} -> {c.leaks_after} left")
    return "\n".join(lines)


def _verdict(warn: bool) -> str:
    return "warns" if warn else "no warning"


# --- the command ---------------------------------------------------------------------


def command(
    corpus: str,
    config: str | None = None,
    proposed: str | None = None,
    json_out: str | None = None,
    kinds: str | None = None,
) -> int:
    """Run ``discretion eval``: print the figures, optionally write them as JSON; exit status."""
    from discretion.config import ConfigError, load_settings
    from discretion.engine import Engine

    try:
        examples = keep_kinds(read_corpus(corpus), (kinds or "").split(","))
    except CorpusError as exc:
        print(f"corpus error:\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not examples:
        print(f"{corpus}: no messages of kinds {kinds}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        engine = Engine(load_settings(config))
        other = Engine(load_settings(proposed)) if proposed else None
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        evaluation = evaluate(examples, engine, other, corpus=str(corpus))
    except CorpusError as exc:
        print(f"corpus error:\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(render(evaluation))
    if json_out:
        try:
            Path(json_out).write_text(json.dumps(evaluation.to_json(), indent=2), encoding="utf-8")
        except OSError as exc:
            print(f"cannot write {json_out}: {exc.strerror}", file=sys.stderr)
            return EXIT_BAD_INPUT
    return EXIT_OK
