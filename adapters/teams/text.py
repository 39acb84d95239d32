"""Teams message text as a person reads it: mentions and HTML turned into plain text.

Teams sends ``text`` with ``<at>Name</at>`` mention tags and, for formatted
messages, HTML tags and entities. The engine must see plain words, and the
people a poster @mentions are colleagues, not patients: their names are replaced
by a neutral word before assessment and put back in the redacted version shown
to the poster. Every character keeps a map back to the activity text.
"""

from __future__ import annotations

import html
import html.entities
import re
from collections.abc import Sequence
from dataclasses import dataclass

# What the engine reads in place of a colleague's @mention: nothing (a colleague is not a patient).
MENTION_STAND_IN = ""

_TOKEN = re.compile(
    r"<at(?:\s[^<>]*)?>(?P<mention>.*?)</at>"  # a mention, name inside
    r"|<(?P<close>/)?(?P<tag>[a-zA-Z][a-zA-Z0-9]*)[^<>]*>"  # any other tag
    r"|&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});",  # an entity
    re.DOTALL,
)
# Tags that end a line or a block: they become a line break so words do not run together.
_BREAKS = frozenset(
    {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
)
_CELLS = frozenset({"td", "th"})


@dataclass(frozen=True, slots=True)
class Piece:
    """One run of the converted text and where it came from in the activity text."""

    assessed: str  # what the engine reads
    shown: str  # what the poster sees in the redacted version
    source_start: int
    source_end: int
    mention: bool = False


@dataclass(frozen=True, slots=True)
class PlainText:
    """Converted text: what to assess, what to show, and the maps between them."""

    pieces: tuple[Piece, ...]
    source: str

    @property
    def assessed(self) -> str:
        """The text the engine reads (colleagues' names replaced by a neutral word)."""
        return "".join(p.assessed for p in self.pieces)

    @property
    def shown(self) -> str:
        """The text as the poster wrote it, without markup."""
        return "".join(p.shown for p in self.pieces)

    @property
    def mentions(self) -> int:
        """How many colleagues were @mentioned."""
        return sum(1 for p in self.pieces if p.mention)

    def to_shown(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the assessed text onto the shown text."""
        return self._map(start, end, shown=True)

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the assessed text onto the activity's own text."""
        return self._map(start, end, shown=False)

    def _map(self, start: int, end: int, *, shown: bool) -> tuple[int, int]:
        a = s = 0  # running offsets in the assessed and the shown text
        out_start = out_end = None
        for p in self.pieces:
            a_end = a + len(p.assessed)
            s_end = s + len(p.shown)
            # A mention or an entity is atomic: any overlap takes the whole of it.
            whole = (
                p.mention
                or len(p.assessed) != len(p.shown)
                or len(p.assessed) != (p.source_end - p.source_start)
            )
            if out_start is None and start < a_end:
                if whole:
                    out_start = s if shown else p.source_start
                else:
                    out_start = (s if shown else p.source_start) + (start - a)
            if end <= a_end and out_start is not None:
                if whole:
                    out_end = s_end if shown else p.source_end
                else:
                    out_end = (s if shown else p.source_start) + (end - a)
                break
            a, s = a_end, s_end
        if out_start is None:
            total = len(self.shown) if shown else len(self.source)
            return total, total
        if out_end is None:
            out_end = len(self.shown) if shown else len(self.source)
        return out_start, max(out_start, out_end)


def to_plain(
    source: str, *, bot_mentions: Sequence[str] = (), has_markup: bool | None = None
) -> PlainText:
    """Convert Teams activity text to plain text.

    ``bot_mentions`` are the names under which this bot was @mentioned: those
    mentions are dropped (they address the bot, they are not part of the message).
    ``has_markup`` forces HTML handling on or off; by default any tag turns it on.
    """
    pieces: list[Piece] = []
    bots = {n.strip() for n in bot_mentions}
    if has_markup is None:
        has_markup = "<" in source or "&" in source
    pos = 0
    if has_markup:
        for m in _TOKEN.finditer(source):
            if m.start() > pos:
                chunk = source[pos : m.start()]
                pieces.append(Piece(chunk, chunk, pos, m.start()))
            pos = m.end()
            token = m.group()
            if m.group("mention") is not None:
                name = _strip_tags(m.group("mention"))
                if name in bots:
                    # Drop the bot's own @mention, and the space that followed it.
                    if source[pos : pos + 1] in (" ", "\u00a0"):
                        pos += 1
                        pieces.append(Piece("", "", m.start(), pos))
                    else:
                        pieces.append(Piece("", "", m.start(), m.end()))
                    continue
                pieces.append(Piece(MENTION_STAND_IN, f"@{name}", m.start(), m.end(), mention=True))
            elif m.group("tag") is not None:
                tag = m.group("tag").lower()
                if tag in _BREAKS and (m.group("close") or tag == "br"):
                    pieces.append(Piece("\n", "\n", m.start(), m.end()))
                elif tag in _CELLS and m.group("close"):
                    pieces.append(Piece(" ", " ", m.start(), m.end()))
                else:
                    pieces.append(Piece("", "", m.start(), m.end()))
            else:
                # Only a whole, known entity is decoded ("&notanentity;" is not "¬anentity;").
                known = token.startswith("&#") or token[1:] in html.entities.html5
                char = html.unescape(token) if known else token
                if char == token:  # not an entity after all: keep it as typed
                    pieces.append(Piece(token, token, m.start(), m.end()))
                else:
                    char = char.replace("\u00a0", " ")
                    pieces.append(Piece(char, char, m.start(), m.end()))
    if pos < len(source):
        chunk = source[pos:]
        pieces.append(Piece(chunk, chunk, pos, len(source)))
    return PlainText(tuple(_trim(pieces)), source)


def _strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^<>]*>", "", fragment)).replace("\u00a0", " ").strip()


def _trim(pieces: list[Piece]) -> list[Piece]:
    """Drop the empty runs and line breaks that block tags leave at either end."""
    while pieces and pieces[0].assessed in ("", "\n") and not pieces[0].mention:
        pieces.pop(0)
    while pieces and pieces[-1].assessed in ("", "\n") and not pieces[-1].mention:
        pieces.pop()
    return pieces
