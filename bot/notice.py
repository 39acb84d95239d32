"""The private warning, platform-neutral: what the adapters render for the poster.

The words live here once; Slack's Block Kit and Teams' Adaptive Card only lay
them out. Nothing here holds raw message text: the redacted version only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from discretion.assessment import Assessment
from discretion.reasons import describe, join_words

HEADLINE = "Your message may identify a patient"
WHAT_TO_DO = (
    "Please delete or edit your message, or replace it with the redacted version below. "
    "If patient details have been shared, report it so the data protection team can help."
)
QUIET_HEADLINE = "Check: patient details in a clinical channel"


@dataclass(frozen=True, slots=True)
class Notice:
    """Everything a private warning says, ready for an adapter to lay out."""

    headline: str
    summary: str
    reasons: tuple[str, ...]
    redacted: str
    what_to_do: str
    entity_types: tuple[str, ...]
    policy_url: str
    report_url: str | None = None
    can_edit: bool = False
    quiet: bool = False
    extras: dict[str, str] = field(default_factory=dict)


def build_notice(
    assessment: Assessment,
    *,
    policy_url: str,
    report_url: str | None = None,
    can_edit: bool = False,
    quiet: bool = False,
) -> Notice:
    """The warning for an assessment that said ``warn``."""
    kinds = [describe(t) for t in assessment.entity_types if t]
    summary = (
        f"Discretion found {join_words(kinds)} in your message."
        if kinds
        else "Discretion found details that together could identify a patient."
    )
    return Notice(
        headline=QUIET_HEADLINE if quiet else HEADLINE,
        summary=summary,
        reasons=assessment.reasons,
        redacted=assessment.redacted,
        what_to_do=WHAT_TO_DO,
        entity_types=tuple(assessment.entity_types),
        policy_url=policy_url,
        report_url=report_url,
        can_edit=can_edit,
        quiet=quiet,
    )
