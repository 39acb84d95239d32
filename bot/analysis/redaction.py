"""Redaction with presidio-anonymizer: typed placeholders, markup kept valid."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

PLACEHOLDERS: dict[str, str] = {
    "PERSON": "[NAME]",
    "NHS_NUMBER": "[NHS NUMBER]",
    "CHI_NUMBER": "[CHI NUMBER]",
    "HC_NUMBER": "[H&C NUMBER]",
    "HOSPITAL_NUMBER": "[HOSPITAL NUMBER]",
    "DATE_OF_BIRTH": "[DOB]",
    "AGE": "[AGE]",
    "UK_POSTCODE": "[POSTCODE]",
    "PHONE_NUMBER": "[PHONE]",
    "EMAIL_ADDRESS": "[EMAIL]",
    "STREET_ADDRESS": "[ADDRESS]",
    "HANDLE": "[HANDLE]",
    "UK_NINO": "[NI NUMBER]",
}
DEFAULT_PLACEHOLDER = "[REDACTED]"

_ENGINE = AnonymizerEngine()

# Chat markup that a span must never cut: Slack mentions and links, Teams <at> tags.
_MARKUP = re.compile(
    r"<(?:[@#!][^<>]*|https?://[^<>|]*(?:\|[^<>]*)?|mailto:[^<>|]*(?:\|[^<>]*)?)>|</?at>"
)
_EDGE_CHARS = "*_~`<>| \n\t\"'“”‘’()[]{}.,;:"


@dataclass(frozen=True, slots=True)
class Span:
    """A span to replace, with the entity type that names its placeholder."""

    start: int
    end: int
    entity_type: str
    score: float = 1.0


def _tidy(text: str, span: Span) -> Span | None:
    """Trim markup and punctuation off the edges of a span; None if nothing is left."""
    start, end = span.start, span.end
    while start < end and text[start] in _EDGE_CHARS:
        start += 1
    while end > start and text[end - 1] in _EDGE_CHARS:
        end -= 1
    if start >= end:
        return None
    return Span(start, end, span.entity_type, span.score)


def _respect_markup(text: str, spans: list[Span]) -> list[Span]:
    """Keep ``<...>`` tokens whole: a span inside a link's URL takes the whole link."""
    out: list[Span] = []
    tokens = [(m.start(), m.end(), m.group()) for m in _MARKUP.finditer(text)]
    for span in spans:
        s = span
        for t_start, t_end, token in tokens:
            if s.end <= t_start or s.start >= t_end:
                continue
            bar = token.find("|")
            label_start = t_start + bar + 1 if bar >= 0 else None
            if label_start is not None and s.start >= label_start and s.end <= t_end - 1:
                continue  # inside the visible label: replace just the words
            if token.startswith(("</at", "<at")):
                s = (
                    Span(max(s.start, t_end), s.end, s.entity_type, s.score)
                    if s.start < t_end
                    else s
                )
                continue
            # Inside a URL or a mention: the whole token goes, so no markup is broken.
            s = Span(min(s.start, t_start), max(s.end, t_end), s.entity_type, s.score)
        if s.start < s.end:
            out.append(s)
    return out


def merge_spans(spans: Sequence[Span]) -> list[Span]:
    """Merge overlapping or touching spans; the highest-scoring type names the result."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            keep = last if last.score >= span.score else span
            merged[-1] = Span(
                last.start, max(last.end, span.end), keep.entity_type, max(last.score, span.score)
            )
        else:
            merged.append(span)
    return merged


def redact(
    text: str,
    spans: Sequence[Span],
    placeholders: Mapping[str, str] | None = None,
) -> str:
    """The text with each span replaced by its typed placeholder; unchanged when no spans."""
    if not spans:
        return text
    names = {**PLACEHOLDERS, **(placeholders or {})}
    tidy = [t for t in (_tidy(text, s) for s in spans) if t is not None]
    final = merge_spans(_respect_markup(text, tidy))
    if not final:
        return text
    # One operator per span: presidio-anonymizer replaces by entity type, so give each
    # merged span a unique type carrying its placeholder.
    results = []
    operators = {}
    for i, span in enumerate(final):
        key = f"S{i}"
        results.append(RecognizerResult(key, span.start, span.end, span.score))
        operators[key] = OperatorConfig(
            "replace", {"new_value": names.get(span.entity_type, DEFAULT_PLACEHOLDER)}
        )
    return _ENGINE.anonymize(text=text, analyzer_results=results, operators=operators).text
