"""Social media handles; never Slack or Teams mentions of colleagues, or email addresses."""

from __future__ import annotations

import pytest

from discretion.message import Message
from discretion.recognizers.handle import HandleRecognizer


def found(text: str) -> list[str]:
    return [text[h.start : h.end] for h in HandleRecognizer().find(text) if h.score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("she posted it as @jo_bloggs99 last night", ["@jo_bloggs99"]),
        ("insta: jo.bloggs", ["jo.bloggs"]),
        ("his tiktok is @prankdave", ["prankdave"]),
        ("Instagram handle - sunny_days_21", ["sunny_days_21"]),
        ("@Jo.Bloggs shared the photo", ["@Jo.Bloggs"]),
        ("FunnyFrankTV (the YouTuber) came in", ["FunnyFrankTV"]),
        ("@Sam posted it on Instagram", ["@Sam"]),  # a platform named: a handle
    ],
)
def test_finds_handles(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "<@U04B7QK2LM> can you look",
        "<!subteam^S02AB3CD|@acute-meds> pls review",
        "<!here> fire drill",
        "@here fire drill at 10",
        "<at>Sam Jones</at> please cover",
        "email jo_b99@example.com",
        "see you @ 3pm",
        "@3pm in the seminar room",
        "@Sam can you cover bay 2?",  # probably a colleague: not enough on its own
        "IG: complete your training",  # information governance, not Instagram
        "she's the mum whose GoFundMe went viral on Facebook",
        "Mr McLeish is on YouTube a lot",
    ],
)
def test_leaves_mentions_and_emails_alone(text):
    assert found(text) == []


def test_engine_redacts_a_handle(engine):
    a = engine.assess(Message("whoever followed @jo_bloggs99 pls stop"))
    assert a.warn and "[HANDLE]" in a.redacted and "jo_bloggs99" not in a.redacted
