"""Ages: reported as findings (category identifier) but never a reason to warn on their own."""

from __future__ import annotations

import pytest

from discretion.message import Message
from discretion.recognizers.age import AgeRecognizer


def found(text: str) -> list[str]:
    return [text[h.start : h.end] for h in AgeRecognizer().find(text) if h.score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("84yo lady, fall at home", ["84yo"]),
        ("an 84 y/o man", ["84 y/o"]),
        ("a 6-year-old boy", ["6-year-old"]),
        ("she is 17 years old", ["17 years old"]),
        ("45M chest pain", ["45M"]),
        ("72F ?UTI", ["72F"]),
        ("F 72 with SOB", ["F 72"]),
        ("aged 90, lives alone", ["aged 90"]),
        ("age: 45", ["age: 45"]),
        ("female, 72, collapse", ["female, 72"]),
        ("Mr Joe Bloggs, 67, chest pain", ["67"]),
        ("Bed 1 - Ann Smith, 72, NSTEMI", ["72"]),
        ("102yo from the care home", ["102yo"]),
        ("_84yo_ lady", ["84yo"]),
    ],
)
def test_finds_ages(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "mobilised with frame, 20m today",  # metres
        "14F catheter in situ",  # French gauge
        "28F chest drain",
        "M6 closed at J16",  # a motorway
        "costs £45M",
        "Bed 2, 4, empty",
        "ward 9, 3 beds free",
        "age range for the audit",
        "the 80s were great",
        "a student in his 20s",  # a decade is left to the quasi-identifier logic
        "aged 300",
        "patients aged 16-18 go to paeds",  # an age limit, not someone's age
        "everyone aged 65 and over",
        "Jones, 3, 4, and 5 are the bays",  # a list of numbers
        "Thanks Sarah, 10 mins",
    ],
)
def test_leaves_non_ages_alone(text):
    assert found(text) == []


def test_an_age_is_a_finding_but_not_a_warning(engine, settings):
    assert "AGE" not in settings.warn_entities
    a = engine.assess(Message("84yo in the side room with C diff"))
    ages = [f for f in a.findings if f.entity_type == "AGE"]
    assert [(f.start, f.end, f.category) for f in ages] == [(0, 4, "identifier")]
    assert not a.warn
