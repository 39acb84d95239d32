"""From findings to a verdict: should we warn, how risky is it, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from discretion.assessment import Finding
from discretion.config import Settings
from discretion.reasons import identifiers_reason


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one message, with the reasons to show the poster."""

    warn: bool
    risk: float
    reasons: tuple[str, ...]
    patient_context: float = 0.0
    evidence: tuple[str, ...] = ()


def decide(
    findings: Sequence[Finding],
    features: dict[str, Any],
    settings: Settings,
    memory: Any = None,
) -> Verdict:
    """Warn when a direct identifier of a warn-listed type is found with enough confidence."""
    warn_types = set(settings.warn_entities)
    decisive = [f for f in findings if f.category == "identifier" and f.entity_type in warn_types]
    if not decisive:
        return Verdict(False, max((f.score for f in findings), default=0.0) * 0.3, ())
    risk = max(f.score for f in decisive)
    reasons = (identifiers_reason(f.entity_type for f in decisive),)
    return Verdict(risk >= settings.thresholds.warn_risk, risk, reasons)
