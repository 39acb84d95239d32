"""From findings to a verdict: should we warn, how risky is it, and why.

Three things add up: direct identifiers (a name, an NHS number: enough on their
own), patient context (is this about a patient at all?) and quasi-identifiers
(details that narrow the crowd of people it could be). In the spirit of
k-anonymity each kind of detail narrows the crowd by its configured weight, and
the details combine like independent clues: ``1 - (1 - w1)(1 - w2)...``. A public
role or "the only..." narrows it a lot; a common condition in a big hospital
barely. The sum is scaled down when the message is not clearly about a patient.
Everything here can be put into words: no opaque model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from discretion.assessment import Finding
from discretion.config import Settings
from discretion.context import PatientContext
from discretion.memory import Remembered
from discretion.reasons import (
    context_evidence,
    identifiers_reason,
    quasi_reasons,
    thread_reason,
)

QUASI_PREFIX = "QUASI_"
# A quasi finding's score is its share of the most a single detail can narrow:
# twice its category's weight (a birth on a train narrows more than a fall).
FACTOR_MAX = 2.0
# A second detail of the same kind ("a village" and "a street") narrows a little more.
SAME_KIND_EXTRA = 0.25
# Details that are clinical in themselves, and how much each adds to patient context.
CLINICAL_DETAILS = frozenset({"injury", "condition"})
CLINICAL_CONTEXT = 0.3
# Details that describe a person, so the message is about someone; without any of them
# and without a pronoun or "pt", patient context is discounted by NO_PERSON.
PERSON_DETAILS = frozenset(
    {
        "colleague",
        "public_role",
        "local_role",
        "gender_identity",
        "sexual_orientation",
        "ethnicity",
        "religion",
        "disability",
        "occupation",
        "age",
        "family",
    }
)
NO_PERSON = 0.4
_NUMBER = re.compile(r"\d{1,3}")


@dataclass(frozen=True, slots=True)
class Detail:
    """One kind of detail counted towards the risk: category, weight, our words for it."""

    category: str
    weight: float
    label: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one message, with the reasons to show the poster."""

    warn: bool
    risk: float
    reasons: tuple[str, ...]
    patient_context: float = 0.0
    evidence: tuple[str, ...] = ()
    details: tuple[Detail, ...] = ()
    # When an earlier message in the conversation helped complete the picture.
    earlier: tuple[float, ...] = field(default=())
    quasi_warn: bool = False


def category_of(finding: Finding) -> str | None:
    """The detail category a finding counts under (None: it is not a quasi detail)."""
    if finding.category == "quasi" and finding.entity_type.startswith(QUASI_PREFIX):
        return finding.entity_type.removeprefix(QUASI_PREFIX).lower()
    if finding.entity_type == "AGE":
        return "age"
    return None


def age_factor(surface: str) -> float:
    """Very old and very young patients are rarer, so their age narrows the crowd more."""
    m = _NUMBER.search(surface)
    if not m:
        return 1.0
    years = int(m.group())
    if years >= 95:
        return 3.0
    if years <= 17:
        return 1.5
    return 1.0


def details_of(
    findings: Iterable[Finding], settings: Settings, text: str = ""
) -> tuple[Detail, ...]:
    """Per category, how far the message's details narrow the crowd (strongest first)."""
    weights = settings.risk.weights
    per: dict[str, list[tuple[float, str]]] = {}
    for f in findings:
        cat = category_of(f)
        if cat is None:
            continue
        base = weights.get(cat, 0.0)
        if f.category == "quasi":
            factor, label = f.score * FACTOR_MAX, f.explanation
        else:  # an AGE finding from the age recognizer
            factor = age_factor(text[f.start : f.end]) if text else 1.0
            label = ""
        per.setdefault(cat, []).append((min(1.0, base * factor), label))
    out = []
    for cat, values in per.items():
        values.sort(key=lambda v: -v[0])
        total = values[0][0] + SAME_KIND_EXTRA * sum(v for v, _ in values[1:])
        label = next((lab for _, lab in values if lab), "")
        out.append(Detail(cat, min(0.95, total), label))
    return tuple(sorted(out, key=lambda d: -d.weight))


