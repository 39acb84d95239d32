"""Teams text to plain text: mentions, HTML and entities, with offsets mapped back."""

from __future__ import annotations

import pytest

from discretion.adapters.teams.text import to_plain


def test_bot_mention_is_dropped_and_colleagues_kept_for_display():
    plain = to_plain(
        "<at>Discretion</at> <at>Dr Amara Okafor</at> can you see bed 7?",
        bot_mentions=["Discretion"],
    )
    assert plain.shown == "@Dr Amara Okafor can you see bed 7?"
    # The engine never reads a colleague's name: they are staff, not patients.
    assert "Okafor" not in plain.assessed
    assert plain.assessed.strip() == "can you see bed 7?"
    assert plain.mentions == 1


def test_html_and_entities_become_plain_text():
    plain = to_plain("<p>Bay&nbsp;4 &amp; bay 5</p><p>then <b>ward</b> 9<br>done</p>")
    assert plain.assessed == "Bay 4 & bay 5\nthen ward 9\ndone"
    assert plain.shown == plain.assessed


def test_text_without_markup_is_untouched():
    text = "Fasting from midnight for theatre < 10am slot"
    assert to_plain(text, has_markup=False).assessed == text


def test_unknown_entity_is_kept_as_typed():
    assert to_plain("R&D and &notanentity; here").assessed == "R&D and &notanentity; here"


@pytest.mark.parametrize(
    ("source", "word"),
    [
        ("<at>Sam Lee</at> 943 476 5919 in bay 4", "943 476 5919"),
        ("<p>Seen&nbsp;by&nbsp;<at>Sam</at>: <i>943 476 5919</i></p>", "943 476 5919"),
        ("plain 943 476 5919 text", "943 476 5919"),
    ],
)
def test_spans_map_back_to_shown_and_source(source, word):
    plain = to_plain(source)
    start = plain.assessed.index(word)
    end = start + len(word)
    s_start, s_end = plain.to_shown(start, end)
    assert plain.shown[s_start:s_end] == word
    o_start, o_end = plain.to_source(start, end)
    assert plain.source[o_start:o_end] == word


def test_span_over_an_entity_takes_the_whole_entity_in_the_source():
    plain = to_plain("Bed&nbsp;12")
    start = plain.assessed.index(" ")
    o_start, o_end = plain.to_source(start, start + 1)
    assert plain.source[o_start:o_end] == "&nbsp;"


def test_empty_and_markup_only_text():
    assert to_plain("").assessed == ""
    assert to_plain("<p></p><br>").assessed == ""
