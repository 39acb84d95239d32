"""NHS number (England, Wales, Isle of Man): ten digits with a Modulus 11 check digit.

Written 3-3-4 with single spaces, dashes or dots, run together, or one digit at
a time. Invisible characters inside the number are removed before recognizers
run (see ``discretion.normalise``), so "943\u200b476 5919" is still caught.

The same ten digits can also be a Scottish CHI number or a Northern Ireland
Health and Care number: all three use Modulus 11. This module finds every
candidate once and decides which of the three it is, so exactly one of the
three recognizers reports it:

1. a label just before the number ("NHS", "CHI", "H&C") wins when the number
   fits that scheme;
2. otherwise the number range decides: 320-399 is Health and Care, a number
   starting with a real date (DDMMYY) is CHI, the rest are NHS numbers.

Numbers labelled as something that is not a patient (an order, invoice, batch,
phone or ESR number) are left alone, whatever their check digit, and so are
numbers of dummy and training records ("the dummy pt on the training system").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.base import MAX_SCORE, Hit, Recognizer, mod11_valid

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spacy.tokens import Doc

    from discretion.config import Settings

ENTITY = "NHS_NUMBER"
NHS, CHI, HC = "NHS_NUMBER", "CHI_NUMBER", "HC_NUMBER"

# A candidate is ten digits in one of the shapes people write them in. The left edge keeps
# us out of longer numbers, amounts, decimals, dates and +44 phone numbers; the right edge
# out of longer numbers, times and dates.
_LEFT = (
    r"(?<![^\W_])(?<![+£$€/\\])(?<!\d[.,-])(?<!\+\d[ ])(?<!\+\d\d[ ])(?<!\+\d\d\d[ ])(?<!\(0\)[ ])"
)
_RIGHT = r"(?![^\W_])(?![/:]|[.,-]\d|\ \d{1,4}\b(?![/:.]))"
_CANDIDATE = re.compile(
    _LEFT
    + r"""(?:
        (?P<grouped>\d{3}[ .-]?\d{3}[ .-]?\d{4})             # 943 476 5919, 9434765919
      | (?P<chi>\d{6}[ -]\d{4})                             # 120345 6789 (CHI style)
      | (?P<spaced>\d(?:\ \d){9})                           # 9 4 3 4 7 6 5 9 1 9
      | (?P<odd>\d{2,5}(?:[ -]\d{2,5}){1,3})                # other groupings: need a label
    )"""
    + _RIGHT,
    re.VERBOSE,
)

# Labels, nearest one before the number wins. Looked for in a short window only.
_LABELS = re.compile(
    r"""(?P<chi>\bCHI\b)
      | (?P<hc>\bH\s?(?:&|\+|and|&amp;)\s?C\b|\bHCN\b|\bhealth\s(?:and|&)\scare\b)
      | (?P<nhs>\bNHS(?=\b|no|num|_?number))
      | (?P<other>\b(?:order|orders|PO|P\.O|purchase|invoice|inv|batch|lot|stock|item|product
            |catalogue|cat|serial|tracking|track|consignment|parcel|courier|ESR|payroll|Datix
            |ticket|incident|job|account|acc|acct|sort\scode|barcode|tel|telephone|phone|mob
            |mobile|fax|ext|extension|bleep|pager|crew|isbn|vat|company|charity|reg)\b)""",
    re.IGNORECASE | re.VERBOSE,
)
_WINDOW = 32  # characters before the number that may hold its label

# Training and test records are not patients: "the dummy pt", "test patient", "sim session".
_DUMMY_CUE = re.compile(
    r"\b(?:dummy|fictional|fictitious|made[\s-]up|fake|training\s+(?:record|system|patient|pt)"
    r"|test\s+(?:patient|pt|record)|sim(?:ulation)?\s+(?:patient|pt|session)"
    r"|example\s+(?:patient|pt|record|NHS))\b",
    re.IGNORECASE,
)
_DUMMY_WINDOW = 80


def dummy_record(text: str, start: int) -> bool:
    """True when the line before ``start`` says the record is a dummy or training one."""
    line = text[max(0, start - _DUMMY_WINDOW) : start].rsplit("\n", 1)[-1]
    return _DUMMY_CUE.search(line) is not None


# Ranges the NHS actually issues in England and Wales, plus the 999 test range.
_NHS_ISSUED = ("4", "6", "7", "999")

SCORE_GROUPED = 0.6  # 3-3-4 with a valid check digit in an issued range
SCORE_PLAIN = 0.55  # run together, spaced out or CHI-style, valid and in range
SCORE_UNISSUED = 0.3  # valid check digit but a range no scheme issues: needs context
SCORE_LABELLED = MAX_SCORE


@dataclass(frozen=True, slots=True)
class HealthNumber:
    """One ten-digit health service number found in a text, and which scheme it is."""

    start: int
    end: int
    entity: str
    score: float
    shape: str
    note: str


def chi_date_valid(number: str) -> bool:
    """True when the first six digits are a real date written DDMMYY (any century)."""
    day, month, year = int(number[0:2]), int(number[2:4]), int(number[4:6])
    for century in (1900, 2000):
        try:
            date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


def hc_range(number: str) -> bool:
    """True when the number is in the Northern Ireland Health and Care range (320-399)."""
    return "320" <= number[:3] <= "399"


def _label_before(text: str, start: int) -> str | None:
    window = text[max(0, start - _WINDOW) : start]
    # A label belongs to the number right after it: "tel 07700 900123, 9434765919" is not a phone.
    digit = max((i for i, ch in enumerate(window) if ch.isdigit()), default=-1)
    window = window[digit + 1 :]
    last = None
    for m in _LABELS.finditer(window):
        last = m
    return last.lastgroup if last is not None else None


def _classify(number: str, label: str | None, flag_test_range: bool) -> tuple[str, bool] | None:
    """The scheme a valid number belongs to and whether its label confirms it; None to skip."""
    if label == "chi" and chi_date_valid(number):
        return CHI, True
    if label == "hc" and hc_range(number):
        return HC, True
    if label == "nhs":
        if number.startswith("999") and not flag_test_range:
            return None
        return NHS, True
    if hc_range(number):
        return HC, False
    if chi_date_valid(number):
        return CHI, False
    if number.startswith("999") and not flag_test_range:
        return None
    return NHS, False


@lru_cache(maxsize=4)
def health_numbers(text: str, flag_test_range: bool = True) -> tuple[HealthNumber, ...]:
    """Every NHS, CHI and H&C number in ``text``, each reported once under one scheme."""
    found: list[HealthNumber] = []
    if sum(ch.isdigit() for ch in text) < 10:
        return ()
    for m in _CANDIDATE.finditer(text):
        shape = m.lastgroup or ""
        number = "".join(ch for ch in m.group() if ch.isdigit())
        if shape == "grouped" and len(m.group()) < 12:
            shape = "run"  # run together, or only partly grouped
        if len(number) != 10 or not mod11_valid(number):
            continue
        label = _label_before(text, m.start())
        if label == "other":
            continue  # an order, invoice, phone... number that happens to pass the check
        if dummy_record(text, m.start()):
            continue
        if shape == "odd" and label is None:
            continue  # an unusual grouping is only trusted when it is labelled
        decided = _classify(number, label, flag_test_range)
        if decided is None:
            continue
        entity, confirmed = decided
        if confirmed:
            score, note = SCORE_LABELLED, "labelled and the check digit is right"
        elif entity == NHS and not number.startswith(_NHS_ISSUED):
            score, note = SCORE_UNISSUED, "check digit right, but not a range the NHS issues"
        else:
            score = SCORE_GROUPED if shape == "grouped" else SCORE_PLAIN
            note = "the check digit is right"
        found.append(HealthNumber(m.start(), m.end(), entity, score, shape, note))
    return tuple(found)


@dataclass
class HealthNumberRecognizer(Recognizer):
    """Reports the health service numbers of one scheme (see :func:`health_numbers`)."""

    name: ClassVar[str] = "HealthNumberRecognizer"
    scheme: ClassVar[str] = NHS
    context: tuple[str, ...] = ()
    flag_test_range: bool = True

    @property
    def supported(self) -> tuple[str, ...]:
        return (self.scheme,)

    @property
    def label(self) -> str:
        return type(self).name

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        for n in health_numbers(text, self.flag_test_range):
            if n.entity == self.scheme:
                yield Hit(n.start, n.end, n.score, n.entity, n.shape, n.note)


@dataclass
class NhsNumberRecognizer(HealthNumberRecognizer):
    """Finds NHS numbers whose check digit is right."""

    name: ClassVar[str] = "NhsNumberRecognizer"
    entities: ClassVar[tuple[str, ...]] = (NHS,)
    scheme: ClassVar[str] = NHS


CONTEXT = ("nhs", "nhsno", "pt", "patient")


def build(settings: Settings) -> list[Recognizer]:
    return [
        NhsNumberRecognizer(context=CONTEXT, flag_test_range=settings.nhs_number.flag_test_range)
    ]