def combine(weights: Iterable[float]) -> float:
    """Independent clues: the chance that at least one of them gives the person away."""
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - remaining


def decide(
    findings: Sequence[Finding],
    features: dict[str, Any],
    settings: Settings,
    memory: Sequence[Remembered] | None = None,
    text: str = "",
) -> Verdict:
    """Warn on a direct identifier, or on patient context plus details that narrow the crowd.

    ``memory`` is what was remembered about the same author's earlier messages in
    the same conversation: their details count too, and the verdict says which
    earlier messages (by time) helped complete the picture.
    """
    warn_at = settings.thresholds.warn_risk
    threshold = settings.risk.patient_context_threshold
    ctx = PatientContext.from_data(features.get("context"))
    history = tuple(memory or ())

    warn_types = set(settings.warn_entities)
    decisive = [f for f in findings if f.category == "identifier" and f.entity_type in warn_types]
    risk_id = max((f.score for f in decisive), default=0.0)

    details = details_of(findings, settings, text)
    # A striking injury or a rare condition is itself a sign the message is about care.
    clinical = [d.weight for d in details if d.category in CLINICAL_DETAILS]
    if clinical and ctx.score < threshold:
        boosted = combine([ctx.score, CLINICAL_CONTEXT * len(clinical)])
        ctx = PatientContext(
            round(boosted, 3), (*ctx.evidence, "a clinical detail about them"), ctx.against
        )
    # A case is about someone: with no person in sight ("RTC on the bypass, expect
    # delays") the clinical words are news or logistics, so they count for less.
    if not ctx.someone and not any(d.category in PERSON_DETAILS for d in details):
        ctx = PatientContext(
            round(ctx.score * (1 - NO_PERSON), 3),
            ctx.evidence,
            (*ctx.against, "no particular person"),
            False,
        )
    reach = _reach(ctx.score, threshold)
    risk_now = combine(d.weight for d in details) * reach

    # The sum of several messages: the thread's details, with the best context seen.
    earlier: tuple[float, ...] = ()
    risk_thread = 0.0
    if history and details:
        merged = {d.category: d.weight for d in details}
        labels = {d.category: d.label for d in details}
        for h in history:
            for cat, w in h.categories.items():
                if w > merged.get(cat, 0.0):
                    merged[cat] = w
                    labels.setdefault(cat, h.labels.get(cat, ""))
        thread_ctx = max([ctx.score, *(h.context for h in history)])
        risk_thread = combine(merged.values()) * _reach(thread_ctx, threshold)
        if risk_thread >= warn_at and risk_now < warn_at:
            now_cats = {d.category for d in details}
            earlier = tuple(
                h.at
                for h in history
                if (set(h.categories) - now_cats)
                or (h.context > ctx.score and ctx.score < threshold)
            )
            details = tuple(
                sorted(
                    (Detail(c, w, labels.get(c, "")) for c, w in merged.items()),
                    key=lambda d: -d.weight,
                )
            )
    risk_q = max(risk_now, risk_thread if earlier else 0.0)
    quasi_warn = risk_q >= warn_at
    risk = combine([risk_id, risk_q])
    if not decisive:
        # Findings we do not warn on (an age alone) still say something about risk.
        risk = max(
            risk, max((f.score for f in findings if f.category == "identifier"), default=0.0) * 0.3
        )
    warn = risk_id >= warn_at or quasi_warn

    reasons: list[str] = []
    if decisive:
        reasons.append(identifiers_reason(f.entity_type for f in decisive))
    if quasi_warn:
        reasons.extend(quasi_reasons(details, has_identifiers=bool(decisive)))
        if earlier:
            reasons.insert(len(reasons) - 1, thread_reason(earlier))
    evidence = context_evidence(ctx.evidence, ctx.against, [d.category for d in details])
    return Verdict(
        warn,
        round(min(1.0, risk), 3),
        tuple(reasons),
        ctx.score,
        evidence,
        details,
        earlier,
        quasi_warn,
    )


def _reach(context: float, threshold: float) -> float:
    """How much quasi details count: fully once the message is clearly about a patient."""
    if threshold <= 0:
        return 1.0
    return min(1.0, context / threshold)
