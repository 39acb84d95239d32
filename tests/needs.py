"""Skip, or in CI fail, when a local service a test needs is not running.

Import it as ``from needs import need_service`` (a module of its own: several
``conftest.py`` files exist, so ``from conftest import ...`` is ambiguous).
"""

from __future__ import annotations

import os
import socket

import pytest

REQUIRE_SERVICES = os.environ.get("DISCRETION_REQUIRE_SERVICES") == "1"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or, with DISCRETION_REQUIRE_SERVICES=1 as in CI, fail) when a service is down."""
    if _reachable(host, port):
        return
    message = f"{name} is not running on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and DISCRETION_REQUIRE_SERVICES=1 makes it required")
    pytest.skip(f"{message}; start it to run this test")
