"""Curated phrase lists as data files, matched on an already-parsed spaCy Doc.

A list lives in ``recognizers/conf/lexicons/<name>.txt``: one entry a line, ``#``
starts a comment. An entry is words separated by spaces, optionally followed by
``; factor`` (how much of its category's weight it carries, default 1) and
``; label`` (our own words for it in reasons). Each word matches a token's
lower-case text or its lemma, so ``bring in`` also matches "brought in". Two
wildcards: ``<num>`` is any number and ``<name>`` any capitalised word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

NUM = "<num>"
NAME = "<name>"
_WILD = (NUM, NAME)
_COMMENT = re.compile(r"\s#(?:\s|$)")

Tokenize = Callable[[str], Sequence[str]]
"""Splits a phrase into words the way the NLP model splits messages (lower-cased)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One curated phrase: its words, the list it came from, a factor and a label."""

    words: tuple[str, ...]
    source: str
    factor: float = 1.0
    label: str = ""

    @property
    def key(self) -> str:
        """The phrase as written in the list (our words, never the message's)."""
        return " ".join(self.words)


@dataclass(frozen=True, slots=True)
class Match:
    """An entry found in a Doc: token indices ``[start, end)`` and the entry."""

    start: int
    end: int
    entry: Entry


def _plain_split(phrase: str) -> Sequence[str]:
    return phrase.lower().split()


def split_words(phrase: str, tokenize: Tokenize | None = None) -> tuple[str, ...]:
    """Lower-cased words of a phrase; wildcards stay whole, the rest goes to ``tokenize``."""
    out: list[str] = []
    for chunk in phrase.strip().split():
        if chunk.lower() in _WILD:
            out.append(chunk.lower())
        else:
            out.extend(w.lower() for w in (tokenize or _plain_split)(chunk) if w.strip())
    return tuple(out)


def parse_line(raw: str, source: str, tokenize: Tokenize | None = None) -> Entry | None:
    """One lexicon line as an Entry (None for blanks and comments)."""
    text = "" if raw.lstrip().startswith("#") else _COMMENT.split(raw, 1)[0]
    text = text.replace("\\#", "#")
    parts = [p.strip() for p in text.split(";")]
    words = split_words(parts[0], tokenize) if parts and parts[0] else ()
    if not words:
        return None
    factor = float(parts[1]) if len(parts) > 1 and parts[1] else 1.0
    label = parts[2] if len(parts) > 2 else ""
    return Entry(words, source, factor, label)


@cache
def list_lines(name: str) -> tuple[str, ...]:
    """The raw lines of ``conf/lexicons/<name>.txt`` (empty when the file is absent)."""
    path = resources.files("discretion.recognizers") / "conf" / "lexicons" / f"{name}.txt"
    if not path.is_file():
        return ()
    return tuple(path.read_text(encoding="utf-8").splitlines())


def token_keys(token: Token) -> tuple[str, ...]:
    """What a lexicon word may equal for this token: its lower text and its lemma."""
    lower = token.lower_
    lemma = token.lemma_.lower()
    return (lower,) if lemma == lower else (lower, lemma)


def _word_matches(word: str, token: Token, keys: tuple[str, ...]) -> bool:
    if word == NUM:
        return token.like_num or token.text.isdigit()
    if word == NAME:
        return token.text[:1].isupper() and token.is_alpha
    return word in keys


class PhraseTable:
    """Many entries, indexed by first word, matched in one pass over a Doc's tokens."""

    def __init__(self, entries: Iterable[Entry]):
        self._by_first: dict[str, list[Entry]] = {}
        self._wild: list[Entry] = []
        for entry in entries:
            first = entry.words[0]
            if first in _WILD:
                self._wild.append(entry)
            else:
                self._by_first.setdefault(first, []).append(entry)

    def __len__(self) -> int:
        return sum(len(b) for b in self._by_first.values()) + len(self._wild)

    def matches(self, doc: Doc | Sequence[Token]) -> Iterator[Match]:
        """Every entry found: per list, the longest at each starting token; overlaps allowed."""
        tokens = list(doc)
        keys = [token_keys(t) for t in tokens]
        by_first = self._by_first
        for i in range(len(tokens)):
            candidates: list[Entry] = []
            for key in keys[i]:
                candidates.extend(by_first.get(key, ()))
            if self._wild:
                candidates.extend(self._wild)
            best: dict[str, Match] = {}
            for entry in candidates:
                n = len(entry.words)
                if i + n > len(tokens):
                    continue
                held = best.get(entry.source)
                if held is not None and n <= held.end - held.start:
                    continue
                if all(
                    _word_matches(w, tokens[i + k], keys[i + k]) for k, w in enumerate(entry.words)
                ):
                    best[entry.source] = Match(i, i + n, entry)
            yield from best.values()


def build_table(
    names: Iterable[str],
    extra: Mapping[str, Sequence[str]] | None = None,
    tokenize: Tokenize | None = None,
) -> PhraseTable:
    """A table from shipped lists plus a site's extra entries (keyed by list name)."""
    entries: list[Entry] = []
    for name in names:
        for raw in (*list_lines(name), *(extra or {}).get(name, ())):
            entry = parse_line(raw, name, tokenize)
            if entry is not None:
                entries.append(entry)
    return PhraseTable(entries)
