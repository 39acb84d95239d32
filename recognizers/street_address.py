"""Street addresses: a house number and a street ("12 Acacia Avenue", "Flat 3, 22 High St").

Also Welsh street names that put the street word first ("8 Heol y Bryn",
"3 Maes y Coed"), a town after the street ("14b Mill Lane, Otley"), and care
homes named as where someone lives ("Ty Gwyn care home").

Not addresses: places inside a hospital ("Ward 12", "bay 4", "room 3", "Bevan
Building 2.14"), and an organisation's own address ("Northgate General
Hospital, 1 Westgate Road"): the number must come before the street name, and
an address that follows a hospital, surgery or clinic name is reported below
the threshold.
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

ENTITY = "STREET_ADDRESS"

_SUFFIXES = (
    "road|rd|street|st|lane|ln|avenue|ave|drive|close|crescent|cres|terrace|tce|grove|gardens"
    "|gdns|place|pl|court|ct|way|walk|row|square|sq|mews|hill|rise|view|park|green|parade|fold"
    "|croft|garth|gate|wynd|brae|loan|vale|mount|bank|approach|boulevard|chase|circus"
    "|esplanade|meadow|meadows|paddock|villas|yard|wharf|quay|heights|hollow|lea|ridge|copse"
    "|dale|nook|broadway|highway|causeway|promenade|pavement|wood|fields|end|side"
)
# Welsh street words come first: Heol (road), Ffordd (way), Stryd (street), Lôn (lane)...
_WELSH = "heol|ffordd|stryd|lôn|lon|maes|llys|rhodfa|cilgant|clos|teras|rhes|bro|parc|cae|pant"
# Words that can sit inside a street name without a capital ("Heol y Bryn", "Stratford upon Avon").
_JOINERS = "y|yr|'r|of|the|upon|on|in|de|la|le|by|under"

_NUMBER = r"(?P<number>\d{1,4}[A-Za-z]?(?:\s?[-/]\s?\d{1,4}[A-Za-z]?)?)"
# "Flat 3, 22 High St"; Scottish tenements give the floor and door first: "2/1 40 Byres Road".
_FLAT = (
    r"(?:(?:(?:Flat|Apartment|Apt|Maisonette|Unit)\.?\s*\d{1,4}[A-Za-z]?|\d{1,2}/\d{1,2}),?\s+)?"
)
_NAME_WORD = r"(?:[A-Z][A-Za-z'’-]*(?:\.(?=\s+\w))?|(?:" + _JOINERS + r"))"
_TOWN = (
    r"(?:,\s*(?P<town>[A-Z][a-z'’-]{2,}(?:[ -](?:upon[ -]|on[ -]|under[ -])?[A-Z][a-z'’-]{2,})?))?"
)

_TITLE = re.compile(
    r"(?<![^\W_])(?<![./:-])"
    + _FLAT
    + _NUMBER
    + r",?\s+(?P<street>"
    + r"(?:(?:North|South|East|West|Upper|Lower|Old|New|Great|Little)\s+)?"
    + r"(?:[A-Z][A-Za-z'’-]+|the)(?:\s+"
    + _NAME_WORD
    + r"){0,2}\s+(?i:"
    + _SUFFIXES
    + r")(?![^\W_])\.?)"
    + _TOWN
)
_WELSH_STYLE = re.compile(
    r"(?<![^\W_])(?<![./:-])"
    + _FLAT
    + _NUMBER
    + r",?\s+(?P<street>(?:"
    + r"(?i:"
    + _WELSH
    + r")"
    + r")(?:\s+"
    + _NAME_WORD
    + r"){1,3})(?=\s*(?:[,.;\n)]|$))"
    + _TOWN
)
# One-word streets: "45 Kingsway", "7 Broadway", "3 Westgate".
_ONE_WORD = re.compile(
    r"(?<![^\W_])(?<![./:-])"
    + _NUMBER
    + r",?\s+(?P<street>(?:Broadway|(?!(?:Gate|Path|Air|Hall|Door|Stair|Walk|Rail|Motor|Sub|Run)way)"
    r"[A-Z][a-z]{2,}(?:way|gate)))\b" + _TOWN
)
_LOWER = re.compile(
    r"(?<![^\W_])(?<![./:-])"
    + _NUMBER
    + r"\s+(?P<street>(?:[a-z][a-z'-]+\s+){1,2}(?:road|rd|street|lane|avenue|ave|crescent|terrace"
    + r"|close|grove|gardens|drive|court)\b)"
)
_CARE_HOME = re.compile(
    r"(?<![^\W_])(?<![-])(?!(?:The|A|An|Our|This|That|These|Those|Local|Any|Every|Which|Their|His|Her|My"
    r"|Your|No|Some|Private|Council|NHS|New|Another|Each)\s)"
    r"(?P<street>(?:[A-Z][\w'’-]+\s+){1,3}(?i:care|nursing|residential)\s+(?i:home))\b"
)

_FLAT_BEFORE = re.compile(r"\b(?:Flat|Apartment|Apt|Maisonette)\.?\s+$", re.IGNORECASE)
# Hospital places and counts that can precede a number: "bed 4", "Ward 12", "ext 4412".
_NOT_AN_ADDRESS_BEFORE = re.compile(
    r"\b(?:ward|bay|room|rm|bed|beds|theatre|cubicle|cubicles|floor|level|bleep|ext|extension|page"
    r"|step|stage|grade|band|gate|platform|pod|cot|chair|trolley|crew|station|table|line|option"
    r"|no|number|version|week|day|year|years|x)\s*$",
    re.IGNORECASE,
)
# Words that make "3 hour drive", "10 minute walk", "2 mile road" a distance, not an address.
_MEASURE = re.compile(
    r"^(?:minute|minutes|min|mins|hour|hours|hr|hrs|mile|miles|km|day|days|week|weeks|month"
    r"|months|year|years|metre|metres|meter|meters|yard|yards|lane|way|car|bus|train|storey)\b",
    re.IGNORECASE,
)
# An organisation just before the address: its own address, not a patient's.
_ORG_WORDS = (
    r"(?:Hospitals?|Infirmary|Surgery|Health\s+Centre|Medical\s+Centre|Practice|Clinic|Trust"
    r"|Stores|Pharmacy|Laborator(?:y|ies)|Hospice|University|Council|Offices|HQ|ICB|CCG)"
)
_ORGANISATION = re.compile(
    # A named organisation, then at most a few comma-separated address parts:
    # "Example General Hospital, Park Road, Leeds LS1 3EX".
    r"(?:[A-Z][\w'’-]*\s+)+"
    + _ORG_WORDS
    + r"(?:\s+[A-Z][\w'’-]*)*(?:\s*,\s*[A-Z0-9][\w'’ -]{0,38}){0,3}\s*,?\s*$"
    # Or its address, labelled: "ICB address:", "the surgery's postcode is".
    r"|\b(?:ICB|CCG|trust|council|practice|surgery|hospital|HQ|head\s+office|office|clinic|pharmacy)"
    r"(?:'s)?\s+(?:address|postcode)\s*(?:is|:|-)?\s*(?:[A-Z0-9][\w'’ -]{0,38},?\s*){0,3}$",
)
_ORG_WINDOW = 90

SCORE_ADDRESS = 0.75
SCORE_FLAT = 0.85
SCORE_LOWER = 0.45
SCORE_ONE_WORD = 0.55
SCORE_CARE_HOME = 0.6
SCORE_ORGANISATION = 0.1  # stays under the threshold even when a context word lifts it


def organisation_before(text: str, start: int) -> bool:
    """True when an organisation's name closely precedes ``start`` in the same sentence."""
    window = text[max(0, start - _ORG_WINDOW) : start]
    return bool(_ORGANISATION.search(window))


