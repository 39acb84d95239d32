"""Thread memory: details spread over several messages add up; only derived features are kept."""

from __future__ import annotations

import io
import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

from discretion.cli import scan
from discretion.memory import (
    DetailHasher,
    InMemoryThreadStore,
    Remembered,
    ThreadStore,
    conversation_key,
    memory_for,
)
from discretion.message import Message

THREADS = Path(__file__).parent / "data" / "threads.jsonl"
T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def _msg(text: str, minutes: int = 0, author: str = "U1", thread: str = "T1") -> Message:
    return Message(
        text=text,
        channel="C1",
        author=author,
        thread=thread,
        platform="slack",
        sent_at=T0 + timedelta(minutes=minutes),
    )


PART_1 = "pt in cubicle 8 came in with a badly cut hand"
PART_2 = "he's a scaffolder, fell off a roof in Brindleford yesterday"
PART_3 = "apparently he's the Brindleford Town captain as well, so expect visitors"


def test_the_message_that_completes_the_picture_warns_and_says_when_the_others_were(
    engine, settings
):
    memory = memory_for(settings)
    first = engine.assess(_msg(PART_1), memory)
    second = engine.assess(_msg(PART_2, 4), memory)
    assert not first.warn
    assert second.warn  # on its own it has no patient context; the thread does
    assert any("09:15 UTC" in r for r in second.reasons)
    assert all(PART_1 not in r and "cubicle" not in r for r in second.reasons)


def test_without_memory_the_same_message_alone_does_not_warn(engine):
    assert not engine.assess(_msg(PART_2)).warn


def test_another_author_in_the_same_thread_does_not_inherit_the_picture(engine, settings):
    memory = memory_for(settings)
    engine.assess(_msg(PART_1), memory)
    assert not engine.assess(_msg(PART_2, 4, author="U2"), memory).warn


def test_another_thread_does_not_inherit_the_picture(engine, settings):
    memory = memory_for(settings)
    engine.assess(_msg(PART_1), memory)
    assert not engine.assess(_msg(PART_2, 4, thread="T9"), memory).warn


def test_details_older_than_the_window_are_forgotten(engine, settings):
    memory = memory_for(settings)
    engine.assess(_msg(PART_1), memory)
    late = int(settings.risk.memory_window_hours * 60) + 5
    assert not engine.assess(_msg(PART_2, late), memory).warn


def test_assess_many_remembers_in_order(engine, settings):
    memory = memory_for(settings)
    results = list(engine.assess_many([_msg(PART_1), _msg(PART_2, 2), _msg(PART_3, 3)], memory))
    assert [a.warn for a in results] == [False, True, True]


def test_memory_keeps_derived_features_never_text(engine, settings):
    memory = memory_for(settings)
    engine.assess(_msg(PART_2), memory)
    key = conversation_key(_msg(PART_2))
    assert key is not None and "U1" not in key
    (entry,) = memory.recall(key, (T0 + timedelta(minutes=1)).timestamp())
    assert {f.name for f in fields(Remembered)} == {
        "at",
        "context",
        "categories",
        "labels",
        "hashes",
        "identifiers",
    }
    assert {"occupation", "place", "time"} <= set(entry.categories)
    stored = json.dumps([entry.categories, entry.labels, sorted(entry.hashes)])
    for word in ("scaffolder", "roof", "Brindleford", "yesterday"):
        assert word not in stored


def test_the_store_is_bounded_and_expires():
    store = InMemoryThreadStore(window_seconds=60, max_threads=2, max_messages=3)
    assert isinstance(store, ThreadStore)
    for i in range(5):
        store.remember("a", Remembered(at=100.0 + i, context=0.5))
    assert len(store.recall("a", 110.0)) == 3
    store.remember("b", Remembered(at=100.0, context=0.1))
    store.remember("c", Remembered(at=100.0, context=0.1))
    assert len(store) == 2 and store.recall("a", 110.0) == ()  # least recently used went
    assert store.recall("c", 100.0 + 61) == ()  # expired


def test_hashes_are_keyed_stable_and_not_the_text():
    hasher = DetailHasher(b"k" * 32)
    assert hasher("QUASI_PLACE", "Quarry  Lane") == hasher("QUASI_PLACE", "quarry lane")
    assert DetailHasher(b"x" * 32)("QUASI_PLACE", "quarry lane") != hasher(
        "QUASI_PLACE", "quarry lane"
    )
    assert "quarry" not in hasher("QUASI_PLACE", "quarry lane")


def test_no_author_means_nothing_to_join_up():
    assert conversation_key(Message(text="x", thread="T1")) is None


def test_memory_for_uses_the_configured_window(settings):
    store = memory_for(settings)
    assert isinstance(store, InMemoryThreadStore)
    assert store.window_seconds == settings.risk.memory_window_hours * 3600


def test_threads_file_gate(engine):
    """Every thread in tests/data/threads.jsonl: warn exactly where the label says."""
    rows = [json.loads(line) for line in THREADS.read_text(encoding="utf-8").splitlines()]
    assert any(r["should_warn"] for r in rows) and any(not r["should_warn"] for r in rows)
    raw = "".join(
        json.dumps({k: r[k] for k in ("id", "text", "thread", "author", "channel")}) + "\n"
        for r in rows
    ).encode()
    out = io.StringIO()
    scan(io.BytesIO(raw), out, engine)
    got = {o["id"]: o for o in map(json.loads, out.getvalue().splitlines())}
    wrong = [r["id"] for r in rows if got[r["id"]]["warn"] != r["should_warn"]]
    assert wrong == []
    kept = [
        q for r in rows if r["should_warn"] for q in r["quasi"] if q in got[r["id"]]["redacted"]
    ]
    assert kept == []
    # Only the combination identifies: each warned message alone would not.
    for r in rows:
        if r["kind"] == "thread_combined":
            assert not engine.assess(Message(text=r["text"])).warn, r["id"]
