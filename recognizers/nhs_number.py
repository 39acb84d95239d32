"""NHS number (England, Wales, Isle of Man): ten digits with a Modulus 11 check digit.

Written 3-3-4 with single spaces, dashes or dots, or run together. Invisible
characters inside the number are removed before recognizers run (see
``discretion.normalise``), so "943\u200b476 5919" is still caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from discretion.recognizers.base import Pattern, PatternRecognizer, Recognizer, digits, mod11_valid

if TYPE_CHECKING:
    from discretion.config import Settings

ENTITY = "NHS_NUMBER"
# (?<![\d.,/-]) keeps us out of longer numbers, decimals and dates.
_EDGE_L = r"(?<![\w.,/:-])"
_EDGE_R = r"(?![\w/:]|[.,-]\d)"

PATTERNS = (
    Pattern("nhs grouped 3-3-4", _EDGE_L + r"\d{3}[ .-]?\d{3}[ .-]?\d{4}" + _EDGE_R, 0.6),
    Pattern("nhs run together", _EDGE_L + r"\d{10}" + _EDGE_R, 0.45),
)
CONTEXT = ("nhs", "nhs no", "nhs number", "nhsno", "pt", "patient", "chi")


@dataclass
class NhsNumberRecognizer(PatternRecognizer):
    """Finds NHS numbers whose check digit is right."""

    flag_test_range: bool = True

    def validate(self, matched: str) -> bool | None:
        number = digits(matched)
        if not mod11_valid(number):
            return False
        if number.startswith("999") and not self.flag_test_range:
            return False
        return None  # a valid checksum alone is not proof; context lifts the score


def build(settings: Settings) -> list[Recognizer]:
    return [
        NhsNumberRecognizer(
            patterns=PATTERNS,
            context=CONTEXT,
            entity=ENTITY,
            recognizer_name="NhsNumberRecognizer",
            flag_test_range=settings.nhs_number.flag_test_range,
        )
    ]
