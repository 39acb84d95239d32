"""The grading aid: likelihood of harm × severity of impact, and what that suggests.

It follows the breach assessment grid of the NHS Data Security and Protection
Toolkit incident reporting tool: both scales run from 1 to 5, and an incident
graded at least "likely" to cause at least a "minor" adverse effect is one the
ICO must be told about. The grid only suggests; the data protection lead decides
and the case records what they decided and why.
"""

from __future__ import annotations

from dataclasses import dataclass

LIKELIHOOD: dict[int, tuple[str, str]] = {
    1: (
        "Not occurred",
        "There is certainty that no harm can come of it, for example the post was "
        "seen only by its author and deleted.",
    ),
    2: (
        "Not likely",
        "No evidence that anyone who should not have seen it did, or they cannot "
        "identify the patient from it.",
    ),
    3: ("Likely", "It is likely that people who should not know could identify the patient."),
    4: (
        "Highly likely",
        "It is almost certain that people who should not know identified the patient.",
    ),
    5: (
        "Occurred",
        "There is a report that the patient was identified, or harm has already happened.",
    ),
}

SEVERITY: dict[int, tuple[str, str]] = {
    1: (
        "No adverse effect",
        "Nobody would be affected: the details were not about a real "
        "person, or were already public with consent.",
    ),
    2: (
        "Minor",
        "Minor upset or inconvenience; health details are special category data, so "
        "a real patient's details are at least this.",
    ),
    3: (
        "Adverse",
        "Distress, embarrassment or damage to trust in their care, for example a "
        "diagnosis known to colleagues or neighbours.",
    ),
    4: (
        "Serious",
        "Serious harm: risk to safety, discrimination, loss of a job, or details "
        "of a sensitive condition made public.",
    ),
    5: ("Catastrophic", "Death or lasting serious harm, or the details of many patients."),
}

ICO_MIN_LIKELIHOOD = 3
ICO_MIN_SEVERITY = 2
# Article 34: tell the patient when the risk to them is high.
TELL_MIN_LIKELIHOOD = 3
TELL_MIN_SEVERITY = 3
# The DSPT tool also sends the most serious incidents to the Department of Health and Social Care.
DHSC_MIN_SEVERITY = 4


@dataclass(frozen=True, slots=True)
class Grade:
    """A graded incident and what the grid suggests doing about it."""

    likelihood: int
    severity: int

    def __post_init__(self) -> None:
        if self.likelihood not in LIKELIHOOD or self.severity not in SEVERITY:
            raise ValueError("likelihood and severity must each be between 1 and 5")

    @property
    def score(self) -> int:
        """Likelihood times severity, 1 to 25 (for sorting; the suggestion uses the bands)."""
        return self.likelihood * self.severity

    @property
    def reportable(self) -> bool:
        """True when the grid says the ICO must be told within 72 hours of awareness."""
        return self.likelihood >= ICO_MIN_LIKELIHOOD and self.severity >= ICO_MIN_SEVERITY

    @property
    def tell_patient(self) -> bool:
        """True when the risk to the patient looks high enough that they must be told."""
        return self.likelihood >= TELL_MIN_LIKELIHOOD and self.severity >= TELL_MIN_SEVERITY

    @property
    def tell_dhsc(self) -> bool:
        """True when the DSPT tool would also notify the Department of Health and Social Care."""
        return self.reportable and self.severity >= DHSC_MIN_SEVERITY

    def advice(self) -> list[str]:
        """The suggestion in plain words, one sentence each."""
        lik, sev = LIKELIHOOD[self.likelihood][0], SEVERITY[self.severity][0]
        said = [
            f"Graded {lik.lower()} (likelihood {self.likelihood}) × "
            f"{sev.lower()} (severity {self.severity})."
        ]
        if self.reportable:
            said.append(
                "The grid says this is reportable to the ICO: report it within 72 hours of "
                "becoming aware, even if some details are still to come."
            )
        else:
            said.append(
                "The grid says this is not reportable to the ICO. Record why, in your own "
                "words, so the decision can be checked later."
            )
        if self.tell_patient:
            said.append(
                "The risk to the patient looks high: UK GDPR Article 34 says tell them without "
                "undue delay, unless an exception applies."
            )
        if self.tell_dhsc:
            said.append("The DSPT tool would also notify the Department of Health and Social Care.")
        return said


def parse_grade(likelihood: str | None, severity: str | None) -> Grade | None:
    """A Grade from form values, or None when either is missing or out of range."""
    try:
        return Grade(int(likelihood or ""), int(severity or ""))
    except ValueError:
        return None
