from __future__ import annotations

import io
import json

from discretion.cli import scan

VALID_NHS = "943 476 5919"


def run_scan(engine, raw: bytes) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = scan(io.BytesIO(raw), out, engine)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_line_out_per_line_in_and_bad_lines_do_not_stop_the_scan(engine):
    raw = (
        json.dumps({"id": "1", "text": f"NHS {VALID_NHS}"}).encode()
        + b"\n"
        + b"not json\n"
        + b'{"id": "3"}\n'
        + b'{"id": "4", "text": "\xff\xfe"}\n'
        + json.dumps({"id": 5, "text": "see you at handover"}).encode()
        + b"\n"
    )
    status, rows = run_scan(engine, raw)
    assert status == 1
    assert [r["id"] for r in rows] == ["1", None, "3", None, 5]
    assert rows[0]["warn"] is True and rows[0]["redacted"] == "NHS [NHS NUMBER]"
    assert (
        rows[1] == {"id": None, "line": 2, "error": rows[1]["error"]} and "JSON" in rows[1]["error"]
    )
    assert rows[2]["line"] == 3 and "text" in rows[2]["error"]
    assert rows[3]["line"] == 4 and "UTF-8" in rows[3]["error"]
    assert rows[4]["warn"] is False and rows[4]["redacted"] == "see you at handover"


def test_output_never_echoes_the_identifier(engine):
    _, rows = run_scan(engine, json.dumps({"id": "x", "text": f"nhs no {VALID_NHS}"}).encode())
    assert VALID_NHS not in json.dumps(rows)
