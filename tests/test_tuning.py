"""The false-positive loop: reports grouped, suggestions written to a proposed file only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from discretion.config import ConfigError, load_settings
from discretion.engine import Engine
from discretion.evaluate import compare, read_corpus, run
from discretion.reporting import FalsePositiveReport, record_false_positive
from discretion.store.testing import temporary_store
from discretion.tuning import (
    Suggestion,
    apply_suggestion,
    discard_proposal,
    flagged_words,
    group_reports,
    load_groups,
    proposed_path,
    read_proposal,
    recognizer_entities,
)

CORPUS = Path(__file__).parent / "data" / "eval_tuning.jsonl"
CUPBOARD = "KX000111"  # a store cupboard code that looks like the ward's own numbers


def write_site(folder: Path) -> Path:
    """A site whose own recognizer reads ward numbers KX + 6 digits as LOCAL_MRN."""
    # Only the site recognizer's type decides, so shipped recognizers cannot blur the test.
    warn = ["LOCAL_MRN"]
    site = folder / "site.yaml"
    site.write_text(
        "# the ward's own settings\n"
        "version: ward-9\n"
        f"warn_entities: {warn}\n"
        "recognizers:\n"
        "  - name: WardMrn\n"
        "    supported_entity: LOCAL_MRN\n"
        "    patterns:\n"
        "      - {name: ward mrn, regex: '\\bKX\\d{6}\\b', score: 0.55}\n"
        "    context: [mrn]\n"
    )
    return site


async def file_reports(store, version: str) -> None:
    for flagged in (CUPBOARD, f"{CUPBOARD}, Okonkwo", None):
        await record_false_positive(
            store,
            FalsePositiveReport(
                platform="slack",
                channel="C-ward9",
                reporter_id="U1",
                entity_types=["LOCAL_MRN"],
                recognizers=["WardMrn"],
                config_version=version,
                flagged_text=flagged,
            ),
        )
    await record_false_positive(
        store,
        FalsePositiveReport(
            platform="teams",
            channel="19:pharmacy",
            reporter_id="U2",
            entity_types=["PHONE_NUMBER"],
            recognizers=["UkPhoneRecognizer"],
            config_version="older@1234",
        ),
    )


async def test_each_suggestion_changes_exactly_the_verdicts_it_should(tmp_path):
    site = write_site(tmp_path)
    site_bytes = site.read_bytes()
    settings = load_settings(site)
    current = Engine(settings)
    async with temporary_store() as store:
        await file_reports(store, settings.config_version)
        groups = await load_groups(store, settings, current)

    ward = groups[0]
    assert (ward.recognizer, ward.entity_type, ward.reports, ward.under_current) == (
        "WardMrn",
        "LOCAL_MRN",
        3,
        3,
    )
    assert ward.words == {CUPBOARD: 2, "Okonkwo": 1} and ward.channels == {"C-ward9"}
    by_kind = {}
    for s in ward.suggestions:
        by_kind.setdefault(s.kind, s)
    assert by_kind["allow_list"].value == CUPBOARD and by_kind["allow_list"].reports == 2
    assert by_kind["raise_threshold"].value == "0.60"
    assert by_kind["context_word"].value == "patient"
    assert [(g.recognizer, g.entity_type, g.under_current) for g in groups[1:]] == [
        ("UkPhoneRecognizer", "PHONE_NUMBER", 0)
    ]

    examples = read_corpus(CORPUS)
    before = run(current, examples)
    # The site recognizer warns on all three ward numbers and, wrongly, on the cupboard.
    assert [i for i in before if before[i].warn] == ["t1", "t2", "t3", "t4", "t5"]
    expected = {
        # Allowing the cupboard code fixes both false alarms and nothing else.
        "allow_list": [("t3", "fixed"), ("t4", "fixed")],
        # 0.55 < 0.60: every ward number without a context word stops warning, right or wrong.
        "raise_threshold": [("t2", "broken"), ("t3", "fixed"), ("t4", "fixed"), ("t5", "broken")],
        # Needing 'mrn' or 'patient' nearby: t1 and t5 still warn, t2 has neither word.
        "context_word": [("t2", "broken"), ("t3", "fixed"), ("t4", "fixed")],
    }
    proposed = proposed_path(site)
    for kind, changes in expected.items():
        proposal = apply_suggestion(by_kind[kind], site, proposed)
        assert proposal.path == proposed and proposal.settings.version == "ward-9-proposed"
        after = run(Engine(load_settings(proposed)), examples)
        got = [(c.id, c.effect) for c in compare(examples, before, after) if c.verdict_changed]
        assert got == changes, kind
        assert discard_proposal(proposed)
    assert site.read_bytes() == site_bytes  # the file in use was never written


def test_proposals_build_on_each_other_and_say_what_they_change(tmp_path, monkeypatch):
    monkeypatch.delenv("DISCRETION_PROPOSED_CONFIG", raising=False)
    site = write_site(tmp_path)
    proposed = proposed_path(site)
    assert proposed == tmp_path / "site.proposed.yaml"
    assert read_proposal(proposed) is None

    apply_suggestion(Suggestion("allow_list", "LOCAL_MRN", "WardMrn", CUPBOARD, 2), site)
    apply_suggestion(Suggestion("allow_list", "LOCAL_MRN", "WardMrn", "kx000111", 2), site)
    apply_suggestion(Suggestion("raise_threshold", "LOCAL_MRN", "WardMrn", "0.60", 3), site)
    proposal = apply_suggestion(
        Suggestion("context_word", "LOCAL_MRN", "WardMrn", "Hosp No", 3), site
    )

    assert proposal.settings.allow_list == [CUPBOARD]  # the same word twice is kept once
    defaults = load_settings(None, use_env=False).thresholds.entities
    assert proposal.settings.thresholds.entities == {**defaults, "LOCAL_MRN": 0.6}
    [spec] = proposal.settings.recognizers
    # The score without context goes under the (now raised) threshold.
    assert spec.context == ["mrn", "hosp no"] and spec.patterns[0].score == 0.55
    assert (
        len(proposal.changes) == 4 and "threshold for LOCAL_MRN 0.50 -> 0.60" in proposal.changes[2]
    )
    text = proposed.read_text()
    assert text.startswith("# PROPOSED configuration") and "It is NOT in use" in text
    again = read_proposal(proposed)
    assert again is not None and again.changes == proposal.changes
    assert again.settings.fingerprint == proposal.settings.fingerprint
    assert yaml.safe_load(text)["version"] == "ward-9-proposed"


def test_a_bad_suggestion_leaves_no_file_and_never_touches_the_site_file(tmp_path):
    site = write_site(tmp_path)
    proposed = tmp_path / "site.proposed.yaml"
    with pytest.raises(ValueError, match="not one of this site's recognizers"):
        apply_suggestion(
            Suggestion("context_word", "NHS_NUMBER", "NhsNumberRecognizer", "nhs"), site
        )
    with pytest.raises(ValueError, match="above the current one"):
        apply_suggestion(Suggestion("raise_threshold", "LOCAL_MRN", "WardMrn", "0.40"), site)
    with pytest.raises(ValueError, match="context word"):
        apply_suggestion(Suggestion("context_word", "LOCAL_MRN", "WardMrn", "a\nb: c"), site)
    assert not proposed.exists() and list(tmp_path.iterdir()) == [site]
    with pytest.raises(ConfigError, match="must not overwrite the site file"):
        apply_suggestion(Suggestion("allow_list", "PERSON", "x", "Okonkwo"), site, site)


def test_without_a_site_file_the_proposal_starts_from_the_defaults(tmp_path):
    proposed = tmp_path / "var" / "proposed.yaml"
    proposal = apply_suggestion(
        Suggestion("allow_list", "PERSON", "NamesRecognizer", "Okonkwo"), None, proposed
    )
    assert proposal.settings.allow_list == ["Okonkwo"]
    assert proposal.settings.version == "shipped-defaults-proposed"


@dataclass
class Row:
    entity_types: list[str]
    recognizers: list[str]
    flagged_text: str | None = None
    config_version: str = ""
    channel: str = ""
    platform: str = "slack"
    created_at: datetime | None = None


def test_reports_pair_recognizers_with_the_types_they_can_find(settings, engine):
    supported = recognizer_entities(engine)
    phone = next(name for name, types in supported.items() if types == {"PHONE_NUMBER"})
    assert supported["NhsNumberRecognizer"] == {"NHS_NUMBER"}
    t0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
    rows = [
        Row(["NHS_NUMBER", "PHONE_NUMBER"], ["NhsNumberRecognizer", phone], created_at=t0),
        Row(["PHONE_NUMBER"], [phone], created_at=t0 + timedelta(days=2)),
        Row([], []),
    ]
    groups = group_reports(rows, settings, engine)
    # Two recognizers and two types make two groups, not four.
    assert [(g.recognizer, g.entity_type, g.reports) for g in groups] == [
        (phone, "PHONE_NUMBER", 2),
        ("(not recorded)", "(not recorded)", 1),
        ("NhsNumberRecognizer", "NHS_NUMBER", 1),
    ]
    assert (groups[0].first_at, groups[0].last_at) == (t0, t0 + timedelta(days=2))
    # Nothing recorded: a group to see, but nothing to act on.
    assert groups[1].suggestions == []
    assert [s.kind for s in groups[0].suggestions] == ["raise_threshold"]


def test_flagged_words_are_split_cleaned_and_deduplicated():
    assert flagged_words(None) == [] and flagged_words("") == []
    assert flagged_words("Okonkwo, okonkwo, Bay\u200b 4 , ") == ["Okonkwo", "Bay 4"]
    assert flagged_words("x" * 200) == []
