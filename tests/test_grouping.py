"""Grouped calls: many callers, few runs, each caller its own answer or its own error."""

from __future__ import annotations

import asyncio

import pytest

from discretion.grouping import Grouped


async def test_callers_waiting_together_share_one_run_and_get_their_own_answers() -> None:
    runs: list[list[int]] = []

    async def double(items: list[int]) -> list[int]:
        runs.append(items)
        await asyncio.sleep(0)
        return [i * 2 for i in items]

    grouped: Grouped[int, int] = Grouped(double)
    assert await asyncio.gather(*(grouped(i) for i in range(10))) == [i * 2 for i in range(10)]
    assert sum(len(r) for r in runs) == 10 and len(runs) < 10


async def test_a_quiet_caller_runs_alone_at_once() -> None:
    runs: list[list[str]] = []

    async def echo(items: list[str]) -> list[str]:
        runs.append(items)
        return items

    grouped: Grouped[str, str] = Grouped(echo)
    assert await grouped("a") == "a"
    assert await grouped("b") == "b"
    assert runs == [["a"], ["b"]]


async def test_a_bad_item_fails_only_its_own_caller() -> None:
    async def refuse_three(items: list[int]) -> list[int]:
        if 3 in items:
            raise ValueError("three")
        return items

    grouped: Grouped[int, int] = Grouped(refuse_three)
    results = await asyncio.gather(*(grouped(i) for i in range(6)), return_exceptions=True)
    assert results[:3] == [0, 1, 2] and results[4:] == [4, 5]
    assert isinstance(results[3], ValueError)


async def test_groups_are_capped() -> None:
    sizes: list[int] = []

    async def count(items: list[int]) -> list[None]:
        sizes.append(len(items))
        await asyncio.sleep(0)
        return [None] * len(items)

    grouped: Grouped[int, None] = Grouped(count, max_group=4)
    await asyncio.gather(*(grouped(i) for i in range(10)))
    assert max(sizes) <= 4 and sum(sizes) == 10


async def test_a_run_that_answers_the_wrong_number_of_items_is_an_error() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:1] if len(items) > 1 else []

    grouped: Grouped[int, int] = Grouped(short)
    with pytest.raises(ValueError):
        await grouped(1)
