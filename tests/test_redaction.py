from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discretion.analysis.redaction import Span, merge_spans, redact


def test_no_spans_returns_the_text_unchanged():
    text = "nothing to see <@U123> here"
    assert redact(text, []) is text


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("call Jo Bloggs now", [Span(5, 14, "PERSON")], "call [NAME] now"),
        ("nhs 943 476 5919.", [Span(4, 17, "NHS_NUMBER")], "nhs [NHS NUMBER]."),
        ("*Jo Bloggs* in bay 2", [Span(0, 11, "PERSON")], "*[NAME]* in bay 2"),
        ("pt `Jo Bloggs` bay 2", [Span(3, 14, "PERSON")], "pt `[NAME]` bay 2"),
        (
            "see <https://x.org/a|Jo Bloggs> ok",
            [Span(21, 30, "PERSON")],
            "see <https://x.org/a|[NAME]> ok",
        ),
        ("see <https://x.org/jo-bloggs|notes> ok", [Span(19, 28, "PERSON")], "see [NAME] ok"),
        ("hi <@U123ABC> about Jo", [Span(20, 22, "PERSON")], "hi <@U123ABC> about [NAME]"),
        ("odd XYZ thing", [Span(4, 7, "SOMETHING_NEW")], "odd [REDACTED] thing"),
    ],
)
def test_placeholders_are_typed_and_markup_stays_valid(text, spans, expected):
    assert redact(text, spans) == expected


def test_overlapping_spans_become_one_placeholder():
    text = "Mrs Jo Bloggs 943 476 5919"
    spans = [
        Span(4, 13, "PERSON", 0.8),
        Span(0, 13, "PERSON", 0.9),
        Span(14, 26, "NHS_NUMBER", 1.0),
    ]
    assert redact(text, spans) == "[NAME] [NHS NUMBER]"
    merged = merge_spans([Span(0, 5, "PERSON", 0.5), Span(3, 9, "STREET_ADDRESS", 0.9)])
    assert merged == [Span(0, 9, "STREET_ADDRESS", 0.9)]


words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(st.lists(words, min_size=1, max_size=8), st.data())
def test_a_redacted_span_never_survives(parts, data):
    secret = "Zq" + data.draw(st.text(alphabet="abcdefghijklmnop", min_size=4, max_size=10))
    index = data.draw(st.integers(0, len(parts)))
    parts = [*parts[:index], secret, *parts[index:]]
    text = " ".join(parts)
    start = text.index(secret)
    out = redact(text, [Span(start, start + len(secret), "PERSON")])
    assert secret not in out
    assert "[NAME]" in out
