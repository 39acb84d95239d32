"""Northern Ireland Health and Care numbers: 320-399 at the start, Modulus 11."""

from __future__ import annotations

import pytest
from made_up_numbers import grouped, valid, wrong

from discretion.message import Message
from discretion.recognizers.hc_number import HcNumberRecognizer
from discretion.recognizers.nhs_number import health_numbers

HC = valid("3201234")
HC_TOP = valid("3998765")
BELOW = valid("3191234")  # 319: not the H&C range (and day 31, month 91 is not a CHI date)


def found(text: str) -> list[str]:
    return [text[h.start : h.end] for h in HcNumberRecognizer().find(text) if h.score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"H&C {HC} transferred this morning", HC),
        (f"H+C no: {grouped(HC_TOP)}", grouped(HC_TOP)),
        (f"HCN {HC}", HC),
        (f"health and care number {HC}", HC),
        (f"{HC} - needs her levels", HC),  # the range alone makes it H&C
        (f"H&C: {HC}\nWard: 4 South", HC),
    ],
)
def test_finds_hc_numbers(text, expected):
    assert found(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [f"H&C {wrong(HC)}", f"H&C {BELOW}", f"invoice {HC}", f"{HC}0"],
)
def test_leaves_lookalikes_alone(text):
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        (f"H&C {HC}", "HC_NUMBER"),
        (f"{HC}", "HC_NUMBER"),
        (f"NHS {HC}", "NHS_NUMBER"),  # the poster's own word for it wins
        (f"CHI {HC}", "HC_NUMBER"),  # not a date: cannot be a CHI number
        (f"H&C {valid('4011234')}", "NHS_NUMBER"),  # outside 320-399: not H&C
    ],
)
def test_one_number_is_reported_as_exactly_one_scheme(text, entity):
    (only,) = health_numbers(text)
    assert only.entity == entity


def test_engine_warns_and_uses_the_hc_placeholder(engine):
    text = f"H&C {HC} - Ms Bloggs, from Altnagelvin"
    a = engine.assess(Message(text))
    assert a.warn
    numbers = [f for f in a.findings if f.entity_type in {"NHS_NUMBER", "CHI_NUMBER", "HC_NUMBER"}]
    assert [f.entity_type for f in numbers] == ["HC_NUMBER"]
    assert "[H&C NUMBER]" in a.redacted and HC not in a.redacted
