"""Email addresses, including ones typed wrongly ("name@gmail.con") and written out ("name at gmail dot com").

Our own pattern: Presidio's EmailRecognizer fetches the public suffix list from
the internet on first use, and Discretion never goes online at run time. Staff
addresses (nhs.net) are emails too; whether they warrant a warning is decided
later, by the risk logic, not here.
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

ENTITY = "EMAIL_ADDRESS"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    r"(?<![\w.%+-])(?P<id>[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+'-]{0,62}[A-Za-z0-9_%+-])?"
    r"@" + _LABEL + r"(?:\." + _LABEL + r")*\.[A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9])"
)
# "jo.bloggs at gmail dot com", "jo.bloggs [at] gmail [dot] com": people dodging filters.
_SPELT = re.compile(
    r"(?<![\w.])(?P<id>[A-Za-z0-9][\w.+-]{1,63}\s*(?:\[at\]|\(at\)|\{at\}|\sat\s)\s*"
    r"[A-Za-z0-9-]{2,63}(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s|\.)\s*[A-Za-z0-9-]{2,63}){0,2}"
    r"\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s|\.)\s*(?:com|co\s*(?:\[dot\]|\(dot\)|\sdot\s|\.)\s*uk"
    r"|net|org|uk|ac\s*(?:\[dot\]|\(dot\)|\sdot\s|\.)\s*uk|ie|io|me|info))\b",
    re.IGNORECASE,
)

SCORE_EMAIL = 0.9
SCORE_SPELT = 0.7


@dataclass
class EmailAddressRecognizer(Recognizer):
    """Finds email addresses, written normally or spelt out."""

    name: ClassVar[str] = "EmailAddressRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        if "@" in text:
            for m in _EMAIL.finditer(text):
                yield Hit(m.start("id"), m.end("id"), SCORE_EMAIL, ENTITY, "email")
        low = text.lower()
        if "at" in low and ("dot" in low or "." in low):
            for m in _SPELT.finditer(text):
                yield Hit(m.start("id"), m.end("id"), SCORE_SPELT, ENTITY, "email spelt out")


def build(settings: Settings) -> list[Recognizer]:
    return [EmailAddressRecognizer()]
