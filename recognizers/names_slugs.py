"""Names hidden in file names, channel names and links.

"discharge_letter_jane_doe.pdf", "#pt-jsmith" and ".../patient?name=jane+doe" carry a
patient's name without spaces or capitals, so the word rules miss them. Here such a
token is cut into parts and a name is a known first name followed by another part,
or the part(s) after "pt", "patient" or "name".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from discretion.recognizers.lexicons import lexicon
from discretion.recognizers.names_words import fold, lists

# Slack and Teams mentions name workspace members: colleagues, never patients.
MENTION = re.compile(r"<[@!][^<>]*>|<at>[^<]{0,200}</at>", re.IGNORECASE)
URL = re.compile(r"https?://[^\s<>|\"']+", re.IGNORECASE)
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CHANNEL = re.compile(r"(?<![\w&])#([a-z0-9][\w.-]{2,})", re.IGNORECASE)
_FILE = re.compile(
    r"(?<![\w/.-])([\w.-]{1,150}?)\.(?:pdf|docx?|xlsx?|csv|txt|rtf|odt|pptx?|jpe?g|png|gif|"
    r"heic|tiff?|msg|eml|zip|dcm)\b",
    re.IGNORECASE,
)
# A whole line that is a file name, spaces allowed ("J Smith MRI report.pdf").
FILE_LINE = re.compile(
    r"(?m)^[ \t]*[^\n/\\]{1,150}\.(?:pdf|docx?|xlsx?|csv|txt|rtf|odt|pptx?|jpe?g|png|gif|heic|"
    r"tiff?|msg|eml|zip|dcm)[ \t]*$",
    re.IGNORECASE,
)
# A bare slug: two or more letter runs joined by _ or - ("pt-jsmith", "jane_doe_referral").
_SLUG = re.compile(r"(?<![\w#@/.-])[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)+(?![\w@/-])")
# Parts of a slug: letter runs, with camelCase cut ("JaneDoe" -> "Jane", "Doe").
_PART = re.compile(r"[A-Z]?[a-z\u00df-\u00ff]+|[A-Z\u00c0-\u00de]+(?![a-z])")
_CUES = frozenset({"pt", "patient", "name", "mr", "mrs", "ms", "miss"})


@dataclass(frozen=True, slots=True)
class SlugName:
    """A name found inside a slug, with offsets into the message text."""

    start: int
    end: int
    where: str  # "a file name", "a channel name", "a link"
    by_cue: bool


def _is_word(part: str) -> bool:
    """True when a slug part is an ordinary word, not a possible surname."""
    words = lists()
    key = fold(part)
    return (
        len(key) < 2
        or key in lexicon("slug_words")
        or words.never_name_key(key)
        or key in words.first_ambiguous
    )


def _parts(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [
        (start + m.start(), start + m.end(), m.group()) for m in _PART.finditer(text[start:end])
    ]


def _names_in(parts: list[tuple[int, int, str]]) -> Iterator[tuple[int, int, bool]]:
    words = lists()
    i = 0
    while i < len(parts):
        s, e, part = parts[i]
        key = fold(part)
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if key in _CUES and nxt is not None and not _is_word(nxt[2]):
            # "pt-jsmith", "name=jane+doe": one or two parts after the cue.
            last = nxt
            after = parts[i + 2] if i + 2 < len(parts) else None
            if after is not None and not _is_word(after[2]) and len(nxt[2]) >= 1:
                last = after
            yield nxt[0], last[1], True
            i = parts.index(last) + 1
            continue
        if (
            key in words.first
            and len(key) >= 3
            and nxt is not None
            and not _is_word(nxt[2])
            and nxt[0] - e <= 3
        ):
            yield s, nxt[1], False
            i += 2
            continue
        i += 1


def slug_names(text: str) -> Iterator[SlugName]:
    """Names inside links, channel names, file names and other slugs in ``text``."""
    taken = bytearray(len(text))  # 1 where a slug already looked

    def fresh(s: int, e: int) -> bool:
        return not any(taken[s:e])

    def take(s: int, e: int) -> None:
        taken[s:e] = b"\x01" * (e - s)

    for m in EMAIL.finditer(text):  # e-mail addresses are their own recognizer's business
        take(*m.span())
    for m in MENTION.finditer(text):
        take(*m.span())
    sources = (
        (URL, "a link", 0),
        (_FILE, "a file name", 1),
        (_CHANNEL, "a channel name", 1),
        (_SLUG, "a channel or file name", 0),
    )
    for regex, where, group in sources:
        for m in regex.finditer(text):
            s, e = m.span(group)
            if not fresh(s, e):
                continue
            # A bare hyphenated word with capitals ("Lily-Mae", "X-Ray") is left to the word
            # rules; bare slugs are the lower-case names of channels and files.
            if regex is _SLUG and "_" not in m.group() and not m.group().islower():
                continue
            take(s, e)
            for ns, ne, by_cue in _names_in(_parts(text, s, e)):
                yield SlugName(ns, ne, where, by_cue)


def link_spans(text: str) -> list[tuple[int, int]]:
    """Where links, e-mail addresses and mentions are: the word rules do not look inside."""
    return [m.span() for regex in (URL, EMAIL, MENTION) for m in regex.finditer(text)]


def file_lines(text: str) -> list[tuple[int, int]]:
    """Where whole lines are file names (the names of attached files end up there)."""
    return [m.span() for m in FILE_LINE.finditer(text)]
