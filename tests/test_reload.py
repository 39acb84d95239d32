"""Hot reload: a valid file swaps the engine, an invalid one keeps it and says why."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from discretion.config import load_settings
from discretion.message import Message
from discretion.reload import RELOADER, mount
from discretion.server import SERVICES, Services, create_app

# An Ofcom drama-range number the phone recognizer flags; the new file allows it.
PHONE = "0161 496 0733"


@pytest.fixture
def site_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text("version: ward-a\n")
    monkeypatch.setenv("DISCRETION_CONFIG", str(path))
    return path


@pytest.fixture
async def client(site_file, engine) -> AsyncIterator[TestClient]:
    # The session engine stands in for the one built from ward-a: building it again
    # would only cost time, and the swap is what is under test.
    app = create_app(load_settings(site_file), engine)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_a_valid_change_swaps_the_engine_and_assessments_record_the_new_version(
    client, site_file, engine
):
    services = client.app[SERVICES]
    reloader = client.app[RELOADER]
    before = await services.assess(Message(f"daughter's mobile is {PHONE}"))
    assert before.warn and services.engine is engine

    site_file.write_text(f"version: ward-b\nallow_list: ['{PHONE}']\n")
    with capture_logs() as logs:
        assert await reloader.check() is True
    after = await services.assess(Message(f"daughter's mobile is {PHONE}"))
    assert services.engine is not engine
    assert after.config_version.startswith("ward-b@") and not after.warn
    assert services.settings.config_version == after.config_version
    [used] = [e for e in logs if e["event"] == "config_in_use"]
    assert used["version"] == after.config_version and used["previous"].startswith("ward-a@")
    assert reloader.status.version == after.config_version and reloader.status.reloads == 1

    r = await client.get("/readyz")
    assert (await r.json())["config"] == after.config_version

    # The same bytes again, or only a new comment: nothing is rebuilt.
    built = []
    reloader.build = lambda s: built.append(s) or engine
    assert await reloader.check() is False
    site_file.write_text(f"# tidied\nversion: ward-b\nallow_list: ['{PHONE}']\n")
    assert await reloader.check() is False
    assert built == [] and services.engine is not engine


async def test_sighup_with_an_invalid_file_keeps_the_old_engine_and_logs_where(
    client, site_file, engine
):
    services = client.app[SERVICES]
    reloader = client.app[RELOADER]
    site_file.write_text("version: ward-c\nthresholds:\n  defualt: 0.4\n")
    # Without the handler SIGHUP would end the test run itself.
    assert reloader.sighup and signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, None)
    with capture_logs() as logs:
        os.kill(os.getpid(), signal.SIGHUP)

        async def requested() -> None:
            while reloader.pending is None:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(requested(), 30)
        assert await reloader.pending is False
    assert services.engine is engine
    assert services.settings.config_version.startswith("ward-a@")
    [rejected] = [e for e in logs if e["event"] == "config_rejected"]
    assert rejected["file"] == str(site_file) and rejected["line"] == 3
    assert (
        rejected["key"] == "thresholds.defualt" and "did you mean 'default'" in rejected["problem"]
    )
    assert any(e["event"] == "config_kept" for e in logs)
    assert reloader.status.rejected == [
        f"{site_file}:3: thresholds.defualt: unknown key (did you mean 'default'?)"
    ]
    # The poll does not retry the same bad bytes; fixing the file clears the complaint.
    assert await reloader.check() is False
    site_file.write_text("version: ward-a\n")
    assert await reloader.check() is False
    assert reloader.status.rejected == [] and services.engine is engine


async def test_an_engine_that_cannot_be_built_or_a_missing_file_keeps_the_old_one(
    client, site_file, engine
):
    services = client.app[SERVICES]
    reloader = client.app[RELOADER]
    site_file.write_text("version: ward-d\nnlp:\n  model: no_such_model_installed\n")
    with capture_logs() as logs:
        assert await reloader.check() is False
    assert services.engine is engine
    assert any(e["event"] == "config_rejected" and e["key"] == "nlp.model" for e in logs)

    site_file.unlink()
    with capture_logs() as logs:
        assert await reloader.check() is False
        assert await reloader.check() is False
    assert [e["event"] for e in logs] == ["config_file_unreadable"]  # said once, not every poll
    assert services.engine is engine


async def test_the_watcher_runs_with_the_app_and_stops_with_it(site_file, engine):
    app = create_app(load_settings(site_file), engine)
    reloader = app[RELOADER]
    async with TestClient(TestServer(app)):
        assert reloader._task is not None and not reloader._task.done() and reloader.sighup
    assert reloader._task is None and not reloader.sighup


def test_nothing_is_watched_without_a_site_file(monkeypatch, settings, engine):
    from aiohttp import web

    monkeypatch.delenv("DISCRETION_CONFIG", raising=False)
    app = web.Application()
    assert mount(app, Services(settings=settings, engine=engine)) is None
    assert RELOADER not in app
