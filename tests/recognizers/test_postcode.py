"""UK postcodes: full ones in any case and spacing; not districts, car plates or the trust's own."""

from __future__ import annotations

import pytest

from discretion.config import load_settings
from discretion.message import Message
from discretion.recognizers.postcode import PostcodeRecognizer


def found(text: str, min_score: float = 0.5) -> list[str]:
    return [text[h.start : h.end] for h in PostcodeRecognizer().find(text) if h.score >= min_score]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lives at LS6 2QB", "LS6 2QB"),
        ("visit tmrw ls62qb pls", "ls62qb"),
        ("Otley LS21 3AB.", "LS21 3AB"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("M1 1AE", "M1 1AE"),
        ("b15 2tt", "b15 2tt"),
        ("EC1A1BB", "EC1A1BB"),
        ("<https://maps.example.com/?q=CF10+3NP|map>", "CF10+3NP"),
        ("?q=CF10%203NP", "CF10%203NP"),
        ("Bangor LL57 2PW\n", "LL57 2PW"),
        ("BT9 7AB (Belfast)", "BT9 7AB"),
        ("postcode _LS6 2QB_", "LS6 2QB"),
    ],
)
def test_finds_full_postcodes(text, expected):
    assert found(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "pt lives in LS6 so the DN hub is north",  # a district alone
        "silver Corsa YK19 ABC in the bay",  # a number plate
        "QQ1 1AA",  # not a postcode area
        "LS6 2CI",  # C and I are never used in the inward part
        "ward_code = 'W21'",
        "NG51 guidance",
        "LS6 2QBX",
    ],
)
def test_leaves_lookalikes_alone(text):
    assert found(text, min_score=0.0) == []


@pytest.mark.parametrize(
    "text",
    [
        "Delivery for Pharmacy Stores, Example General Hospital, Park Road, Leeds LS1 3EX",
        "the surgery's postcode is LS1 3EX",
        "ICB address: 2 Park Square, Leeds LS1 3EX",
    ],
)
def test_an_organisations_own_address_is_under_the_threshold(text):
    assert found(text) == []
    assert found(text, min_score=0.0) == ["LS1 3EX"]


def test_a_home_postcode_after_a_hospital_is_still_found():
    assert found("home from Leeds General Infirmary, to LS6 2QB") == ["LS6 2QB"]


def test_engine_redacts_a_patients_postcode(engine):
    a = engine.assess(Message("home visit tmrw, LS6 2QB, key safe by the door"))
    assert a.warn and "[POSTCODE]" in a.redacted and "2QB" not in a.redacted


def test_the_organisations_own_postcodes_are_dropped_by_the_engine(tmp_path):
    from discretion.engine import Engine

    site = tmp_path / "site.yaml"
    site.write_text('organisation:\n  postcodes: ["LS1 3EX"]\n', encoding="utf-8")
    engine = Engine(load_settings(site))
    text = "send it to ls13ex, not to her at LS6 2QB"
    findings = engine.assess(Message(text)).findings
    assert [text[f.start : f.end] for f in findings if f.entity_type == "UK_POSTCODE"] == [
        "LS6 2QB"
    ]
