from __future__ import annotations

import pytest

from discretion.normalise import normalise


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain ascii", "plain ascii"),
        ("943\u200b476\u200b5919", "9434765919"),
        ("LS1\u00a03EX", "LS1 3EX"),
        ("a\u2013b", "a-b"),
        ("nul\x00here", "nul here"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("\ufeffBOM first", "BOM first"),
        ("rtl\u202emark", "rtlmark"),
    ],
)
def test_cleaning(raw, clean):
    assert normalise(raw).text == clean


def test_offsets_map_back_to_the_original():
    raw = "NHS 943\u200b476\u200b5919 ok"
    n = normalise(raw)
    start = n.text.index("9434765919")
    o_start, o_end = n.to_original(start, start + 10)
    assert raw[o_start:o_end] == "943\u200b476\u200b5919"


def test_identity_when_nothing_is_removed():
    n = normalise("caf\u00e9 LS1\u00a03EX")
    assert n.origin is None
    assert n.to_original(2, 5) == (2, 5)
