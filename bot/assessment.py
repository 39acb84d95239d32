"""What the core concludes about a message: findings, a verdict, reasons, a redacted text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Category = Literal["identifier", "quasi"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of the message that identifies, or helps identify, a patient.

    Offsets index the original message text. ``category`` is ``identifier`` for
    direct identifiers (names, numbers, dates of birth, addresses) and ``quasi``
    for details that identify only in combination.
    """

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str
    category: Category = "identifier"
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict (no text: offsets only)."""
        return {
            "entity_type": self.entity_type,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 3),
            "recognizer": self.recognizer,
            "category": self.category,
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """The core's verdict on one message.

    ``warn`` says whether to warn the poster; ``risk`` (0-1) how likely the
    message identifies a patient; ``reasons`` explain it in plain English;
    ``redacted`` is the safe rewrite (equal to the input when nothing was found).
    """

    warn: bool
    risk: float
    findings: tuple[Finding, ...]
    reasons: tuple[str, ...]
    redacted: str
    patient_context: float = 0.0
    config_version: str = ""
    evidence: tuple[str, ...] = field(default=())

    @property
    def entity_types(self) -> list[str]:
        """Distinct entity types found, in order of first appearance."""
        return list(dict.fromkeys(f.entity_type for f in self.findings))

    def to_json(self) -> dict[str, Any]:
        """The assessment as a JSON-ready dict, with no raw message text."""
        out = asdict(self)
        out["findings"] = [f.to_json() for f in self.findings]
        out["reasons"] = list(self.reasons)
        out["evidence"] = list(self.evidence)
        out["risk"] = round(self.risk, 3)
        out["patient_context"] = round(self.patient_context, 3)
        return out
