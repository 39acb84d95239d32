"""Street addresses: house number and street, flats, Welsh names, care homes; not hospital places."""

from __future__ import annotations

import pytest

from discretion.message import Message
from discretion.recognizers.street_address import StreetAddressRecognizer


def found(text: str, min_score: float = 0.5) -> list[str]:
    hits = StreetAddressRecognizer().find(text)
    return [text[h.start : h.end] for h in hits if h.score >= min_score]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("going home to 12 Acacia Avenue today", ["12 Acacia Avenue"]),
        ("Flat 3, 22 High St, needs a key safe", ["Flat 3, 22 High St"]),
        ("14b Mill Lane, Otley", ["14b Mill Lane, Otley"]),
        ("letters to 7 Lower Chapel Road, Halifax HX1 2AB", ["7 Lower Chapel Road, Halifax"]),
        ("DN to 8 Heol y Garth, Aberaeron", ["8 Heol y Garth, Aberaeron"]),
        ("lives at 3 Maes y Deri.", ["3 Maes y Deri"]),
        ("2/1 40 Byres Road", ["2/1 40 Byres Road"]),
        ("at 5 St Mary's Close", ["5 St Mary's Close"]),
        ("lives at 22 the Crescent, Leeds", ["22 the Crescent, Leeds"]),
        ("Flat 4 Elm Court", ["Flat 4 Elm Court"]),
        ("45 Kingsway", ["45 Kingsway"]),
        ("_12 Elm Road_", ["12 Elm Road"]),
        ("7 Broadway, Bradford", ["7 Broadway, Bradford"]),
        ("address: 4 Oak Tree Close, Leeds, LS17 8AB", ["4 Oak Tree Close, Leeds"]),
        ("insulin at Bryn Teg care home, 8am", ["Bryn Teg care home"]),
        ("from Larkspur Nursing Home", ["Larkspur Nursing Home"]),
    ],
)
def test_finds_addresses(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ward 12 is closed",
        "bay 4 needs a clean",
        "room 3 Park View is booked",  # a room, not a house
        "Room booked: Bevan Building 2.14",
        "the 10 Minute Walk test",  # distances and times
        "a 3 hour drive away",
        "Bed 2 Oak Lane ward",
        "our care home referrals are up",
        "Westgate Road, Newcastle",  # a street with no house number
        "Theatre 4 will overrun",
        "the 3 Gateway talks",
        "2 Pathway meetings this week",
    ],
)
def test_leaves_hospital_places_alone(text):
    assert found(text) == []


def test_lower_case_addresses_need_a_reason():
    # On its own a lower-case "12 acacia avenue" is uncertain; words like "lives" lift it.
    assert found("12 acacia avenue") == []
    assert found("12 acacia avenue", min_score=0.0) == ["12 acacia avenue"]


@pytest.mark.parametrize(
    "text",
    [
        "Example General Hospital, 1 Westgate Road, Newcastle",
        "Moorside Surgery, 4 High Street, Otley",
        "ICB address: 2 Park Square, Leeds",
    ],
)
def test_an_organisations_own_address_is_under_the_threshold(text):
    assert found(text) == []
    assert found(text, min_score=0.0)


@pytest.mark.parametrize(
    "text",
    [
        "discharged from hospital to 12 Elm Road, Leeds",
        "home from Leeds General Infirmary, to 12 Elm Road",
        "pt is from St James's Hospital, lives at 12 Elm Road",
    ],
)
def test_a_hospital_mentioned_before_a_home_address_does_not_hide_it(text):
    assert found(text) and found(text)[0].startswith("12 Elm Road")


def test_engine_redacts_an_address(engine):
    text = "transport booked for 14:00, going home to 22 Beech Terrace, Oldham"
    a = engine.assess(Message(text))
    assert a.warn and "[ADDRESS]" in a.redacted and "Beech Terrace" not in a.redacted


def test_engine_lifts_a_lower_case_address_with_context(engine):
    a = engine.assess(Message("she lives at 12 acacia avenue now"))
    assert [f.entity_type for f in a.findings if f.entity_type == "STREET_ADDRESS"] == [
        "STREET_ADDRESS"
    ]
