"""Words of a message as the name rules see them, and the word lists they consult.

Names are found on our own light word split (hyphenated and apostrophe names stay
one word: "Al-Hashimi", "O'Neill", "Lily-Mae"); spaCy's parse adds evidence on top.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from spacy.lang.en.stop_words import STOP_WORDS

from discretion.recognizers.lexicons import lexicon

# A word: letters and digits, with inner hyphens and apostrophes ("Al-Hashimi", "O'Neill").
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
# Where a sentence ends: a new line, or . ! ? followed by a space (not after "Mr." and the like).
_SENTENCE_END = re.compile(r"\n|[.!?]+(?=\s)|[.!?]+$")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "no", "prof", "rev", "sr", "mx"})


_ALPHA = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-])*")


@dataclass(frozen=True, slots=True)
class Word:
    """One word: where it is, its text without a trailing 's, and its shape."""

    start: int
    end: int  # end of the name part (a possessive 's is left out)
    text: str
    possessive: bool
    sentence: int
    key: str  # lower case without accents, for looking the word up in the lists
    alpha: bool  # letters only (inner hyphens and apostrophes allowed)
    is_title: bool  # capitalised like a name: "Jones", "McLeish", "O'Neill", "Al-Hashimi"
    is_upper: bool  # "SMITH"
    is_lower: bool  # "smith"

    @classmethod
    def make(cls, start: int, end: int, text: str, possessive: bool, sentence: int) -> Word:
        """A word with its shape worked out once."""
        alpha = bool(_ALPHA.fullmatch(text))
        return cls(
            start,
            end,
            text,
            possessive,
            sentence,
            fold(text),
            alpha,
            alpha and text[0].isupper() and not text.isupper(),
            alpha and len(text) >= 2 and text.isupper(),
            alpha and text.islower(),
        )


def fold(text: str) -> str:
    """Lower case with accents removed ("Siobhán" -> "siobhan")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


def split_words(text: str) -> list[Word]:
    """The words of ``text`` in order, each with the number of its sentence."""
    ends = [m.start() for m in _SENTENCE_END.finditer(text)]
    words: list[Word] = []
    sentence = 0
    e = 0
    for m in _WORD.finditer(text):
        while e < len(ends) and ends[e] < m.start():
            # A full stop straight after an abbreviation such as "Mr." does not end a sentence.
            before = text[max(0, ends[e] - 12) : ends[e]].rsplit(None, 1)
            if not (
                text[ends[e]] == "."
                and before
                and before[-1].lower().strip("*_(") in _ABBREVIATIONS
            ):
                sentence += 1
            e += 1
        raw = m.group()
        possessive = bool(_POSSESSIVE.search(raw)) and len(raw) > 2
        end = m.end() - 2 if possessive else m.end()
        words.append(Word.make(m.start(), end, text[m.start() : end], possessive, sentence))
    return words


def gap(text: str, left: Word, right: Word) -> str:
    """The characters between two words."""
    return text[left.end : right.start]


class Lists:
    """The shipped word lists, loaded once (lexicons.py caches each file)."""

    def __init__(self) -> None:
        self.first = lexicon("first_names")
        self.first_ambiguous = lexicon("first_names_ambiguous")
        self.patient_titles = lexicon("patient_titles")
        self.public_titles = lexicon("public_titles")
        self.staff_roles = lexicon("staff_roles")
        self.eponyms = lexicon("eponyms")
        self.eponym_heads = lexicon("eponym_heads")
        self.drug_brands = lexicon("drug_brands")
        self.place_words = lexicon("place_words")
        self.place_surnames = lexicon("place_words_surnames")
        self.not_names = lexicon("not_names")
        self.acronyms = lexicon("acronyms")
        self.particles = lexicon("name_particles")
        self.labels = lexicon("name_labels")
        self.stop = frozenset(STOP_WORDS)
        # One-word staff roles ("Dr", "SN", "HCA"); phrases are matched on the text.
        self.staff_words = frozenset(r for r in self.staff_roles if " " not in r)

    def is_first(self, word: Word, *, allow_ambiguous: bool) -> bool:
        """True when the word is a known first name."""
        key = word.key
        return key in self.first or (allow_ambiguous and key in self.first_ambiguous)

    def never_name(self, word: Word) -> bool:
        """True for words that are never part of a person's name here."""
        return self.never_name_key(word.key)

    def never_name_key(self, key: str) -> bool:
        """:meth:`never_name` for a folded word."""
        return (
            key in self.not_names
            or key in self.drug_brands
            or key in self.staff_words
            or key in self.patient_titles
            or key in self.public_titles
            or key in self.place_words
            or (key in self.stop and key not in self.particles)
            or key in self.acronyms
        )


@cache
def lists() -> Lists:
    """The word lists, loaded on first use."""
    return Lists()


@cache
def phrase_regex(name: str) -> re.Pattern[str]:
    """One compiled regular expression matching any entry of a lexicon as whole words."""
    entries = sorted(lexicon(name), key=len, reverse=True)
    body = "|".join(re.escape(e).replace(r"\ ", r"\s+") for e in entries)
    return re.compile(r"(?<![\w&/])(?:" + body + r")(?![\w&/])", re.IGNORECASE)
