"""Risk: direct identifiers, patient context and quasi-identifiers add up to a warning."""

from __future__ import annotations

import pytest

from discretion.assessment import Finding
from discretion.message import Message
from discretion.reasons import QUASI_GUIDANCE, describe, join_words
from discretion.risk import age_factor, combine, decide, details_of

CLINICAL = {"context": {"score": 0.9, "evidence": ["treated"], "against": []}}
NO_CONTEXT = {"context": {"score": 0.0, "evidence": [], "against": []}}


def _quasi(category: str, start: int = 0, end: int = 1, share: float = 0.5) -> Finding:
    return Finding(f"QUASI_{category.upper()}", start, end, share, "quasi:test", "quasi", "")


def test_a_direct_identifier_still_warns_on_its_own(settings):
    nhs = Finding("NHS_NUMBER", 0, 12, 1.0, "NhsNumber", "identifier")
    verdict = decide([nhs], NO_CONTEXT, settings)
    assert verdict.warn and verdict.risk == 1.0
    assert "an NHS number" in verdict.reasons[0]


def test_one_common_detail_in_a_clinical_message_does_not_warn(settings):
    verdict = decide([_quasi("occupation")], CLINICAL, settings)
    assert not verdict.warn and verdict.risk < settings.thresholds.warn_risk


def test_details_narrow_the_crowd_together(settings):
    few = decide([_quasi("occupation"), _quasi("time")], CLINICAL, settings)
    many = decide(
        [_quasi("occupation"), _quasi("time"), _quasi("place"), _quasi("event")],
        CLINICAL,
        settings,
    )
    assert many.risk > few.risk
    assert many.warn and not few.warn


def test_a_public_role_in_a_clinical_context_is_a_breach_on_its_own(settings):
    verdict = decide([_quasi("public_role")], CLINICAL, settings)
    assert verdict.warn
    assert "a public role" in verdict.reasons[0]


def test_the_same_details_without_patient_context_do_not_warn(settings):
    findings = [_quasi("public_role"), _quasi("place"), _quasi("time")]
    assert not decide(findings, NO_CONTEXT, settings).warn


def test_weights_come_from_configuration(settings):
    risk = settings.risk.model_copy(
        update={"weights": {**settings.risk.weights, "public_role": 0.1}}
    )
    quiet = settings.model_copy(update={"risk": risk})
    assert not decide([_quasi("public_role")], CLINICAL, quiet).warn


def test_a_repeated_kind_of_detail_counts_a_little_more(settings):
    one = details_of([_quasi("place")], settings)
    two = details_of([_quasi("place"), _quasi("place", 5, 9)], settings)
    assert two[0].weight > one[0].weight
    assert two[0].weight < 2 * one[0].weight


def test_very_old_and_very_young_ages_narrow_more():
    assert age_factor("103") > age_factor("54") and age_factor("4yo") > age_factor("54")


def test_combine_is_one_minus_the_product():
    assert combine([0.5, 0.5]) == pytest.approx(0.75)
    assert combine([]) == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "treated the Ghanaian bishop who was knocked down outside Elmfield Cathedral last night",
        "our local MP is in cubicle 4 with chest pain, don't tell anyone",
        "the only midwife in Glenarrow came in after her car went off the road on Tuesday",
        "we've got the lifeguard from Saltbay beach who was on the news for the rescue, now on HDU",
        "our Lord Mayor is in resus after a fall at the civic centre",
        "RIP to the old boy from Marsh Lane allotments who collapsed at the show on Sunday",
    ],
)
def test_identifying_combinations_warn_end_to_end(engine, text):
    a = engine.assess(Message(text))
    assert a.warn, (text, a.evidence)
    assert any(QUASI_GUIDANCE in r for r in a.reasons)
    assert any("even without a name" in r for r in a.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "pt in bed 4 with cellulitis, obs fine, IV abx continuing",
        "70s lady with a UTI on ward 9, for discharge tomorrow",
        "the vicar of St Anne's is running the charity fun run on Saturday",
        "seeing lots of falls on the ice this week, remind pts about grippy socks",
        "had a builder in today with a fractured wrist - anyone got the hand clinic referral form?",
        "RTC on the M62 this morning so expect delays getting in",
        "a farmer from the Dales came in with a tractor injury, ortho reviewing",
        "the footballers from the local club are visiting the children's ward on Friday",
        "the chaplain is on the ward this afternoon if any pts would like a visit",
        "pt's son is a police officer and wants to know when she can go home",
        "our new consultant started today, she's from Dublin, say hello",
        "ambulance handover delays at the front door again this morning, 6 crews waiting",
    ],
)
def test_ordinary_messages_do_not_warn(engine, text):
    a = engine.assess(Message(text))
    assert not a.warn, (text, a.risk, a.evidence)
    assert a.redacted == text


def test_the_redaction_generalises_details_and_still_reads(engine):
    text = "treated a Somali taxi driver stabbed outside Greystone station last night"
    a = engine.assess(Message(text))
    assert a.warn
    for detail in ("Somali", "stabbed", "Greystone", "last night"):
        assert detail not in a.redacted
    assert "a patient" in a.redacted
    assert "[a place]" in a.redacted and "[a time]" in a.redacted
    assert a.redacted.startswith("treated ")


def test_a_colleague_as_patient_reads_as_a_patient(engine):
    a = engine.assess(Message("one of our theatre nurses is on ICU after an overdose"))
    assert a.warn
    assert a.redacted.startswith("a patient is on ICU")


def test_reasons_name_each_detail_and_why(engine):
    a = engine.assess(
        Message("treated the trans woman attacked outside Moorgate College on Friday")
    )
    first = a.reasons[0]
    assert "gender identity" in first and "college" in first and "when it happened" in first
    assert a.reasons[1].startswith("Why these matter:")
    assert any(f.category == "quasi" for f in a.findings)


def test_describe_and_join_words_still_serve_the_notice():
    assert describe("NHS_NUMBER") == "an NHS number"
    assert join_words(["a", "b", "c"]) == "a, b and c"
