"""Patient context: cues for and against a message being about a patient or a case."""

from __future__ import annotations

import pytest

from discretion.context import ContextScorer, PatientContext
from discretion.quasi.phrases import build_table, parse_line


def _score(engine, text: str) -> PatientContext:
    doc = engine.analysis.nlp(text)
    return PatientContext.from_data(engine.hooks["context"](text, doc, 0))


@pytest.mark.parametrize(
    "text",
    [
        "Saw a chap in resus after he came off his motorbike near the bypass",
        "my pt in bed 12 is NBM from midnight for his lap chole",
        "RIP to the gent in side room 2, such a lovely family",
        "Treating a woman in majors with an OD of her own meds",
        "the lady in bay 3 was discharged this afternoon",
        "brought in by ambulance after an RTC, obs stable, CT head booked",
    ],
)
def test_messages_about_a_patient_score_high(engine, text):
    ctx = _score(engine, text)
    assert ctx.score >= 0.5, (text, ctx)
    assert ctx.evidence  # the cues are named


@pytest.mark.parametrize(
    "text",
    [
        "Rota for December is out, swaps to Priya by Friday please",
        "Teaching on Weds: managing DKA in adults, the new guideline is attached",
        "I've got a stinking cold so I'm off sick today, sorry all",
        "Reminder: the sepsis audit closes Friday, please fill in the form",
        "the new MP for the area was on the radio talking about bus routes",
    ],
)
def test_rota_teaching_own_health_and_news_score_low(engine, text):
    assert _score(engine, text).score < 0.5, text


def test_lemmas_match_every_form_of_a_cue(engine):
    for form in ("treated", "treating", "treats"):
        ctx = _score(engine, f"{form} a man with a dislocated shoulder")
        assert "treated" in ctx.evidence


def test_cues_against_are_reported_and_lower_the_score(engine):
    plain = _score(engine, "pt with a swollen knee came in today")
    taught = _score(engine, "case study for teaching: pt with a swollen knee came in")
    assert taught.score < plain.score
    assert "a case study" in taught.against


def test_evidence_uses_our_labels_never_the_message_words(engine):
    ctx = _score(engine, "Mrs Featherstonehaugh in bay 7 is NBM")
    assert all("Featherstonehaugh" not in e for e in ctx.evidence)


def test_a_site_can_add_its_own_cues(engine):
    tokenize = lambda s: [t.text for t in engine.analysis.nlp.tokenizer(s)]  # noqa: E731
    scorer = ContextScorer(
        {"context_patient": ["on the cedar unit ; 0.8 ; a local unit"]}, tokenize
    )
    doc = engine.analysis.nlp("a man on the Cedar Unit keeps asking for tea")
    ctx = scorer.score(doc)
    assert "a local unit" in ctx.evidence and ctx.score >= 0.5


def test_lexicon_lines_parse_factor_label_and_comments():
    entry = parse_line("come in with ; 0.7 ; came in with  # comment", "x")
    assert entry is not None
    assert entry.words == ("come", "in", "with") and entry.factor == 0.7
    assert entry.label == "came in with"
    assert parse_line("# only a comment", "x") is None
    hashed = parse_line("\\#s ; 0.3", "x")
    assert hashed is not None and hashed.words == ("#s",)


def test_every_shipped_cue_list_parses():
    for name in ("context_patient", "context_clinical", "context_against"):
        table = build_table([name])
        assert len(table) > 10, name
