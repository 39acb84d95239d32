"""UK postcodes, full ones only: "LS6 2AB", "ls62ab", "CF24+3AA" in a map link.

The outward part must start with a real postcode area (LS, CF, M...), and the
inward part is a digit and two letters that Royal Mail uses. A district on its
own ("LS6") is not a postcode: it covers thousands of homes. The organisation's
own postcodes (``organisation.postcodes`` in the site file) are dropped by the
engine; an address that follows a hospital, surgery or clinic name is reported
below the threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.base import Hit, Recognizer
from discretion.recognizers.street_address import organisation_before

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spacy.tokens import Doc

    from discretion.config import Settings

ENTITY = "UK_POSTCODE"

# Royal Mail's postcode areas (plus the Crown Dependencies, which use the same format).
AREAS = [
    "AB",
    "AL",
    "B",
    "BA",
    "BB",
    "BD",
    "BH",
    "BL",
    "BN",
    "BR",
    "BS",
    "BT",
    "CA",
    "CB",
    "CF",
    "CH",
    "CM",
    "CO",
    "CR",
    "CT",
    "CV",
    "CW",
    "DA",
    "DD",
    "DE",
    "DG",
    "DH",
    "DL",
    "DN",
    "DT",
    "DY",
    "E",
    "EC",
    "EH",
    "EN",
    "EX",
    "FK",
    "FY",
    "G",
    "GL",
    "GU",
    "GY",
    "HA",
    "HD",
    "HG",
    "HP",
    "HR",
    "HS",
    "HU",
    "HX",
    "IG",
    "IM",
    "IP",
    "IV",
    "JE",
    "KA",
    "KT",
    "KW",
    "KY",
    "L",
    "LA",
    "LD",
    "LE",
    "LL",
    "LN",
    "LS",
    "LU",
    "M",
    "ME",
    "MK",
    "ML",
    "N",
    "NE",
    "NG",
    "NN",
    "NP",
    "NR",
    "NW",
    "OL",
    "OX",
    "PA",
    "PE",
    "PH",
    "PL",
    "PO",
    "PR",
    "RG",
    "RH",
    "RM",
    "S",
    "SA",
    "SE",
    "SG",
    "SK",
    "SL",
    "SM",
    "SN",
    "SO",
    "SP",
    "SR",
    "SS",
    "ST",
    "SW",
    "SY",
    "TA",
    "TD",
    "TF",
    "TN",
    "TQ",
    "TR",
    "TS",
    "TW",
    "UB",
    "W",
    "WA",
    "WC",
    "WD",
    "WF",
    "WN",
    "WR",
    "WS",
    "WV",
    "YO",
    "ZE",
]
_AREAS = frozenset(AREAS)

# The shape first (cheap), then the area is checked against the list.
_POSTCODE = re.compile(
    r"(?<![^\W_])(?<![-])(?P<outward>(?P<area>[A-Z]{1,2})\d[A-Z\d]?)(?P<gap>\ |\+|%20|)"
    r"(?P<inward>\d[ABD-HJLNP-UW-Z]{2})(?![^\W_])(?![-])",
    re.IGNORECASE,
)

SCORE_WRITTEN = 0.75  # upper case with the usual space: how addresses are written
SCORE_LOOSE = 0.6  # lower case or run together: still a full postcode
SCORE_ORGANISATION = 0.1  # stays under the threshold even when a context word lifts it


@dataclass
class PostcodeRecognizer(Recognizer):
    """Finds full UK postcodes."""

    name: ClassVar[str] = "UkPostcodeRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        if not any(ch.isdigit() for ch in text):
            return
        for m in _POSTCODE.finditer(text):
            if m.group("area").upper() not in _AREAS:
                continue
            written = m.group() == m.group().upper() and m.group("gap") in (" ", "+", "%20")
            score = SCORE_WRITTEN if written else SCORE_LOOSE
            if organisation_before(text, m.start()):
                yield Hit(
                    m.start(),
                    m.end(),
                    SCORE_ORGANISATION,
                    ENTITY,
                    "postcode",
                    "follows an organisation's name: its own address, not a patient's",
                )
                continue
            yield Hit(m.start(), m.end(), score, ENTITY, "postcode")


CONTEXT = ("address", "postcode", "live", "home", "visit")


def build(settings: Settings) -> list[Recognizer]:
    return [PostcodeRecognizer(context=CONTEXT)]
