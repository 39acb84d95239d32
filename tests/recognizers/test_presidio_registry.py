"""Which of Presidio's own recognizers run (presidio.yaml's recognizer_registry) and why."""

from __future__ import annotations

from discretion.message import Message


def test_presidio_phone_and_email_recognizers_are_not_used(engine):
    names = engine.analysis.recognizer_names
    # PhoneRecognizer misses drama ranges and reads NHS numbers as US phones; EmailRecognizer
    # downloads the public suffix list. Ours replace both.
    assert "PhoneRecognizer" not in names and "EmailRecognizer" not in names
    assert {"UkPhoneRecognizer", "EmailAddressRecognizer", "UkNinoRecognizer"} <= set(names)


def test_an_nhs_number_is_not_also_a_phone_number(engine):
    a = engine.assess(Message("pt 9434765919 for bloods"))
    numbers = [f.entity_type for f in a.findings if f.entity_type.endswith("_NUMBER")]
    assert numbers == ["NHS_NUMBER"]


def test_a_national_insurance_number_is_found_and_named(engine):
    a = engine.assess(Message("his NI number is AB 12 34 56 C for the benefits form"))
    assert [f.entity_type for f in a.findings if f.entity_type == "UK_NINO"] == ["UK_NINO"]
    assert "[NI NUMBER]" in a.redacted and "34 56" not in a.redacted
