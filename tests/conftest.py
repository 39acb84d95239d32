"""Shared fixtures: one engine for the session, and the services this machine may run."""

from __future__ import annotations

import pytest
from needs import need_service

from discretion.config import Settings, load_settings
from discretion.engine import Engine

__all__ = ["need_service"]

# Captures the Slack and Teams suites' logs for the leak check in test_privacy.py.
pytest_plugins = ["logleaks"]


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The shipped defaults, ignoring any DISCRETION_CONFIG in the environment."""
    return load_settings(None, use_env=False)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    """One engine for the whole run: loading spaCy once keeps the suite fast."""
    return Engine(settings)
