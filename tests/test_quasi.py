"""Quasi-identifiers: categories, spans, named versus unnamed places, site extensions."""

from __future__ import annotations

from discretion.config import QUASI_CATEGORIES
from discretion.quasi import CATEGORIES, QuasiExtractor, QuasiSpan
from discretion.quasi.phrases import build_table


def _spans(engine, text: str, extractor: QuasiExtractor | None = None) -> list[QuasiSpan]:
    doc = engine.analysis.nlp(text)
    return (extractor or engine.hooks["quasi"]).extract(doc)


def _by_category(spans: list[QuasiSpan]) -> dict[str, list[QuasiSpan]]:
    out: dict[str, list[QuasiSpan]] = {}
    for q in spans:
        out.setdefault(q.category, []).append(q)
    return out


def _surface(text: str, q: QuasiSpan) -> str:
    return text[q.start : q.end]


def test_a_described_person_yields_each_kind_of_detail(engine):
    text = (
        "the non-binary student from Larchfield Sixth Form who got glassed outside "
        "the Red Lion on Saturday"
    )
    cats = _by_category(_spans(engine, text))
    assert {"gender_identity", "event", "place", "time"} <= set(cats)
    assert any("Larchfield" in _surface(text, q) for q in cats["place"])
    assert any("Saturday" in _surface(text, q) for q in cats["time"])


def test_public_and_local_roles_religion_and_uniqueness(engine):
    text = "the only rabbi in Hollowmere is on CCU, and a Premier League striker is in minors"
    cats = _by_category(_spans(engine, text))
    assert {"uniqueness", "local_role", "public_role", "place"} <= set(cats)


def test_person_descriptions_cover_the_whole_phrase(engine):
    text = "a Latvian forklift driver came in with a crush injury"
    person = [q for q in _spans(engine, text) if q.person]
    assert person and _surface(text, person[0]) == "a Latvian forklift driver"


def test_a_trend_is_not_an_event(engine):
    cats = _by_category(_spans(engine, "stabbings in the city centre are up again this year"))
    assert "event" not in cats


def test_a_nationality_of_a_thing_is_not_an_ethnicity(engine):
    cats = _by_category(_spans(engine, "use the Canadian CT head rule before scanning"))
    assert "ethnicity" not in cats


def test_named_places_narrow_more_than_unnamed_or_big_ones(engine):
    def place_factor(text: str) -> float:
        return max(q.factor for q in _spans(engine, text) if q.category == "place")

    named = place_factor("she was found outside Thornleigh Academy")
    unnamed = place_factor("she was found outside the academy")
    big = place_factor("she was found in Manchester")
    assert named > unnamed and named > big


def test_roads_and_dates_are_found(engine):
    text = "crash on the A6120 on 3rd March, two cars"
    cats = _by_category(_spans(engine, text))
    assert any(_surface(text, q) == "A6120" for q in cats["place"])
    assert "time" in cats


def test_ages_in_words_and_decades(engine):
    cats = _by_category(_spans(engine, "a toddler and a man in his 70s, both from the same house"))
    assert len(cats["age"]) == 2


def test_a_colleagues_relative_is_a_colleague_detail(engine):
    cats = _by_category(_spans(engine, "pt in bed 2 is our HCA Mo's grandad, be kind"))
    assert "colleague" in cats


def test_offsets_shift_with_the_piece_offset(engine):
    text = "a Sikh plumber"
    doc = engine.analysis.nlp(text)
    plain = engine.hooks["quasi"](text, doc, 0)
    shifted = engine.hooks["quasi"](text, doc, 100)
    assert [d["start"] + 100 for d in plain] == [d["start"] for d in shifted]
    assert all(isinstance(d, dict) for d in shifted)  # plain data, no spaCy objects


def test_a_site_can_extend_the_lists(engine):
    tokenize = lambda s: [t.text for t in engine.analysis.nlp.tokenizer(s)]  # noqa: E731
    extractor = QuasiExtractor({"quasi_place": ["the pit village ; 1 ; a pit village"]}, tokenize)
    spans = _spans(engine, "he lives in the pit village, came in last night", extractor)
    assert any(q.label == "a pit village" for q in spans)


def test_categories_match_the_configuration():
    assert set(CATEGORIES) == set(QUASI_CATEGORIES)


def test_every_quasi_list_ships_and_parses():
    for category in CATEGORIES:
        assert len(build_table([f"quasi_{category}"])) >= 5, category
    assert len(build_table(["quasi_large_place"])) >= 20


def test_a_long_number_the_model_calls_a_date_is_not_a_time(engine):
    from discretion.message import Message

    a = engine.assess(Message("ring estates on 0113 496 0777 about the broken hoist"))
    assert not [f for f in a.findings if f.entity_type == "QUASI_TIME"]


def test_a_diocese_has_one_bishop(engine):
    from discretion.message import Message

    assert engine.assess(Message("the bishop is back in cubicle 4 with chest pain again")).warn
    assert not engine.assess(Message("the bishop blesses the new chapel window on Sunday")).warn
