"""Patient context: is this message about a patient or a case, and what says so.

Cue lists are data (``context_patient.txt``, ``context_against.txt``): each entry
carries a weight. Cues for are combined like independent pieces of evidence
(1 - product of (1 - w)); cues against scale the result down the same way. The
evidence names the cues (our labels), never the message's words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from discretion.quasi.phrases import Match, build_table

if TYPE_CHECKING:
    from spacy.tokens import Doc

# Pronouns that make a clinical verb about someone else ("he came in", "she was admitted").
_THIRD_PERSON = frozenset({"he", "she", "they", "him", "her"})
_SOMEONE = frozenset(
    [
        "pt",
        "pts",
        "patient",
        "patients",
        "man",
        "woman",
        "lady",
        "gent",
        "gentleman",
        "lad",
        "lass",
        "guy",
        "girl",
        "boy",
        "kid",
        "kiddo",
        "baby",
        "child",
        "teen",
        "teenager",
        "mum",
        "dad",
        "wife",
        "husband",
        "son",
        "daughter",
        "chap",
        "fella",
        "bloke",
        "person",
        "someone",
        "somebody",
        "family",
        "who",
        "whose",
        "his",
        "hers",
        "their",
    ]
)
_CARE_VERBS = frozenset(
    {"see", "review", "assess", "examine", "treat", "admit", "scan", "transfer"}
)


@dataclass(frozen=True, slots=True)
class PatientContext:
    """How likely the message is about a patient (0-1), with the cues for and against."""

    score: float
    evidence: tuple[str, ...] = ()
    against: tuple[str, ...] = ()
    # Whether the message mentions a person at all (a pronoun, "pt", "the lady"...).
    someone: bool = True

    def to_data(self) -> dict[str, Any]:
        """Plain data for the engine's features."""
        return {
            "score": self.score,
            "evidence": list(self.evidence),
            "against": list(self.against),
            "someone": self.someone,
        }

    @classmethod
    def from_data(cls, data: Any) -> PatientContext:
        """Back from plain data (a missing or odd value means no context)."""
        if not isinstance(data, dict):
            return cls(0.0)
        return cls(
            float(data.get("score", 0.0)),
            tuple(data.get("evidence", ())),
            tuple(data.get("against", ())),
            bool(data.get("someone", True)),
        )


class ContextScorer:
    """Scores patient context on a parsed Doc. Build once; call as a Doc hook."""

    def __init__(
        self,
        extra: Mapping[str, Sequence[str]] | None = None,
        tokenize: Callable[[str], Sequence[str]] | None = None,
    ):
        self.table = build_table(
            ["context_patient", "context_clinical", "context_against"], extra, tokenize
        )

    def __call__(self, text: str, doc: Doc, offset: int) -> dict[str, Any]:
        """The hook: the context as plain data."""
        return self.score(doc).to_data()

    def score(self, doc: Doc) -> PatientContext:
        """The patient-context score of one parsed message."""
        # "if you're coming in from...": staff travelling to work, not a patient arriving.
        matches = [m for m in self.table.matches(doc) if not _staff_arriving(doc, m.start)]
        pro = _strongest(m for m in matches if m.entry.source != "context_against")
        con = _strongest(m for m in matches if m.entry.source == "context_against")
        # Own health: "I was admitted", "my own scan" - the poster is the patient.
        first_person = any(
            t.lower_ in ("i", "me") and t.dep_ in ("nsubj", "nsubjpass") for t in doc
        ) and not any(t.lower_ in _THIRD_PERSON or t.lower_ in ("pt", "patient") for t in doc)
        # "seeing him", "reviewed her": a clinician acting on someone else.
        for t in doc:
            if t.lemma_ in _CARE_VERBS and any(
                c.dep_ in ("dobj", "nsubjpass") and c.lower_ in _THIRD_PERSON for c in t.children
            ):
                pro["someone being seen"] = max(pro.get("someone being seen", 0.0), 0.5)
        # "?CVA": a query diagnosis (a question mark glued to the next word, not ending a question).
        for t in doc[:-1]:
            if t.text == "?" and not t.whitespace_ and doc[t.i + 1].is_alpha:
                pro["a query diagnosis"] = 0.3
                break
        if first_person and pro:
            con.setdefault("the poster's own health", 0.5)
        p = _combine(pro.values())
        n = _combine(con.values())
        score = round(p * (1.0 - n), 3)
        return PatientContext(score, tuple(pro), tuple(con), _mentions_someone(doc))


def _mentions_someone(doc: Doc) -> bool:
    for t in doc:
        if t.lower_ in _THIRD_PERSON or t.lower_ in _SOMEONE or t.lemma_.lower() in _SOMEONE:
            return True
        if t.ent_type_ == "PERSON" or t.ent_type_ == "NORP":
            return True
    return False


def _staff_arriving(doc: Doc, i: int) -> bool:
    token = doc[i]
    return token.lemma_ == "come" and any(
        c.dep_ == "nsubj" and c.lower_ in ("i", "you", "we") for c in token.children
    )


def _strongest(matches: Sequence[Match] | Any) -> dict[str, float]:
    """Label -> the strongest weight seen for it (a cue repeated is still one cue)."""
    out: dict[str, float] = {}
    for m in matches:
        label = m.entry.label or m.entry.key
        out[label] = max(out.get(label, 0.0), min(1.0, m.entry.factor))
    return out


def _combine(weights: Any) -> float:
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - remaining
