"""NHS numbers: every way people write them, and the numbers that only look like them."""

from __future__ import annotations

import pytest
from made_up_numbers import grouped, valid, wrong

from discretion.message import Message
from discretion.recognizers.nhs_number import (
    SCORE_LABELLED,
    NhsNumberRecognizer,
    health_numbers,
)

NHS = valid("4011234")  # an issued England range
NHS_6 = valid("6012345")
NHS_7 = valid("7223344")
TEST_RANGE = valid("99912345")
UNISSUED = valid("5123456")


def found(text: str, flag_test_range: bool = True, min_score: float = 0.5) -> list[str]:
    recognizer = NhsNumberRecognizer(flag_test_range=flag_test_range)
    return [text[h.start : h.end] for h in recognizer.find(text) if h.score >= min_score]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"pt in bay 2 {grouped(NHS)} needs bloods", grouped(NHS)),
        (f"{grouped(NHS_6, '-')} for review", grouped(NHS_6, "-")),
        (f"number {grouped(NHS_7, '.')}.", grouped(NHS_7, ".")),
        (f"{NHS} is on the list", NHS),
        (f"(NHS {NHS})", NHS),
        (f"nhs no is {' '.join(NHS)} for the lady in bay 1", " ".join(NHS)),
        (f"nhs: {NHS[:3]} {NHS[3:]}", f"{NHS[:3]} {NHS[3:]}"),  # grouped only once
        (
            "NHS 40 11 23 40 01 x".replace("40 11 23 40 01", f"{NHS[:2]} {NHS[2:5]} {NHS[5:]}"),
            f"{NHS[:2]} {NHS[2:5]} {NHS[5:]}",
        ),  # an odd grouping, trusted because it is labelled
        (f"<https://epr.example.nhs.uk/p?nhs={NHS}|record>", NHS),
        (f"| Bloggs | {NHS} | Resp |", NHS),
        (f"bay 4 {grouped(TEST_RANGE)}", grouped(TEST_RANGE)),  # 999 range: flagged by default
        (f"*NHS:* _{grouped(NHS)}_", grouped(NHS)),  # Slack italics and bold
        (f"`{NHS}`", NHS),
        (f"tel 0113 496 0000, {NHS}", NHS),  # the phone label belongs to the phone number
    ],
)
def test_finds_nhs_numbers(text, expected):
    assert found(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        f"pt {grouped(wrong(NHS))} in bay 2",  # check digit wrong
        f"{wrong(NHS)} please",
        f"order ref {grouped(NHS)} for the bed hire",  # labelled as something else
        f"PO number {NHS} for the obs machines",
        f"invoice {NHS} is wrong",
        f"batch {NHS} recalled",
        f"ESR {NHS}",
        f"1{NHS} is longer",  # inside a longer number
        f"{NHS}5 is longer",
        f"{NHS},5 is a decimal",
        f"£{NHS}",
        f"id{NHS}",
        f"call +44 {grouped(NHS)}",  # the tail of a phone number
        f"{NHS[:2]} {NHS[2:5]} {NHS[5:]} unlabelled odd grouping",
        "rota 12/03/2025 10:00-11:30 room 2.14",
        "0113 496 0000 is switchboard",
        f"dummy patient Test Testpatient NHS {grouped(TEST_RANGE)}",  # a training record
        f"on the training system use NHS {NHS}",
    ],
)
def test_leaves_lookalikes_alone(text):
    assert found(text) == []


def test_the_test_range_can_be_switched_off():
    assert found(f"NHS {TEST_RANGE}", flag_test_range=False) == []
    assert found(f"NHS {TEST_RANGE}", flag_test_range=True) == [TEST_RANGE]


def test_a_label_makes_it_certain_and_an_unissued_range_needs_one():
    (labelled,) = health_numbers(f"NHS no {NHS}")
    assert labelled.score == SCORE_LABELLED
    assert found(f"ref {UNISSUED} thanks") == []
    assert found(f"NHS {UNISSUED}") == [UNISSUED]


@pytest.mark.parametrize(
    ("text", "surface"),
    [
        # Invisible and odd characters inside the number are cleaned before recognizers run.
        (
            f"nhs {NHS[:3]}\u200b{NHS[3:6]}\u00a0{NHS[6:]} pls",
            f"{NHS[:3]}\u200b{NHS[3:6]}\u00a0{NHS[6:]}",
        ),
        (
            f"nhs {NHS[:3]}\u2013{NHS[3:6]}\u2013{NHS[6:]}",
            f"{NHS[:3]}\u2013{NHS[3:6]}\u2013{NHS[6:]}",
        ),
        (f"{NHS[:5]}\u2060{NHS[5:]} bay 3", f"{NHS[:5]}\u2060{NHS[5:]}"),
    ],
)
def test_engine_finds_numbers_with_hidden_characters_and_redacts_them(engine, text, surface):
    a = engine.assess(Message(text))
    assert a.warn
    assert [text[f.start : f.end] for f in a.findings if f.entity_type == "NHS_NUMBER"] == [surface]
    assert "[NHS NUMBER]" in a.redacted and NHS[-4:] not in a.redacted


def test_context_words_lift_the_score_through_presidio(engine):
    bare = engine.explain(f"{NHS} ok")
    with_context = engine.explain(f"NHS {NHS} ok")
    with_pt = engine.explain(f"pt {NHS} ok")
    score = {
        name: next(d["score"] for d in result if d["entity_type"] == "NHS_NUMBER")
        for name, result in (("bare", bare), ("nhs", with_context), ("pt", with_pt))
    }
    assert score["bare"] < score["pt"] and score["bare"] < score["nhs"]
    assert next(d for d in with_pt if d["entity_type"] == "NHS_NUMBER")["context_word"] == "pt"


def test_dates_phone_numbers_and_order_numbers_do_not_warn(engine):
    for text in (
        f"order no {grouped(NHS)} arriving weds",
        "meeting 03/03/2025 and 12/03/2025",
        "ring 0113 496 0999 for the lab",
    ):
        assert not any(f.entity_type == "NHS_NUMBER" for f in engine.assess(Message(text)).findings)
