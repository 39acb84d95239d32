"""Plain-English words for what was found and why it matters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# What each kind of identifier is, in words a nurse would use.
DESCRIPTIONS: dict[str, str] = {
    "PERSON": "a patient's name",
    "NHS_NUMBER": "an NHS number",
    "CHI_NUMBER": "a CHI number",
    "HC_NUMBER": "a Health and Care number",
    "HOSPITAL_NUMBER": "a hospital number (MRN)",
    "DATE_OF_BIRTH": "a date of birth",
    "AGE": "an age",
    "UK_POSTCODE": "a postcode",
    "PHONE_NUMBER": "a phone number",
    "EMAIL_ADDRESS": "an email address",
    "STREET_ADDRESS": "a home address",
    "HANDLE": "a social media handle",
}

GUIDANCE = (
    "NHS confidentiality rules and the GMC's social media guidance: "
    "do not share anything that could identify a patient in chat."
)


def describe(entity_type: str) -> str:
    """Words for one entity type (a fallback for types we did not name)."""
    return DESCRIPTIONS.get(entity_type, "a detail that identifies someone")


def join_words(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def identifiers_reason(entity_types: Iterable[str]) -> str:
    """One sentence naming the direct identifiers found and why they matter."""
    counts = Counter(entity_types)
    parts = []
    for entity, n in counts.items():
        words = describe(entity)
        parts.append(words if n == 1 else f"{n} × {words.removeprefix('a ').removeprefix('an ')}")
    return (
        f"This message contains {join_words(parts)}. "
        "That is enough on its own to identify a patient, and chat is not a safe place for it."
    )
