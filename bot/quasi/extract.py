"""Quasi-identifiers: details that identify a patient only in combination.

Works on the already-parsed spaCy Doc (no second parse): curated phrase lists
(``quasi_*.txt``), spaCy's entity labels (NORP, GPE, LOC, FAC, ORG, DATE, TIME)
and the dependency parse (noun chunks, prepositions, plural nouns).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from discretion.config import QUASI_CATEGORIES
from discretion.quasi.phrases import Match, PhraseTable, build_table, list_lines

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

# Categories, in the order reasons name them: one list, kept with the configuration
# that validates their weights and extra lexicon entries.
CATEGORIES: tuple[str, ...] = QUASI_CATEGORIES
LIST_CATEGORIES = CATEGORIES

# Details about who the person is: when they describe a person noun ("the Polish
# driver"), the whole phrase is generalised to "a patient".
PERSON_DESCRIPTORS = frozenset(
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
        "uniqueness",
        "age",
    }
)
PERSON_NOUNS = frozenset(
    [
        "pt",
        "patient",
        "lad",
        "lass",
        "guy",
        "man",
        "woman",
        "lady",
        "gent",
        "gentleman",
        "girl",
        "boy",
        "kid",
        "kiddo",
        "child",
        "chap",
        "fella",
        "bloke",
        "teen",
        "teenager",
        "youngster",
        "person",
        "mum",
        "dad",
        "mother",
        "father",
        "wife",
        "husband",
        "son",
        "daughter",
        "baby",
        "toddler",
        "one",
        "someone",
        "family",
        "user",
    ]
)

# An unnamed place ("the college") narrows the crowd far less than a named one.
UNNAMED_PLACE = 0.35
LARGE_PLACE = 0.15
_ROAD = re.compile(r"^(?:[ABM]\d{1,4}(?:\(M\))?|J\d{1,2})$")
_DECADE = re.compile(r"^\d0s$")
_AGE_TEXT = re.compile(r"\b\d{1,3}\s*(?:yo|y/o|yrs?|years?)\b|\b\d0s\b", re.IGNORECASE)
_DATE_TEXT = re.compile(
    r"\d{1,2}[/.-]\d{1,2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)
_DURATION = re.compile(r"\b(?:days?|weeks?|months?|years?|hours?|mins?|minutes?)\b", re.I)
_PLACE_PREPS = frozenset({"from", "in", "at", "near", "outside", "off", "into"})


@dataclass(frozen=True, slots=True)
class QuasiSpan:
    """One quasi-identifier: offsets, category, how strongly it narrows, our label for it.

    ``factor`` scales the category's configured weight; ``key`` is the lexicon
    entry or entity label that found it (our words, never the message's);
    ``person`` is true when the span covers a whole person phrase ("the Polish driver").
    """

    category: str
    start: int
    end: int
    factor: float
    label: str
    key: str
    person: bool = False

    def to_data(self) -> dict[str, Any]:
        """Plain data for the engine's features."""
        return asdict(self)


class QuasiExtractor:
    """Finds quasi-identifiers in a parsed Doc. Build once; call as a Doc hook."""

    def __init__(
        self,
        extra: Mapping[str, Sequence[str]] | None = None,
        tokenize: Callable[[str], Sequence[str]] | None = None,
    ):
        # One table for every list: a single pass over the tokens finds them all.
        self.table: PhraseTable = build_table(
            [*(f"quasi_{c}" for c in LIST_CATEGORIES), "quasi_large_place"], extra, tokenize
        )

    def __call__(self, text: str, doc: Doc, offset: int) -> list[dict[str, Any]]:
        """The hook: quasi spans as plain data, offsets into the whole message."""
        return [q.to_data() for q in self.extract(doc, offset)]

    def extract(self, doc: Doc, offset: int = 0) -> list[QuasiSpan]:
        """Every quasi-identifier in the Doc, sorted by position."""
        found: list[QuasiSpan] = []
        matches = list(self.table.matches(doc))
        large = _token_set(m for m in matches if m.entry.source == "quasi_large_place")
        chunk_of = _chunks_by_token(doc)
        for m in matches:
            if m.entry.source == "quasi_large_place":
                continue
            category = m.entry.source.removeprefix("quasi_")
            q = self._from_match(doc, category, m, large, chunk_of)
            if q is not None:
                found.append(q)
        found.extend(self._from_entities(doc, large, chunk_of))
        found.extend(self._from_parse(doc, large))
        return [_shift(q, offset) for q in _dedupe(found)]

    # --- lexicon matches ---------------------------------------------------------

    def _from_match(
        self,
        doc: Doc,
        category: str,
        m: Match,
        large: set[int],
        chunk_of: dict[int, Span],
    ) -> QuasiSpan | None:
        entry = m.entry
        if entry.factor <= 0:
            return None
        first, last = doc[m.start], doc[m.end - 1]
        start, end = first.idx, last.idx + len(last.text)
        factor = entry.factor
        label = entry.label
        person = False
        if category == "event" and last.tag_ in ("NNS", "NNPS") and m.end - m.start == 1:
            return None  # "stabbings at weekends": a trend, not one event
        if category == "place":
            if last.pos_ in ("VERB", "AUX", "ADP") and m.end - m.start == 1:
                return None  # "fell" the verb, not a fell; "close" the verb, not a close
            chunk = chunk_of.get(m.start)
            named = _is_named(doc, chunk, m.start, m.end)
            if m.start in large:
                factor *= LARGE_PLACE
            elif not named:
                factor *= UNNAMED_PLACE
            if chunk is not None:
                start, end = _chunk_bounds(chunk, keep_det=True)
                start, end = min(start, first.idx), max(end, last.idx + len(last.text))
            label = label or "a place"
        elif category in ("event", "injury", "condition"):
            chunk = chunk_of.get(m.start)
            if chunk is not None and category != "event":
                start, end = _chunk_bounds(chunk, keep_det=False)
            elif category == "event":
                start, end = _event_bounds(doc, m.start, m.end, start, end)
        elif category in ("ethnicity", "religion") and not _describes_person(last):
            factor *= 0.3  # "Polish sausage", "Catholic school" (the school counts as a place)
        if category in PERSON_DESCRIPTORS:
            # "one of our theatre nurses": the phrase may span two chunks; take both.
            chunks = {chunk_of.get(m.start), chunk_of.get(m.end - 1)}
            for chunk in (c for c in chunks if c is not None):
                root = chunk.root
                if root.lower_ in ("who", "that", "which"):
                    continue
                if (
                    root.i in range(m.start, m.end)
                    or root.lower_ in PERSON_NOUNS
                    or (root.lemma_.lower() in PERSON_NOUNS)
                ):
                    s, e = _chunk_bounds(chunk, keep_det=True)
                    start, end = min(s, start), max(e, end)
                    person = True
        if (
            category == "family"
            and first.lower_ in ("brother", "sister")
            and _is_title_use(doc, m.start)
        ):
            return None
        if category == "family":
            category, label = self._relative_of_colleague(doc, m.start, category, label)
        return QuasiSpan(
            category, start, end, factor, label or _LABELS[category], entry.key, person
        )

    def _relative_of_colleague(
        self, doc: Doc, i: int, category: str, label: str
    ) -> tuple[str, str]:
        """'Our HCA Jo's dad': a colleague's relative is recognised at once."""
        token = doc[i]
        for child in token.children:
            if child.dep_ == "poss" and child.i > 0:
                before = {doc[j].lower_ for j in range(max(0, child.left_edge.i - 2), child.i)}
                if before & _STAFF_WORDS:
                    return "colleague", "being a colleague's relative"
        return category, label

    # --- spaCy entities ----------------------------------------------------------

    def _from_entities(
        self, doc: Doc, large: set[int], chunk_of: dict[int, Span]
    ) -> Iterable[QuasiSpan]:
        for ent in doc.ents:
            label = ent.label_
            text = ent.text
            if label == "NORP":
                if not _describes_person(ent.root):
                    continue  # "Canadian C-spine rules": a nationality of a thing
                cat = "religion" if ent.lemma_.lower() in _RELIGION_WORDS else "ethnicity"
                yield QuasiSpan(cat, ent.start_char, ent.end_char, 1.0, _LABELS[cat], "NORP")
            elif label in ("GPE", "LOC", "FAC", "ORG"):
                if len(text) <= 5 and text.isupper() and not _ROAD.match(text):
                    continue  # "NHS", "ED", "RTC": abbreviations, not places
                if any(t.i in large for t in ent):
                    factor = LARGE_PLACE
                else:
                    factor = 1.0 if label != "ORG" else 0.8
                yield QuasiSpan(
                    "place", ent.start_char, ent.end_char, factor, "a named place", label
                )
            elif label in ("DATE", "TIME"):
                if sum(ch.isdigit() for ch in text) >= 6 and not _DATE_TEXT.search(text):
                    continue  # a phone, bleep or reference number the small model calls a date
                if _AGE_TEXT.search(text):
                    yield QuasiSpan("age", ent.start_char, ent.end_char, 1.0, _LABELS["age"], label)
                    continue
                if _DATE_TEXT.search(text):
                    factor = 1.0
                elif _DURATION.search(text) and "ago" not in text.lower():
                    factor = 0.3  # "for 3 months": how long, not when
                else:
                    factor = 0.6
                yield QuasiSpan(
                    "time", ent.start_char, ent.end_char, factor, _LABELS["time"], label
                )

    # --- the parse: roads, named places after a preposition, decades ------------

    def _from_parse(self, doc: Doc, large: set[int]) -> Iterable[QuasiSpan]:
        for t in doc:
            end = t.idx + len(t.text)
            if _ROAD.match(t.text):
                yield QuasiSpan("place", t.idx, end, 1.0, "a named road", "road")
            elif (
                _DECADE.match(t.text)
                and t.i > 0
                and doc[t.i - 1].lower_ in ("his", "her", "their", "in", "late", "early", "mid")
            ):
                yield QuasiSpan("age", doc[t.i - 1].idx, end, 1.0, _LABELS["age"], "decade")
            elif (
                t.dep_ == "pobj"
                and t.head.lower_ in _PLACE_PREPS
                and t.pos_ == "PROPN"
                and t.text[:1].isupper()
                and (t.ent_type_ not in _NOT_PLACE_ENTS or _the_name(doc, t))
                and t.i not in large
                and t.lower_ not in _NOT_PLACES
            ):
                start = t.left_edge.idx if t.left_edge.pos_ == "PROPN" else t.idx
                yield QuasiSpan(
                    "place", start, end, 1.0, "a named place", "named after preposition"
                )


_LABELS: dict[str, str] = {
    "colleague": "being one of our colleagues",
    "public_role": "a public role",
    "local_role": "a role people locally would know",
    "notable": "having been in the news or the public eye",
    "gender_identity": "their gender identity",
    "sexual_orientation": "their sexuality",
    "ethnicity": "their nationality or ethnicity",
    "religion": "their religion",
    "disability": "a disability",
    "occupation": "their job",
    "age": "their age",
    "family": "a family relationship",
    "condition": "a rare or striking condition",
    "injury": "a striking injury",
    "event": "what happened to them",
    "place": "a place",
    "time": "when it happened",
    "uniqueness": "a detail that fits only one person",
}


def category_label(category: str) -> str:
    """Plain words for a detail category ("their job", "when it happened")."""
    return _LABELS.get(category, "a detail about them")


_RELIGION_WORDS = frozenset(
    [
        "sikh",
        "muslim",
        "jewish",
        "jew",
        "hindu",
        "buddhist",
        "catholic",
        "christian",
        "islamic",
        "protestant",
        "mormon",
    ]
)
_STAFF_WORDS = frozenset(
    [
        "our",
        "sister",
        "sr",
        "sn",
        "nurse",
        "hca",
        "hcas",
        "porter",
        "doctor",
        "dr",
        "consultant",
        "reg",
        "f1",
        "f2",
        "sho",
        "colleague",
        "matron",
        "midwife",
        "physio",
        "ot",
        "pharmacist",
    ]
)
# The small model sometimes calls a village a PRODUCT; people, dates and numbers are never places.
_NOT_PLACE_ENTS = frozenset(
    {"PERSON", "DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "QUANTITY", "PERCENT"}
)
_NOT_PLACES = frozenset(
    [
        "majors",
        "minors",
        "resus",
        "teams",
        "slack",
        "ward",
        "bay",
        "bed",
        "cubicle",
        "theatre",
        "recovery",
        "i",
    ]
)


def _describes_person(t: Token) -> bool:
    """True when a word is about a person: 'the Polish driver', 'she is Sikh', 'the Eritrean'."""
    head = t.head if t.dep_ in ("amod", "compound", "nmod") else t
    if head.lemma_.lower() in PERSON_NOUNS or head.lower_ in PERSON_NOUNS:
        return True
    if head.pos_ in ("NOUN", "PROPN") and head.lower_.endswith(("er", "or", "ist", "ian")):
        return True  # a job or role: driver, pharmacist, councillor
    if head is t and t.dep_ in ("attr", "acomp", "nsubj", "nsubjpass", "dobj"):
        return t.pos_ in ("ADJ", "NOUN", "PROPN") and head.lower_ not in _NOT_PLACES
    return False


def _the_name(doc: Doc, t: Token) -> bool:
    """A 'person' the model saw where a place is likelier: 'the Tyne', 'from Ravensby'.

    A name after 'the', or a single capitalised word after 'from'/'near' that is not a
    known first name and has no title before it, is taken as a place.
    """
    if t.ent_type_ != "PERSON" or t.i == 0:
        return False
    before = doc[t.i - 1].lower_
    if before == "the":
        return True
    alone = t.head.lower_ in ("from", "near") and before in ("from", "near")
    nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
    single = nxt is None or nxt.ent_type_ != "PERSON"
    return alone and single and t.lower_ not in _first_names()


@cache
def _first_names() -> frozenset[str]:
    """First names (the name recognizer's list, read-only): those are people, not places."""
    out = set()
    for raw in list_lines("first_names"):
        word = raw.split("#", 1)[0].strip().lower()
        if word:
            out.add(word)
    return frozenset(out)


def _is_title_use(doc: Doc, i: int) -> bool:
    """'Sister Jones' is a nurse's title, not a sibling."""
    return i + 1 < len(doc) and doc[i + 1].pos_ == "PROPN" and doc[i].text[:1].isupper()


def _is_named(doc: Doc, chunk: Span | None, start: int, end: int) -> bool:
    tokens = list(chunk) if chunk is not None else list(doc[max(0, start - 2) : end])
    for t in tokens:
        if t.is_sent_start or t.pos_ in ("DET", "PRON") or t.lower_ == "i":
            continue
        if t.text[:1].isupper() or _ROAD.match(t.text) or t.like_num:
            return True
    return False


def _chunks_by_token(doc: Doc) -> dict[int, Span]:
    out: dict[int, Span] = {}
    try:
        chunks = list(doc.noun_chunks)
    except ValueError:  # a model without a parser has no noun chunks
        return out
    for chunk in chunks:
        for t in chunk:
            out[t.i] = chunk
    return out


def _chunk_bounds(chunk: Span, keep_det: bool) -> tuple[int, int]:
    tokens = list(chunk)
    while len(tokens) > 1 and not keep_det and tokens[0].pos_ in ("DET", "PRON"):
        tokens = tokens[1:]
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


def _event_bounds(doc: Doc, start_i: int, end_i: int, start: int, end: int) -> tuple[int, int]:
    """The event word with its compounds ("chip pan fire") and particle ("knocked down")."""
    head = doc[end_i - 1]
    left = [c for c in head.lefts if c.dep_ in ("compound", "amod", "nmod") and c.i < start_i]
    if left:
        start = min(start, min(c.left_edge.idx for c in left))
    for c in head.rights:
        if c.dep_ == "prt" and c.i >= end_i:
            end = max(end, c.idx + len(c.text))
    return start, end


def _token_set(matches: Iterable[Match]) -> set[int]:
    out: set[int] = set()
    for m in matches:
        out.update(range(m.start, m.end))
    return out


def _dedupe(found: list[QuasiSpan]) -> list[QuasiSpan]:
    """One span per (category, overlap): the widest, with the strongest factor."""
    out: list[QuasiSpan] = []
    for q in sorted(found, key=lambda q: (q.category, q.start, -q.end)):
        if out and out[-1].category == q.category and q.start < out[-1].end:
            last = out[-1]
            best = last if last.factor >= q.factor else q
            out[-1] = QuasiSpan(
                q.category,
                min(last.start, q.start),
                max(last.end, q.end),
                max(last.factor, q.factor),
                best.label,
                best.key,
                last.person or q.person,
            )
        else:
            out.append(q)
    return sorted(out, key=lambda q: (q.start, q.end, q.category))


def _shift(q: QuasiSpan, offset: int) -> QuasiSpan:
    if not offset:
        return q
    return QuasiSpan(
        q.category, q.start + offset, q.end + offset, q.factor, q.label, q.key, q.person
    )
