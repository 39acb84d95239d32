"""Social media handles: "@jo_bloggs99", "insta: jo.bloggs", "DaveyDaresTV (the YouTuber)".

Not handles: Slack and Teams mentions of colleagues (``<@U123ABC>``,
``<!subteam^S1|@team>``, ``<at>Name</at>``), @here/@channel, email addresses,
and times written with an at sign ("@3pm"). A bare "@Sam" could be a colleague
typed without the mention picker, so it is only reported as a handle when it
looks like one (digits, underscores, dots) or a platform is named nearby.
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

ENTITY = "HANDLE"

_PLATFORMS = (
    r"insta|instagram|twitter|tiktok|tik\s?tok|snap|snapchat|facebook|fb|youtube|yt|twitch"
    r"|threads|bluesky|bsky|linkedin|onlyfans|reddit|telegram|discord|kik|x\.com"
)
_AT = re.compile(r"(?<![\w@<|^.+-])@(?P<id>[A-Za-z_][A-Za-z0-9_.]{1,29}[A-Za-z0-9_])(?![\w@-])")
_LABELLED = re.compile(
    r"\b(?:" + _PLATFORMS + r")(?:\s+(?:handle|account|name|username|user|id|page|profile))?"
    r"\s*(?::|=|-|\bis\b|\bas\b)\s*@?(?P<id>[A-Za-z0-9_][A-Za-z0-9_.]{1,29}[A-Za-z0-9_])\b",
    re.IGNORECASE,
)
# A run-together name with a capital inside ("DaveyDaresTV") next to a word about posting online.
_CAMEL = re.compile(r"(?<![\w@])(?P<id>[A-Z][a-z]+(?:[A-Z][a-z0-9]*){1,4}[A-Z0-9]*)(?![\w@])")
_ONLINE = re.compile(
    r"\b(?:youtuber|tiktoker|streamer|influencer|instagrammer|vlogger|blogger|content\s+creator"
    r"|followers|subscribers|channel|" + _PLATFORMS + r")\b",
    re.IGNORECASE,
)
_NOT_HANDLES = frozenset({"here", "channel", "everyone", "all", "team", "admin", "admins"})
# Brands and surnames that are written with a capital inside, never handles on their own.
_CAMEL_WORDS = frozenset(
    {
        "youtube", "tiktok", "gofundme", "whatsapp", "facebook", "linkedin", "iphone", "ipad",
        "powerpoint", "onedrive", "sharepoint", "onlyfans", "snapchat", "instagram", "bluesky",
        "playstation", "macdonald", "mcdonald", "mcdonalds", "justgiving", "mumsnet",
    }
)  # fmt: skip
_MARKUP = re.compile(r"<[@#!][^<>]*>|<at>[^<]*</at>")

SCORE_LOOKS_SOCIAL = 0.6  # has digits, underscores or dots: how social handles look
SCORE_BARE = 0.35  # "@Sam" alone could be a colleague; a platform nearby lifts it
SCORE_LABELLED = 0.85
SCORE_CAMEL = 0.6


def _inside_markup(text: str, start: int, end: int) -> bool:
    return any(m.start() <= start and end <= m.end() for m in _MARKUP.finditer(text))


@dataclass
class HandleRecognizer(Recognizer):
    """Finds social media handles."""

    name: ClassVar[str] = "HandleRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        taken: list[tuple[int, int]] = []
        online = _ONLINE.search(text) is not None
        for m in _LABELLED.finditer(text) if online else ():
            if m.group("id").lower() in _NOT_HANDLES:
                continue
            taken.append(m.span("id"))
            yield Hit(m.start("id"), m.end("id"), SCORE_LABELLED, ENTITY, "platform named")
        if "@" in text:
            for m in _AT.finditer(text):
                handle = m.group("id").rstrip(".")
                start, end = m.start(), m.start("id") + len(handle)
                if handle.lower() in _NOT_HANDLES or _inside_markup(text, start, end):
                    continue
                if any(s < end and start < e for s, e in taken):
                    continue
                social = online or any(ch.isdigit() or ch in "_." for ch in handle)
                score = SCORE_LOOKS_SOCIAL if social else SCORE_BARE
                yield Hit(start, end, score, ENTITY, "@handle")
        if online:
            for m in _CAMEL.finditer(text):
                word = m.group("id")
                low = word.lower()
                if low in _CAMEL_WORDS or low.startswith(("mc", "mac")) or _ONLINE.fullmatch(word):
                    continue
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                yield Hit(m.start(), m.end(), SCORE_CAMEL, ENTITY, "channel name")


CONTEXT = ("insta", "instagram", "twitter", "tiktok", "snapchat", "facebook", "youtube", "handle")


def build(settings: Settings) -> list[Recognizer]:
    return [HandleRecognizer(context=CONTEXT)]
