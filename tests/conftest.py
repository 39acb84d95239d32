"""Shared fixtures: one engine for the session, and the services this machine may run."""

from __future__ import annotations

import os
import socket

import pytest

from discretion.config import Settings, load_settings
from discretion.engine import Engine

REQUIRE_SERVICES = os.environ.get("DISCRETION_REQUIRE_SERVICES") == "1"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) when a local service is not running."""
    if _reachable(host, port):
        return
    message = f"{name} is not running on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and DISCRETION_REQUIRE_SERVICES=1 makes it required")
    pytest.skip(f"{message}; start it to run this test")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The shipped defaults, ignoring any DISCRETION_CONFIG in the environment."""
    return load_settings(None, use_env=False)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    """One engine for the whole run: loading spaCy once keeps the suite fast."""
    return Engine(settings)
