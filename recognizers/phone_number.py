"""UK phone numbers: mobiles and landlines, national and +44 forms, and other +country numbers.

Ofcom's drama ranges (07700 900xxx, 0113 496 0xxx, 020 7946 0xxx) are real
number shapes and are caught like any other: a made-up number in a real
message is still somebody's number as far as the reader can tell.

Not phone numbers: extensions and bleeps (four or five digits, no leading 0),
short numbers (111, 999), and NHS, CHI or H&C numbers (ten digits that pass
Modulus 11 are left to those recognizers).

Whose number it is matters. The nearest clue before the number decides: "my
mobile", "ring me on", "switchboard", "the surgery's bypass number" say it is
the poster's or an organisation's; "his", "her", "mum's", "daughter" say it is
a patient's or a relative's. Numbers that belong to staff or a service are
reported with a score below the threshold so they are explained, not flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.base import Hit, Recognizer
from discretion.recognizers.nhs_number import health_numbers

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spacy.tokens import Doc

    from discretion.config import Settings

ENTITY = "PHONE_NUMBER"

_UK = re.compile(
    r"""(?<![^\W_])(?<![+.\\-])(?<![^\d\s]/)   # "07700 900123/07700 900124" is two numbers
    (?P<num>
        (?:\+|00)\ ?44\ ?(?:\(0\)\ ?)?\(?\d{2,5}\)?(?:[ .-]?\d){6,8}   # +44 7700 900123
      | \(?0\d{1,5}\)?(?:[ .-]?\d){5,9}                              # 07700 900123, (0113) 496 0000
    )
    (?![^\W_])(?!/(?!\s*[0+])|[.-]\d)""",
    re.VERBOSE,
)
_INTERNATIONAL = re.compile(
    r"(?<![^\W_])(?<![+/.\\-])(?P<num>\+(?!44)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,6})(?![^\W_])(?![/]|[.-]\d)"
)

# Whose number: the nearest clue before it wins.
_STAFF_OR_SERVICE = re.compile(
    r"""\b(?:
        (?:my|our)\s+(?:(?!(?:pt|patient|mr|mrs|ms|miss|his|her|their|mum|dad|son|daughter|wife
            |husband|partner)\b)[\w-]+\s+){0,3}
            (?:mobile|mob|number|no|phone|cell|landline|line|ext|extension|contact)
      | (?:me|us)\s+(?:on|at|back\s+on)
      | switchboard|bypass|reception|receptionist|helpdesk|help\s*desk|office|secretary
      | secretaries|department|dept|hub
      | (?:GP|the|doctor's|doctors|dental|dentist's)\s+(?:surgery|practice)|surgery's|practice's
      | (?:the|this|our)\s+(?:hospital|trust|pharmacy|clinic|unit)|hospital's|pharmacy's|clinic's
      | on[\s-]?call|bleep|site\s+manager|duty\s+manager|coordinator|desk|main\s+line|hotline
      | freephone|helpline|advice\s+line|enquiries|bookings?\s+line|appointments?\s+line|PALS|ward(?:\s+\w{1,3})?\s+(?:phone|number|line)
      | (?:the|a)\s+ward
      | (?-i:Dr|Sister|Matron|SHO|FY1|FY2|F1|F2|SpR)   # "Sister" the title, not a sister
      | doctor|consultant|registrar|reg|physio|porter|pharmacist|locum|colleague|manager
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
_PATIENT = re.compile(
    r"""\b(?:pt|pt's|patient|patient's|his|her|him|them|their|mum|mum's|mother|dad|dad's|father
      |wife|wife's|husband|husband's|partner|partner's|son|son's|daughter|daughter's|sister
      |brother|nok|kin|family|relative|carer|mr|mrs|ms|miss|home|lives?)\b""",
    re.IGNORECASE | re.VERBOSE,
)
_WINDOW = 48

SCORE_MOBILE = 0.7
SCORE_LANDLINE = 0.6
SCORE_INTERNATIONAL = 0.55
SCORE_NOT_A_PATIENT = 0.1


def uk_national(raw: str) -> str | None:
    """The national form ("0" and 9 or 10 digits) of a written UK number, or None if not one."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    compact = raw.replace(" ", "")
    if compact.startswith(("+44", "0044")):
        digits = digits[2:] if compact.startswith("+") else digits[4:]
        if compact.replace("(0)", "") != compact:
            digits = digits[1:] if digits.startswith("0") else digits
        digits = "0" + digits
    if not digits.startswith("0"):
        return None
    if len(digits) == 11 and digits[1] in "1235789":
        return digits
    if len(digits) == 10 and (digits.startswith(("01", "0800", "0808", "0500"))):
        return digits
    return None


def _owner(text: str, start: int) -> str:
    """'service' (staff or organisation), 'patient' or '' from the nearest clue before ``start``."""
    window = text[max(0, start - _WINDOW) : start]
    line_start = window.rfind("\n")
    if line_start >= 0:
        window = window[line_start + 1 :]
    best, where = "", -1
    for kind, regex in (("service", _STAFF_OR_SERVICE), ("patient", _PATIENT)):
        for m in regex.finditer(window):
            if m.end() > where:
                best, where = kind, m.end()
    return best


@dataclass
class PhoneNumberRecognizer(Recognizer):
    """Finds UK and international phone numbers, and says whose they seem to be."""

    name: ClassVar[str] = "UkPhoneRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        if sum(ch.isdigit() for ch in text) < 9:
            return
        taken = [(n.start, n.end) for n in health_numbers(text)]
        for m in _UK.finditer(text):
            raw = m.group("num")
            national = uk_national(raw)
            if national is None:
                continue
            start, end = m.span("num")
            if raw.startswith("(") and ")" not in raw:
                start += 1
            if any(s < end and start < e for s, e in taken):
                continue
            score = SCORE_MOBILE if national.startswith("07") else SCORE_LANDLINE
            yield self._hit(text, start, end, score, "uk mobile" if score == SCORE_MOBILE else "uk")
        for m in _INTERNATIONAL.finditer(text):
            raw = m.group("num")
            count = sum(ch.isdigit() for ch in raw)
            if not 8 <= count <= 15:
                continue
            yield self._hit(
                text, m.start("num"), m.end("num"), SCORE_INTERNATIONAL, "international"
            )

    def _hit(self, text: str, start: int, end: int, score: float, pattern: str) -> Hit:
        owner = _owner(text, start)
        if owner == "service":
            return Hit(
                start,
                end,
                SCORE_NOT_A_PATIENT,
                ENTITY,
                pattern,
                "introduced as the poster's own or a service's number, not a patient's",
            )
        note = "introduced as a patient's or relative's number" if owner == "patient" else ""
        return Hit(start, end, score, ENTITY, pattern, note)


def build(settings: Settings) -> list[Recognizer]:
    return [PhoneNumberRecognizer()]
