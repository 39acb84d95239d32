"""Odd input gets a clear answer; nothing crashes and no other line is lost."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from discretion.cli import scan
from discretion.message import Message

NHS = "943 476 5919"  # passes Modulus 11


def scan_lines(engine, raw: bytes) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = scan(io.BytesIO(raw), out, engine)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\n",
        "\x00\x01\x02",
        "\ud800 lone",
        "\U0001f600" * 50,
        "\u202e\u2066odd\u2069",
        "a" * 5000,
    ],
)
def test_odd_texts_are_assessed_without_error(engine, text):
    a = engine.assess(Message(text))
    assert a.warn is False
    assert isinstance(a.redacted, str)


def test_an_identifier_hidden_with_control_characters_is_still_found(engine):
    a = engine.assess(Message("nhs no 943\x00476\u200b5919 please"))
    assert a.warn
    assert "[NHS NUMBER]" in a.redacted
    assert "5919" not in a.redacted


def test_a_200000_character_message_is_checked_in_pieces(engine):
    filler = "handover went fine, nothing to add. " * 6000
    text = filler[:100_000] + f" pt nhs {NHS} " + filler[:99_000]
    a = engine.assess(Message(text))
    assert len(text) > 199_000
    assert a.warn
    assert NHS not in a.redacted
    assert "[NHS NUMBER]" in a.redacted


def test_an_identifier_on_a_chunk_boundary_is_found(engine):
    limit = engine.settings.nlp.max_chunk_chars
    words = "all quiet on the ward tonight "
    head = (words * (limit // len(words) + 1))[: limit - 6]
    text = head + f" nhs {NHS} " + words * 10
    a = engine.assess(Message(text))
    assert a.warn and NHS not in a.redacted


def test_scan_answers_every_kind_of_bad_line_and_keeps_going(engine):
    raw = b"\n".join(
        [
            b'{"id": "a", "text": "fine"}',
            b"\xff\xfe\x00 binary",
            b"[1, 2, 3]",
            b'{"id": "d", "text": 42}',
            b'{"id": {"x": 1}, "text": "t"}',
            b'{"id": "f", "text": "\\ud800 lone surrogate"}',
            b'{"id": "g", "text": ""}',
            b'{"id": "h", "text": "nhs ' + NHS.encode() + b'"}',
        ]
    )
    status, rows = scan_lines(engine, raw)
    assert status == 1
    assert len(rows) == 8
    assert [r.get("error") is not None for r in rows] == [
        False,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert rows[1]["line"] == 2 and "UTF-8" in rows[1]["error"]
    assert rows[2]["line"] == 3 and "object" in rows[2]["error"]
    assert rows[3]["id"] == "d" and "string" in rows[3]["error"]
    assert rows[7]["warn"] is True


def test_scan_from_the_command_line_reads_invalid_utf8_and_reports_it():
    raw = b'{"id": "1", "text": "ok"}\n\xc3\x28\n{"id": "3", "text": "ok"}\n'
    done = subprocess.run(
        [sys.executable, "-m", "discretion.cli", "scan", "-"],
        input=raw,
        capture_output=True,
        timeout=120,
    )
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert done.returncode == 1
    assert [r["id"] for r in rows] == ["1", None, "3"]
    assert rows[1]["line"] == 2
