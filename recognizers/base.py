"""What a Discretion recognizer is: small, Presidio-free, testable on its own.

A recognizer looks at the (cleaned) message text and, when it needs it, the
spaCy ``Doc`` of that text, and returns :class:`Hit` spans. The analysis layer
wraps each one as a Presidio recognizer, so Presidio's context enhancement and
decision trace apply to ours as to its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from spacy.tokens import Doc

# Presidio's convention: a validated checksum lifts a hit to 1.0, a failed one drops it.
MAX_SCORE = 1.0


@dataclass(frozen=True, slots=True)
class Hit:
    """A span a recognizer found: offsets into the text it was given, a score, why."""

    start: int
    end: int
    score: float
    entity: str
    pattern: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named regular expression with the score a bare match earns."""

    name: str
    regex: str
    score: float
    flags: int = re.IGNORECASE


class Recognizer:
    """Base class: subclasses set ``name``, ``entities`` and implement :meth:`find`."""

    name: ClassVar[str] = ""
    entities: ClassVar[tuple[str, ...]] = ()
    # Words that, near a hit, make it more likely (Presidio's context enhancement).
    context: tuple[str, ...] = ()
    # True when :meth:`find` reads the spaCy Doc (names); pattern recognizers do not.
    needs_doc: ClassVar[bool] = False

    def find(self, text: str, doc: Doc | None = None) -> Iterable[Hit]:
        """Every hit in ``text``; ``doc`` is its spaCy parse when ``needs_doc``."""
        raise NotImplementedError


@dataclass
class PatternRecognizer(Recognizer):
    """A recognizer made of regular expressions and an optional checksum."""

    patterns: tuple[Pattern, ...] = ()
    context: tuple[str, ...] = ()
    entity: str = ""
    recognizer_name: str = ""
    _compiled: list[tuple[Pattern, re.Pattern[str]]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._compiled = [(p, re.compile(p.regex, p.flags)) for p in self.patterns]

    @property
    def label(self) -> str:
        return self.recognizer_name or type(self).name or type(self).__name__

    @property
    def supported(self) -> tuple[str, ...]:
        return (self.entity,) if self.entity else type(self).entities

    def validate(self, matched: str) -> bool | None:
        """True to confirm a match (score 1.0), False to drop it, None to keep its score."""
        return None

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        entity = self.supported[0]
        for pattern, regex in self._compiled:
            for m in regex.finditer(text):
                # A pattern may mark the identifier itself with (?P<id>...) and keep cues outside it.
                start, end = m.span("id") if "id" in regex.groupindex else m.span()
                if start == end:
                    continue
                verdict = self.validate(text[start:end])
                if verdict is False:
                    continue
                score = MAX_SCORE if verdict else pattern.score
                yield Hit(start, end, score, entity, pattern.name)


def digits(text: str) -> str:
    """Only the digits of ``text`` (separators, spaces and dots dropped)."""
    return "".join(ch for ch in text if ch.isdigit())


def mod11_check_digit(body: str) -> int | None:
    """The Modulus 11 check digit (weights 10..2) for nine digits; None if none is possible."""
    total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def mod11_valid(number: str) -> bool:
    """True when a 10-digit string passes the NHS Modulus 11 check."""
    if len(number) != 10 or not number.isdigit():
        return False
    return mod11_check_digit(number[:9]) == int(number[9])
