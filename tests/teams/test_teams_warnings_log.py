"""Each Teams warning card is recorded (never its words) and its buttons record what followed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from teams_support import TeamsServer, start_server
from test_teams_actions import NHS, click, warn

from discretion import warnings_log as wl
from discretion.store import Store


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    s = Store(f"sqlite+aiosqlite:///{tmp_path}/discretion.db", message_key=b"k" * 32)
    await s.migrate()
    yield s
    await s.close()


@pytest.fixture
async def teams_store(settings, engine, openid, connector, store) -> AsyncIterator[TeamsServer]:
    server, runner = await start_server(settings, engine, openid, connector, store=store)
    yield server
    await server.close()
    await runner.cleanup()


async def rows(store: Store) -> list[wl.WarningRecord]:
    async with store.sessions() as session:
        return list(await session.scalars(sa.select(wl.WarningRecord)))


def warning_ids(card: dict) -> set[str]:
    report = card["actions"][0]["card"]["actions"][0]["data"]
    not_patient = card["actions"][1]["data"]
    return {report["ref"]["warning"], not_patient["ref"]["warning"]}


async def test_a_warning_card_is_recorded_without_the_message(teams_store, store):
    card = await warn(teams_store)
    (warning_id,) = warning_ids(card)
    [saved] = await rows(store)
    assert saved.id == warning_id and saved.platform == "teams"
    assert saved.channel and saved.workspace
    assert "NHS_NUMBER" in saved.entity_types and saved.counts["NHS_NUMBER"] == 1
    assert saved.config_version == teams_store.services.settings.config_version
    dumped = json.dumps([str(getattr(saved, c.key)) for c in saved.__table__.columns])
    assert NHS not in dumped and "Renshaw" not in dumped


async def test_report_and_not_patient_data_are_recorded(teams_store, store):
    card = await warn(teams_store)
    report = card["actions"][0]["card"]["actions"][0]["data"]
    not_patient = card["actions"][1]["data"]
    await teams_store.post(click(teams_store, report, activity_id="f:click-1"))
    await teams_store.post(click(teams_store, not_patient, activity_id="f:click-2"))
    await teams_store.settle()
    [incident] = await store.list_incidents()
    [saved] = await rows(store)
    assert saved.reported_at is not None and saved.incident_reference == incident.reference
    assert saved.not_patient_data_at is not None
    assert saved.deleted_at is None and saved.replaced_at is None


async def test_an_old_card_without_a_warning_id_still_reports(teams_store, store):
    card = await warn(teams_store)
    report = card["actions"][0]["card"]["actions"][0]["data"]
    del report["ref"]["warning"]  # a card sent before warnings were recorded
    await teams_store.post(click(teams_store, report))
    await teams_store.settle()
    assert len(await store.list_incidents()) == 1
    [saved] = await rows(store)
    assert saved.reported_at is None
