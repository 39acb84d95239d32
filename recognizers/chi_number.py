"""Scottish CHI number: a date of birth (DDMMYY) followed by four digits, Modulus 11.

Found together with NHS and Health and Care numbers (see
:func:`discretion.recognizers.nhs_number.health_numbers`) so that one number is
reported as one kind: a "CHI" label, or a first six digits that make a real
date, makes it a CHI number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.nhs_number import CHI, HealthNumberRecognizer

if TYPE_CHECKING:
    from discretion.config import Settings
    from discretion.recognizers.base import Recognizer

ENTITY = CHI
CONTEXT = ("chi", "pt", "patient")


@dataclass
class ChiNumberRecognizer(HealthNumberRecognizer):
    """Finds CHI numbers: a real DDMMYY date, then four digits, check digit right."""

    name: ClassVar[str] = "ChiNumberRecognizer"
    entities: ClassVar[tuple[str, ...]] = (CHI,)
    scheme: ClassVar[str] = CHI


def build(settings: Settings) -> list[Recognizer]:
    return [
        ChiNumberRecognizer(context=CONTEXT, flag_test_range=settings.nhs_number.flag_test_range)
    ]
