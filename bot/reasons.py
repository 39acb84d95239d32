"""Plain-English words for what was found and why it matters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

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
    "UK_NINO": "a National Insurance number",
}

GUIDANCE = (
    "NHS confidentiality rules and the GMC's social media guidance: "
    "do not share anything that could identify a patient in chat."
)
QUASI_GUIDANCE = (
    "GMC guidance, Using social media as a medical professional, paragraph 19: "
    "the sum of the details you share can identify a patient, even without a name."
)

# Why each kind of detail matters, in one short clause.
WHY: dict[str, str] = {
    "colleague": "colleagues are recognised at once by everyone who works with them",
    "public_role": "people recognise someone known for what they do in public",
    "local_role": "people in the area would know exactly who holds that role",
    "notable": "anyone who saw the news story can put a name to it",
    "uniqueness": "it fits one person, or very few, by definition",
    "condition": "few people have a rare condition, so it points to them",
    "gender_identity": "few patients share it, and it is sensitive in itself",
    "sexual_orientation": "it is sensitive, and narrows who it could be",
    "disability": "few people share it in one place",
    "place": "a named small place leaves few people it could be",
    "event": "people remember incidents, and local news reports them",
    "ethnicity": "with a place or a job it narrows the crowd quickly",
    "religion": "with a place it narrows the crowd quickly",
    "occupation": "a job plus a place often fits one person",
    "time": "a date ties it to an incident people heard about",
    "age": "an age narrows the crowd, especially a very young or very old one",
    "family": "a family link points to someone people know",
    "injury": "a striking injury is remembered by witnesses",
}
# Reasons stay short: say why for the details that narrow the crowd most.
MAX_WHY = 5


class _Detail(Protocol):
    category: str
    weight: float
    label: str


def describe(entity_type: str) -> str:
    """Words for one entity type (a fallback for types we did not name)."""
    if entity_type in DESCRIPTIONS:
        return DESCRIPTIONS[entity_type]
    if entity_type.startswith("QUASI_"):
        return detail_words(entity_type.removeprefix("QUASI_").lower())
    return "a detail that identifies someone"


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


def detail_words(category: str, label: str = "") -> str:
    """Our words for one detail: the cue list's label, else the category's own words."""
    if label:
        return label
    from discretion.quasi.extract import category_label

    return category_label(category)


def quasi_reasons(details: Sequence[_Detail], has_identifiers: bool = False) -> list[str]:
    """Sentences naming the details that together identify a patient, why, and the guidance."""
    words = list(dict.fromkeys(detail_words(d.category, d.label) for d in details))
    if not words:
        return []
    opener = "It also describes" if has_identifiers else "This describes"
    first = (
        f"{opener} a patient together with {join_words(words)}. "
        "Together these could let people work out who they are, even without a name."
    )
    if len(details) == 1:
        first = (
            f"{opener} a patient together with {words[0]}. "
            "That alone could let people work out who they are, even without a name."
        )
    why = []
    for d in details[:MAX_WHY]:
        reason = WHY.get(d.category, "it narrows who it could be")
        why.append(f"{detail_words(d.category, d.label)}, because {reason}")
    lead = "Why these matter: " if len(why) > 1 else "Why it matters: "
    second = lead + "; ".join(why) + "."
    return [first, second[0].upper() + second[1:], QUASI_GUIDANCE]


def thread_reason(times: Iterable[float]) -> str:
    """One sentence saying which earlier messages (by time) helped complete the picture."""
    stamps = sorted({datetime.fromtimestamp(t, UTC).strftime("%H:%M UTC on %d %b") for t in times})
    which = "message" if len(stamps) == 1 else "messages"
    return (
        f"Your earlier {which} in this conversation (sent at {join_words(stamps)}) gave other "
        "details; with this one, they add up to a patient people could recognise."
    )


def context_evidence(
    cues: Iterable[str], against: Iterable[str], categories: Iterable[str]
) -> tuple[str, ...]:
    """Short labels saying what made us think this is about a patient, and what detail kinds."""
    out = [f"patient context: {c}" for c in cues]
    out += [f"not about a patient: {c}" for c in against]
    out += [f"detail: {c.replace('_', ' ')}" for c in categories]
    return tuple(out)
