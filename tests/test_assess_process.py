"""Assessing in a child process: the same answers as here, memory kept here, crashes survived."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from discretion.assess_process import ProcessAssessor, snapshot
from discretion.config import load_settings
from discretion.memory import InMemoryThreadStore
from discretion.message import Message
from discretion.server import SERVICES, create_app

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def said(text: str, minutes: int, author: str = "U-nurse") -> Message:
    return Message(
        text,
        channel="C-ward",
        author=author,
        platform="slack",
        sent_at=START + timedelta(minutes=minutes),
    )


# One author's details spread over three messages, then someone else, then a clear one.
THREAD = [
    said("The man we admitted overnight is the head teacher at the primary school", 0),
    said("apparently he crashed his motorbike into the war memorial", 2),
    said("his wife is on her way, NHS 943 476 5919", 3),
    said("Can someone cover my break at 3?", 4, author="U-porter"),
    said("Thanks all, handover at 8 as usual", 5),
]


def child_pid(assessor: ProcessAssessor) -> int:
    pool = assessor._pool
    assert pool is not None
    [pid] = list(pool._processes)  # type: ignore[attr-defined]
    return pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped) still answers signal 0.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


@pytest.fixture(scope="module")
def assessor(engine) -> Iterator[ProcessAssessor]:
    a = ProcessAssessor()
    a.prepare(engine)
    yield a
    a.close()


def view(a):
    return (a.warn, round(a.risk, 6), a.redacted, a.reasons, a.entity_types, a.findings)


def test_the_child_answers_as_the_engine_here_does_with_memory_across_batches(engine, assessor):
    here, there = InMemoryThreadStore(86400), InMemoryThreadStore(86400)
    expected = [engine.assess(m, here) for m in THREAD]
    # In batches of two and three: what the first batch remembered counts in the second.
    got = assessor.assess_many(engine, THREAD[:2], there)
    got += assessor.assess_many(engine, THREAD[2:], there)
    assert [view(a) for a in got] == [view(a) for a in expected]
    assert any(a.warn for a in got) and not got[-1].warn
    # The memory in this process learnt what the child saw: derived features, no text.
    assert len(there) == 2
    remembered = repr(there._data)
    assert "motorbike" not in remembered and "943" not in remembered


def test_without_memory_each_message_stands_alone(engine, assessor):
    [alone] = assessor.assess_many(engine, THREAD[1:2], None)
    assert view(alone) == view(engine.assess(THREAD[1]))


def test_a_snapshot_holds_only_the_batchs_conversations_within_the_window(engine):
    memory = InMemoryThreadStore(3600)
    engine.assess(THREAD[0], memory)
    engine.assess(said("bed 4 is free", 1, author="U-other"), memory)
    later = said("one more thing", 30)
    shot = snapshot(memory, [later])
    assert list(shot.entries) and len(shot.entries) == 1
    assert shot.recall(next(iter(shot.entries)), START.timestamp() + 7200) == ()


def test_a_killed_child_is_replaced_and_the_batch_still_assessed(engine, assessor):
    before = assessor.restarts
    pid = child_pid(assessor)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    [again] = assessor.assess_many(engine, THREAD[2:3], None)
    assert again.warn and "NHS_NUMBER" in again.entity_types
    assert assessor.restarts == before + 1 and child_pid(assessor) != pid


def test_a_new_configuration_gets_a_new_child_that_follows_it(engine, settings):
    allowed = dataclasses.replace(THREAD[2], text="his wife is on her way, NHS 943 476 5919")
    new_settings = settings.model_copy(update={"allow_list": ["943 476 5919"]})

    class Twin:  # what the child needs of an engine: its settings and hashing key
        def __init__(self):
            self.settings, self.hash_key = new_settings, engine.hash_key

    a = ProcessAssessor()
    try:
        a.prepare(engine)
        first = child_pid(a)
        twin = Twin()
        a.prepare(twin)
        [result] = a.assess_many(twin, [allowed], None)
        assert "NHS_NUMBER" not in result.entity_types
        assert child_pid(a) != first
    finally:
        a.close()


def test_the_child_goes_when_its_parent_is_killed(tmp_path):
    script = textwrap.dedent(
        """
        import os, signal, sys
        from discretion.assess_process import ProcessAssessor
        from discretion.engine import Engine

        if __name__ == "__main__":
            a = ProcessAssessor()
            a.prepare(Engine())
            print("child", list(a._pool._processes)[0], flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    path = tmp_path / "parent.py"
    path.write_text(script)
    env = {**os.environ, "DISCRETION_CONFIG": ""}
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    [pid] = [int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("child ")]
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid), "the assessing child outlived its parent"


async def test_a_server_with_a_child_assesses_there_and_stops_it_on_shutdown(settings, engine):
    app = create_app(settings, engine, separate_process=True)
    services = app[SERVICES]
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/readyz")
        assert r.status == 200 and (await r.json())["checks"]["assess_process"] is True
        result = await services.assess(THREAD[2])
        assert result.warn and "NHS_NUMBER" in result.entity_types
        pid = child_pid(services.assessor)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not alive(pid)


def test_the_server_assesses_in_a_child_unless_the_site_says_not_to(tmp_path, settings, engine):
    site = tmp_path / "site.yaml"
    site.write_text("nlp:\n  separate_process: false\n")
    assert load_settings(site, use_env=False).nlp.separate_process is False
    assert settings.nlp.separate_process is True
    # Tests hand in their engine, and then nothing is spawned unless asked.
    assert create_app(settings, engine)[SERVICES].assessor is None


def test_the_childs_logs_are_the_servers_json_and_never_hold_the_message(tmp_path):
    script = textwrap.dedent(
        """
        from discretion import logs
        from discretion.assess_process import ProcessAssessor
        from discretion.engine import Engine
        from discretion.message import Message

        if __name__ == "__main__":
            logs.configure("DEBUG")
            engine = Engine()
            a = ProcessAssessor()
            a.prepare(engine)
            text = "Mrs Edith Crabtree, NHS 943 476 5919, fell at the bus station"
            [result] = a.assess_many(engine, [Message(text, author="U1", channel="C1")], None)
            assert result.warn
            a.close()
        """
    )
    path = tmp_path / "server.py"
    path.write_text(script)
    env = {**os.environ, "DISCRETION_CONFIG": ""}
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    for secret in ("Crabtree", "943 476 5919", "9434765919", "bus station"):
        assert secret not in output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("{") for line in lines), lines[:3]
