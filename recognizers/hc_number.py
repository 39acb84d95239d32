"""Northern Ireland Health and Care (H&C) number: ten digits from 320 to 399, Modulus 11.

Found together with NHS and CHI numbers (see
:func:`discretion.recognizers.nhs_number.health_numbers`) so that one number is
reported as one kind: an "H&C" label, or a number starting 320 to 399, makes it
a Health and Care number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.nhs_number import HC, HealthNumberRecognizer

if TYPE_CHECKING:
    from discretion.config import Settings
    from discretion.recognizers.base import Recognizer

ENTITY = HC
CONTEXT = ("h&c", "hcn", "pt", "patient")


@dataclass
class HcNumberRecognizer(HealthNumberRecognizer):
    """Finds Health and Care numbers: 320-399 at the start, check digit right."""

    name: ClassVar[str] = "HcNumberRecognizer"
    entities: ClassVar[tuple[str, ...]] = (HC,)
    scheme: ClassVar[str] = HC


def build(settings: Settings) -> list[Recognizer]:
    return [
        HcNumberRecognizer(context=CONTEXT, flag_test_range=settings.nhs_number.flag_test_range)
    ]
