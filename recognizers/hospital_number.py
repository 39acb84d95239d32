"""Hospital numbers (MRN, unit number, K number): local record numbers, one shape per trust.

Every trust has its own format, so a bare number is not enough: these need a
reason to be read as a hospital number.

- A label just before it ("MRN", "hosp no", "unit no", "K no", "PAS", "case
  note no") makes almost any short code a hospital number: certain.
- A code in brackets straight after a name ("Doris Jones (K4456712)"): likely.
- A trust code and seven digits ("RXH1234567", "ABC 1234567") or a letter and
  six or seven digits ("K4456712"): only when words about a patient are close by
  ("Mrs", "bed", "ward", "PAS", ...).

Never: numbers labelled as orders, batches, invoices, Datix or ESR records,
extensions, bleeps or wards, and training records ("TST00001", "dummy").
Sites add their own formats in the site file (``recognizers:``), in Presidio's
YAML format, with examples that ``discretion check-config`` runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from discretion.recognizers.base import Hit, Recognizer
from discretion.recognizers.nhs_number import dummy_record

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spacy.tokens import Doc

    from discretion.config import Settings

ENTITY = "HOSPITAL_NUMBER"

_ID = (
    r"(?P<id>(?-i:[A-Z]{1,4})[-/ ]?\d{4,12}(?-i:[A-Z])?|[a-z]{1,2}\d{4,12}|\d{5,12}"
    r"|\d{3,4}[ ]\d{3,4}(?:[ ]\d{3,4})?)"
)
_LABELLED = re.compile(
    r"""\b(?:MRN|M\.R\.N\.?|hosp(?:ital)?\.?\s*(?:no|num|number|id|\#)\b\.?|hospital\s+number
      |unit\s*(?:no|number)\b\.?|case\s*notes?\s*(?:no|number)?\b\.?|K\s*(?:no|number)\b\.?
      |RXH\s*(?:no|number)?\b\.?|PAS\s*(?:no|number|id)?\b\.?|patient\s*(?:id|no|number)\b\.?
      |pt\s*(?:id|no|number)\b\.?|CRN|local\s*(?:no|number|id)\b\.?|trust\s*(?:no|number|id)\b\.?
      |record\s*(?:no|number)\b\.?|notes?\s*(?:no|number)\b\.?)
    (?:\s+(?:for|of)\s+[\w'’.-]+(?:\s+[\w'’.-]+)?)?   # "MRN for Jo Bloggs is ..."
    \s*(?:[:\#=-]\s*)?(?:is\s+|was\s+)?"""
    + _ID
    + r"(?![^\W_])(?![/-])",
    re.IGNORECASE | re.VERBOSE,
)
# A trust's ODS code (RXH, RVJ, ...) or three letters, then seven digits.
_TRUST_CODE = re.compile(r"(?<![^\W_])(?<![-])(?P<id>[A-Z][A-Z0-9]{2}\s?\d{7})(?![^\W_])(?![-])")
# One or two letters then six or seven digits: K4456712, M883301.
_LETTER_DIGITS = re.compile(r"(?<![^\W_])(?<![-])(?P<id>[A-Za-z]{1,2}\d{6,7})(?![^\W_])(?![/-])")
# In brackets after a name: "Doris Jones (K4456712)".
# In brackets after a name, "Doris Jones (K4456712)", or straight after a titled name,
# "Mrs Doris Jones K4456712" ("Pharmacy Stores AB123456" is not a name).
_AFTER_NAME = re.compile(
    r"[A-Z][a-z'’-]+\s*[(\[]\s*$"
    r"|\b(?:Mr|Mrs|Ms|Miss|Mx|Master)\.?(?:\s+[A-Z][a-z'’-]+){1,3},?\s+$"
)

# The nearest label before a code: a patient-record label, or one that says it is something else.
_NOT_PATIENT = re.compile(
    r"""\b(?:order|orders|PO|purchase|invoice|inv|batch|lot|stock|item|product|catalogue|cat
      |serial|tracking|consignment|parcel|courier|ESR|payroll|Datix|DCI|ticket|incident|job
      |account|acct|barcode|tel|phone|ext|extension|bleep|pager|crew|reg|registration|flight
      |room|ward|bay|version|model|part|code|ref|reference|PALS|complaint|case\s+ref|licen[cs]e
      |GMC|NMC|HCPC|staff|employee|badge|locker|asset|voucher|course|module)\b[\s.:#=-]*
      (?:(?:no|num|number|id|ref|code)\b[\s.:#=-]*)?$""",
    re.IGNORECASE | re.VERBOSE,
)
# Dummy and training records.
_DUMMY = re.compile(r"TST|TEST|DUMMY|DEMO|XXX|ZZZ|TRAIN|FAKE|SAMPLE", re.IGNORECASE)

# Words that say a patient is being discussed, matched as whole words (Presidio's context
# matching works on parts of words, and "pt" is inside "laptop", "pas" inside "password").
_PATIENT_WORDS = re.compile(
    r"\b(?:pt|pts|pt's|patient|patient's|patients|mr|mrs|ms|miss|bed|bay|ward|cubicle|side\s+room"
    r"|PAS|EPR|notes|admission|admitted|discharged?|TTOs?|obs|bloods|NBM|referral|dob|nhs|mrn"
    r"|hosp|result|results|consent|theatre|list)\b",
    re.IGNORECASE,
)
_CUE_WINDOW = 60

SCORE_LABELLED = 0.9
SCORE_AFTER_NAME = 0.6
SCORE_PATIENT_WORDS = 0.6
SCORE_TRUST_CODE = 0.4
SCORE_LETTER_DIGITS = 0.3
_WINDOW = 24


def _patient_word(text: str, start: int, end: int) -> str:
    """A patient word on the same line within a few words of the code, or ''."""
    left = text[max(0, start - _CUE_WINDOW) : start].rsplit("\n", 1)[-1]
    right = text[end : end + _CUE_WINDOW].split("\n", 1)[0]
    m = _PATIENT_WORDS.search(left + " " + right)
    return m.group() if m else ""


def _dummy(code: str) -> bool:
    digits = "".join(ch for ch in code if ch.isdigit())
    return bool(_DUMMY.search(code)) or digits.strip("0") in ("", "1") or len(set(digits)) == 1


@dataclass
class HospitalNumberRecognizer(Recognizer):
    """Finds hospital numbers (MRNs) that are labelled, bracketed after a name, or trust-coded."""

    name: ClassVar[str] = "HospitalNumberRecognizer"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)
    context: tuple[str, ...] = ()
    # The site's own hospital-number formats: where one matches, the site's recognizer reports
    # it and ours stays quiet, so the finding names the site's format.
    site_formats: tuple[re.Pattern[str], ...] = ()

    def find(self, text: str, doc: Doc | None = None) -> Iterator[Hit]:
        if not any(ch.isdigit() for ch in text):
            return
        taken: list[tuple[int, int]] = [
            m.span() for r in self.site_formats for m in r.finditer(text)
        ]
        for m in _LABELLED.finditer(text):
            start, end = m.span("id")
            code = m.group("id").strip()
            if _dummy(code) or sum(ch.isdigit() for ch in code) < 4 or dummy_record(text, start):
                continue
            if any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            yield Hit(
                start, end, SCORE_LABELLED, ENTITY, "labelled", "labelled as a hospital number"
            )
        for regex, score, pattern in (
            (_TRUST_CODE, SCORE_TRUST_CODE, "trust code and digits"),
            (_LETTER_DIGITS, SCORE_LETTER_DIGITS, "letter and digits"),
        ):
            for m in regex.finditer(text):
                start, end = m.span("id")
                if any(s < end and start < e for s, e in taken) or _dummy(m.group("id")):
                    continue
                if dummy_record(text, start):
                    continue
                before = text[max(0, start - _WINDOW) : start]
                if _NOT_PATIENT.search(before):
                    continue
                taken.append((start, end))
                if _AFTER_NAME.search(before):
                    yield Hit(start, end, SCORE_AFTER_NAME, ENTITY, pattern, "right after a name")
                    continue
                cue = _patient_word(text, start, end)
                if cue:
                    yield Hit(
                        start,
                        end,
                        SCORE_PATIENT_WORDS,
                        ENTITY,
                        pattern,
                        f"the word '{cue}' is close by",
                    )
                else:
                    yield Hit(start, end, score, ENTITY, pattern)


# Presidio's context words match parts of words, so only ones that are safe that way.
CONTEXT = ("mrn", "hosp", "patient")


# The flags Presidio gives the site's own patterns (global_regex_flags in presidio.yaml).
_SITE_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL


def build(settings: Settings) -> list[Recognizer]:
    site = tuple(
        re.compile(p.regex, _SITE_FLAGS)
        for spec in settings.recognizers
        if spec.supported_entity == ENTITY
        for p in spec.patterns
    )
    return [HospitalNumberRecognizer(context=CONTEXT, site_formats=site)]
