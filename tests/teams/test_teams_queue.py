"""Teams work as data: a read message survives the queue whole, and any replica can take it.

With DISCRETION_QUEUE=redis the handler queues a message as a plain dict (encrypted
in Redis), so a replica other than the one Teams posted to can warn, a killed
replica's work is claimed by another, and a claimed entry already warned is not
warned again.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis
from botbuilder.schema import Activity
from teams_support import TeamsServer, activity, queue_env, start_server

from discretion.adapters.teams.handler import MESSAGE_JOB, _dedupe_key
from discretion.adapters.teams.incoming import TeamsMessage, read_message
from discretion.adapters.teams.mount import STREAM
from discretion.work_redis import GROUP
from discretion.work_redis import STREAM as SLACK_STREAM

NHS = "943 476 5919"
RISKY = f"<at>ridotest</at> Mrs Eleanor Whitfield NHS {NHS} is in bay 4, can someone review?"
FILE = "application/vnd.microsoft.teams.file.download.info"


def _read(body: dict[str, Any], *, edited: bool = False) -> TeamsMessage:
    return read_message(Activity().deserialize(body), edited=edited)


def _samples() -> list[TeamsMessage]:
    """Messages that between them set every field: mentions, HTML, an edit, files, a thread."""
    reply = activity("channel-message-mention-thread-reply", text=RISKY)
    reply["attachments"] = [
        {"contentType": FILE, "name": "Whitfield discharge.docx", "content": {}},
        {"contentType": FILE, "name": "bay 4 obs.xlsx", "content": {}},
    ]
    reply["channelData"]["team"]["aadGroupId"] = "0f9d4a6e-1b2c-4d3e-8f70-a1b2c3d4e5f6"
    reply["channelData"]["channel"]["name"] = "Ward 4 handover"
    two = activity("channel-message-two-mentions")
    two["text"] = f"<at>Test Bot 1</at> <at>TestBot2</at> <b>NHS</b>&nbsp;{NHS} &amp; bed&#160;3"
    edit = activity("message-update-edit", text=f"<p>Mr Tobias Renshaw</p><p>NHS {NHS}</p>")
    rich = activity("message-personal-rich-text")
    return [_read(reply), _read(two), _read(edit, edited=True), _read(rich)]


def test_every_field_survives_the_queue_offsets_included() -> None:
    samples = _samples()
    for name in (f.name for f in dataclasses.fields(TeamsMessage)):
        # Each field is set (not empty) in at least one sample, so the check below means something.
        assert any(getattr(m, name) not in ("", (), None, False) for m in samples), name
    for found in samples:
        data = json.loads(json.dumps(found.to_data()))  # what Redis holds, before encryption
        back = TeamsMessage.from_data(data)
        assert back == found
        assert back.plain.pieces == found.plain.pieces
        assert back.sent_at == found.sent_at and (
            found.sent_at is None or back.sent_at.utcoffset() == found.sent_at.utcoffset()
        )
        assert back.to_message() == found.to_message()
        for start in range(len(found.plain.assessed)):
            for end in (start + 1, len(found.plain.assessed)):
                assert back.plain.to_shown(start, end) == found.plain.to_shown(start, end)
                assert back.plain.to_source(start, end) == found.plain.to_source(start, end)


def test_a_layout_this_version_does_not_know_is_refused() -> None:
    data = _samples()[0].to_data()
    with pytest.raises(ValueError):
        TeamsMessage.from_data({**data, "v": 99})


# --- two replicas on one Redis queue ---------------------------------------------------


@pytest.fixture
async def queue(monkeypatch) -> AsyncIterator[str]:
    """The shared Redis queue only: these tests are about replicas."""
    async with queue_env("redis", monkeypatch) as kind:
        yield kind


@pytest.fixture
async def replica(settings, engine, openid, connector, queue) -> AsyncIterator[Any]:
    """Starts more replicas like ``teams`` (same Redis database, fake connector and issuer)."""
    started: list[tuple[TeamsServer, Any]] = []

    async def start() -> TeamsServer:
        server, runner = await start_server(settings, engine, openid, connector)
        started.append((server, runner))
        return server

    yield start
    for server, runner in started:
        await server.close()
        await runner.cleanup()


def _raw_client() -> Any:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def channel_post(teams: TeamsServer, **changes: Any) -> dict[str, Any]:
    return activity(
        "channel-message-mention-thread-reply",
        serviceUrl=teams.connector.url,
        text=RISKY,
        **changes,
    )


@pytest.mark.redis
async def test_a_message_taken_by_one_replica_is_warned_by_another(teams, replica):
    await teams.handler.work.stop()  # replica A takes requests but does no work
    assert (await teams.post(channel_post(teams))).status == 201

    raw = _raw_client()
    try:
        entries = await raw.xrange(STREAM)
        assert STREAM != SLACK_STREAM  # Slack's consumers would drop a Teams kind
        assert len(entries) == 1
        stored = json.dumps([[k.decode(), v.decode()] for k, v in entries[0][1].items()])
        assert NHS not in stored and "Whitfield" not in stored and "bay 4" not in stored
    finally:
        await raw.aclose()

    other = await replica()
    await other.settle()
    assert len(teams.connector.cards()) == 1
    assert other.handler.counts.get("warned_personal") == 1
    assert teams.handler.counts.get("warned_personal") is None
    assert teams.handler.counts["queued"] == 1


@pytest.mark.redis
async def test_a_killed_replicas_message_is_claimed_and_warned(teams, replica, monkeypatch):
    await teams.handler.work.stop()
    await teams.post(channel_post(teams))
    # A replica read the entry, then died (SIGKILL) before handling it: it stays pending.
    raw = _raw_client()
    try:
        got = await raw.xreadgroup(GROUP, "killed-replica", {STREAM: ">"}, count=1)
        assert len(got[0][1]) == 1
    finally:
        await raw.aclose()
    monkeypatch.setenv("DISCRETION_QUEUE_CLAIM_SECONDS", "0.3")
    survivor = await replica()
    await survivor.settle()
    assert len(teams.connector.cards()) == 1
    assert survivor.handler.work.claimed == 1
    assert survivor.handler.counts.get("warned_personal") == 1


@pytest.mark.redis
async def test_a_claimed_entry_whose_warning_went_out_is_not_warned_again(teams):
    body = channel_post(teams)
    await teams.post(body)
    await teams.settle()
    assert len(teams.connector.cards()) == 1
    # The same entry again, as when a replica warned, then died before acknowledging it
    # and another claimed it: the "warned" mark, not the dedupe, is what stops it.
    found = _read(body)
    payload = {
        "message": found.to_data(),
        "quiet": False,
        "key": _dedupe_key(found, Activity().deserialize(body)),
    }
    await teams.handler.work.submit_event(MESSAGE_JOB, payload)
    await teams.settle()
    assert len(teams.connector.cards()) == 1
    assert teams.handler.counts["already_warned"] == 1


@pytest.mark.redis
async def test_a_message_that_failed_to_send_is_not_marked_warned(teams):
    teams.connector.fail_next(500, times=20)
    body = channel_post(teams)
    await teams.post(body)
    await teams.settle()
    assert teams.handler.counts["warned_failed"] == 1
    found = _read(body)
    key = _dedupe_key(found, Activity().deserialize(body))
    assert not await teams.handler.work.already_done(f"teams-warned:{key}")
