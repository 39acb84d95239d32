"""Text clean-up before analysis, keeping a map back to the original offsets.

People (and copy-paste from clinical systems) put invisible characters inside
identifiers: a zero-width space inside an NHS number, a non-breaking space in a
postcode. Recognizers see a cleaned text; findings are mapped back to the
original so redaction removes exactly what the poster wrote.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Removed outright: they have no width, so they can hide inside a number or a word.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064")
# Replaced one-for-one so offsets stay aligned.
_SPACES = frozenset(
    "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
)
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")


@dataclass(frozen=True, slots=True)
class Normalised:
    """A cleaned text and, for each of its characters, the index in the original."""

    text: str
    origin: tuple[int, ...] | None  # None when nothing was removed (identity map)
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the cleaned text back to the original text."""
        if self.origin is None:
            return start, end
        if start >= len(self.origin):
            return self.original_length, self.original_length
        o_start = self.origin[start]
        o_end = self.origin[end - 1] + 1 if end > start else o_start
        return o_start, o_end


def _replacement(ch: str) -> str | None:
    """What a character becomes in the cleaned text ('' to drop it, None to keep it)."""
    if ch in _INVISIBLE:
        return ""
    if ch in _SPACES:
        return " "
    if ch in _DASHES:
        return "-"
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate cannot be encoded: make it inert
        return "\ufffd"
    if (code < 32 and ch not in "\n\t\r") or code == 127:
        return " "
    if unicodedata.category(ch) == "Cf":  # other format controls (bidi marks and the like)
        return ""
    return None


def normalise(text: str) -> Normalised:
    """Clean ``text`` for recognizers; the result maps back to the original offsets."""
    if text.isascii() and text.isprintable():
        return Normalised(text, None, len(text))
    out: list[str] = []
    origin: list[int] = []
    removed = False
    for i, ch in enumerate(text):
        rep = _replacement(ch) if (not ch.isascii() or not ch.isprintable()) else None
        if rep is None:
            out.append(ch)
            origin.append(i)
        elif rep == "":
            removed = True
        else:
            out.append(rep)
            origin.append(i)
    cleaned = "".join(out)
    return Normalised(cleaned, tuple(origin) if removed else None, len(text))
