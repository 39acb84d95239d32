"""The evaluator: the same figures as score.py, per-source tables, comparisons, bad corpora."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from discretion.cli import main
from discretion.evaluate import (
    CorpusError,
    Example,
    Outcome,
    by_source,
    compare,
    evaluate,
    metrics,
    parse_corpus,
    read_corpus,
)

DATA = Path(__file__).parent / "data"
SMALL = DATA / "eval_small.jsonl"
SHARED_EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def score_py(corpus: Path, tmp_path: Path) -> dict:
    """score.py's JSON report for ``corpus``, scanning with this checkout's CLI."""
    scorer = SHARED_EVAL / "score.py"
    if not scorer.is_file():
        pytest.skip(f"{scorer} is missing: the shared evaluation kit is not beside this checkout")
    out = tmp_path / "score.json"
    cmd = shlex.join([sys.executable, "-m", "discretion.cli", "scan"])
    env = {k: v for k, v in os.environ.items() if k != "DISCRETION_CONFIG"}
    proc = subprocess.run(
        [sys.executable, str(scorer), "--cmd", cmd, "--json", str(out), str(corpus)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text())[str(corpus)]


def assert_same_figures(ours: dict, theirs: dict) -> None:
    # score.py lists leaks as "id:identifier"; ours name the id only (no text leaves).
    theirs = {**theirs, "leaks": [leak.partition(":")[0] for leak in theirs["leaks"]]}
    assert ours == theirs


@pytest.mark.parametrize("corpus", ["small", "dev"])
def test_figures_are_the_same_as_score_py(corpus, engine, tmp_path):
    path = SMALL if corpus == "small" else SHARED_EVAL / "dev.jsonl"
    theirs = score_py(path, tmp_path)
    ours = evaluate(read_corpus(path), engine, corpus=str(path)).current
    assert_same_figures(ours["overall"], theirs["overall"])
    assert ours["kinds"].keys() == theirs["kinds"].keys()
    for kind in ours["kinds"]:
        assert_same_figures(ours["kinds"][kind], theirs["kinds"][kind])


def ex(ident: str, should_warn: bool, identifiers=(), kind="direct", text=None) -> Example:
    text = text if text is not None else f"message {ident} " + " ".join(identifiers)
    return Example(ident, text, should_warn, tuple(identifiers), (), kind)


def test_metrics_count_leaks_misses_and_altered_negatives_by_id():
    examples = [
        ex("a", True, ["Ann Smith", "RXA1234567"]),
        ex("b", True, ["07700 900111"]),
        ex("c", False, kind="negative_staff"),
        ex("d", False, kind="negative_staff"),
    ]
    outcomes = {
        "a": Outcome(True, "message a [NAME] RXA1234567", ("PERSON",), ("PersonRecognizer",)),
        "b": Outcome(False, examples[1].text),
        "c": Outcome(True, "message c [NAME]", ("PERSON",), ("PersonRecognizer",)),
        "d": Outcome(False, examples[3].text),
    }
    m = metrics(examples, outcomes)
    assert (m["recall"], m["false_alarm"], m["precision"]) == (0.5, 0.5, 0.5)
    assert m["f2"] == pytest.approx(5 * 0.5 * 0.5 / (4 * 0.5 + 0.5))
    assert m["leak"] == pytest.approx(2 / 3)
    assert m["altered_neg"] == 0.5 and m["quasi_kept"] is None
    assert (m["misses"], m["false_alarms"], m["leaks"]) == (["b"], ["c"], ["a", "b"])

    entities = by_source(examples, outcomes, "entity_types")
    assert entities == {
        "PERSON": {
            "messages": 2,
            "in_positives": 1,
            "in_negatives": 1,
            "false_alarms": 1,
            "precision": 0.5,
        }
    }


def test_compare_lists_verdict_and_leak_changes_in_corpus_order():
    examples = [ex("a", True, ["Ann Smith"]), ex("b", False), ex("c", True, ["X1"]), ex("d", False)]
    before = {
        "a": Outcome(True, "message a [NAME]"),
        "b": Outcome(True, "message b "),
        "c": Outcome(True, "message c [ID]"),
        "d": Outcome(False, "message d "),
    }
    after = {
        "a": Outcome(True, "message a Ann Smith"),  # same verdict, but now leaks
        "b": Outcome(False, "message b "),  # a false alarm gone
        "c": Outcome(False, "message c X1"),  # a breach now missed
        "d": Outcome(False, "message d "),
    }
    changes = compare(examples, before, after)
    assert [(c.id, c.effect) for c in changes] == [
        ("a", "redaction"),
        ("b", "fixed"),
        ("c", "broken"),
    ]
    assert (changes[0].leaks_before, changes[0].leaks_after) == (0, 1)
    assert changes[2].to_json()["before"] is True and changes[2].to_json()["after"] is False


def test_a_bad_corpus_is_refused_with_line_numbers_and_no_text():
    secret = "Zebedee Quartermain"
    lines = [
        json.dumps({"id": "1", "text": secret, "should_warn": True, "identifiers": [secret]}),
        "{not json " + secret,
        json.dumps({"id": "3", "text": secret, "should_warn": "yes"}),
        json.dumps({"id": "1", "text": secret, "should_warn": False}),
        json.dumps({"id": "5", "text": secret, "should_warn": True, "identifiers": secret}),
        b"\xff\xfe",
        json.dumps({"id": {"x": 1}, "text": secret, "should_warn": True}),
    ]
    with pytest.raises(CorpusError) as caught:
        parse_corpus(lines, "upload.jsonl")
    problems = caught.value.problems
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4", "5", "6", "7"]
    assert "already used on line 1" in problems[2]
    assert all(secret not in p for p in problems)
    with pytest.raises(CorpusError, match="no labelled messages"):
        parse_corpus(["", "  "], "empty.jsonl")


def test_context_keys_are_passed_and_repr_hides_text():
    [e] = parse_corpus(
        [json.dumps({"id": 7, "text": "hello Bob", "should_warn": False, "channel": "ward-3"})]
    )
    assert e.id == "7" and e.context == {"channel": "ward-3"} and e.kind == "?"
    assert "Bob" not in repr(e)


def test_eval_command_compares_two_configurations_by_id_only(tmp_path, capsys):
    current = tmp_path / "current.yaml"
    current.write_text("version: site-current\n")
    proposed = tmp_path / "proposed.yaml"
    # The proposal stops warning on NHS numbers: every message warned about only
    # because of one must now be listed as a verdict that breaks.
    warn_types = ["PERSON", "PHONE_NUMBER", "DATE_OF_BIRTH", "HOSPITAL_NUMBER", "UK_POSTCODE"]
    proposed.write_text(f"version: site-proposed\nwarn_entities: {json.dumps(warn_types)}\n")
    out = tmp_path / "eval.json"
    status = main(
        [
            "--config",
            str(current),
            "eval",
            str(SMALL),
            "--compare",
            str(proposed),
            "--json",
            str(out),
        ]
    )
    printed = capsys.readouterr()
    assert status == 0, printed.err
    report = json.loads(out.read_text())
    assert report["current"]["config_version"].startswith("site-current@")
    assert report["proposed"]["config_version"].startswith("site-proposed@")
    changes = {c["id"]: c for c in report["changes"] if c["before"] != c["after"]}
    # Taking a type off the warn list can only take warnings away.
    assert all(c["before"] and not c["after"] for c in changes.values())
    assert changes["s03"]["effect"] == "broken"  # an NHS number is all that message has
    assert report["proposed"]["overall"]["recall"] < report["current"]["overall"]["recall"]
    assert "Messages whose verdict changes" in printed.out
    for line in SMALL.read_text().splitlines():
        row = json.loads(line)
        for fragment in [row["text"], *row["identifiers"], *row["quasi"]]:
            assert fragment not in printed.out and fragment not in out.read_text()


def test_eval_command_refuses_bad_configuration_and_missing_corpus(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("thresholds:\n  defualt: 0.4\n")
    assert main(["eval", str(SMALL), "--config", str(bad)]) == 2
    assert "bad.yaml:2: thresholds.defualt: unknown key" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
