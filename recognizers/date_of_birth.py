"""Dates of birth: a date with "DOB", "d.o.b", "born", "b." or an age beside it.

Many shapes: 11/06/1990, 3.7.79, 3-7-1979, 1979-07-03, 3 July 1979, 9th Feb
1957, July 3, 1979. Not every date is a birthday: a date introduced as a
meeting, a clinic, an admission or a due date is left alone, and so is a
date without a year ("review 21/02").

How sure we are:
- a birth cue just before the date ("DOB 3/4/88", "born 9th Feb 1957"): certain;
- an age right beside it ("84yo, 12/03/1940"): likely;
- a birth cue elsewhere in the message and a date years in the past (a second,
  corrected DOB in the same message): likely;
- a date years in the past and nothing else: not enough on its own, but
  words like "patient", "Mrs" or "NHS" close by make it likely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.age import find_ages
from discretion.recognizers.base import Hit, Recognizer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spacy.tokens import Doc

    from discretion.config import Settings

ENTITY = "DATE_OF_BIRTH"

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_DATE = re.compile(
    r"""(?<![^\W_])(?<![/.-])(?<!\d:)(?:
        (?P<d1>\d{1,2})(?P<s1>[/.-]|\ )(?P<m1>\d{1,2})(?P=s1)(?P<y1>\d{4}|\d{2})    # 11/06/1990, 3.7.79
      | (?P<d5>[0-3]\d)(?P<m5>[01]\d)(?P<y5>(?:19|20)\d{2}|\d{2})                     # 11061990, 110690
      | (?P<y2>(?:19|20)\d{2})(?P<s2>[/.-])(?P<m2>\d{1,2})(?P=s2)(?P<d2>\d{1,2})   # 1979-07-03
      | (?P<d3>\d{1,2})"""
    + _ORD
    + r"""[\s-]*(?:of\s+)?(?P<mon3>"""
    + _MONTH
    + r""")[\s,-]*(?P<y3>(?:19|20)\d{2}|'\d{2}|\d{2})                          # 3 July 1979
      | (?P<mon4>"""
    + _MONTH
    + r""")\s+(?P<d4>\d{1,2})"""
    + _ORD
    + r""",?\s+(?P<y4>(?:19|20)\d{2})                                            # July 3, 1979
    )(?![^\W_])(?![/]|[.:-]\d)""",
    re.IGNORECASE | re.VERBOSE,
)
# Birth cues right before the date (a few words at most).
_BIRTH_CUE = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b|\bborn\b"
    r"|\bbday\b|(?<![^\W_])(?<![.])b\.)\s*(?:(?:is|was|on|the|in|of|=|:|-|–|given\s+as|recorded\s+as|as)\s*)*$",
    re.IGNORECASE,
)
_BIRTH_ANYWHERE = re.compile(
    r"\bd\.?\s?o\.?\s?b\b|\bdate\s+of\s+birth\b|\bborn\b|\bbirth\s*date\b", re.IGNORECASE
)
# Words that introduce a date that is not a birthday.
_OTHER_DATE = re.compile(
    r"\b(?:due|appt|appointment|clinic|meeting|mtg|review|booked|book|w/c|wc|week\s+commencing"
    r"|rota|from|until|till|til|admitted|admission|adm|discharged|discharge|d/c|seen|since"
    r"|dated|on|by|deadline|expires?|expiry|exp|valid|op|operation|surgery|scan|test|sample"
    r"|letter|sent|received|referred|referral|started|start|stopped|finish|ends?|date\s+of"
    r"|dod|died|death|edd|lmp|visit|shift|training|course|session|holiday|leave|al"
    r"|effective|issued|updated|version|v)\s*[:=-]?\s*$",
    re.IGNORECASE,
)
# Words that say a patient is being discussed, as whole words (see hospital_number.py).
_PATIENT_WORDS = re.compile(
    r"\b(?:pt|pt's|patient|patient's|mr|mrs|ms|miss|master|aged|yo|name|nhs|chi|mrn|hosp)\b",
    re.IGNORECASE,
)
_PATIENT_WINDOW = 60
_CUE_WINDOW = 24
_AGE_GAP = 16  # characters between an age and a date for them to be "beside" each other

SCORE_CUED = 0.95
SCORE_WITH_AGE = 0.8
SCORE_CUE_IN_MESSAGE = 0.7
SCORE_OLD_DATE = 0.3  # not enough on its own
SCORE_OLD_DATE_PATIENT = 0.6  # a years-old date beside "pt", "Mrs", "NHS"...
YEARS_AGO = 2  # a date at least this many years back may be a birthday

# Why a date was read as a date of birth, in words for the person who posted it.
_WHY = {
    "cue": "'DOB' or 'born' is written just before it",
    "age": "an age is written next to it",
    "message": "the message gives a date of birth, and this date is years ago",
    "patient": "a date years ago, with words about a patient close by",
    "old": "a date years ago: not enough on its own",
}


def _patient_word(text: str, start: int, end: int) -> bool:
    left = text[max(0, start - _PATIENT_WINDOW) : start].rsplit("\n", 1)[-1]
    right = text[end : end + _PATIENT_WINDOW].split("\n", 1)[0]
    return _PATIENT_WORDS.search(left + " " + right) is not None


def parse(m: re.Match[str], today: date) -> date | None:
    """The date a match of the date pattern stands for, or None when it is not a real date."""
    g = m.groupdict()
    try:
        if g["d1"]:
            day, month, year = int(g["d1"]), int(g["m1"]), g["y1"]
        elif g["d5"]:
            day, month, year = int(g["d5"]), int(g["m5"]), g["y5"]
        elif g["y2"]:
            day, month, year = int(g["d2"]), int(g["m2"]), g["y2"]
        elif g["d3"]:
            day, month, year = int(g["d3"]), _MONTHS[g["mon3"][:3].lower()], g["y3"]
        else:
            day, month, year = int(g["d4"]), _MONTHS[g["mon4"][:3].lower()], g["y4"]
        year = year.lstrip("'")
        full = int(year)
        if len(year) == 2:
            # Two-digit years: a future year means last century ("3/4/88" is 1988).
            full += 2000 if 2000 + full <= today.year else 1900
        return date(full, month, day)
    except (ValueError, KeyError):
        return None


@dataclass
class DateOfBirthRecognizer(Recognizer):
    """Finds dates of birth: dates with a birth cue or an age beside them."""

    name: ClassVar[str] = "DateOfBirthRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()
    today: date | None = None  # fixed in tests; today's date otherwise

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        if sum(ch.isdigit() for ch in text) < 2:
            return
        today = self.today or date.today()
        ages: list[Hit] | None = None
        cue_in_message = _BIRTH_ANYWHERE.search(text) is not None
        for m in _DATE.finditer(text):
            when = parse(m, today)
            if when is None or when > today:
                continue
            before = text[max(0, m.start() - _CUE_WINDOW) : m.start()]
            if _BIRTH_CUE.search(before):
                yield Hit(m.start(), m.end(), SCORE_CUED, ENTITY, "birth cue", _WHY["cue"])
                continue
            if m.group("s1") == " " or m.group("d5"):
                continue  # "12 03 1950" and "120350" are only read as dates after a birth cue
            if _OTHER_DATE.search(before):
                continue
            if ages is None:
                ages = find_ages(text)
            if any(
                a.end <= m.start() <= a.end + _AGE_GAP or m.end() <= a.start <= m.end() + _AGE_GAP
                for a in ages
            ):
                yield Hit(m.start(), m.end(), SCORE_WITH_AGE, ENTITY, "age beside", _WHY["age"])
                continue
            if today.year - when.year < YEARS_AGO:
                continue  # a recent date: an event, not a birthday
            if cue_in_message:
                yield Hit(
                    m.start(),
                    m.end(),
                    SCORE_CUE_IN_MESSAGE,
                    ENTITY,
                    "birth cue in message",
                    _WHY["message"],
                )
            elif _patient_word(text, m.start(), m.end()):
                yield Hit(
                    m.start(),
                    m.end(),
                    SCORE_OLD_DATE_PATIENT,
                    ENTITY,
                    "date years ago",
                    _WHY["patient"],
                )
            else:
                yield Hit(m.start(), m.end(), SCORE_OLD_DATE, ENTITY, "date years ago", _WHY["old"])


# Presidio's context words match parts of words ("age" is in "message"): only safe ones here.
CONTEXT = ("dob", "birth", "born")


def build(settings: Settings) -> list[Recognizer]:
    return [DateOfBirthRecognizer(context=CONTEXT)]
