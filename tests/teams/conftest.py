"""Teams fixtures: a fake OpenID issuer (own thread), a fake Bot Connector, the app over HTTP.

Helpers live in ``teams_support`` (import them from there: several ``conftest.py``
files exist, so ``from conftest import ...`` is ambiguous).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import jsonschema
import pytest
from fakes.bot_connector import FakeBotConnector
from fakes.openid import FakeOpenId
from teams_support import SCHEMAS, TeamsServer, start_server


@pytest.fixture(scope="session")
def card_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "adaptive-card-1.5.schema.json").read_text())
    return jsonschema.Draft6Validator(schema)


@pytest.fixture
def openid() -> Iterator[FakeOpenId]:
    fake = FakeOpenId().start()
    yield fake
    fake.stop()


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = await FakeBotConnector().start()
    yield fake
    await fake.stop()


@pytest.fixture
def queue() -> str:
    """The in-process work queue; test modules of the message flow run on both (see BOTH_QUEUES)."""
    return "memory"


@pytest.fixture
async def teams(settings, engine, openid, connector, queue) -> AsyncIterator[TeamsServer]:
    server, runner = await start_server(settings, engine, openid, connector)
    yield server
    await server.close()
    await runner.cleanup()
