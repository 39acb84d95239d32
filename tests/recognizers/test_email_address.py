"""Email addresses: typed normally, mistyped, inside Slack links, or spelt out."""

from __future__ import annotations

import pytest

from discretion.message import Message
from discretion.recognizers.email_address import EmailAddressRecognizer


def found(text: str) -> list[str]:
    return [text[h.start : h.end] for h in EmailAddressRecognizer().find(text) if h.score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email is jo.bloggs77@example.com ok", ["jo.bloggs77@example.com"]),
        ("typo: jo.bloggs77@example.con", ["jo.bloggs77@example.con"]),  # still an address
        ("ann.o'neill@mail.example.co.uk.", ["ann.o'neill@mail.example.co.uk"]),
        ("staff: a.person@nhs.net", ["a.person@nhs.net"]),  # staff addresses are found too
        (
            "<mailto:jo.b@example.org|jo.b@example.org>",
            ["jo.b@example.org", "jo.b@example.org"],
        ),
        ("JO_B+clinic@Example.COM", ["JO_B+clinic@Example.COM"]),
        ("jo.bloggs at example dot com", ["jo.bloggs at example dot com"]),
        ("jo [at] example [dot] co [dot] uk", ["jo [at] example [dot] co [dot] uk"]),
    ],
)
def test_finds_email_addresses(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "see you @ 3pm",
        "<@U04B7QK2LM> can you look",
        "@jo_bloggs99 posted it",
        "x@y",
        "meet at the ward. com back later",
        "home at 5 dot on time",
        "https://www.example.com/path",
    ],
)
def test_leaves_non_addresses_alone(text):
    assert found(text) == []


def test_engine_warns_and_redacts_every_occurrence(engine):
    text = "typed jo.b@example.con, the right one is jo.b@example.com"
    a = engine.assess(Message(text))
    assert a.warn
    assert a.redacted.count("[EMAIL]") == 2 and "jo.b@" not in a.redacted
