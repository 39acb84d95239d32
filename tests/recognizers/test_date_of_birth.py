"""Dates of birth: many date shapes, a birth cue or an age beside; never clinic or rota dates."""

from __future__ import annotations

from datetime import date

import pytest

from discretion.message import Message
from discretion.recognizers.date_of_birth import DateOfBirthRecognizer

TODAY = date(2026, 11, 23)


def found(text: str, min_score: float = 0.5) -> list[str]:
    hits = DateOfBirthRecognizer(today=TODAY).find(text)
    return [text[h.start : h.end] for h in hits if h.score >= min_score]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jo Bloggs dob 11/06/1990 in cubicle 1", ["11/06/1990"]),
        ("DOB 3.7.79", ["3.7.79"]),
        ("d.o.b. 03-07-1979", ["03-07-1979"]),
        ("D.O.B: 1979-07-03", ["1979-07-03"]),
        ("born 3 July 1979", ["3 July 1979"]),
        ("born on the 9th of Feb 1957", ["9th of Feb 1957"]),
        ("born 9th Feb 1957, ward 14", ["9th Feb 1957"]),
        ("date of birth July 3, 1979", ["July 3, 1979"]),
        ("b. 3/4/88", ["3/4/88"]),
        ("dob is 1957-03-12 but PAS has 12/03/1975", ["1957-03-12", "12/03/1975"]),
        ("DOB 29/02/2000", ["29/02/2000"]),
        ("DOB:01/02/1945", ["01/02/1945"]),
        ("*DOB:* _01/02/1945_", ["01/02/1945"]),
        ("DOB 12 03 1950", ["12 03 1950"]),
        ("dob 120350", ["120350"]),
        ("DOB: 12031950", ["12031950"]),
        ("dob 01-Feb-1945", ["01-Feb-1945"]),
        ("Joe, 84yo, 12/03/1942, fall", ["12/03/1942"]),  # an age beside it
        ("DOB: 22/09/1951\nWard: 4 South", ["22/09/1951"]),
    ],
)
def test_finds_dates_of_birth(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "rota for w/c 03/03/2025 is up, 12/03/2025 still has gaps",
        "pt admitted 14/02, due a 7 day review 21/02",  # no year
        "clinic 12/11/2026 at 2pm",
        "meeting on 3 July 2025",
        "due 01/12/2026",
        "DOB 31/02/1980",  # not a real date
        "DOB 12/13/1980",
        "dob 01/01/2030",  # in the future
        "version 1.2.3",
        "policy from 12/03/2015",
        "ratio 1/2/3",
        "stock 12031950",  # run-together and spaced dates need a birth cue
        "ring 12 03 1950",
    ],
)
def test_leaves_other_dates_alone(text):
    assert found(text) == []


def test_an_old_date_alone_is_not_enough_but_patient_words_lift_it(engine):
    assert found("12/03/1950 ok") == []
    assert found("12/03/1950 ok", min_score=0.0) == ["12/03/1950"]
    lifted = engine.assess(Message("pt Bloggs 12/03/1950 for review of meds"))
    assert [f.entity_type for f in lifted.findings if f.entity_type == "DATE_OF_BIRTH"] == [
        "DATE_OF_BIRTH"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "see the message from 12/03/2015 about parking",  # "age" inside "message"
        "you can find it on the page dated 01/02/2010",
    ],
)
def test_words_that_merely_contain_cue_words_do_not_lift_a_date(engine, text):
    a = engine.assess(Message(text))
    assert not [f for f in a.findings if f.entity_type == "DATE_OF_BIRTH"]


def test_engine_warns_and_redacts_a_dob(engine):
    text = "Hb 48 on Mr Bloggs DOB 03.07.1979, sample from ED"
    a = engine.assess(Message(text))
    assert a.warn and "[DOB]" in a.redacted and "1979" not in a.redacted


def test_a_clinic_date_does_not_warn(engine):
    a = engine.assess(Message("next clinic 12/11/2026, book the room pls"))
    assert not any(f.entity_type == "DATE_OF_BIRTH" for f in a.findings)
