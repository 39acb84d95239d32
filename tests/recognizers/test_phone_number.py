"""UK phone numbers, Ofcom drama ranges included; not extensions, bleeps or NHS numbers."""

from __future__ import annotations

import pytest
from made_up_numbers import grouped, valid

from discretion.config import load_settings
from discretion.message import Message
from discretion.recognizers.phone_number import PhoneNumberRecognizer, uk_national


def found(text: str, min_score: float = 0.5) -> list[str]:
    hits = PhoneNumberRecognizer().find(text)
    return [text[h.start : h.end] for h in hits if h.score >= min_score]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("his wife is on 07700 900431", ["07700 900431"]),  # drama mobile range
        ("mob 07700900431 after 6", ["07700900431"]),
        ("mob 07700-900-431", ["07700-900-431"]),
        ("ring her on 0113 496 0571", ["0113 496 0571"]),  # drama Leeds range
        ("son: 020 7946 0333", ["020 7946 0333"]),  # drama London range
        ("tel 0121 496 0777 re bloods", ["0121 496 0777"]),
        ("dtr (0161) 496 0123", ["(0161) 496 0123"]),
        ("daughter +44 7700 900431", ["+44 7700 900431"]),
        ("mum on +44 (0)7700 900431", ["+44 (0)7700 900431"]),
        ("<tel:+447700900431|07700 900431>", ["+447700900431", "07700 900431"]),
        ("dad 01632 960123", ["01632 960123"]),  # drama 01632 range
        ("sister in Lyon +33 6 12 34 56 78", ["+33 6 12 34 56 78"]),
        ("his brother on 0800 123 4567", ["0800 123 4567"]),
        ("📞07700 900431 - before 6", ["07700 900431"]),
        ("her mobile number is 07 700 900 431", ["07 700 900 431"]),
        ("tel:01134960000", ["01134960000"]),
        ("_07700 900431_ is the daughter", ["07700 900431"]),
        ("mum 07700 900431/07700 900432", ["07700 900431", "07700 900432"]),
    ],
)
def test_finds_phone_numbers(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ext 4412 no answer",
        "Extension for the lounge is 63012",
        "bleep 1010 for the reg, 4472 for the SHO",
        "call 111 or 999",
        f"NHS {grouped(valid('4011234'))}",
        f"pt {valid('6012345')}",
        "DOB 03.07.1979",
        "crew 412 ETA 20 mins",
        "Hb 48, K 6.2, Na 128",
        "0113 496",  # too short
        "tracking 8835 847 490",
        "https://example.com/07700900431",
    ],
)
def test_leaves_non_phone_numbers_alone(text):
    assert PhoneNumberRecognizer().find(text) is not None
    assert found(text, min_score=0.0) == []


@pytest.mark.parametrize(
    "text",
    [
        "my mobile is 07700 900999 if anyone needs me",
        "switchboard is 0113 496 0000",
        "the surgery's bypass number is 0161 496 0732",
        "ring me on 07700 900111",
        "our ward phone is 0113 496 0222",
        "call the ward on 0113 496 0223",
        "ward 7 phone 0113 496 0555",
        "Our 24 Hour Helpline number is 0800 123 4567",
        "Dr Singh's mobile is 07700 900123",  # a colleague's number
        "Sister Jones on 07700 900555",
    ],
)
def test_staff_and_service_numbers_are_found_but_scored_under_the_threshold(text):
    assert found(text) == []
    (hit,) = PhoneNumberRecognizer().find(text)
    assert hit.score < 0.5 and "not a patient's" in hit.note


@pytest.mark.parametrize(
    "text",
    [
        "switchboard put through his daughter, on 07700 900444",
        "our patient Mr Bloggs' number is 07700 900444",
        "for Dr Singh: Mrs Bloggs' son rang (07700 900444)",
        "can the renal reg ring her? 07700 900444",
    ],
)
def test_the_nearest_clue_decides_whose_number_it_is(text):
    assert found(text) == ["07700 900444"]


@pytest.mark.parametrize(
    ("raw", "national"),
    [
        ("07700 900431", "07700900431"),
        ("+44 7700 900431", "07700900431"),
        ("+44 (0)7700 900431", "07700900431"),
        ("0044 113 496 0000", "01134960000"),
        ("01632 96012", "0163296012"),  # a ten-digit 01 number
        ("0600 123 4567", None),  # 06 is not a UK range
        ("07700 9004", None),
    ],
)
def test_uk_national_form(raw, national):
    assert uk_national(raw) == national


def test_engine_warns_on_a_relatives_number(engine):
    a = engine.assess(Message("Mrs Bloggs' son rang (07700 900254) wanting an update"))
    assert a.warn
    assert "[PHONE]" in a.redacted and "900254" not in a.redacted


def test_engine_does_not_warn_on_a_staff_mobile(engine):
    a = engine.assess(Message("my mobile is 07700 900999 while I'm on call"))
    assert not a.warn and a.redacted == "my mobile is 07700 900999 while I'm on call"


def test_the_organisations_own_numbers_are_dropped_by_the_engine(tmp_path):
    from discretion.engine import Engine

    site = tmp_path / "site.yaml"
    site.write_text('organisation:\n  phone_numbers: ["0113 496 0123"]\n', encoding="utf-8")
    engine = Engine(load_settings(site))
    text = "results to dad please, he is on 0113 496 0123 or 0113 496 0124"
    findings = engine.assess(Message(text)).findings
    kept = [text[f.start : f.end] for f in findings if f.entity_type == "PHONE_NUMBER"]
    assert kept == ["0113 496 0124"]
