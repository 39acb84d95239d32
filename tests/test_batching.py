"""The batcher: one model pass for many messages, shared fairly between platforms."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from discretion.batching import AssessBatcher
from discretion.message import Message


@dataclass
class Verdict:
    text: str
    warn: bool = False


@dataclass
class RecordingEngine:
    """Answers each message with its own text, and remembers how batches were made up."""

    batches: list[list[tuple[str, str]]] = field(default_factory=list)

    def assess_many(self, messages: list[Message], memory: Any = None) -> list[Verdict]:
        self.batches.append([(m.platform, m.text) for m in messages])
        return [Verdict(m.text) for m in messages]


@dataclass
class FakeServices:
    engine: RecordingEngine = field(default_factory=RecordingEngine)
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))
    assessor: Any = None


def message(platform: str, n: int) -> Message:
    return Message(text=f"{platform} {n}", platform=platform, channel="C1", thread="T1")


async def test_each_caller_gets_the_assessment_of_its_own_message() -> None:
    services = FakeServices()
    batcher = AssessBatcher(services, max_batch=4)
    texts = [m.text for m in [message("slack", i) for i in range(10)]]
    got = await asyncio.gather(*(batcher.assess(message("slack", i)) for i in range(10)))
    assert [v.text for v in got] == texts
    assert max(len(b) for b in services.engine.batches) <= 4


async def test_a_flood_on_one_platform_does_not_hold_up_another() -> None:
    services = FakeServices()
    batcher = AssessBatcher(services, max_batch=8)
    flood = [batcher.assess(message("teams", i)) for i in range(40)]
    few = [batcher.assess(message("slack", i)) for i in range(4)]
    await asyncio.gather(*flood, *few)
    first = services.engine.batches[0]
    # Slack's four arrived after Teams' forty, yet all four are in the first batch.
    assert sum(1 for platform, _ in first if platform == "slack") == 4
    assert len(first) == 8


async def test_each_platforms_messages_keep_their_order() -> None:
    services = FakeServices()
    batcher = AssessBatcher(services, max_batch=5)
    await asyncio.gather(
        *(batcher.assess(message(p, i)) for i in range(12) for p in ("slack", "teams", "web"))
    )
    read = [m for batch in services.engine.batches for m in batch]
    for platform in ("slack", "teams", "web"):
        assert [t for p, t in read if p == platform] == [f"{platform} {i}" for i in range(12)]
