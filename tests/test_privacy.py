"""Patient data never leaks through us: not into logs, not into spaCy's memory."""

from __future__ import annotations

import io
import json
import logging
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from logleaks import LOG_DIR_ENV, chat_logs

from discretion import logs
from discretion.message import Message

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


def corpus_rows() -> list[dict]:
    if not CORPUS.exists():
        pytest.skip(f"{CORPUS} is not beside this checkout")
    return [
        json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def secrets_of(rows: list[dict]) -> set[str]:
    # Identifier strings long enough not to occur by chance in a log line.
    return {s for r in rows for s in r["identifiers"] if len(s) >= 5}


def test_debug_logs_of_a_scan_hold_no_identifier():
    rows = corpus_rows()
    payload = "".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows)
    env = {**os.environ, "DISCRETION_LOG_LEVEL": "DEBUG"}
    done = subprocess.run(
        [sys.executable, "-m", "discretion.cli", "scan", "-"],
        input=payload,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.splitlines()) == len(rows)
    leaked = sorted(s for s in secrets_of(rows) if s in done.stderr)
    assert leaked == []


def test_in_process_debug_logging_sees_no_identifier(engine, caplog):
    rows = corpus_rows()
    with caplog.at_level(logging.DEBUG):
        list(engine.assess_many([Message(r["text"]) for r in rows]))
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__}" for r in caplog.records)
    assert sorted(s for s in secrets_of(rows) if s in logged) == []


def _made_up_name(rng: random.Random) -> str:
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    syllables = ["".join(rng.choice(consonants) + rng.choice(vowels)) for _ in range(4)]
    return "Qx" + "".join(syllables)


def test_message_strings_do_not_pile_up_in_spacy(engine):
    rng = random.Random(20261123)
    names = [_made_up_name(rng) for _ in range(300)]
    strings = engine.analysis.nlp.vocab.strings
    before = len(strings)
    messages = [
        Message(f"Mr {name} in bay {i % 12}, seen by the team, nhs no pending")
        for i, name in enumerate(names)
    ]
    list(engine.assess_many(messages))
    for name in names[:20]:
        engine.assess(Message(f"pt {name} for discharge"))
    assert [n for n in names if n in strings] == []
    assert len(strings) - before < 50


def test_message_repr_never_shows_the_text():
    m = Message("Mrs Secretname in bay 4", channel="C1")
    assert "Secretname" not in repr(m)
    assert "Secretname" not in str(m)


CHAT_SUITES = ("tests/slack", "tests/teams")
# In the tests' texts: digit runs as long as an NHS or phone number, and names.
NUMBER = re.compile(r"\d[\d \-]{4,}\d")
FULL_NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b")
TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.? ([A-Z][a-z]{3,})")


def details_in(texts: set[str]) -> set[str]:
    """What must never be logged from the tests' own texts: each text, its numbers and names."""
    found = {t.strip() for t in texts if len(t.strip()) >= 8}
    for text in texts:
        for number in NUMBER.findall(text):
            digits = re.sub(r"\D", "", number)
            if len(digits) >= 6:
                found.update({number, digits})
        found.update(FULL_NAME.findall(text))
        found.update(TITLED.findall(text))
    return found


def _logged(log_file: Path) -> str:
    # JSON escapes non-ASCII ("Ciar\u00e1n") and quotes: search the decoded lines too.
    raw = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    lines = [json.loads(line) for line in raw.splitlines()]
    decoded = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    return raw + "\n" + decoded


@pytest.mark.chat_logs
def test_debug_logs_of_the_slack_and_teams_suites_hold_no_identifier(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    """A full run of both suites at DEBUG, in production's JSON, names no one."""
    state = chat_logs(pytestconfig)
    if state.complete():
        # This run has just run both suites whole: read what they logged.
        log_file, texts = state.log_file, state.texts
    else:
        env = {**os.environ, LOG_DIR_ENV: str(tmp_path)}
        tests = Path(__file__).resolve().parent
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHAT_SUITES],
            cwd=tests.parent,
            capture_output=True,
            text=True,
            env=env,
            timeout=1200,
        )
        assert done.returncode == 0, done.stdout[-3000:]
        log_file = tmp_path / "logs.jsonl"
        texts = set(json.loads((tmp_path / "texts.json").read_text()))
    logged = _logged(log_file)
    # It did capture a run: the adapters' events, at DEBUG, each line production's JSON.
    assert '"level": "debug"' in logged and '"event": "teams.' in logged
    assert '"event": "slack.' in logged
    details = details_in(texts)
    assert "401 023 2137" in details and "9434765919" in details
    rows = corpus_rows()
    leaked = sorted(s for s in (details | secrets_of(rows)) if s in logged)
    assert leaked == []


def test_libraries_that_quote_bodies_are_held_back_whatever_their_own_level():
    stream = io.StringIO()
    handler = logs.json_handler(stream)
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    mine = logging.getLogger("discretion.test")
    saved = bolt.level, mine.level
    # slack_bolt copies the root logger's level onto its own loggers.
    bolt.setLevel(logging.DEBUG)
    mine.setLevel(logging.DEBUG)
    bolt.addHandler(handler)
    mine.addHandler(handler)
    try:
        bolt.info("Invalid request signature detected (body: Mrs Whitfield NHS 943 476 5919)")
        bolt.warning("slack_bolt.warned")
        mine.debug("discretion.debugged")
    finally:
        bolt.removeHandler(handler)
        mine.removeHandler(handler)
        bolt.setLevel(saved[0])
        mine.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["slack_bolt.warned", "discretion.debugged"]