@dataclass
class StreetAddressRecognizer(Recognizer):
    """Finds house-number-and-street addresses and named care homes."""

    name: ClassVar[str] = "StreetAddressRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        seen: list[tuple[int, int]] = []
        if any(ch.isdigit() for ch in text):
            for regex, score, pattern in (
                (_TITLE, SCORE_ADDRESS, "number and street"),
                (_WELSH_STYLE, SCORE_ADDRESS, "number and Welsh street"),
                (_ONE_WORD, SCORE_ONE_WORD, "number and one-word street"),
                (_LOWER, SCORE_LOWER, "number and street, lower case"),
            ):
                for m in regex.finditer(text):
                    hit = self._check(text, m, score, pattern, seen)
                    if hit is not None:
                        seen.append((hit.start, hit.end))
                        yield hit
        if "home" in text.lower():
            for m in _CARE_HOME.finditer(text):
                if not any(s < m.end() and m.start() < e for s, e in seen):
                    yield Hit(m.start(), m.end(), SCORE_CARE_HOME, ENTITY, "care home")

    def _check(
        self,
        text: str,
        m: re.Match[str],
        score: float,
        pattern: str,
        seen: list[tuple[int, int]],
    ) -> Hit | None:
        start, end = m.start(), m.end()
        if any(s < end and start < e for s, e in seen):
            return None
        flat = _FLAT_BEFORE.search(text, max(0, start - 16), start)
        if flat:
            start, score = flat.start(), max(score, SCORE_FLAT)  # "Flat 4 Elm Court"
        if _NOT_AN_ADDRESS_BEFORE.search(text[max(0, start - 20) : start]):
            return None
        if _MEASURE.match(m.group("street")):
            return None
        if m.group(0).lower().startswith(("flat", "apartment", "apt", "maisonette", "unit")) or (
            "/" in m.group(0).split(" ", 1)[0]
        ):
            score = max(score, SCORE_FLAT)
        if organisation_before(text, start):
            return Hit(
                start,
                end,
                SCORE_ORGANISATION,
                ENTITY,
                pattern,
                "follows an organisation's name: its own address, not a patient's",
            )
        return Hit(start, end, score, ENTITY, pattern)


CONTEXT = ("address", "live", "home", "visit", "move", "reside", "flat", "house")


def build(settings: Settings) -> list[Recognizer]:
    return [StreetAddressRecognizer(context=CONTEXT)]
