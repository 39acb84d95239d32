"""Patient data never leaks through us: not into logs, not into spaCy's memory."""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

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
