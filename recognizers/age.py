"""Ages: "84yo", "84 y/o", "84-year-old", "aged 90", "45M", "F 72", "Jo Bloggs, 67,".

An age on its own does not identify anyone, so AGE is not in ``warn_entities``:
it is a quasi-identifier that the risk logic weighs with the other details in a
message (age + town + event can point to one person). It is still reported as
a finding, so the redacted version can generalise it. A decade ("in her 80s")
is not an age here: it narrows things far less, and the quasi-identifier logic
weighs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.base import Hit, Recognizer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spacy.tokens import Doc

    from discretion.config import Settings

ENTITY = "AGE"
OLDEST = 115

_YEARS = (
    r"(?:yo|y/o|y\.o\.?|yrs?\.?\s?old|years?[\s-]old|yrs?(?=[\s,.;)]|$)|year[\s-]old|yr[\s-]old"
    r"|-year-old|-yr-old)"
)
# Shapes, each with the age (or age band) as the ``id`` group.
_AGE_PATTERNS: tuple[tuple[str, re.Pattern[str], float], ...] = (
    (
        "years old",
        re.compile(
            r"(?<![^\W_])(?<![.,/£$€])(?P<id>\d{1,3}\s?" + _YEARS + r")(?![^\W_])(?![/])",
            re.IGNORECASE,
        ),
        0.85,
    ),
    (
        "aged",
        # Not age limits and ranges: "aged 16-18", "aged 65 and over", "aged 18+".
        re.compile(
            r"\b(?P<id>aged?\s*[:=]?\s*\d{1,3})\b(?![/.:]\d|\s*(?:-|–|to|\+|and\s+(?:over|under)"
            r"|or\s+(?:over|under|older|younger)|plus)\s*)",
            re.IGNORECASE,
        ),
        0.85,
    ),
    (
        "age and sex",
        # 45M, 72F: upper case only (45m is a distance); not catheter sizes (14F Foley).
        re.compile(
            r"(?<![^\W_])(?<![.,/£$€#-])(?P<id>\d{1,3}\s?[MF])(?![^\W_])(?!\s*(?:Fr\b|French|catheter|cath|foley"
            r"|tube|drain|sheath|NG|nasogastric|feeding|suction|chest\s+drain|urinary|suprapubic"
            r"|cannula|gauge|g\b|-))"
        ),
        0.75,
    ),
    (
        "sex and age",
        re.compile(r"(?<![^\W_])(?<![/-])(?P<id>[MF]\s\d{2,3})(?![^\W_])(?![/.:]\d)"),
        0.6,
    ),
    (
        "male or female and age",
        re.compile(
            r"\b(?P<id>(?:male|female|man|woman|lady|gent|gentleman|boy|girl),?\s+(?:aged\s+)?"
            r"\d{1,3})\b(?![/.:]\d|\s*(?:%|kg|cm|mm|ml|mg|units|beds?|bays?|wards?))",
            re.IGNORECASE,
        ),
        0.6,
    ),
    (
        "age after a name",
        # "Mr Fraser Reid, 67, chest pain" / "Mary Jones (91)": a number set off after a name.
        re.compile(
            r"(?<=[a-z'’]),\s(?P<id>\d{1,3})(?=\s?(?:,(?!\s*\d)|;|\)|\.(?!\d)|$|\n|\s-\s))"
            r"|(?<=[a-z'’])\s\((?P<paren>\d{1,3})\)",
        ),
        0.55,
    ),
)
# Words that make "Bed 4, 3," or "Ward 12, 3" counts and places, not ages.
_NOT_A_NAME = re.compile(
    r"\b(?:bed|beds|bay|bays|ward|room|rm|cubicle|side|theatre|floor|level|crew|station|bleep|ext"
    r"|table|page|step|stage|grade|band|week|weeks|day|days|month|months|year|years|hours|mins"
    r"|version|option|number|no|item|items|dose|doses|tablets|units|times|list|lists|pm|am"
    r"|obs|news|gcs|score|total|count|line|lines|size|and|or|of|to|in|on|at|the|a|an|x"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|weds|thu"
    r"|thur|thurs|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january"
    r"|february|march|april|june|july|august|september|october|november|december)$",
    re.IGNORECASE,
)
_LAST_WORD = re.compile(r"([A-Za-z'’]+)\W*$")


def _age_value(span: str) -> int | None:
    digits = re.search(r"\d{1,3}", span)
    return int(digits.group()) if digits else None


def find_ages(text: str) -> list[Hit]:
    """Every age in ``text`` as hits (used by the date-of-birth recognizer too)."""
    if not any(ch.isdigit() for ch in text):
        return []
    hits: list[Hit] = []
    for pattern, regex, score in _AGE_PATTERNS:
        for m in regex.finditer(text):
            group = "paren" if m.groupdict().get("paren") else "id"
            start, end = m.span(group)
            value = _age_value(m.group(group))
            if value is None or value > OLDEST:
                continue
            if pattern == "age after a name":
                before = _LAST_WORD.search(text[max(0, m.start() - 30) : m.start() + 1])
                word = before.group(1) if before else ""
                if not word[:1].isupper() or _NOT_A_NAME.match(word):
                    continue
            if any(h.start < end and start < h.end for h in hits):
                continue
            hits.append(Hit(start, end, score, ENTITY, pattern))
    return hits


@dataclass
class AgeRecognizer(Recognizer):
    """Finds ages written the ways clinical staff write them."""

    name: ClassVar[str] = "AgeRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        yield from find_ages(text)


def build(settings: Settings) -> list[Recognizer]:
    return [AgeRecognizer()]
