"""CHI numbers: a real DDMMYY date, four digits, Modulus 11; and which scheme wins."""

from __future__ import annotations

import pytest
from made_up_numbers import valid, wrong

from discretion.message import Message
from discretion.recognizers.chi_number import ChiNumberRecognizer
from discretion.recognizers.nhs_number import chi_date_valid, health_numbers

CHI = valid("050385")  # born 5 March 1985
CHI_OLD = valid("171290")  # born 17 December 1990
CHI_LEAP = valid("290200")  # 29 February 2000 is a real date
NOT_A_DATE = valid("320285")  # day 32: not a CHI (it is in the H&C range)
BAD_MONTH = valid("051385")  # month 13


def found(text: str) -> list[str]:
    return [text[h.start : h.end] for h in ChiNumberRecognizer().find(text) if h.score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"CHI {CHI} - DN visit", CHI),
        (f"chi no: {CHI_OLD}", CHI_OLD),
        (f"{CHI} seen in clinic", CHI),  # the date shape alone makes it a CHI number
        (f"CHI {CHI[:6]} {CHI[6:]}", f"{CHI[:6]} {CHI[6:]}"),  # DDMMYY NNNN
        (f"CHI {CHI[:3]} {CHI[3:6]} {CHI[6:]}", f"{CHI[:3]} {CHI[3:6]} {CHI[6:]}"),
        (f"CHI {CHI_LEAP}", CHI_LEAP),
    ],
)
def test_finds_chi_numbers(text, expected):
    assert found(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        f"CHI {wrong(CHI)}",  # check digit wrong
        f"CHI {BAD_MONTH}",  # month 13 is not a date
        f"order {CHI} arrived",
        f"1{CHI}",
    ],
)
def test_leaves_lookalikes_alone(text):
    assert found(text) == []


@pytest.mark.parametrize(
    ("digits", "valid_date"),
    [
        ("0503851234", True),
        ("2902001234", True),  # 29 Feb 2000 was a leap day
        ("2902011234", False),  # 29 Feb 2001 and 1901 never happened
        ("3104851234", False),  # 31 April
        ("0000001234", False),
    ],
)
def test_chi_dates(digits, valid_date):
    assert chi_date_valid(digits) is valid_date


def test_an_nhs_label_on_a_chi_shaped_number_reports_it_once_as_nhs():
    (only,) = health_numbers(f"NHS {CHI}")
    assert only.entity == "NHS_NUMBER"


def test_a_chi_label_is_ignored_when_the_date_is_not_real():
    (only,) = health_numbers(f"CHI {NOT_A_DATE}")
    assert only.entity == "HC_NUMBER"


def test_engine_warns_and_uses_the_chi_placeholder(engine):
    text = f"Mr Bloggs CHI {CHI} - no answer at the door"
    a = engine.assess(Message(text))
    assert a.warn
    assert [f.entity_type for f in a.findings if text[f.start : f.end] == CHI] == ["CHI_NUMBER"]
    assert "[CHI NUMBER]" in a.redacted and CHI not in a.redacted
