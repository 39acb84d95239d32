"""Patients' names, told apart from staff names, wards, diseases and medicines.

spaCy's small English model finds some names and misses or mislabels many in ward
chat ("Siobhan Doherty" comes out as an organisation), so names come from rules
first: titles (Mrs Jones), patient cues (pt john smith), record layouts
(SMITH, John; Name: ...), known first names followed by a surname, an initial and a
surname, capitalised words next to an NHS number, date of birth or bed, initials or a
first name next to a bed, and names inside file names, channel names and links.
spaCy's PERSON entities and proper-noun tags add to these.

Every candidate is then judged (see ``names_judge``): staff titles and roles,
greetings, sign-offs and the site's staff allow list make a name a colleague's;
"ward", "building", 's + "disease" make it a place or an eponym. Each hit carries a
plain-words note that ``discretion explain`` shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.base import Hit, Recognizer
from discretion.recognizers.names_judge import decide_all
from discretion.recognizers.names_rules import Finder
from discretion.recognizers.names_slugs import link_spans, slug_names
from discretion.recognizers.names_words import fold

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from discretion.config import Settings

ENTITY = "PERSON"
SLUG_SCORE = 0.8
SLUG_CUE_SCORE = 0.85
# What each rule is called in ``discretion explain``.
RULE_NAMES = {
    "title": "a title (Mr, Mrs, Dr...)",
    "cue": "after 'pt' or 'patient'",
    "label": "a name field",
    "re": "a 'Re:' line",
    "epr": "SURNAME, Firstname",
    "first": "a known first name",
    "idnext": "next to a number, date of birth or bed",
    "lower": "a lower-case name",
    "spacy": "spaCy's name finder",
    "spacy1": "spaCy's name finder",
    "propn": "capitalised proper nouns",
    "bedside": "a first name by a bed",
    "single": "a first name",
    "initials": "initials by a bed",
    "initial": "an initial and a surname",
}


@dataclass
class PersonNameRecognizer(Recognizer):
    """Finds patients' names; staff, places and eponyms get a low score and a reason."""

    name: ClassVar[str] = "PersonNameRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    needs_doc: ClassVar[bool] = True
    # No Presidio context words: the cue logic lives in the judge, so scores are ours.
    context: tuple[str, ...] = ()
    allow: frozenset[str] = field(default_factory=frozenset)

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        """Every candidate name with its score and the reason for it."""
        if not text.strip():
            return
        seen: list[tuple[int, int]] = []
        for slug in slug_names(text):
            if any(fold(p) in self.allow for p in text[slug.start : slug.end].split()):
                continue
            score = SLUG_CUE_SCORE if slug.by_cue else SLUG_SCORE
            how = "after 'pt' or 'patient' in" if slug.by_cue else "a first name and surname in"
            seen.append((slug.start, slug.end))
            yield Hit(slug.start, slug.end, score, ENTITY, "name in slug", f"{how} {slug.where}")
        finder = Finder(text, doc, link_spans(text))
        for candidate, decision in decide_all(finder, self.allow):
            start = finder.words[candidate.first].start
            end = finder.words[candidate.last].end
            if any(s < end and start < e for s, e in seen):
                continue
            rule = ", ".join(sorted({RULE_NAMES.get(r, r) for r in candidate.rules}))
            yield Hit(start, end, decision.score, ENTITY, rule, decision.note)


def build(settings: Settings) -> list[Recognizer]:
    allow = frozenset(fold(a.strip()) for a in settings.allow_list if a.strip())
    return [PersonNameRecognizer(allow=allow)]
