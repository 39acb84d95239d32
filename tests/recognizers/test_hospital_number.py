"""Hospital numbers need a reason: a label, a name before them, or patient words nearby."""

from __future__ import annotations

import pytest

from discretion.config import load_settings
from discretion.message import Message
from discretion.recognizers.hospital_number import HospitalNumberRecognizer


def found(text: str, min_score: float = 0.5) -> list[str]:
    hits = HospitalNumberRecognizer().find(text)
    return [text[h.start : h.end] for h in hits if h.score >= min_score]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hosp no E889120 is back with the same FB", ["E889120"]),
        ("MRN 40127786 extubated 11am", ["40127786"]),
        ("MRN: 00456123", ["00456123"]),
        ("Hosp no. MH-20331", ["MH-20331"]),
        ("unit no 123 4567 for review", ["123 4567"]),
        ("K no K4458123", ["K4458123"]),
        ("hospital number is RXH1234567", ["RXH1234567"]),
        ("case note no B123456", ["B123456"]),
        ("PAS id 7654321", ["7654321"]),
        ("MRN for Jo Bloggs is 40127786", ["40127786"]),  # the label a few words before
        ("Mrs Jo Bloggs (RVJ4471209) neuts 0.6", ["RVJ4471209"]),  # bracketed after a name
        ("Joe Bloggs (K4456712) TTOs ready", ["K4456712"]),
        ("Jo Bloggs (ABC 1234567) K+ 6.7", ["ABC 1234567"]),
        ("bed 5, k4458123, spiking", ["k4458123"]),  # patient words nearby
        ("Mrs Jo Bloggs K4456712 TTOs ready", ["K4456712"]),  # straight after a titled name
        ("search RXF0934471 on PAS", ["RXF0934471"]),
    ],
)
def test_finds_hospital_numbers(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Datix W248113 submitted for the bed rail",
        "ESR no. 20318877 for the new starter",
        "order no 4567890 arriving",
        "batch K123456 recalled",
        "lot AB123456",
        "invoice INV1234567",
        "ext 44123",
        "bleep 4471",
        "Crew 412 has him",
        "PALS ref 2291",
        "MRN TST00001 for the sim session",  # a training record
        "MRN 0000001",
        "dummy MRN DEMO123456",
        "use the dummy pt Zzz, MRN 7654321",
        "check PAS from 2019",
        "MRN for the audit is in the folder",
        "ward_code = 'W21'",
        "YK19 ABC in the ambulance bay",
        "K4458123",  # a bare code: no reason to think it is a patient's
        "RXH1234567",
        "Pharmacy Stores AB123456 delivered",
    ],
)
def test_leaves_other_numbers_alone(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "can u see mrs bloggs bed 5, k4458123, spiking",
        "search RXF0934471 on PAS, name spelt wrong",
    ],
)
def test_unlabelled_codes_are_lifted_by_patient_words(engine, text):
    a = engine.assess(Message(text))
    assert any(f.entity_type == "HOSPITAL_NUMBER" for f in a.findings)
    assert "[HOSPITAL NUMBER]" in a.redacted


@pytest.mark.parametrize(
    "text",
    [
        "laptop asset tag AB1234567 needs returning",  # "pt" inside "laptop"
        "password reset for AB123456 done",  # "pas" inside "password"
        "forwarded K1234567 to the supplier",  # "ward" inside "forwarded"
    ],
)
def test_words_that_merely_contain_patient_words_do_not_lift_a_code(engine, text):
    a = engine.assess(Message(text))
    assert not [f for f in a.findings if f.entity_type == "HOSPITAL_NUMBER"]


def test_a_site_format_from_yaml_works_end_to_end(tmp_path):
    from discretion.engine import Engine

    site = tmp_path / "site.yaml"
    site.write_text(
        r"""
recognizers:
  - name: ExampleTrustNumber
    supported_entity: HOSPITAL_NUMBER
    patterns:
      - {name: example trust, regex: '\bQQX\d{6}\b', score: 0.8}
    context: [unit, mrn]
    should_match: ["unit no QQX123456 for review"]
    should_not_match: ["the QQX ward is closed"]
""",
        encoding="utf-8",
    )
    engine = Engine(load_settings(site))
    text = "for review: QQX123456, then home"
    a = engine.assess(Message(text))
    (finding,) = [f for f in a.findings if f.entity_type == "HOSPITAL_NUMBER"]
    assert finding.recognizer == "ExampleTrustNumber"
    assert text[finding.start : finding.end] == "QQX123456"
    assert a.warn and "[HOSPITAL NUMBER]" in a.redacted and "QQX123456" not in a.redacted
    # Labelled, the site's recognizer still names the finding: ours defers to site formats.
    labelled = engine.assess(Message("unit no QQX123456 for review"))
    assert {f.recognizer for f in labelled.findings if f.entity_type == "HOSPITAL_NUMBER"} == {
        "ExampleTrustNumber"
    }
    closed = engine.assess(Message("the QQX ward is closed"))
    assert not [f for f in closed.findings if f.entity_type == "HOSPITAL_NUMBER"]
